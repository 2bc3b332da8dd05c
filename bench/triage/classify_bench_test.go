package main

import (
	"testing"

	"github.com/alexus-platform/alexus/services/ingest/normalise"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

// BenchmarkHeuristicClassify is the heuristic classifier's cost per signal
// over the labelled set's signals, taken in turn: the CPU the orchestrator
// spends on the classify stage when no model is set.
//
//	go test ./bench/triage -run XXX -bench HeuristicClassify -benchmem
func BenchmarkHeuristicClassify(b *testing.B) {
	set, err := loadSet(casesPath(repoRoot))
	if err != nil {
		b.Fatal(err)
	}
	reg := normalise.Builtin()
	var sigs []reasoning.Signal
	for _, c := range set.Cases {
		ps, err := normaliseCase(reg, c)
		if err != nil {
			b.Fatalf("case %s: %v", c.ID, err)
		}
		sigs = append(sigs, reasoning.SignalFromProto(ps[0]))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		reasoning.Classify(sigs[i%len(sigs)])
	}
}
