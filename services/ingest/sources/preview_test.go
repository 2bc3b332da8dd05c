package sources_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/sources"
)

// byResource identifies alertmanager signals by resource alone.
var byResource = sources.Override{Source: "alertmanager", Fields: []string{"resource"}}

func stored(fp, resource, title string) *signalv1.Signal {
	return &signalv1.Signal{Source: "alertmanager", Fingerprint: fp, Resource: resource, Title: title}
}

func newFP(resource string) string {
	return byResource.Fingerprint(&signalv1.Signal{Resource: resource})
}

func preview(sigs ...*signalv1.Signal) sources.Preview {
	p := sources.NewPreviewer(byResource)
	for _, s := range sigs {
		p.Add(s)
	}
	return p.Result()
}

func TestPreviewEmpty(t *testing.T) {
	t.Parallel()
	require.Equal(t, sources.Preview{}, sources.NewPreviewer(byResource).Result())
}

func TestPreviewNoChange(t *testing.T) {
	t.Parallel()
	got := preview(
		stored("a", "db-1", "A"),
		stored("a", "db-1", "A again"),
		stored("b", "db-2", "B"),
	)
	require.Equal(t, sources.Preview{Examined: 3, Current: 2, New: 2}, got)
}

func TestPreviewMerge(t *testing.T) {
	t.Parallel()
	got := preview(
		stored("b", "db-1", "second"),
		stored("a", "db-1", "first"),
		stored("c", "db-1", "third"),
		stored("a", "db-1", "first again"),
		stored("d", "db-2", "alone"),
	)
	require.Equal(t, sources.Preview{
		Examined: 5, Current: 4, New: 2,
		Merges: 1, MergedFingerprints: 3,
		// Into is sorted; the title is that of the first of them, as first seen.
		MergeExamples: []sources.Change{{Fingerprint: newFP("db-1"), Into: []string{"a", "b", "c"}, Title: "first"}},
	}, got)
}

func TestPreviewSplit(t *testing.T) {
	t.Parallel()
	got := preview(
		stored("a", "db-2", "first title of a"),
		stored("a", "db-1", "second title of a"),
		stored("a", "db-2", "third title of a"),
		stored("b", "db-3", "b"),
	)
	want := []string{newFP("db-1"), newFP("db-2")}
	slices.Sort(want)
	require.Equal(t, sources.Preview{
		Examined: 4, Current: 2, New: 3,
		Splits:        1,
		SplitExamples: []sources.Change{{Fingerprint: "a", Into: want, Title: "first title of a"}},
	}, got)
}

func TestPreviewMergeAndSplit(t *testing.T) {
	t.Parallel()
	// a and b become one under db-1, while a also splits off db-2.
	got := preview(
		stored("a", "db-1", "A"),
		stored("b", "db-1", "B"),
		stored("a", "db-2", "A elsewhere"),
	)
	into := []string{newFP("db-1"), newFP("db-2")}
	slices.Sort(into)
	require.Equal(t, sources.Preview{
		Examined: 3, Current: 2, New: 2,
		Merges: 1, MergedFingerprints: 2, Splits: 1,
		MergeExamples: []sources.Change{{Fingerprint: newFP("db-1"), Into: []string{"a", "b"}, Title: "A"}},
		SplitExamples: []sources.Change{{Fingerprint: "a", Into: into, Title: "A"}},
	}, got)
}

func TestPreviewMergeExamplesAreCappedAndSorted(t *testing.T) {
	t.Parallel()
	p := sources.NewPreviewer(byResource)
	// 12 merges of two current fingerprints each, added in reverse order.
	for i := 11; i >= 0; i-- {
		res := fmt.Sprintf("host-%02d", i)
		p.Add(stored(fmt.Sprintf("x-%02d", i), res, "x "+res))
		p.Add(stored(fmt.Sprintf("y-%02d", i), res, "y "+res))
	}
	got := p.Result()
	require.Equal(t, 12, got.Merges)
	require.Equal(t, 24, got.MergedFingerprints)
	require.Equal(t, 24, got.Current)
	require.Equal(t, 12, got.New)
	require.Zero(t, got.Splits)
	require.Empty(t, got.SplitExamples)
	require.Len(t, got.MergeExamples, 10)

	// The examples are the first ten merges by new fingerprint.
	var all []string
	title := map[string]string{}
	for i := range 12 {
		res := fmt.Sprintf("host-%02d", i)
		all = append(all, newFP(res))
		title[newFP(res)] = "x " + res
	}
	slices.Sort(all)
	fps := make([]string, len(got.MergeExamples))
	for i, c := range got.MergeExamples {
		fps[i] = c.Fingerprint
		require.Len(t, c.Into, 2)
		require.True(t, slices.IsSorted(c.Into), "into %v", c.Into)
		require.Equal(t, title[c.Fingerprint], c.Title)
	}
	require.Equal(t, all[:10], fps)
}

