package tickettest

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

// Fast is a retry policy for tests of the clients: real backoff, tiny
// waits.
var Fast = ticketapi.Options{
	Timeout:        200 * time.Millisecond,
	MaxRetries:     3,
	InitialBackoff: time.Millisecond,
	MaxBackoff:     5 * time.Millisecond,
	MaxRetryAfter:  50 * time.Millisecond,
}

// Waits records the waits a client asks for before its retries; its Note
// is a ticketapi.Options.OnRetry. Tests check the waits asked for instead
// of timing the call.
type Waits struct {
	mu    sync.Mutex
	waits []time.Duration
}

// Note records one wait.
func (w *Waits) Note(_ error, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waits = append(w.waits, wait)
}

// All returns the waits recorded, in order.
func (w *Waits) All() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// ReadFile returns testdata/name of the package under test, failing the
// test when it cannot be read.
func ReadFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}
