package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	"github.com/alexus-platform/alexus/internal/rediskey"
)

// The stages an incident passes on the way to its decision, as stored in
// incident_transitions.stage (see services/orchestrator/incident).
const (
	stageReceived   = "received"
	stageClassify   = "classify"
	stageBranch     = "branch"
	stageConfidence = "confidence"
	stageExecute    = "execute"
	stageClarify    = "clarify"
	stageEscalate   = "escalate"
)

// decisionStages are the stages that end the pipeline, one per incident.
var decisionStages = []string{stageExecute, stageClarify, stageEscalate}

func isDecision(stage string) bool { return slices.Contains(decisionStages, stage) }

// progress is one poll's reading.
type progress struct {
	at time.Time
	// read and acked count the stream entries the consumer group has
	// read and acknowledged, since the stream began.
	read, acked int64
}

// groupProgress reads how far the consumer groups of the bench tenant's
// stream are: entries read, and entries read and no longer pending. The
// consumer acknowledges an entry once its decision is stored (or it is
// dead-lettered). There is one group unless -plane-env names another.
func groupProgress(ctx context.Context, rdb *redis.Client, space rediskey.Space) (progress, error) {
	key := space.Tenant(benchTenant, rediskey.SignalStream)
	groups, err := rdb.XInfoGroups(ctx, key).Result()
	if err != nil {
		return progress{}, fmt.Errorf("xinfo groups %s: %w", key, err)
	}
	p := progress{at: time.Now()}
	for _, g := range groups {
		p.read += g.EntriesRead
		p.acked += g.EntriesRead - g.Pending
	}
	return p, nil
}

// countDecided counts the incidents at a decision stage. incidents.stage
// is set in the transaction that stores each transition, so this counts
// the stored decisions.
func countDecided(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var n int64
	err := conn.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE stage IN ('execute', 'clarify', 'escalate')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count decided incidents: %w", err)
	}
	return n, nil
}

// ackGrace is how long drain waits, once every entry is acknowledged,
// for Postgres to count as many decisions.
const ackGrace = 5 * time.Second

// drain polls every interval until total stream entries are acknowledged
// and Postgres counts total decided incidents, or ackGrace has passed since
// the last entry was acknowledged. It fails when the orchestrator exits,
// nothing moves for stall, or timeout passes. It returns the polls.
//
// Progress is read from the consumer group rather than by counting in
// Postgres: a count scans the incidents table, which grows with the run,
// and on a small machine every poll would take CPU from what is measured.
// base is the number of entries acknowledged before (by a warm-up), for
// the progress lines; opened, when not nil, is called once, at the first
// poll that finds an entry read beyond base.
func drain(ctx context.Context, conn *pgx.Conn, rdb *redis.Client, space rediskey.Space, orch *harness.Plane, base, total int, interval, timeout, stall time.Duration, opened func(), log io.Writer) ([]progress, error) {
	var polls []progress
	deadline := time.Now().Add(timeout)
	lastMove, last := time.Now(), progress{read: -1}
	lastLog := time.Now()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return polls, ctx.Err()
		case <-tick.C:
		}
		if err := orch.Gone(); err != nil {
			return polls, err
		}
		p, err := groupProgress(ctx, rdb, space)
		if err != nil {
			return polls, err
		}
		polls = append(polls, p)
		if p.read > int64(base) && opened != nil {
			opened()
			opened = nil
		}
		if p.read != last.read || p.acked != last.acked {
			lastMove, last = p.at, p
		}
		if time.Since(lastLog) >= 2*time.Second {
			fmt.Fprintf(log, "  %d read, %d of %d done\n", p.read-int64(base), p.acked-int64(base), total-base)
			lastLog = time.Now()
		}
		if p.acked >= int64(total) {
			decided, err := countDecided(ctx, conn)
			if err != nil {
				return polls, err
			}
			// An entry is acknowledged after its decision commits, so the
			// count agrees at once, unless entries were dead-lettered: the
			// check after the drain reports those.
			if decided >= int64(total) || time.Since(lastMove) > ackGrace {
				return polls, nil
			}
		}
		switch {
		case time.Now().After(deadline):
			return polls, fmt.Errorf("only %d of %d entries done after -timeout %s; orchestrator log:\n%s", p.acked-int64(base), total-base, timeout, harness.Tail(orch.LogPath, 20))
		case time.Since(lastMove) > stall:
			return polls, fmt.Errorf("no progress for %s at %d read, %d of %d done; orchestrator log:\n%s", stall, p.read-int64(base), p.acked-int64(base), total-base, harness.Tail(orch.LogPath, 20))
		}
	}
}

