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
// call of item 0 blocks until release is closed, which holds the key's
// only run so that the next calls must wait.
type recorder struct {
	mu      sync.Mutex
	lone    []int
	batches [][]int
	release chan struct{}
	started chan struct{}
	fail    error
}

func (r *recorder) one(ctx context.Context, item int) (int, error) {
	if item == 0 {
		close(r.started)
		<-r.release
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lone = append(r.lone, item)
	return item * 10, nil
}

func (r *recorder) many(ctx context.Context, items []int) ([]int, error) {
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

func newCoalescer(t *testing.T, r *recorder, maxItems int) *coalesce.Coalescer[string, int, int] {
	t.Helper()
	c, err := coalesce.New[string](coalesce.Config{MaxItems: maxItems, MaxInFlight: 1, Timeout: time.Second}, r.one, r.many)
	require.NoError(t, err)
	return c
}

// waitFor waits until key has n calls waiting.
func waitFor(t *testing.T, c *coalesce.Coalescer[string, int, int], key string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return c.Waiting(key) == n }, 5*time.Second, time.Millisecond)
}

func TestCallsWaitingForARunGoTogetherAndEachGetsItsOwnResult(t *testing.T) {
	t.Parallel()
	r := &recorder{release: make(chan struct{}), started: make(chan struct{})}
	c := newCoalescer(t, r, 64)
	ctx := context.Background()

	var wg sync.WaitGroup
	got := make([]int, 6)
	wg.Go(func() { got[0], _ = c.Do(ctx, "acme", 0) })
	// acme's one run is busy with item 0: the next five wait...
	<-r.started
	for i := 1; i <= 5; i++ {
		wg.Go(func() {
			v, err := c.Do(ctx, "acme", i)
			require.NoError(t, err)
			got[i] = v
		})
	}
	waitFor(t, c, "acme", 5)
	// ...while another key runs at once.
	v, err := c.Do(ctx, "globex", 7)
	require.NoError(t, err)
	require.Equal(t, 70, v)

	close(r.release)
	wg.Wait()
	require.Equal(t, []int{0, 10, 20, 30, 40, 50}, got)
	require.Len(t, r.batches, 1, "the five waiting calls went as one batch")
	require.ElementsMatch(t, []int{1, 2, 3, 4, 5}, r.batches[0])
	require.ElementsMatch(t, []int{7, 0}, r.lone)
}

func TestABatchErrorIsEveryCallersAndAFullBatchGoesAtOnce(t *testing.T) {
	t.Parallel()
	r := &recorder{release: make(chan struct{}), started: make(chan struct{}), fail: errors.New("postgres went away")}
	c := newCoalescer(t, r, 3)
	ctx := context.Background()
	go func() { _, _ = c.Do(ctx, "acme", 0) }()
	<-r.started
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() { _, errs[i] = c.Do(ctx, "acme", i+1) })
	}
	// Three waiting calls fill a batch, which goes without waiting for
	// item 0's run to end.
	wg.Wait()
	for _, err := range errs {
		require.ErrorContains(t, err, "postgres went away")
	}
	close(r.release)
}

func TestACallerThatGivesUpBeforeItsBatchGoesIsNeverRun(t *testing.T) {
	t.Parallel()
	r := &recorder{release: make(chan struct{}), started: make(chan struct{})}
	c := newCoalescer(t, r, 64)
	go func() { _, _ = c.Do(context.Background(), "acme", 0) }()
	<-r.started

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Do(ctx, "acme", 1); done <- err }()
	waitFor(t, c, "acme", 1)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	var wg sync.WaitGroup
	wg.Go(func() {
		v, err := c.Do(context.Background(), "acme", 2)
		require.NoError(t, err)
		require.Equal(t, 20, v)
	})
	waitFor(t, c, "acme", 2)
	close(r.release)
	wg.Wait()
	// Item 1 was abandoned: item 2 was left alone in its batch and ran as
	// a lone call.
	require.Empty(t, r.batches)
	require.ElementsMatch(t, []int{0, 2}, r.lone)
}

func TestOneItemBatchesTurnCoalescingOff(t *testing.T) {
	t.Parallel()
	r := &recorder{release: make(chan struct{}), started: make(chan struct{})}
	close(r.release)
	c := newCoalescer(t, r, 1)
	for i := range 3 {
		v, err := c.Do(context.Background(), "acme", i)
		require.NoError(t, err)
		require.Equal(t, i*10, v)
	}
	require.Empty(t, r.batches)
	_, err := coalesce.New[string](coalesce.Config{MaxItems: 0, MaxInFlight: 1, Timeout: time.Second}, r.one, r.many)
	require.ErrorContains(t, err, "max items 0")
}
