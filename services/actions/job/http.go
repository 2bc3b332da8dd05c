package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxResponseRead bounds how much of a receiver's answer is read.
const maxResponseRead = 64 << 10

// maxResultText bounds how much of a receiver's answer is kept in the
// action's result.
const maxResultText = 200

// Rate limiting: a 429 is retried after the receiver's Retry-After (or
// defaultRetryAfter without one), clamped to [minRetryAfter,
// maxRetryAfter]. Waiting for a rate limit does not use up one of River's
// attempts, so the runs of an action are capped separately: after
// MaxAttempts + maxRateLimitedRuns runs the action fails.
const (
	defaultRetryAfter  = 30 * time.Second
	minRetryAfter      = time.Second
	maxRetryAfter      = time.Hour
	maxRateLimitedRuns = 10
)

// ReadAnswer reads the start of a receiver's answer, at most
// maxResponseRead bytes, so that the connection can be reused without
// trusting the answer's size.
func ReadAnswer(r io.Reader) []byte {
	raw, _ := io.ReadAll(io.LimitReader(r, maxResponseRead))
	return raw
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date) as the
// wait before the next run.
func RetryAfter(h string, now time.Time) time.Duration {
	d := defaultRetryAfter
	if h = strings.TrimSpace(h); h != "" {
		if s, err := strconv.Atoi(h); err == nil {
			d = time.Duration(s) * time.Second
		} else if at, err := http.ParseTime(h); err == nil {
			d = at.Sub(now)
		}
	}
	return min(max(d, minRetryAfter), maxRetryAfter)
}

// Clip keeps the start of a receiver's answer, on one line, printable, for
// an action's result.
func Clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxResultText {
		s = string(r[:maxResultText]) + "…"
	}
	return s
}

// Describe says why a request failed without repeating its URL, which is
// the tenant's configuration and may be (or embed) a credential.
func Describe(err error, timeout time.Duration) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf("timeout: no response within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "request failed: " + err.Error()
}
