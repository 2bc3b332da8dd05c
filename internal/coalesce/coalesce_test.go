package coalesce_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/coalesce"
)

// recorder runs calls and remembers how: alone or in which batch. A lone
// call of a held item blocks until release is closed, which holds one of
// the key's runs so that the next calls must wait; started receives each
// held item as its run begins.
type recorder struct {
	mu      sync.Mutex
	lone    []int
	batches [][]int
	held    map[int]bool
	release chan struct{}
	started chan int
	fail    error
	// gate, when set, holds every batch until it is closed.
	gate chan struct{}
}

func newRecorder(held ...int) *recorder {
	r := &recorder{held: map[int]bool{}, release: make(chan struct{}), started: make(chan int, 16)}
	for _, h := range held {
		r.held[h] = true
	}
	return r
}

func (r *recorder) one(ctx context.Context, item int) (int, error) {
	if r.held[item] {
		r.started <- item
		<-r.release
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lone = append(r.lone, item)
	return item * 10, nil
}

func (r *recorder) many(ctx context.Context, items []int) ([]int, error) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, slices.Clone(items))
	if r.fail != nil {
		return nil, r.fail
	}
	out := make([]int, len(items))
	for k, it := range items {
		out[k] = it * 10
	}
	return out, nil
}

func newCoalescer(t *testing.T, r *recorder, maxItems, maxInFlight int) *coalesce.Coalescer[string, int, int] {
	t.Helper()
	c, err := coalesce.New[string](coalesce.Config{MaxItems: maxItems, MaxInFlight: maxInFlight, Timeout: time.Second}, r.one, r.many)
	require.NoError(t, err)
	return c
}

// result is one call's answer.
type result struct {
	item, v int
	err     error
}

// goDo runs c.Do for item on its own goroutine and sends its answer to out.
func goDo(ctx context.Context, c *coalesce.Coalescer[string, int, int], key string, item int, out chan<- result) {
	go func() {
		v, err := c.Do(ctx, key, item)
		out <- result{item: item, v: v, err: err}
	}()
}

// collect waits for n answers, failing the test after a while instead of
// hanging.
func collect(t *testing.T, out <-chan result, n int) map[int]result {
	t.Helper()
	got := map[int]result{}
	for range n {
		select {
		case r := <-out:
			got[r.item] = r
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d calls answered", len(got), n)
		}
	}
	return got
}

// waitFor waits until key has n calls waiting.
func waitFor(t *testing.T, c *coalesce.Coalescer[string, int, int], key string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return c.Waiting(key) == n }, 5*time.Second, time.Millisecond)
}

// holding returns a coalescer over a new recorder whose item 0 holds key
// "acme"'s run (until r.release is closed), and the channel every call's
// answer goes to, item 0's included.
func holding(t *testing.T, maxItems, maxInFlight int) (*recorder, *coalesce.Coalescer[string, int, int], chan result) {
	t.Helper()
	r := newRecorder(0)
	c := newCoalescer(t, r, maxItems, maxInFlight)
	out := make(chan result, 16)
	goDo(context.Background(), c, "acme", 0, out)
	<-r.started
	return r, c, out
}

func TestCallsWaitingForARunGoTogetherAndEachGetsItsOwnResult(t *testing.T) {
	t.Parallel()
	r, c, out := holding(t, 64, 1)
	ctx := context.Background()
	// acme's one run is busy with item 0: the next five wait...
	for i := 1; i <= 5; i++ {
		goDo(ctx, c, "acme", i, out)
	}
	waitFor(t, c, "acme", 5)
	// ...while another key runs at once.
	v, err := c.Do(ctx, "globex", 7)
	require.NoError(t, err)
	require.Equal(t, 70, v)

	close(r.release)
	got := collect(t, out, 6)
	for i := range 6 {
		require.NoError(t, got[i].err)
		require.Equal(t, i*10, got[i].v)
	}
	require.Len(t, r.batches, 1, "the five waiting calls went as one batch")
	require.ElementsMatch(t, []int{1, 2, 3, 4, 5}, r.batches[0])
	require.ElementsMatch(t, []int{7, 0}, r.lone)
	require.Zero(t, c.Waiting("acme"))
}

func TestABatchErrorIsEveryCallersAndAFullBatchGoesAtOnce(t *testing.T) {
	t.Parallel()
	r, c, out := holding(t, 3, 1)
	r.fail = errors.New("postgres went away")
	ctx := context.Background()
	// Three waiting calls fill a batch, which goes without waiting for
	// item 0's run to end.
	for i := 1; i <= 3; i++ {
		goDo(ctx, c, "acme", i, out)
	}
	got := collect(t, out, 3)
	for i := 1; i <= 3; i++ {
		require.ErrorContains(t, got[i].err, "postgres went away")
	}
	close(r.release)
	require.NoError(t, collect(t, out, 1)[0].err)
}

