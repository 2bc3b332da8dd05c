package chunk_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/services/orchestrator/knowledge/chunk"
)

const runbook = `---
title: Postgres runbook
tags: [db]
---
Read this first.

# Runbook: Postgres

Owner: DBA team.

## Failover

When the primary dies.

### Promote replica

Run the promotion:

` + "```sh\n# not a heading\npg_ctl promote\n```" + `

Then repoint pgbouncer.

## Failover

A second section of the same name.
#hashtag is text, not a heading.
`

func TestSplitHeadings(t *testing.T) {
	t.Parallel()
	cs, err := chunk.Split("kb/runbook.md", runbook, chunk.Options{})
	require.NoError(t, err)
	type row struct{ id, title, anchor, body string }
	var got []row
	for _, c := range cs {
		got = append(got, row{c.ID, c.Title, c.Anchor, c.Body})
		require.Equal(t, runbook[c.Start:c.End], c.Body[c.Overlap:])
	}
	require.Equal(t, []row{
		{"kb/runbook.md#1", "", "", "Read this first."},
		{"kb/runbook.md#2", "Runbook: Postgres", "runbook-postgres", "Owner: DBA team."},
		{"kb/runbook.md#3", "Runbook: Postgres > Failover", "failover", "When the primary dies."},
		{"kb/runbook.md#4", "Runbook: Postgres > Failover > Promote replica", "promote-replica",
			"Run the promotion:\n\n```sh\n# not a heading\npg_ctl promote\n```\n\nThen repoint pgbouncer."},
		{"kb/runbook.md#5", "Runbook: Postgres > Failover", "failover-1", "A second section of the same name.\n#hashtag is text, not a heading."},
	}, got)
	require.Equal(t, []string{"Runbook: Postgres", "Failover", "Promote replica"}, cs[3].Headings)
}

func TestSplitLongSection(t *testing.T) {
	t.Parallel()
	var paras []string
	for i := range 12 {
		paras = append(paras, fmt.Sprintf("Paragraph %d says the queue backs up when the consumer lags behind the producer.", i))
	}
	text := "## Kafka lag\n\n" + strings.Join(paras, "\n\n")
	cs, err := chunk.Split("f", text, chunk.Options{MaxChars: 300, Overlap: 40})
	require.NoError(t, err)
	require.Greater(t, len(cs), 3)
	for i, c := range cs {
		require.LessOrEqual(t, utf8.RuneCountInString(c.Body), 300)
		require.Equal(t, "Kafka lag", c.Title)
		require.Equal(t, "kafka-lag", c.Anchor)
		// Each chunk starts at a paragraph and the overlap repeats whole
		// words from the end of the one before.
		require.True(t, strings.HasPrefix(text[c.Start:], "Paragraph"), c.Body)
		if i > 0 {
			require.Greater(t, c.Overlap, 0)
			require.LessOrEqual(t, utf8.RuneCountInString(c.Body[:c.Overlap]), 40)
			require.Contains(t, cs[i-1].Body, strings.TrimSpace(c.Body[:c.Overlap]))
			require.NotEqual(t, ' ', c.Body[0])
		}
	}
}

func TestSplitSentencesAndWords(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("The disk fills up. ", 30) + strings.Repeat("x", 250)
	cs, err := chunk.Split("f", long, chunk.Options{MaxChars: 100, Overlap: -1})
	require.NoError(t, err)
	var rebuilt []string
	for _, c := range cs {
		require.LessOrEqual(t, utf8.RuneCountInString(c.Body), 100)
		require.Zero(t, c.Overlap)
		require.Empty(t, c.Title)
		rebuilt = append(rebuilt, c.Body)
	}
	require.True(t, strings.HasSuffix(cs[0].Body, "fills up."), "split at a sentence end: %q", cs[0].Body)
	require.Equal(t, strings.Join(strings.Fields(long), ""), strings.Join(strings.Fields(strings.Join(rebuilt, "")), ""))
}

func TestSplitOversizeFence(t *testing.T) {
	t.Parallel()
	fence := "~~~\n" + strings.Repeat("log line that is long\n", 20) + "~~~"
	text := "# Logs\n\nBefore.\n\n" + fence + "\n\nAfter."
	cs, err := chunk.Split("f", text, chunk.Options{MaxChars: 100})
	require.NoError(t, err)
	require.Len(t, cs, 3)
	require.Equal(t, "Before.", cs[0].Body)
	require.Equal(t, fence, cs[1].Body)
	require.True(t, cs[1].Oversize)
	require.Zero(t, cs[1].Overlap)
	require.Equal(t, "After.", cs[2].Body) // no overlap is cut out of a fence
	require.False(t, cs[2].Oversize)

	// An unclosed fence runs to the end of the file.
	cs, err = chunk.Split("f", "```\n# x\n\ny", chunk.Options{})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, "```\n# x\n\ny", cs[0].Body)

	_, err = chunk.Split("f", "```\n"+strings.Repeat("a", 70_000)+"\n```", chunk.Options{})
	require.ErrorIs(t, err, chunk.ErrTooLarge)
	require.ErrorContains(t, err, "code fence at byte 0")
}

