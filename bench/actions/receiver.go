package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// Key prefixes of the two phases' idempotency keys: measured actions are
// "bench-<i>", warm-up ones "warmup-<i>".
const (
	benchPrefix  = "bench-"
	warmupPrefix = "warmup-"
)

// receiver is the tenant's webhook target. It checks each delivery's
// signature, answers 200 at once, and records per idempotency key how many
// deliveries came and when the first did, so the benchmark can check that
// every action was delivered exactly once.
type receiver struct {
	srv    *httptest.Server
	secret []byte
	// epoch is the benchmark's clock: times are durations since it.
	epoch time.Time

	// delivered[i] and first[i] are for measured action i: deliveries, and
	// the first one's time since epoch in nanoseconds (0: none yet).
	delivered []atomic.Int32
	first     []atomic.Int64

	total         atomic.Int64
	badSignatures atomic.Int64

	mu sync.Mutex
	// others counts deliveries by key for keys that are not measured
	// actions: the warm-up's and any key the benchmark never sent.
	others map[string]int
}

func newReceiver(secret []byte, epoch time.Time, actions int) *receiver {
	r := &receiver{
		secret:    secret,
		epoch:     epoch,
		delivered: make([]atomic.Int32, actions),
		first:     make([]atomic.Int64, actions),
		others:    map[string]int{},
	}
	r.srv = httptest.NewServer(r)
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Since(r.epoch)
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !webhook.Verify(r.secret, req.Header.Get(webhook.HeaderTimestamp), body, req.Header.Get(webhook.HeaderSignature)) {
		r.badSignatures.Add(1)
	}
	r.total.Add(1)
	key := req.Header.Get(webhook.HeaderIdempotencyKey)
	if i, ok := measuredIndex(key, len(r.delivered)); ok {
		if r.delivered[i].Add(1) == 1 {
			r.first[i].Store(int64(at))
		}
	} else {
		r.mu.Lock()
		r.others[key]++
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// measuredIndex returns i for the key "bench-<i>" of a measured action.
func measuredIndex(key string, actions int) (int, bool) {
	s, ok := strings.CutPrefix(key, benchPrefix)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= actions || strconv.Itoa(i) != s {
		return 0, false
	}
	return i, true
}

// warmupDelivered counts the keys of the warm-up that were delivered.
func (r *receiver) warmupDelivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k := range r.others {
		if strings.HasPrefix(k, warmupPrefix) {
			n++
		}
	}
	return n
}

// measuredDelivered counts the measured actions delivered at least once.
func (r *receiver) measuredDelivered() int {
	n := 0
	for i := range r.delivered {
		if r.delivered[i].Load() > 0 {
			n++
		}
	}
	return n
}

// deliveryCheck is what the receiver saw of the measured actions.
type deliveryCheck struct {
	once, missing, duplicated int
	// warmupDuplicated counts warm-up keys delivered more than once;
	// unknown counts deliveries under keys the benchmark never sent.
	warmupDuplicated, unknown int
	badSignatures             int64
}

func (d deliveryCheck) ok() bool {
	return d.missing == 0 && d.duplicated == 0 && d.warmupDuplicated == 0 && d.unknown == 0 && d.badSignatures == 0
}

func (r *receiver) check() deliveryCheck {
	var d deliveryCheck
	for i := range r.delivered {
		switch n := r.delivered[i].Load(); {
		case n == 0:
			d.missing++
		case n == 1:
			d.once++
		default:
			d.duplicated++
		}
	}
	r.mu.Lock()
	for k, n := range r.others {
		switch {
		case !strings.HasPrefix(k, warmupPrefix):
			d.unknown += n
		case n > 1:
			d.warmupDuplicated++
		}
	}
	r.mu.Unlock()
	d.badSignatures = r.badSignatures.Load()
	return d
}

func (r *receiver) close() { r.srv.Close() }
