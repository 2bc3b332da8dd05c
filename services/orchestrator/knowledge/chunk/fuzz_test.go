package chunk_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/alexus-platform/alexus/services/orchestrator/knowledge/chunk"
)

var headingLine = regexp.MustCompile(`^ {0,3}#{1,6}([ \t]|\r?$)`)

// frontMatter is where YAML front matter ends, read independently of the
// package: a first line of ---, up to the next --- or ... line.
func frontMatter(s string) int {
	ls := strings.SplitAfter(s, "\n")
	if len(ls) == 0 || strings.TrimRight(ls[0], " \t\r\n") != "---" {
		return 0
	}
	off := len(ls[0])
	for _, l := range ls[1:] {
		off += len(l)
		if t := strings.TrimRight(l, " \t\r\n"); t == "---" || t == "..." {
			return off
		}
	}
	return 0
}

// FuzzChunk checks that Split never panics, that chunks are in file order
// and cover every non-space character outside front matter and heading
// lines, and that only a lone code fence exceeds MaxChars.
func FuzzChunk(f *testing.F) {
	f.Add(runbook, uint16(2000))
	f.Add(runbook, uint16(20))
	f.Add("# A\n\n"+strings.Repeat("word ", 300), uint16(50))
	f.Add("```\nunclosed\n\n# x", uint16(30))
	f.Add("---\nfm: 1\n---\n## h ##\n~~~~\n~~~\n~~~~\ntext. more! end?", uint16(25))
	f.Add(strings.Repeat("é", 500)+"\n\n"+strings.Repeat("日本語。", 100), uint16(21))
	f.Add("a.\u00a0b. c\r\n\r\n#\t\r\n   ### x\n    # y", uint16(22))
	f.Fuzz(func(t *testing.T, text string, max uint16) {
		opts := chunk.Options{MaxChars: 20 + int(max)%3000}
		cs, err := chunk.Split("doc", text, opts)
		if err != nil {
			if !errors.Is(err, chunk.ErrNotUTF8) && !errors.Is(err, chunk.ErrTooLarge) {
				t.Fatalf("unexpected error: %v", err)
			}
			if utf8.ValidString(text) && errors.Is(err, chunk.ErrNotUTF8) {
				t.Fatal("valid UTF-8 refused")
			}
			return
		}
		if !utf8.ValidString(text) {
			t.Fatal("invalid UTF-8 accepted")
		}
		covered := make([]bool, len(text))
		prevEnd := 0
		for i, c := range cs {
			if c.ID != "doc#"+strconv.Itoa(i+1) {
				t.Fatalf("chunk %d has id %q", i, c.ID)
			}
			if c.Start < prevEnd || c.End <= c.Start || c.End > len(text) {
				t.Fatalf("chunk %d spans [%d,%d) after %d", i, c.Start, c.End, prevEnd)
			}
			prevEnd = c.End
			if c.Overlap < 0 || c.Overlap > c.Start || c.Body != text[c.Start-c.Overlap:c.End] {
				t.Fatalf("chunk %d body is not its span plus overlap", i)
			}
			if n := utf8.RuneCountInString(c.Body); n > opts.MaxChars {
				fence := strings.TrimLeft(c.Body, " ")
				if !c.Oversize || c.Overlap != 0 || !(strings.HasPrefix(fence, "```") || strings.HasPrefix(fence, "~~~")) {
					t.Fatalf("chunk %d has %d characters, over %d, and is not a lone fence", i, n, opts.MaxChars)
				}
			}
			if strings.TrimSpace(c.Body) == "" {
				t.Fatalf("chunk %d is empty", i)
			}
			for j := c.Start; j < c.End; j++ {
				covered[j] = true
			}
		}
		// Every non-space byte outside chunks is in front matter or on a
		// heading line.
		fm := frontMatter(text)
		for lineStart := 0; lineStart < len(text); {
			lineEnd := strings.IndexByte(text[lineStart:], '\n')
			if lineEnd < 0 {
				lineEnd = len(text)
			} else {
				lineEnd += lineStart
			}
			isHeading := headingLine.MatchString(text[lineStart:lineEnd])
			for i, r := range text[lineStart:lineEnd] {
				at := lineStart + i
				if !covered[at] && !unicode.IsSpace(r) && at >= fm && !isHeading {
					t.Fatalf("byte %d (%q) is in no chunk and not in a heading line", at, r)
				}
			}
			lineStart = lineEnd + 1
		}
	})
}
