package sources_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/sources"
)

func TestOverrideValidateAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		source string
		fields []string
	}{
		{"title", "alertmanager", []string{"title"}},
		{"resource", "alertmanager", []string{"resource"}},
		{"external_id", "alertmanager", []string{"external_id"}},
		{"severity", "alertmanager", []string{"severity"}},
		{"plain label", "alertmanager", []string{"labels.cluster"}},
		{"plain annotation", "alertmanager", []string{"annotations.summary"}},
		{"prometheus label with underscore start", "alertmanager", []string{"labels.__name__"}},
		{"kubernetes label with dots and slash", "alertmanager", []string{"labels.app.kubernetes.io/name"}},
		{"kubernetes annotation", "alertmanager", []string{"annotations.kubectl.kubernetes.io/last-applied"}},
		{"dashed key", "alertmanager", []string{"labels.team-name"}},
		{"upper-case key", "alertmanager", []string{"labels.Service"}},
		{"digit-first key", "alertmanager", []string{"labels.0zone"}},
		{"longest key", "alertmanager", []string{"labels." + strings.Repeat("k", 100)}},
		{"label and annotation with the same key", "alertmanager", []string{"labels.x", "annotations.x"}},
		{"every plain field", "alertmanager", []string{"title", "resource", "external_id", "severity"}},
		{"custom rule source", "my-tool_2", []string{"title"}},
		{"one-character source", "a", []string{"title"}},
		{"longest source", strings.Repeat("s", 63), []string{"title"}},
		{"sixteen fields", "alertmanager", numberedLabels(sources.MaxOverrideFields)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := sources.Override{Source: tc.source, Fields: tc.fields}
			require.NoError(t, o.Validate())
		})
	}
}

func TestOverrideValidateIgnoresVersion(t *testing.T) {
	t.Parallel()
	for _, v := range []uint32{0, 1, 7} {
		require.NoError(t, sources.Override{Source: "grafana", Fields: []string{"title"}, Version: v}.Validate())
	}
}

func TestOverrideValidateRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		source string
		fields []string
		// mention is a piece of the message that names what is wrong.
		mention string
	}{
		{"empty source", "", []string{"title"}, `source ""`},
		{"upper-case source", "Grafana", []string{"title"}, `source "Grafana"`},
		{"source with a dot", "graf.ana", []string{"title"}, `source "graf.ana"`},
		{"source starting with a dash", "-x", []string{"title"}, `source "-x"`},
		{"source too long", strings.Repeat("s", 64), []string{"title"}, "source"},
		{"nil fields", "grafana", nil, "0 fields"},
		{"empty fields", "grafana", []string{}, "0 fields"},
		{"seventeen fields", "grafana", numberedLabels(sources.MaxOverrideFields + 1), "17 fields"},
		{"duplicate plain field", "grafana", []string{"title", "resource", "title"}, `"title" is named twice`},
		{"duplicate label", "grafana", []string{"labels.a", "labels.a"}, `"labels.a" is named twice`},
		{"unknown field", "grafana", []string{"title", "description"}, `"description"`},
		{"field in wrong case", "grafana", []string{"Title"}, `"Title"`},
		{"empty field", "grafana", []string{""}, `field ""`},
		{"label without key", "grafana", []string{"labels."}, `"labels."`},
		{"annotation without key", "grafana", []string{"annotations."}, `"annotations."`},
		{"map prefix without dot", "grafana", []string{"labels"}, `"labels"`},
		{"singular prefix", "grafana", []string{"label.cluster"}, `"label.cluster"`},
		{"key with space", "grafana", []string{"labels.a b"}, `"labels.a b"`},
		{"key with colon", "grafana", []string{"labels.a:b"}, `"labels.a:b"`},
		{"key starting with dot", "grafana", []string{"labels..x"}, `"labels..x"`},
		{"key starting with dash", "grafana", []string{"annotations.-x"}, `"annotations.-x"`},
		{"key starting with slash", "grafana", []string{"labels./x"}, `"labels./x"`},
		{"key too long", "grafana", []string{"labels." + strings.Repeat("k", 101)}, "labels.kkk"},
		{"non-ASCII key", "grafana", []string{"labels.é"}, `"labels.é"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := sources.Override{Source: tc.source, Fields: tc.fields}.Validate()
			require.Error(t, err)
			require.ErrorIs(t, err, sources.ErrInvalidOverride)
			require.Contains(t, err.Error(), tc.mention)
		})
	}
}

// TestOverrideValidateNamesKeyKind checks that a bad key is called a label
// or an annotation according to its prefix.
func TestOverrideValidateNamesKeyKind(t *testing.T) {
	t.Parallel()
	err := sources.Override{Source: "grafana", Fields: []string{"labels.a b"}}.Validate()
	require.ErrorContains(t, err, "not a valid label name")
	err = sources.Override{Source: "grafana", Fields: []string{"annotations.a b"}}.Validate()
	require.ErrorContains(t, err, "not a valid annotation name")
}

func TestOverrideRecipe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version, want uint32
	}{{0, 1}, {1, 1}, {2, 2}, {40, 40}} {
		r := sources.Override{Source: "datadog", Fields: []string{"title"}, Version: tc.version}.Recipe()
		require.Equal(t, "override:datadog", r.Name)
		require.Equal(t, "ovr-datadog", r.Prefix)
		require.Equal(t, tc.want, r.Version, "version %d", tc.version)
	}
}

// hashFields is the documented hash of normalise.HashFields, written out
// again so the tests pin the contract rather than reuse the code.
func hashFields(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", n, fields[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func testSignal() *signalv1.Signal {
	return &signalv1.Signal{
		Source:      "alertmanager",
		Title:       "Disk full",
		Resource:    "db-1",
		ExternalId:  "ext-42",
		Severity:    signalv1.Severity_SEVERITY_CRITICAL,
		Labels:      map[string]string{"cluster": "eu-1", "app.kubernetes.io/name": "postgres", "empty": ""},
		Annotations: map[string]string{"summary": "disk is full"},
		Fingerprint: "am:original",
	}
}

var fingerprintPattern = regexp.MustCompile(`^ovr-alertmanager:[0-9a-f]{64}$`)

func TestOverrideFingerprintIsTheHashOfTheNamedFields(t *testing.T) {
	t.Parallel()
	sig := testSignal()
	o := sources.Override{Source: "alertmanager", Fields: []string{
		"title", "resource", "external_id", "severity", "labels.cluster", "labels.app.kubernetes.io/name", "annotations.summary",
	}}
	got := o.Fingerprint(sig)
	require.Regexp(t, fingerprintPattern, got)
	want := "ovr-alertmanager:" + hashFields(map[string]string{
		"title":                         "Disk full",
		"resource":                      "db-1",
		"external_id":                   "ext-42",
		"severity":                      "SEVERITY_CRITICAL",
		"labels.cluster":                "eu-1",
		"labels.app.kubernetes.io/name": "postgres",
		"annotations.summary":           "disk is full",
	})
	require.Equal(t, want, got)
}

func TestOverrideFingerprintIgnoresFieldOrder(t *testing.T) {
	t.Parallel()
	sig := testSignal()
	fields := []string{"title", "resource", "labels.cluster", "annotations.summary", "severity"}
	want := sources.Override{Source: "alertmanager", Fields: fields}.Fingerprint(sig)
	reversed := slices.Clone(fields)
	slices.Reverse(reversed)
	rotated := append(slices.Clone(fields[2:]), fields[:2]...)
	for _, order := range [][]string{reversed, rotated} {
		require.Equal(t, want, sources.Override{Source: "alertmanager", Fields: order}.Fingerprint(sig), "fields %v", order)
	}
}

func TestOverrideFingerprintDoesNotChangeSignal(t *testing.T) {
	t.Parallel()
	sig := testSignal()
	before := proto.Clone(sig)
	_ = sources.Override{Source: "alertmanager", Fields: []string{"title"}}.Fingerprint(sig)
	require.True(t, proto.Equal(before, sig), "Fingerprint changed the signal")
}

func TestOverrideFingerprintMissingFieldCountsAsEmpty(t *testing.T) {
	t.Parallel()
	o := sources.Override{Source: "alertmanager", Fields: []string{"title", "labels.missing", "annotations.missing"}}
	sig := testSignal()
	withEmpty := testSignal()
	withEmpty.Labels["missing"] = ""
	withEmpty.Annotations["missing"] = ""
	require.Equal(t, o.Fingerprint(withEmpty), o.Fingerprint(sig))
	require.Equal(t, "ovr-alertmanager:"+hashFields(map[string]string{
		"title": "Disk full", "labels.missing": "", "annotations.missing": "",
	}), o.Fingerprint(sig))

	// A signal without any maps or fields at all does not panic either.
	bare := &signalv1.Signal{}
	require.Regexp(t, fingerprintPattern, o.Fingerprint(bare))
	require.Regexp(t, fingerprintPattern, sources.Override{Source: "alertmanager", Fields: []string{"external_id", "severity"}}.Fingerprint(nil))
}

func TestOverrideFingerprintDiffers(t *testing.T) {
	t.Parallel()
	base := sources.Override{Source: "alertmanager", Fields: []string{"title", "labels.cluster"}}
	want := base.Fingerprint(testSignal())
	for _, tc := range []struct {
		name string
		o    sources.Override
		edit func(*signalv1.Signal)
	}{
		{"other title", base, func(s *signalv1.Signal) { s.Title = "Disk almost full" }},
		{"other label value", base, func(s *signalv1.Signal) { s.Labels["cluster"] = "us-1" }},
		{"label removed", base, func(s *signalv1.Signal) { delete(s.Labels, "cluster") }},
		{"other source", sources.Override{Source: "grafana", Fields: base.Fields}, func(*signalv1.Signal) {}},
		{"other field set", sources.Override{Source: "alertmanager", Fields: []string{"title"}}, func(*signalv1.Signal) {}},
		{"label read as annotation", sources.Override{Source: "alertmanager", Fields: []string{"title", "annotations.cluster"}}, func(s *signalv1.Signal) {
			s.Annotations["cluster"] = "eu-1"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sig := testSignal()
			tc.edit(sig)
			require.NotEqual(t, want, tc.o.Fingerprint(sig))
		})
	}

	// The same value under another field name is another identity.
	sig := &signalv1.Signal{Title: "x", Resource: "x"}
	require.NotEqual(t,
		sources.Override{Source: "s", Fields: []string{"title"}}.Fingerprint(sig),
		sources.Override{Source: "s", Fields: []string{"resource"}}.Fingerprint(sig))
	// The separators keep ("ab","c") apart from ("a","bc").
	o := sources.Override{Source: "s", Fields: []string{"title", "resource"}}
	require.NotEqual(t,
		o.Fingerprint(&signalv1.Signal{Title: "ab", Resource: "c"}),
		o.Fingerprint(&signalv1.Signal{Title: "a", Resource: "bc"}))
	// Severity counts.
	o = sources.Override{Source: "s", Fields: []string{"severity"}}
	require.NotEqual(t,
		o.Fingerprint(&signalv1.Signal{Severity: signalv1.Severity_SEVERITY_WARNING}),
		o.Fingerprint(&signalv1.Signal{Severity: signalv1.Severity_SEVERITY_CRITICAL}))
}

// TestOverrideFingerprintIgnoresOtherFields checks that fields the override
// does not name (including the current fingerprint) leave it alone.
func TestOverrideFingerprintIgnoresOtherFields(t *testing.T) {
	t.Parallel()
	o := sources.Override{Source: "alertmanager", Fields: []string{"resource", "labels.cluster"}}
	want := o.Fingerprint(testSignal())
	sig := testSignal()
	sig.Title, sig.ExternalId, sig.Fingerprint = "other", "other", "other"
	sig.Labels["unrelated"] = "x"
	sig.Annotations["summary"] = "other"
	require.Equal(t, want, o.Fingerprint(sig))
}

// TestOverrideFingerprintDoesNotDependOnVersion: saving the same fields
// again bumps the recipe version but must not split every incident.
func TestOverrideFingerprintDoesNotDependOnVersion(t *testing.T) {
	t.Parallel()
	sig := testSignal()
	v1 := sources.Override{Source: "alertmanager", Fields: []string{"title"}, Version: 1}
	v5 := sources.Override{Source: "alertmanager", Fields: []string{"title"}, Version: 5}
	require.Equal(t, v1.Fingerprint(sig), v5.Fingerprint(sig))
}

func TestOverrideApply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version, want uint32
	}{{0, 1}, {1, 1}, {3, 3}} {
		o := sources.Override{Source: "alertmanager", Fields: []string{"title", "labels.cluster"}, Version: tc.version}
		sig := testSignal()
		want := o.Fingerprint(sig)
		before := proto.Clone(sig).(*signalv1.Signal)
		o.Apply(sig)
		require.Equal(t, want, sig.GetFingerprint())
		require.Equal(t, "override:alertmanager", sig.GetFingerprintRecipe())
		require.Equal(t, tc.want, sig.GetFingerprintRecipeVersion())
		require.Equal(t, "ext-42", sig.GetExternalId(), "the vendor's own ID is left alone")

		// Nothing else changes.
		before.Fingerprint, before.FingerprintRecipe, before.FingerprintRecipeVersion = sig.Fingerprint, sig.FingerprintRecipe, sig.FingerprintRecipeVersion
		require.True(t, proto.Equal(before, sig), "Apply changed more than the fingerprint and recipe")

		// Applying twice is applying once: the old fingerprint is not an input.
		o.Apply(sig)
		require.Equal(t, want, sig.GetFingerprint())
	}
}

func numberedLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("labels.l%02d", i)
	}
	return out
}

// TestOverrideErrorIsItsOwn checks that ErrInvalidOverride is a sentinel
// distinct from the Store's.
func TestOverrideErrorIsItsOwn(t *testing.T) {
	t.Parallel()
	err := sources.Override{}.Validate()
	require.ErrorIs(t, err, sources.ErrInvalidOverride)
	require.False(t, errors.Is(err, sources.ErrNotFound))
	require.False(t, errors.Is(err, sources.ErrExists))
}
