package tickettest

import (
	"os"
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

// ReadFile returns testdata/name of the package under test, failing the
// test when it cannot be read.
func ReadFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}