// After a full batch went above MaxInFlight, the key's runs drain back to
// MaxInFlight: a call that waits meanwhile goes when a run ends below it,
// with whatever else waited by then, not at the end of the full batch.
func TestRunsDrainBackToMaxInFlightAfterAFullBatch(t *testing.T) {
	t.Parallel()
	r, c, out := holding(t, 3, 1)
	r.gate = make(chan struct{})
	ctx := context.Background()
	// A full batch goes early: two runs are going, one above the bound.
	for i := 1; i <= 3; i++ {
		goDo(ctx, c, "acme", i, out)
	}
	waitFor(t, c, "acme", 0)
	goDo(ctx, c, "acme", 4, out)
	waitFor(t, c, "acme", 1)
	// The full batch ends while item 0's run still holds the bound: item
	// 4 keeps waiting instead of going alone.
	r.gate <- struct{}{}
	got := collect(t, out, 3)
	for i := 1; i <= 3; i++ {
		require.NoError(t, got[i].err)
	}
	require.Equal(t, 1, c.Waiting("acme"), "still at MaxInFlight")
	goDo(ctx, c, "acme", 5, out)
	waitFor(t, c, "acme", 2)
	// Item 0's run ends: 4 and 5 go together.
	close(r.gate)
	close(r.release)
	got = collect(t, out, 3)
	for _, i := range []int{0, 4, 5} {
		require.NoError(t, got[i].err)
		require.Equal(t, i*10, got[i].v)
	}
	require.Len(t, r.batches, 2)
	require.ElementsMatch(t, []int{4, 5}, r.batches[1])
}

func TestACallerThatGivesUpBeforeItsBatchGoesIsNeverRun(t *testing.T) {
	t.Parallel()
	r, c, out := holding(t, 64, 1)

	ctx, cancel := context.WithCancel(context.Background())
	goDo(ctx, c, "acme", 1, out)
	waitFor(t, c, "acme", 1)
	cancel()
	require.ErrorIs(t, collect(t, out, 1)[1].err, context.Canceled)

	goDo(context.Background(), c, "acme", 2, out)
	waitFor(t, c, "acme", 2)
	close(r.release)
	got := collect(t, out, 2)
	require.NoError(t, got[2].err)
	require.Equal(t, 20, got[2].v)
	// Item 1 was abandoned: item 2 was left alone in its batch and ran as
	// a lone call.
	require.Empty(t, r.batches)
	require.ElementsMatch(t, []int{0, 2}, r.lone)
}

// A caller that gives up after its batch went gets its context's error at
// once; the batch still answers the others.
func TestACallerThatGivesUpAfterItsBatchWentIsAnsweredAtOnce(t *testing.T) {
	t.Parallel()
	r, c, out := holding(t, 64, 1)
	r.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	goDo(ctx, c, "acme", 1, out)
	goDo(context.Background(), c, "acme", 2, out)
	waitFor(t, c, "acme", 2)
	close(r.release)
	require.NoError(t, collect(t, out, 1)[0].err)
	// The batch of 1 and 2 is now held in many.
	waitFor(t, c, "acme", 0)
	cancel()
	require.ErrorIs(t, collect(t, out, 1)[1].err, context.Canceled)
	close(r.gate)
	got := collect(t, out, 1)
	require.NoError(t, got[2].err)
	require.Equal(t, 20, got[2].v)
}

func TestOneItemBatchesTurnCoalescingOff(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	c := newCoalescer(t, r, 1, 1)
	for i := range 3 {
		v, err := c.Do(context.Background(), "acme", i)
		require.NoError(t, err)
		require.Equal(t, i*10, v)
	}
	require.Empty(t, r.batches)
	_, err := coalesce.New[string](coalesce.Config{MaxItems: 0, MaxInFlight: 1, Timeout: time.Second}, r.one, r.many)
	require.ErrorContains(t, err, "max items 0")
}

// A batch runs in the context BatchContext makes from its first call's.
func TestBatchContextShapesTheBatchsContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	var seen []any
	var mu sync.Mutex
	many := func(ctx context.Context, items []int) ([]int, error) {
		mu.Lock()
		seen = append(seen, ctx.Value(key{}))
		mu.Unlock()
		return make([]int, len(items)), nil
	}
	r := newRecorder(0)
	c, err := coalesce.New[string](coalesce.Config{MaxItems: 64, MaxInFlight: 1, Timeout: time.Second,
		BatchContext: func(first context.Context) context.Context {
			return context.WithValue(context.Background(), key{}, "batch of "+first.Value(key{}).(string))
		}}, r.one, many)
	require.NoError(t, err)
	out := make(chan result, 4)
	goDo(context.Background(), c, "acme", 0, out)
	<-r.started
	goDo(context.WithValue(context.Background(), key{}, "a"), c, "acme", 1, out)
	waitFor(t, c, "acme", 1)
	goDo(context.WithValue(context.Background(), key{}, "b"), c, "acme", 2, out)
	waitFor(t, c, "acme", 2)
	close(r.release)
	collect(t, out, 3)
	require.Equal(t, []any{"batch of a"}, seen)
}
