package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// target is one system under load: where an alert goes and what answer
// means it was taken.
type target struct {
	// name is the system's row in the table.
	name string
	// url returns the endpoint for an alert.
	url func(a alert) string
	// authorization returns the Authorization header for an alert, or "".
	authorization func(a alert) string
	// render writes the alert as this system's request body.
	render renderer
	// accepted is the status that means the alert was taken.
	accepted int
}

// loadConfig is how hard and how long to drive a target.
type loadConfig struct {
	// concurrency is the number of connections, each with one request in
	// flight at a time.
	concurrency int
	// requests is the number of requests to send; ignored when duration is
	// set.
	requests int
	// duration, when positive, sends requests until it has passed.
	duration time.Duration
	// dup is the share of requests that repeat an earlier accepted alert.
	dup float64
	// timeout caps one request.
	timeout time.Duration
	// rate, when positive, paces the requests of all workers together to
	// at most this many per second (to measure latency below saturation).
	rate float64
	// seed makes the choice of duplicates repeatable.
	seed uint64
}

// loadResult is what one run against a target measured.
type loadResult struct {
	system   string
	requests int
	// accepted counts answers with the target's accepted status.
	accepted int
	// firstAccepted counts distinct alerts whose first delivery was
	// accepted; dupAccepted counts accepted repeats. They add up to
	// accepted.
	firstAccepted, dupAccepted int
	// distinctSent counts distinct alerts sent at least once.
	distinctSent int
	// byStatus counts answers by HTTP status; errors counts requests that
	// got no answer, by kind.
	byStatus map[int]int
	errors   map[string]int
	// samples holds the first answer body of each refused status, to say
	// why it was refused.
	samples map[int]string
	// latencies of every answered request, sorted.
	latencies []time.Duration
	elapsed   time.Duration
}

// rate is accepted alerts per second over the run.
func (r *loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.accepted) / r.elapsed.Seconds()
}

// quantile returns the q-quantile of the latencies (nearest rank).
func (r *loadResult) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.latencies))+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

// refused formats the non-accepted answers and failures, e.g.
// "503×12, timeout×1", or "none".
func (r *loadResult) refused(accepted int) string {
	var parts []string
	codes := make([]int, 0, len(r.byStatus))
	for code := range r.byStatus {
		if code != accepted {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", code, r.byStatus[code]))
	}
	kinds := make([]string, 0, len(r.errors))
	for k := range r.errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s×%d", k, r.errors[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// ackPool holds the alerts whose first delivery was accepted, the only ones
// a duplicate may repeat: repeating an alert the target never took would
// make the "duplicate" a first sighting.
type ackPool struct {
	mu   sync.Mutex
	seqs []int
}

func (p *ackPool) add(seq int) {
	p.mu.Lock()
	p.seqs = append(p.seqs, seq)
	p.mu.Unlock()
}

func (p *ackPool) pick(rng *rand.Rand) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.seqs) == 0 {
		return 0, false
	}
	return p.seqs[rng.IntN(len(p.seqs))], true
}

// runState is what a target's runs share when the load is split into
// rounds: the next new alert's number and the alerts a duplicate may
// repeat.
type runState struct {
	nextSeq atomic.Int64
	pool    ackPool
	// round numbers the runs, so each draws different duplicates.
	round uint64
}

