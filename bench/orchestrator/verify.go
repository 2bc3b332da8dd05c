package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// incidentRow is what the check reads of one incident.
type incidentRow struct {
	id, signalID string
	// decision is the confidence stage's decision; the decision stage
	// differs when an execute could not be carried out and escalated.
	decision string
}

func readIncidents(ctx context.Context, conn *pgx.Conn) ([]incidentRow, error) {
	rows, err := conn.Query(ctx, `SELECT id::text, signal_id::text, decision FROM incidents`)
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (incidentRow, error) {
		var in incidentRow
		err := r.Scan(&in.id, &in.signalID, &in.decision)
		return in, err
	})
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	return out, nil
}

// outcome is the result of the check.
type outcome struct {
	// decisions counts incidents by their decision stage.
	decisions map[string]int
	// escalatedExecutes counts incidents the confidence stage decided to
	// execute whose decision stage is another (e.g. no supported action).
	escalatedExecutes int
	// problems lists every mismatch found, with a few examples each; empty
	// when the run is correct.
	problems []string
}

// maxExamples bounds the examples listed per problem.
const maxExamples = 3

// check compares the stored incidents and transitions with the signals
// written (their IDs): every signal must have exactly one incident, and
// every incident exactly one transition of each pipeline stage and exactly
// one decision. actions is the number of actions the action plane stored
// for the tenant, which must equal the executes; deadLetters is the length
// of the tenant's dead-letter stream, which must be empty.
func check(signalIDs []string, incs []incidentRow, trs []transition, actions int, deadLetters int64) outcome {
	out := outcome{decisions: map[string]int{}}
	problem := func(what string, examples []string) {
		if len(examples) == 0 {
			return
		}
		n := len(examples)
		if n > maxExamples {
			examples = append(examples[:maxExamples:maxExamples], "…")
		}
		out.problems = append(out.problems, fmt.Sprintf("%d %s (e.g. %s)", n, what, strings.Join(examples, ", ")))
	}

	written := make(map[string]bool, len(signalIDs))
	for _, id := range signalIDs {
		written[id] = true
	}
	bySignal := make(map[string]incidentRow, len(incs))
	var unknown, twice []string
	for _, in := range incs {
		if !written[in.signalID] {
			unknown = append(unknown, in.id)
		}
		if _, dup := bySignal[in.signalID]; dup {
			twice = append(twice, in.signalID)
		}
		bySignal[in.signalID] = in
	}
	var missing []string
	for _, id := range signalIDs {
		if _, ok := bySignal[id]; !ok {
			missing = append(missing, id)
		}
	}
	problem("signals have no incident", missing)
	problem("signals have more than one incident", twice)
	problem("incidents belong to no signal written", unknown)

	stages := make(map[string]map[string]int, len(incs))
	for _, tr := range trs {
		m := stages[tr.incidentID]
		if m == nil {
			m = map[string]int{}
			stages[tr.incidentID] = m
		}
		m[tr.stage]++
	}
	var noDecision, manyDecisions []string
	wrongStage := map[string][]string{}
	for _, in := range incs {
		m := stages[in.id]
		for _, st := range []string{stageReceived, stageClassify, stageBranch, stageConfidence} {
			if m[st] != 1 {
				wrongStage[st] = append(wrongStage[st], fmt.Sprintf("%s has %d", in.id, m[st]))
			}
		}
		var decided []string
		for _, st := range decisionStages {
			for range m[st] {
				decided = append(decided, st)
			}
		}
		switch len(decided) {
		case 0:
			noDecision = append(noDecision, in.id)
		case 1:
			out.decisions[decided[0]]++
			if in.decision == stageExecute && decided[0] != stageExecute {
				out.escalatedExecutes++
			}
		default:
			manyDecisions = append(manyDecisions, fmt.Sprintf("%s (%s)", in.id, strings.Join(decided, "+")))
		}
	}
	problem("incidents have no decision", noDecision)
	problem("incidents have more than one decision", manyDecisions)
	for _, st := range []string{stageReceived, stageClassify, stageBranch, stageConfidence} {
		problem(fmt.Sprintf("incidents do not have exactly one %s transition", st), wrongStage[st])
	}
	if actions != out.decisions[stageExecute] {
		out.problems = append(out.problems, fmt.Sprintf("the action plane stored %d actions for %d executes", actions, out.decisions[stageExecute]))
	}
	if deadLetters > 0 {
		out.problems = append(out.problems, fmt.Sprintf("%d entries were dead-lettered", deadLetters))
	}
	return out
}