// transition is one stored transition, as the benchmark reads it.
type transition struct {
	incidentID string
	stage      string
	at         time.Time
	// latency is the stage's own latency_ms detail, when the pipeline
	// stores one; hasLatency says whether it did.
	latency    time.Duration
	hasLatency bool
}

// readTransitions returns every transition of the bench database, by
// incident and in sequence order.
func readTransitions(ctx context.Context, conn *pgx.Conn) ([]transition, error) {
	rows, err := conn.Query(ctx, `
		SELECT incident_id::text, stage, at, details->>'latency_ms'
		FROM incident_transitions
		ORDER BY incident_id, sequence`)
	if err != nil {
		return nil, fmt.Errorf("read transitions: %w", err)
	}
	var out []transition
	var (
		tr  transition
		lat *string
	)
	_, err = pgx.ForEachRow(rows, []any{&tr.incidentID, &tr.stage, &tr.at, &lat}, func() error {
		t := tr
		if lat != nil {
			d, err := parseLatencyMS(*lat)
			if err != nil {
				return fmt.Errorf("%s transition of incident %s: latency_ms %q: %w", t.stage, t.incidentID, *lat, err)
			}
			t.latency, t.hasLatency = d, true
		}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read transitions: %w", err)
	}
	return out, nil
}

// parseLatencyMS reads a latency_ms detail: milliseconds, whole or not.
func parseLatencyMS(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if f < 0 {
		return 0, fmt.Errorf("negative")
	}
	return time.Duration(f * float64(time.Millisecond)), nil
}

// stageStep is one step of the pipeline whose latency is reported: the
// stage that ends it, and the one before.
type stageStep struct {
	from, to string
}

// steps are the reported steps; "decision" stands for whichever decision
// stage an incident reached.
var steps = []stageStep{
	{stageReceived, stageClassify},
	{stageClassify, stageBranch},
	{stageBranch, stageConfidence},
	{stageConfidence, "decision"},
}

// stepLatency is the latency of one step over all incidents.
type stepLatency struct {
	step stageStep
	// gaps are the differences between the two transitions' timestamps:
	// from the start of the earlier stage's transaction to the start of the
	// later one's, so the earlier store, the later stage's call and any
	// wait for a pooled connection.
	gaps []time.Duration
	// own are the later stage's latency_ms details, where stored.
	own []time.Duration
}

// total is the end-to-end step, received to decision.
var total = stageStep{stageReceived, "decision"}

// latencies computes each step's latencies, and received→decision, from
// transitions ordered by incident and sequence.
func latencies(trs []transition) (perStep []stepLatency, endToEnd stepLatency) {
	perStep = make([]stepLatency, len(steps))
	for i, s := range steps {
		perStep[i].step = s
	}
	endToEnd.step = total
	for start := 0; start < len(trs); {
		end := start + 1
		for end < len(trs) && trs[end].incidentID == trs[start].incidentID {
			end++
		}
		byStage := map[string]transition{}
		for _, tr := range trs[start:end] {
			key := tr.stage
			if isDecision(key) {
				key = "decision"
			}
			if _, dup := byStage[key]; !dup {
				byStage[key] = tr
			}
		}
		for i, s := range steps {
			from, ok1 := byStage[s.from]
			to, ok2 := byStage[s.to]
			if !ok1 || !ok2 {
				continue
			}
			perStep[i].gaps = append(perStep[i].gaps, to.at.Sub(from.at))
			if to.hasLatency {
				perStep[i].own = append(perStep[i].own, to.latency)
			}
		}
		if from, ok := byStage[stageReceived]; ok {
			if to, ok := byStage["decision"]; ok {
				endToEnd.gaps = append(endToEnd.gaps, to.at.Sub(from.at))
			}
		}
		start = end
	}
	for i := range perStep {
		slices.Sort(perStep[i].gaps)
		slices.Sort(perStep[i].own)
	}
	slices.Sort(endToEnd.gaps)
	return perStep, endToEnd
}

// quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted by the
// nearest-rank method: the smallest value with at least q of the values at
// or below it. It is 0 for no values.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon keeps q·n that floating point puts a hair above a whole
	// number (0.99·100 = 99.00000000000001) on that number.
	rank := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// window is the span the throughput is measured over: from the first
// stored received transition to the last stored decision, both by the
// database's clock.
type window struct {
	first, last time.Time
}

func (w window) length() time.Duration { return w.last.Sub(w.first) }

// throughputWindow finds the window in trs.
func throughputWindow(trs []transition) window {
	var w window
	for _, tr := range trs {
		switch {
		case tr.stage == stageReceived && (w.first.IsZero() || tr.at.Before(w.first)):
			w.first = tr.at
		case isDecision(tr.stage) && tr.at.After(w.last):
			w.last = tr.at
		}
	}
	return w
}