// newClient returns a keep-alive HTTP/1.1 client with one idle connection
// per worker, so every worker keeps its connection for the whole run.
func newClient(concurrency int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	// HTTP/1.1 only, as vendors' webhook senders use.
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// drive sends one run's requests to t and measures the answers; st carries
// the alerts already sent over from the target's earlier runs.
func drive(ctx context.Context, t target, g *generator, cfg loadConfig, st *runState, progress io.Writer) *loadResult {
	client := newClient(cfg.concurrency, cfg.timeout)
	defer client.CloseIdleConnections()

	var (
		sent atomic.Int64 // requests claimed by workers
		done atomic.Int64 // requests answered or failed
	)
	st.round++
	start := time.Now()
	var deadline time.Time
	if cfg.duration > 0 {
		deadline = start.Add(cfg.duration)
	}
	// claim reserves one more request, or says the run is over.
	claim := func() bool {
		if ctx.Err() != nil {
			return false
		}
		if cfg.duration > 0 {
			return time.Now().Before(deadline)
		}
		return sent.Add(1) <= int64(cfg.requests)
	}

	var pace *rate.Limiter
	if cfg.rate > 0 {
		pace = rate.NewLimiter(rate.Limit(cfg.rate), 1)
	}

	stopProgress := make(chan struct{})
	go reportProgress(t.name, start, &done, cfg, progress, stopProgress)

	parts := make([]*loadResult, cfg.concurrency)
	var wg sync.WaitGroup
	for w := range cfg.concurrency {
		res := &loadResult{byStatus: map[int]int{}, errors: map[string]int{}, samples: map[int]string{}}
		parts[w] = res
		rng := rand.New(rand.NewPCG(cfg.seed, st.round<<32|uint64(w)))
		wg.Go(func() {
			for claim() {
				if pace != nil && pace.Wait(ctx) != nil {
					break
				}
				seq, dup := -1, false
				if rng.Float64() < cfg.dup {
					seq, dup = st.pool.pick(rng)
				}
				if !dup {
					seq = int(st.nextSeq.Add(1) - 1)
					res.distinctSent++
				}
				status, lat, body, err := send(ctx, client, t, g.alert(seq))
				done.Add(1)
				res.requests++
				if err != nil {
					res.errors[errorKind(err)]++
					continue
				}
				res.latencies = append(res.latencies, lat)
				res.byStatus[status]++
				if status != t.accepted {
					if _, ok := res.samples[status]; !ok {
						res.samples[status] = body
					}
					continue
				}
				res.accepted++
				if dup {
					res.dupAccepted++
				} else {
					res.firstAccepted++
					st.pool.add(seq)
				}
			}
		})
	}
	wg.Wait()
	close(stopProgress)

	out := &loadResult{system: t.name, byStatus: map[int]int{}, errors: map[string]int{}, samples: map[int]string{}, elapsed: time.Since(start)}
	for _, p := range parts {
		out.add(p)
	}
	slices.Sort(out.latencies)
	return out
}

// merge adds another run's figures to r, run time included; the latencies
// are sorted again.
func (r *loadResult) merge(o *loadResult) {
	r.add(o)
	r.elapsed += o.elapsed
	slices.Sort(r.latencies)
}

// add adds o's counts, samples and latencies to r (not its run time: the
// connections of one run overlap in time).
func (r *loadResult) add(o *loadResult) {
	r.requests += o.requests
	r.accepted += o.accepted
	r.firstAccepted += o.firstAccepted
	r.dupAccepted += o.dupAccepted
	r.distinctSent += o.distinctSent
	for k, v := range o.byStatus {
		r.byStatus[k] += v
	}
	for k, v := range o.errors {
		r.errors[k] += v
	}
	for k, v := range o.samples {
		if _, ok := r.samples[k]; !ok {
			r.samples[k] = v
		}
	}
	r.latencies = append(r.latencies, o.latencies...)
}

// send delivers one alert and reads the whole answer, so the connection
// can be reused. The latency runs from before the request is written to
// after the answer's body is read. The body is returned (cut to 300 bytes)
// only when the answer is not the accepted one.
func send(ctx context.Context, client *http.Client, t target, a alert) (int, time.Duration, string, error) {
	p := t.render(a)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url(a), bytes.NewReader(p.body))
	if err != nil {
		return 0, 0, "", err
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", p.mediaType())
	req.Header.Set("User-Agent", "alexus-bench/1")
	if t.authorization != nil {
		if auth := t.authorization(a); auth != "" {
			req.Header.Set("Authorization", auth)
		}
	}
	begin := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	var refusal []byte
	if resp.StatusCode == t.accepted {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		refusal, err = io.ReadAll(resp.Body)
	}
	resp.Body.Close()
	lat := time.Since(begin)
	if err != nil {
		return 0, 0, "", err
	}
	return resp.StatusCode, lat, strings.TrimSpace(string(refusal[:min(len(refusal), 300)])), nil
}

// errorKind names a failed request's cause in a few words.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	default:
		return "transport error"
	}
}

// reportProgress prints the run's progress every five seconds.
func reportProgress(name string, start time.Time, done *atomic.Int64, cfg loadConfig, w io.Writer, stop <-chan struct{}) {
	if w == nil {
		w = os.Stderr
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var last int64
	lastAt := start
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			n := done.Load()
			perSec := float64(n-last) / now.Sub(lastAt).Seconds()
			goal := fmt.Sprintf("/%d", cfg.requests)
			if cfg.duration > 0 {
				goal = fmt.Sprintf(" in %s of %s", now.Sub(start).Round(time.Second), cfg.duration)
			}
			fmt.Fprintf(w, "  %s: %d%s requests, %.0f/s now\n", name, n, goal, perSec)
			last, lastAt = n, now
		}
	}
}
