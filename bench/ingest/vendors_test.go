package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// TestGeneratorsMatchNormalisers keeps the benchmark's payloads in step with
// the normalisers: every registered source the benchmark has a generator
// for must accept its payloads as one firing signal each, with stable and
// distinct fingerprints.
func TestGeneratorsMatchNormalisers(t *testing.T) {
	t.Parallel()
	reg := normalise.Builtin()
	for _, src := range reg.Sources() {
		if _, ok := renderers[src]; !ok {
			t.Logf("%s: no generator (%s)", src, unrenderable[src])
			continue
		}
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, checkRenderer(reg, src))
		})
	}
}

// TestAlertIDsAreUnique checks the ids every recipe relies on to tell
// alerts apart.
func TestAlertIDsAreUnique(t *testing.T) {
	t.Parallel()
	g := newGenerator([]weightedSource{{name: "alertmanager", weight: 1}}, time.Now())
	ids, uuids, numbers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for seq := range 50000 {
		a := g.alert(seq)
		require.False(t, ids[a.ID] || uuids[a.UUID()] || numbers[a.Number()], "alert %d repeats an id", seq)
		ids[a.ID], uuids[a.UUID()], numbers[a.Number()] = true, true, true
		require.Equal(t, a, g.alert(seq), "alert %d is not a function of its number", seq)
	}
}

func TestParseMix(t *testing.T) {
	t.Parallel()
	mix, err := parseMix("alertmanager=5, generic")
	require.NoError(t, err)
	require.Equal(t, []weightedSource{{"alertmanager", 5}, {"generic", 1}}, mix)
	for _, bad := range []string{"", "nosuchsource", "alertmanager=0", "generic,generic"} {
		_, err := parseMix(bad)
		require.Error(t, err, bad)
	}
}