func TestPreviewMergeIntoIsCapped(t *testing.T) {
	t.Parallel()
	p := sources.NewPreviewer(byResource)
	// One merge of 15 current fingerprints, added in reverse.
	for i := 14; i >= 0; i-- {
		p.Add(stored(fmt.Sprintf("big-%02d", i), "big", fmt.Sprintf("big %02d", i)))
	}
	got := p.Result()
	require.Equal(t, 1, got.Merges)
	require.Equal(t, 15, got.MergedFingerprints, "the count is not capped")
	require.Len(t, got.MergeExamples, 1)
	want := make([]string, 10)
	for i := range want {
		want[i] = fmt.Sprintf("big-%02d", i)
	}
	require.Equal(t, sources.Change{Fingerprint: newFP("big"), Into: want, Title: "big 00"}, got.MergeExamples[0])
}

func TestPreviewSplitExamplesAreCappedAndSorted(t *testing.T) {
	t.Parallel()
	p := sources.NewPreviewer(byResource)
	// 11 current fingerprints, each split over two resources, in reverse.
	for i := 10; i >= 0; i-- {
		cur := fmt.Sprintf("cur-%02d", i)
		p.Add(stored(cur, fmt.Sprintf("%s-a", cur), "t "+cur))
		p.Add(stored(cur, fmt.Sprintf("%s-b", cur), "later title"))
	}
	// "aaa" sorts first and splits twelve ways.
	for i := range 12 {
		p.Add(stored("aaa", fmt.Sprintf("wide-%02d", i), "wide"))
	}
	got := p.Result()
	require.Equal(t, 12, got.Splits)
	require.Zero(t, got.Merges)
	require.Zero(t, got.MergedFingerprints)
	require.Len(t, got.SplitExamples, 10)

	fps := make([]string, len(got.SplitExamples))
	for i, c := range got.SplitExamples {
		fps[i] = c.Fingerprint
		require.True(t, slices.IsSorted(c.Into))
	}
	want := []string{"aaa"}
	for i := range 9 {
		want = append(want, fmt.Sprintf("cur-%02d", i))
	}
	require.Equal(t, want, fps)

	wide := got.SplitExamples[0]
	require.Len(t, wide.Into, 10, "a split's new fingerprints are capped too")
	require.Equal(t, "wide", wide.Title)
	all := make([]string, 12)
	for i := range all {
		all[i] = newFP(fmt.Sprintf("wide-%02d", i))
	}
	slices.Sort(all)
	require.Equal(t, all[:10], wide.Into)

	require.Equal(t, "t cur-00", got.SplitExamples[1].Title, "the title first seen")
}

// TestPreviewResultIsRepeatable checks that Result can be called between
// Adds and reflects everything added so far.
func TestPreviewResultIsRepeatable(t *testing.T) {
	t.Parallel()
	p := sources.NewPreviewer(byResource)
	p.Add(stored("a", "db-1", "A"))
	first := p.Result()
	require.Equal(t, sources.Preview{Examined: 1, Current: 1, New: 1}, first)
	require.Equal(t, first, p.Result())
	p.Add(stored("b", "db-1", "B"))
	got := p.Result()
	require.Equal(t, 2, got.Examined)
	require.Equal(t, 1, got.Merges)
	require.Equal(t, 2, got.MergedFingerprints)
}

// TestPreviewUsesTheOverridesFields checks that the preview computes new
// fingerprints with the override it was given, fields and all.
func TestPreviewUsesTheOverridesFields(t *testing.T) {
	t.Parallel()
	o := sources.Override{Source: "alertmanager", Fields: []string{"labels.cluster"}}
	p := sources.NewPreviewer(o)
	p.Add(&signalv1.Signal{Fingerprint: "a", Labels: map[string]string{"cluster": "eu"}, Resource: "x"})
	p.Add(&signalv1.Signal{Fingerprint: "b", Labels: map[string]string{"cluster": "eu"}, Resource: "y"})
	p.Add(&signalv1.Signal{Fingerprint: "c", Resource: "z"})
	got := p.Result()
	require.Equal(t, 1, got.Merges)
	require.Equal(t, 2, got.New)
	require.Equal(t, o.Fingerprint(&signalv1.Signal{Labels: map[string]string{"cluster": "eu"}}), got.MergeExamples[0].Fingerprint)
}
