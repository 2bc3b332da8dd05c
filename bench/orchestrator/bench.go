package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/procstat"
	"github.com/alexus-platform/alexus/internal/rediskey"
)

// bench prepares Alexus, writes the backlog, starts the orchestrator, waits
// until every signal has a stored decision, and returns the report.
// Whatever it started is stopped and removed before it returns, also on
// Ctrl-C.
func bench(ctx context.Context, o options, log io.Writer) (*report, error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	templates, err := loadTemplates(triagePath(root), now)
	if err != nil {
		return nil, fmt.Errorf("triage set: %w", err)
	}
	sigs := makeSignals(templates, o.warmup+o.signals, now)
	rep := &report{
		opts: o, args: os.Args[1:], templates: len(templates),
		cases:   countDistinct(templates, func(t template) string { return t.caseID }),
		sources: countDistinct(templates, func(t template) string { return t.sig.GetSource() }),
	}

	st, err := startStack(ctx, harness.Config{
		Flags:    o.Flags,
		RepoRoot: root,
		Bin:      o.Bin,
		Pprof:    o.ProfileDir != "",
		Keep:     o.Keep,
		Log:      log,
	})
	if err != nil {
		return nil, err
	}
	defer st.close()
	if help, err := st.Alexus(ctx, "orchestrator", "--help"); err == nil {
		rep.settings = planeSettings(help, o.PlaneEnv)
	}
	conn, err := st.adminConn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stall := max(o.ReadyTimeout, 30*time.Second)

	var ids []string
	if o.warmup > 0 {
		if ids, err = warmUp(ctx, st, conn, sigs[:o.warmup], o, stall, log); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}

	fmt.Fprintf(log, "writing %d signals to %s\n", o.signals, st.Namespace.Tenant(benchTenant, rediskey.SignalStream))
	start := time.Now()
	measured, err := writeSignals(ctx, st.Redis, st.Namespace, sigs[o.warmup:])
	if err != nil {
		return nil, fmt.Errorf("write signals: %w", err)
	}
	rep.writeTime = time.Since(start)
	ids = append(ids, measured...)
	events, err := streamEvents(ctx, st.Redis, st.Namespace)
	if err != nil {
		return nil, err
	}
	if err := checkStream(events, ids); err != nil {
		return nil, fmt.Errorf("the stream does not hold what was written: %w", err)
	}

	redisBefore, err := procstat.RedisCPU(ctx, st.Redis)
	if err != nil {
		return nil, err
	}
	machine, err := procstat.WatchMachine(st.PostgresBackends(int(conn.PgConn().PID())))
	if err != nil {
		return nil, err
	}
	rep.loadStart = machine.LoadStart
	// The same backends again, split by the plane whose pool opened them
	// (the planes name their connections "alexus <plane>").
	var byPlane []*procstat.GroupWatcher
	for _, plane := range []string{"orchestrator", "actions"} {
		g, err := procstat.WatchGroup(st.PostgresBackendsOf(plane))
		if err != nil {
			return nil, err
		}
		byPlane = append(byPlane, g)
	}

	fmt.Fprintf(log, "starting the orchestrator on a backlog of %d signals\n", o.signals)
	if err := st.startOrchestrator(); err != nil {
		return nil, err
	}
	w := procstat.Watch([]string{"alexus orchestrator", "alexus actions", "bench (poller, webhook receiver)"},
		[]int{st.orchestrator.PID(), st.actions.PID(), os.Getpid()})
	profiles := make(chan []harness.Profile, 1)
	onOpened := func() {}
	if o.ProfileDir != "" {
		onOpened = func() {
			fmt.Fprintf(log, "profiling the planes for %ds into %s\n", o.ProfileSeconds, o.ProfileDir)
			go func() {
				done := make(chan harness.Profile, 2)
				for _, p := range []*harness.Plane{st.orchestrator, st.actions} {
					go func() { done <- harness.CaptureProfile(ctx, p, o.ProfileSeconds, o.ProfileDir) }()
				}
				profiles <- []harness.Profile{<-done, <-done}
			}()
		}
	} else {
		profiles <- nil
	}
	polls, err := drain(ctx, conn, st.Redis, st.Namespace, st.orchestrator, o.warmup, len(ids), o.poll, o.Timeout, stall, onOpened, log)
	if err != nil {
		return nil, err
	}
	end := polls[len(polls)-1]
	usage, err := w.Stop()
	if err != nil {
		return nil, err
	}
	rep.orchestrator, rep.actions, rep.bench = usage[0], usage[1], usage[2]
	mu, err := machine.Stop()
	if err != nil {
		return nil, err
	}
	rep.postgresCPU, rep.postgresProcs, rep.machineCPU, rep.loadEnd = mu.PostgresCPU, mu.PostgresProcs, mu.MachineCPU, mu.LoadEnd
	for i, g := range byPlane {
		if rep.postgresByPlane[i].cpu, rep.postgresByPlane[i].procs, err = g.Stop(); err != nil {
			return nil, err
		}
	}
	redisAfter, err := procstat.RedisCPU(ctx, st.Redis)
	if err != nil {
		return nil, err
	}
	rep.redisCPU = redisAfter - redisBefore
	rep.wall = end.at.Sub(st.orchestrator.Started)
	rep.polls = len(polls)
	rep.deliveriesAtEnd = st.deliveries.Load()
	fmt.Fprintf(log, "all %d decided; checking\n", o.signals)

	// The consumer acknowledges an entry just after its last stage is
	// stored; give the last ones a moment.
	if rep.pending, err = waitAcked(ctx, st.Redis, st.Namespace, 10*time.Second); err != nil {
		return rep, err
	}
	deadLetters, err := st.Redis.XLen(ctx, st.Namespace.Tenant(benchTenant, rediskey.DeadLetters)).Result()
	if err != nil {
		return rep, fmt.Errorf("dead-letter stream: %w", err)
	}
	trs, err := readTransitions(ctx, conn)
	if err != nil {
		return rep, err
	}
	incs, err := readIncidents(ctx, conn)
	if err != nil {
		return rep, err
	}
	var actions int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM actions WHERE tenant_id = $1`, benchTenant).Scan(&actions); err != nil {
		return rep, fmt.Errorf("count actions: %w", err)
	}
	rep.outcome = check(ids, incs, trs, actions, deadLetters)
	mtrs := measuredTransitions(trs, incs, measured)
	rep.decisions = countDecisions(mtrs)
	rep.window = throughputWindow(mtrs)
	rep.steps, rep.endToEnd = latencies(mtrs)
	rep.measured = true

	// Webhook deliveries are River jobs that may trail the decisions; they
	// are not part of the throughput, but say whether executes succeeded.
	rep.deliveriesFinal = waitDeliveries(ctx, st, int64(rep.outcome.decisions[stageExecute]), 30*time.Second)
	if o.floor {
		fmt.Fprintln(log, "measuring the storage floor")
		if rep.floor, err = storeFloor(ctx, st); err != nil {
			return rep, err
		}
	}
	rep.profiles = <-profiles
	if len(rep.outcome.problems) > 0 {
		return rep, harness.ErrMismatch
	}
	return rep, nil
}

// warmUp runs sigs through the pipeline with an orchestrator of its own,
// stops it, and analyses the database. It returns the signals' IDs.
//
// A freshly migrated database has never been analysed, and the generic
// plans a pooled connection caches for the pipeline's prepared statements
// then scan every row of the tenant instead of using the primary key: each
// signal costs more than the one before, until autovacuum's first ANALYZE
// (after autovacuum_naptime, a minute by default) invalidates them. A
// database in service has statistics, so the measured run starts from one
// that has them.
func warmUp(ctx context.Context, st *stack, conn *pgx.Conn, sigs []*signalv1.Signal, o options, stall time.Duration, log io.Writer) ([]string, error) {
	fmt.Fprintf(log, "warm-up: %d signals through the pipeline, then ANALYZE\n", len(sigs))
	ids, err := writeSignals(ctx, st.Redis, st.Namespace, sigs)
	if err != nil {
		return nil, fmt.Errorf("write signals: %w", err)
	}
	if err := st.startOrchestrator(); err != nil {
		return nil, err
	}
	if _, err := drain(ctx, conn, st.Redis, st.Namespace, st.orchestrator, 0, len(ids), o.poll, o.Timeout, stall, nil, log); err != nil {
		return nil, err
	}
	if err := st.stopOrchestrator(); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	return ids, nil
}

// measuredTransitions returns the transitions of the incidents of the
// signals measured, those written after the warm-up.
func measuredTransitions(trs []transition, incs []incidentRow, measured []string) []transition {
	want := make(map[string]bool, len(measured))
	for _, id := range measured {
		want[id] = true
	}
	keep := make(map[string]bool, len(measured))
	for _, in := range incs {
		if want[in.signalID] {
			keep[in.id] = true
		}
	}
	out := make([]transition, 0, 5*len(measured))
	for _, tr := range trs {
		if keep[tr.incidentID] {
			out = append(out, tr)
		}
	}
	return out
}

// countDecisions counts transitions by decision stage.
func countDecisions(trs []transition) map[string]int {
	out := map[string]int{}
	for _, tr := range trs {
		if isDecision(tr.stage) {
			out[tr.stage]++
		}
	}
	return out
}

// countDistinct counts the templates' distinct keys.
func countDistinct(templates []template, key func(template) string) int {
	seen := map[string]bool{}
	for _, t := range templates {
		seen[key(t)] = true
	}
	return len(seen)
}

// checkStream checks that the stream holds, in order, one OPENED event per
// signal written, naming that signal as the orchestrator requires: a UUID
// signal_id equal to the signal's id, the bench tenant, and a fingerprint
// no other event has.
func checkStream(events []*signalv1.SignalEvent, ids []string) error {
	if len(events) != len(ids) {
		return fmt.Errorf("%d entries for %d signals", len(events), len(ids))
	}
	fps := make(map[string]bool, len(events))
	for i, ev := range events {
		sig := ev.GetSignal()
		switch {
		case ev.GetKind() != signalv1.EventKind_EVENT_KIND_OPENED:
			return fmt.Errorf("entry %d is %s, not OPENED", i, ev.GetKind())
		case ev.GetSignalId() != ids[i] || sig.GetId() != ids[i]:
			return fmt.Errorf("entry %d names signal %q (signal.id %q), want %q", i, ev.GetSignalId(), sig.GetId(), ids[i])
		case uuid.Validate(ids[i]) != nil:
			return fmt.Errorf("entry %d: signal id %q is not a UUID", i, ids[i])
		case sig.GetTenantId() != benchTenant:
			return fmt.Errorf("entry %d names tenant %q", i, sig.GetTenantId())
		case fps[sig.GetFingerprint()]:
			return fmt.Errorf("entry %d repeats fingerprint %q", i, sig.GetFingerprint())
		}
		fps[sig.GetFingerprint()] = true
	}
	return nil
}

// waitAcked waits up to limit for the consumer groups of the tenant's
// stream to have nothing pending, and returns what is still pending.
func waitAcked(ctx context.Context, rdb *redis.Client, space rediskey.Space, limit time.Duration) (int64, error) {
	key := space.Tenant(benchTenant, rediskey.SignalStream)
	deadline := time.Now().Add(limit)
	for {
		groups, err := rdb.XInfoGroups(ctx, key).Result()
		if err != nil {
			return 0, fmt.Errorf("xinfo groups %s: %w", key, err)
		}
		var pending int64
		for _, g := range groups {
			pending += g.Pending
		}
		if pending == 0 || time.Now().After(deadline) {
			return pending, nil
		}
		select {
		case <-ctx.Done():
			return pending, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitDeliveries waits up to limit for the webhook receiver to have had
// want deliveries, and returns how many it had.
func waitDeliveries(ctx context.Context, st *stack, want int64, limit time.Duration) int64 {
	deadline := time.Now().Add(limit)
	for {
		got := st.deliveries.Load()
		if got >= want || time.Now().After(deadline) || ctx.Err() != nil {
			return got
		}
		if err := st.actions.Gone(); err != nil {
			return got
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