func TestSplitPlainText(t *testing.T) {
	t.Parallel()
	text := "Postmortem 2024-03-01\r\n\r\nThe checkout API timed out.\r\n\r\n\r\nRoot cause: pool exhausted.\r\n"
	cs, err := chunk.Split("pm.txt", text, chunk.Options{MaxChars: 60, Overlap: -1})
	require.NoError(t, err)
	var bodies []string
	for _, c := range cs {
		bodies = append(bodies, c.Body)
		require.Empty(t, c.Title)
		require.Empty(t, c.Anchor)
	}
	require.Equal(t, []string{"Postmortem 2024-03-01\r\n\r\nThe checkout API timed out.", "Root cause: pool exhausted."}, bodies)
}

func TestSplitEdgeCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       []string // titles|bodies
	}{
		{"empty", "", nil},
		{"only space", " \n\t\n", nil},
		{"only headings", "# A\n## B\n", nil},
		{"front matter only", "---\na: b\n---\n", nil},
		{"unclosed front matter is text", "---\na: b\n", []string{"|---\na: b"}},
		{"closing hashes", "## Deploy ##\nx", []string{"Deploy|x"}},
		{"hash without space", "#Deploy\nx", []string{"|#Deploy\nx"}},
		{"indented four spaces", "    # code\nx", []string{"|# code\nx"}},
		{"deeper then shallower", "# A\n### C\nc\n## B\nb", []string{"A > C|c", "A > B|b"}},
		{"seven hashes", "####### x", []string{"|####### x"}},
		{"empty heading", "#\nx\n#\ny", []string{"|x", "|y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cs, err := chunk.Split("f", tc.text, chunk.Options{})
			require.NoError(t, err)
			var got []string
			for _, c := range cs {
				got = append(got, c.Title+"|"+c.Body)
			}
			require.Equal(t, tc.want, got)
		})
	}
	cs, err := chunk.Split("f", "#\nx\n#\ny", chunk.Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"section", "section-1"}, []string{cs[0].Anchor, cs[1].Anchor})
}

func TestSplitRefuses(t *testing.T) {
	t.Parallel()
	_, err := chunk.Split("f", strings.Repeat("a", 1<<20+1), chunk.Options{})
	require.ErrorIs(t, err, chunk.ErrTooLarge)
	_, err = chunk.Split("f", "ok\xffnot", chunk.Options{})
	require.ErrorIs(t, err, chunk.ErrNotUTF8)
	require.ErrorContains(t, err, "offset 2")
	_, err = chunk.Split("", "x", chunk.Options{})
	require.ErrorContains(t, err, "file id")
	_, err = chunk.Split("f", "x", chunk.Options{MaxChars: 5})
	require.ErrorContains(t, err, "max chars")
	_, err = chunk.Split("f", "x", chunk.Options{MaxChars: 100, Overlap: 50})
	require.ErrorContains(t, err, "overlap")
}

func TestSplitLongTitle(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("é", 400)
	cs, err := chunk.Split("f", "# "+h+"\n## "+h+"\nx", chunk.Options{})
	require.NoError(t, err)
	require.LessOrEqual(t, len(cs[0].Title), graph.MaxTitleLen)
	require.True(t, utf8.ValidString(cs[0].Title))
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Runbook: Postgres":       "runbook-postgres",
		"Step 2 — Promote (fast)": "step-2--promote-fast",
		"snake_case & dashes-ok":  "snake_case--dashes-ok",
		"Ünïcode Überschrift":     "ünïcode-überschrift",
	} {
		require.Equal(t, want, chunk.Slug(in), in)
	}
}

func TestMentions(t *testing.T) {
	t.Parallel()
	names := map[string]string{
		"checkout":            "ci-checkout",
		"checkout-api":        "ci-checkout-api",
		"payments db":         "ci-paydb",
		"payments db replica": "ci-paydb-replica",
		"db01.prod":           "ci-db01",
		"kafka":               "ci-kafka",
		"c++ builder":         "ci-cpp",
		"":                    "ci-empty",
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"The Checkout service timed out.", []string{"ci-checkout"}},
		{"checkout-api and checkout", []string{"ci-checkout-api", "ci-checkout"}},
		{"checkout-api-v2 is new", nil},
		{"Promote PAYMENTS   DB\nREPLICA now; payments db stays.", []string{"ci-paydb-replica", "ci-paydb"}},
		{"ssh db01.prod.", []string{"ci-db01"}},
		{"db01.prod.example.com", nil},
		{"kafkaesque", nil},
		{"(kafka) kafka, KAFKA", []string{"ci-kafka"}},
		{"the C++ Builder broke", []string{"ci-cpp"}},
		{"", nil},
	} {
		require.Equal(t, tc.want, chunk.Mentions(tc.text, names), tc.text)
	}
	require.Nil(t, chunk.Mentions("checkout", nil))
	// Names equal once normalised: the least ID wins, whatever the order.
	m := chunk.NewMatcher(map[string]string{"Redis": "b", "redis": "a"})
	require.Equal(t, []string{"a"}, m.Find("redis"))
}
