package autopipe

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Defaults of a Pipeliner.
const (
	// DefaultMaxCommands is about how many commands one pipeline carries;
	// a request's commands are never split, so one may carry a few more.
	DefaultMaxCommands = 256
	// DefaultMaxInFlight is how many pipelines may be in flight at once.
	// One makes the largest batches: on the intake bench it took less CPU
	// per alert in ingest and Redis, and more alerts per second, than two
	// (which lets the next batch go out while Redis answers the previous
	// one, on a connection of its own).
	DefaultMaxInFlight = 1
)

// Pipeliner sends the commands of concurrent Do calls in shared pipelines.
// It needs no goroutine of its own: the first caller to find a free slot
// sends what is queued, and when its pipeline returns it hands whatever
// queued up meanwhile to one of the waiting callers, who sends it in turn.
// Its methods are safe for concurrent use.
type Pipeliner struct {
	rdb         redis.UniversalClient
	maxCommands int
	maxInFlight int

	mu sync.Mutex
	// queue holds requests no pipeline has taken yet, oldest first.
	queue []*request
	// inFlight is the number of pipelines being sent or awaited, counting
	// those handed to a waiting caller that has yet to send them.
	inFlight int
}

// New returns a Pipeliner over rdb with the default limits.
func New(rdb redis.UniversalClient) *Pipeliner {
	return &Pipeliner{rdb: rdb, maxCommands: DefaultMaxCommands, maxInFlight: DefaultMaxInFlight}
}

// Client returns the client the Pipeliner sends through, for commands that
// must not wait for a batch (such as a script's one-off EVAL fallback).
func (p *Pipeliner) Client() redis.UniversalClient { return p.rdb }

// Shared is a command that any number of concurrent requests may ask for
// and that one run satisfies for them all, such as adding a member to a set.
// A pipeline sends only the first of the requests' shared commands with a
// given Key; the others get its error (their values are not set).
type Shared struct {
	Key string
	Cmd redis.Cmder
}

// request is one Do call's commands.
type request struct {
	shared *Shared
	cmds   []redis.Cmder
	// wake receives once: nil when the request's commands have run, or the
	// batch (headed by this request) that its caller must now send.
	wake chan []*request
}

var requestPool = sync.Pool{New: func() any { return &request{wake: make(chan []*request, 1)} }}

// Do sends shared (unless nil, or one with its key is in the same pipeline)
// and then cmds, in order, in the next pipeline, and returns when they have
// run. Results and errors are in the commands, as after a Pipeline's Exec.
//
// The pipeline carries the commands of other callers too, so it runs
// without any one caller's context: a caller whose context ends still
// waits for its pipeline (bounded by the client's read and write timeouts),
// as the commands may already be in Redis. ctx is what the commands were
// built with; it is not consulted.
func (p *Pipeliner) Do(_ context.Context, shared *Shared, cmds ...redis.Cmder) {
	r := requestPool.Get().(*request)
	r.shared, r.cmds = shared, cmds

	p.mu.Lock()
	p.queue = append(p.queue, r)
	var batch []*request
	if p.inFlight < p.maxInFlight {
		p.inFlight++
		batch = p.takeLocked()
	}
	p.mu.Unlock()

	// A caller sends at most the batches it is handed; its own request is
	// in the first of them (the head of the queue) or in another caller's.
	for done := false; !done; {
		if batch == nil {
			batch = <-r.wake
			if batch == nil {
				break
			}
		}
		done = p.send(batch, r)
		batch = nil
	}
	r.shared, r.cmds = nil, nil
	requestPool.Put(r)
}

// takeLocked removes and returns the oldest requests, up to about
// maxCommands commands and at least one request.
func (p *Pipeliner) takeLocked() []*request {
	n, cmds := 0, 0
	for n < len(p.queue) {
		c := len(p.queue[n].cmds)
		if p.queue[n].shared != nil {
			c++
		}
		if n > 0 && cmds+c > p.maxCommands {
			break
		}
		n++
		cmds += c
	}
	batch := make([]*request, n)
	copy(batch, p.queue)
	rest := copy(p.queue, p.queue[n:])
	clear(p.queue[rest:])
	p.queue = p.queue[:rest]
	return batch
}

// send runs batch as one pipeline, wakes its requests' callers (other than
// self's) and passes the slot on: to the head of what queued up meanwhile,
// or back to the pool of free slots. It reports whether self was in batch.
func (p *Pipeliner) send(batch []*request, self *request) bool {
	p.exec(batch)

	p.mu.Lock()
	var next []*request
	if len(p.queue) > 0 {
		next = p.takeLocked()
	} else {
		p.inFlight--
	}
	p.mu.Unlock()
	if next != nil {
		next[0].wake <- next
	}

	mine := false
	for _, r := range batch {
		if r == self {
			mine = true
			continue
		}
		r.wake <- nil
	}
	return mine
}

// exec sends the batch's commands in one pipeline, sharing equal shared
// commands.
func (p *Pipeliner) exec(batch []*request) {
	// A panic below (a client bug) must not leave this batch's callers, and
	// every later one, waiting for a slot that is never given back: it
	// fails the batch's commands instead, and send passes the slot on.
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("autopipe: pipeline failed: %v", v)
			for _, r := range batch {
				if r.shared != nil {
					r.shared.Cmd.SetErr(err)
				}
				for _, c := range r.cmds {
					c.SetErr(err)
				}
			}
		}
	}()
	pipe := p.rdb.Pipeline()
	// The pipeline is of several callers, so it runs on none of their
	// contexts (see Do).
	ctx := context.Background()
	var sent map[string]redis.Cmder
	var dups []*Shared
	for _, r := range batch {
		if s := r.shared; s != nil {
			if _, ok := sent[s.Key]; ok {
				dups = append(dups, s)
			} else {
				if sent == nil {
					sent = make(map[string]redis.Cmder, 1)
				}
				sent[s.Key] = s.Cmd
				_ = pipe.Process(ctx, s.Cmd)
			}
		}
		for _, c := range r.cmds {
			_ = pipe.Process(ctx, c)
		}
	}
	// Exec's own error is the first failed command's; every command carries
	// its own, which the callers read.
	_, _ = pipe.Exec(ctx)
	for _, s := range dups {
		s.Cmd.SetErr(sent[s.Key].Err())
	}
}

// NewEvalSha returns the command rdb.EvalSha(ctx, sha1, keys, args...) would
// send, unsent, for Do.
func NewEvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", sha1, len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	cmd := redis.NewCmd(ctx, cmdArgs...)
	if len(keys) > 0 {
		// As go-redis does, so a cluster client routes it by its first key.
		cmd.SetFirstKeyPos(3)
	}
	return cmd
}
