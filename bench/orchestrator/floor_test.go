package main

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The floor section gives each table's share per signal and the whole
// against the budget of the target.
func TestPrintFloor(t *testing.T) {
	f := &floor{
		signals: 1000,
		tables: []floorTable{
			{table: "signals", rows: 1000, cpu: 50 * time.Millisecond},
			{table: "incident_transitions", rows: 5000, cpu: 150 * time.Millisecond},
			{table: "commit (and the temporary tables dropped)", cpu: 0},
		},
		cpu:  200 * time.Millisecond,
		wall: 250 * time.Millisecond,
	}
	r := &report{opts: options{signals: 500}, postgresCPU: time.Second, floor: f}
	var b bytes.Buffer
	r.printFloor(&b, f)
	out := b.String()
	for _, want := range []string{
		"| signals | 1000 | 1.00 | 50 ms | 50 µs |",
		"| incident_transitions | 5000 | 5.00 | 150 ms | 150 µs |",
		"| **all** | | | **200 ms** (250 ms elapsed) | **200 µs** |",
		"The run itself spent 2000 µs per signal in Postgres.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("floor section lacks %q:\n%s", want, out)
		}
	}
	// 200 µs of a budget of cores/2000 s per signal.
	budget := float64(runtime.NumCPU()) / target * 1e6
	if want := fmt.Sprintf("takes **%.0f%%**", 200/budget*100); !strings.Contains(out, want) {
		t.Errorf("floor section lacks %q:\n%s", want, out)
	}
}
