package reasoning

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrefilterNeverHidesAMatch holds every pattern of the package to its
// regexp over the text of every labelled case (each JSON string of
// testdata/triage/cases.json and heldout.json, as sent and as normText reads
// it): whenever the regexp matches, the prefilter lets it.
func TestPrefilterNeverHidesAMatch(t *testing.T) {
	texts := caseTexts(t)
	if len(patterns) < 40 {
		t.Fatalf("only %d patterns registered; mustPattern is not recording them", len(patterns))
	}
	filtered, matched := 0, 0
	for _, p := range patterns {
		for _, s := range texts {
			want := p.Regexp.MatchString(s)
			if got := p.MatchString(s); got != want {
				t.Fatalf("pattern %q on %q: MatchString %v, regexp %v (needles %q)", p, s, got, want, p.needles)
			}
			if want {
				matched++
			} else if !p.mayMatch(s) {
				filtered++
			}
		}
	}
	// The prefilter must be doing its job, not letting everything through.
	if filtered*2 < len(patterns)*len(texts) {
		t.Errorf("prefilter rejected only %d of %d non-matching pairs", filtered, len(patterns)*len(texts)-matched)
	}
	t.Logf("%d patterns x %d texts: %d matches, %d rejected by the prefilter", len(patterns), len(texts), matched, filtered)
}

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		expr    string
		needles []string
	}{
		{`(?i)\b(?:outage|went down|down)\b`, []string{"outage", "down"}},
		{`(?i)\bexpir\w*\s+in\s+(\d+)\s+(hour|day)s?\b`, []string{"expir"}},
		{`\d+`, nil},
		{`(?:foo)?bar?`, []string{"ba"}}, // the optional parts are not required
		{`x|yz`, nil},                    // one branch is a single letter, in nearly every text
		{`(?i)\[TEST\]|^\s*test\s*$`, []string{"test"}}, // "[test]" holds "test"
	} {
		got := mustPattern(tc.expr).needles
		if strings.Join(got, ",") != strings.Join(tc.needles, ",") {
			t.Errorf("%s: needles %q, want %q", tc.expr, got, tc.needles)
		}
	}
}

// FuzzPrefilter checks, for any text, that each pattern answers as its
// regexp does.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"Service is DOWN", "kernel panic on node-1", "ΚΕΛΒΙΝ \u212a", "expires in 3 days", "[TeSt] alert", "", "Überlast – Service is DOWN at 90°", "\u017fample event \u212aernel"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range patterns {
			if got, want := p.MatchString(s), p.Regexp.MatchString(s); got != want {
				t.Fatalf("pattern %q on %q: %v, regexp %v", p, s, got, want)
			}
		}
	})
}

func caseTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	for _, name := range []string{"cases.json", "heldout.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "triage", name))
		if err != nil {
			t.Fatalf("reading the labelled set: %v", err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("decoding %s: %v", name, err)
		}
		collectStrings(v, &texts)
	}
	n := len(texts)
	for _, s := range texts[:n] {
		texts = append(texts, normText(s), strings.ToUpper(s))
	}
	return texts
}

// collectStrings gathers every string in a decoded JSON value, and the
// strings inside JSON-encoded payloads.
func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
		var inner any
		if strings.HasPrefix(strings.TrimSpace(x), "{") && json.Unmarshal([]byte(x), &inner) == nil {
			collectStrings(inner, out)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case map[string]any:
		for k, e := range x {
			*out = append(*out, k)
			collectStrings(e, out)
		}
	}
}
