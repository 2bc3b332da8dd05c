package limit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/ingest/limit"
)

func TestExceedsDepth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		json  string
		depth int // the smallest max it does not exceed
	}{
		{`1`, 0},
		{`"{[{["`, 0},
		{`{}`, 1},
		{`[]`, 1},
		{`{"a":[1]}`, 2},
		{`[[],[],{}]`, 2},
		{`{"a":{"b":{"c":[]}}}`, 4},
		{`{"a":"}}}]]]{{{"}`, 1},
		{`{"a\"[[[":"x\\"}`, 1},      // an escaped quote does not end the key; \\ before " does
		{`{"a":"x\\\"[[[\\\\"}`, 1},  // odd run of backslashes escapes, even does not
		{`{"a":"\\\\"}` + `[[`, 2},   // after the string, brackets count again
		{`]]]]{`, 1},                 // closers never take the count below zero
		{`{"unterminated:[[[[[[`, 1}, // an open string hides the rest
		{`[` + strings.Repeat(`[1,"]",`, 3) + `[]]]]]`, 5}, // "]" inside strings
	}
	for _, c := range cases {
		require.False(t, limit.ExceedsDepth([]byte(c.json), c.depth), "%s at %d", c.json, c.depth)
		if c.depth > 0 {
			require.True(t, limit.ExceedsDepth([]byte(c.json), c.depth-1), "%s at %d", c.json, c.depth-1)
		}
	}

	deep := nested(65)
	require.True(t, limit.ExceedsDepth(deep, 64))
	require.False(t, limit.ExceedsDepth(deep, 65))
	require.False(t, limit.ExceedsDepth(nested(64), 64))
	// A million openers stop the scan at the cap, not at the end.
	require.True(t, limit.ExceedsDepth(bytes.Repeat([]byte("["), 1<<20), 64))
}

// nested returns depth levels of alternating objects and arrays.
func nested(depth int) []byte {
	var b bytes.Buffer
	for i := range depth {
		if i%2 == 0 {
			b.WriteString(`{"k":`)
		} else {
			b.WriteString(`[`)
		}
	}
	b.WriteString(`1`)
	for i := depth - 1; i >= 0; i-- {
		if i%2 == 0 {
			b.WriteString(`}`)
		} else {
			b.WriteString(`]`)
		}
	}
	return b.Bytes()
}

// jsonDepth measures the nesting of valid JSON with encoding/json's tokenizer.
func jsonDepth(b []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return deepest, nil
		}
		if err != nil {
			return 0, err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// FuzzExceedsDepth checks the scanner against encoding/json on valid JSON,
// and that it never panics on anything else.
func FuzzExceedsDepth(f *testing.F) {
	for _, s := range []string{`{}`, `[[["]"]]]`, `{"a\\":"\"[{"}`, `{"a":[{"b":"\\\\"},[]]}`, `"\\\"[`, `[1,2,{"x":null}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := -1
		for d := 0; d <= 64; d++ {
			if !limit.ExceedsDepth(b, d) {
				got = d
				break
			}
		}
		if !json.Valid(b) {
			return
		}
		want, err := jsonDepth(b)
		if err != nil || want > 64 {
			return
		}
		if got != want {
			t.Fatalf("ExceedsDepth says depth %d, encoding/json %d, for %q", got, want, b)
		}
	})
}

// BenchmarkDepthScan scans a 1 MiB webhook payload (Alertmanager-shaped:
// many alerts with labels and annotations, mostly strings), then a 1 MiB
// payload of small numbers in shallow arrays, which is almost all structure
// and so the scanner's slow path. "utf8" is the UTF-8 check ingest runs
// beside it on the alerts payload, for comparison.
func BenchmarkDepthScan(b *testing.B) {
	alerts := alertsPayload(1 << 20)
	for name, payload := range map[string][]byte{
		"alerts":  alerts,
		"numbers": numbersPayload(1 << 20),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if limit.ExceedsDepth(payload, 64) {
					b.Fatal("payload is shallow")
				}
			}
		})
	}
	b.Run("utf8", func(b *testing.B) {
		b.SetBytes(int64(len(alerts)))
		for b.Loop() {
			if !utf8.Valid(alerts) {
				b.Fatal("payload is UTF-8")
			}
		}
	})
}

func alertsPayload(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"version":"4","groupKey":"{}:{alertname=\"HighLatency\"}","status":"firing","receiver":"alexus","alerts":[`)
	for i := 0; b.Len() < size-400; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"HighLatency","severity":"warning","instance":"api-%d:8080","job":"api"},"annotations":{"summary":"p99 latency above 2s on api-%d","description":"Latency \"p99\" is 2.3s [threshold 2s]; see C:\\runbooks\\latency"},"startsAt":"2026-11-29T05:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example/graph?g0.expr=histogram_quantile%%280.99%%29","fingerprint":"%016x"}`, i, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func numbersPayload(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`[`)
	for i := 0; b.Len() < size-16; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `[%d,{"v":%d}]`, i%10, i%7)
	}
	b.WriteString(`]`)
	return b.Bytes()
}
