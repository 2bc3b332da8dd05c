package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	"github.com/alexus-platform/alexus/internal/procstat"
)

// target is the throughput target for the heuristic path.
const target = 2000.0

// report is everything printed at the end.
type report struct {
	opts options
	args []string
	// templates firing signals came from cases triage cases of sources
	// sources.
	templates, cases, sources int
	settings                  []string
	writeTime                 time.Duration

	// measured is set once the drain finished and the figures below are
	// filled in.
	measured bool
	window   window
	// wall runs from the orchestrator's start to the poll that found every
	// signal decided.
	wall  time.Duration
	polls int

	orchestrator, actions, bench procstat.Usage
	redisCPU, postgresCPU        time.Duration
	postgresProcs                int
	// postgresByPlane splits postgresCPU by the plane whose connections
	// the backends serve: the orchestrator's, then the action plane's.
	postgresByPlane [2]struct {
		cpu   time.Duration
		procs int
	}
	loadStart, loadEnd string
	// machineCPU is the CPU time the whole machine was busy over the
	// run, summed over cores (/proc/stat).
	machineCPU time.Duration

	steps    []stepLatency
	endToEnd stepLatency

	// decisions counts the measured incidents by decision stage.
	decisions                        map[string]int
	outcome                          outcome
	pending                          int64
	deliveriesAtEnd, deliveriesFinal int64
	profiles                         []harness.Profile
	// floor is the storage floor (-floor), nil when not measured.
	floor *floor
}

// rate is signals per second over the throughput window.
func (r *report) rate() float64 {
	if r.window.length() <= 0 {
		return 0
	}
	return float64(r.opts.signals) / r.window.length().Seconds()
}

// Print writes the report in Markdown.
func (r *report) Print(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "\n## Orchestrator benchmark: heuristic path\n\n")
	fmt.Fprintf(w, "- command: `go run ./bench/orchestrator %s`\n", strings.Join(r.args, " "))
	fmt.Fprintf(w, "- machine: %d cores (planes, Redis, Postgres and the benchmark share them), %s\n", runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "- mode: **backlog drain**. %d OPENED signals were written to the tenant's stream before the orchestrator started, so this measures pure throughput from stream to persisted decision; the time a signal waited in the backlog is not a latency figure\n", o.signals)
	if o.warmup > 0 {
		fmt.Fprintf(w, "- warm-up: %d signals went through the pipeline first, with an orchestrator of their own; then the database was analysed (ANALYZE) and the measured backlog written. Without statistics, the plans a connection caches for the pipeline's statements scan the whole tenant (see README.md)\n", o.warmup)
	} else {
		fmt.Fprintf(w, "- no warm-up (-warmup 0): the database was freshly migrated and never analysed, so the pipeline's cached plans scan the whole tenant until autovacuum's first ANALYZE\n")
	}
	fmt.Fprintf(w, "- signals: copies of %d firing signals that ingest's normalisers make from %d cases of testdata/triage/cases.json (%d sources), taken in turn, each with its own fingerprint; written with ingest's own store (services/ingest/dedup) in %s\n",
		r.templates, r.cases, r.sources, r.writeTime.Round(time.Millisecond))
	fmt.Fprintf(w, "- planes' log level: %s\n", o.LogLevel)
	for _, s := range r.settings {
		fmt.Fprintf(w, "- setting: %s\n", s)
	}
	for _, e := range o.PlaneEnv {
		fmt.Fprintf(w, "- plane setting: %s\n", e)
	}
	if o.ProfileDir != "" {
		fmt.Fprintf(w, "- CPU profiles were taken during the run (-profile), which costs the planes a little CPU\n")
	}
	if !r.measured {
		fmt.Fprintf(w, "\nThe run did not finish; see the error on stderr.\n")
		return
	}

	d := r.decisions
	fmt.Fprintf(w, "\n| signals | execute | clarify | escalate | first received → last decision | signals/s | orchestrator start → all decided seen | signals/s incl. start-up |\n")
	fmt.Fprintf(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %s | **%.0f** | %s | %.0f |\n",
		o.signals, d[stageExecute], d[stageClarify], d[stageEscalate],
		seconds(r.window.length()), r.rate(), seconds(r.wall), float64(o.signals)/r.wall.Seconds())
	fmt.Fprintf(w, "\nsignals/s is -n over the span from the first stored `received` transition to the last stored decision transition, both by Postgres's clock (`incident_transitions.at`). The second figure runs from the orchestrator's process start to the first poll (every %s) that found every entry acknowledged and every incident decided.\n", o.poll)

	fmt.Fprintf(w, "\n### Stage latency\n\n")
	fmt.Fprintf(w, "`timestamps` is the gap between an incident's consecutive transitions (`at`, the start of the transaction that stored each): the earlier stage's store, the later stage's call, and any wait for a pooled connection or a worker in between. `latency_ms` is the later stage's own latency, where the pipeline stores it in the transition's details.\n\n")
	fmt.Fprintf(w, "| step | source | incidents | p50 | p90 | p99 | max |\n")
	fmt.Fprintf(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range append(append([]stepLatency{}, r.steps...), r.endToEnd) {
		name := s.step.from + " → " + s.step.to
		if s.step == total {
			name = "**" + name + "** (whole pipeline)"
		}
		if len(s.own) > 0 {
			fmt.Fprintf(w, "| %s | latency_ms | %d | %s | %s | %s | %s |\n", name, len(s.own),
				ms(quantile(s.own, 0.5)), ms(quantile(s.own, 0.9)), ms(quantile(s.own, 0.99)), ms(quantile(s.own, 1)))
		}
		fmt.Fprintf(w, "| %s | timestamps | %d | %s | %s | %s | %s |\n", name, len(s.gaps),
			ms(quantile(s.gaps, 0.5)), ms(quantile(s.gaps, 0.9)), ms(quantile(s.gaps, 0.99)), ms(quantile(s.gaps, 1)))
	}
	if !r.hasOwnLatency() {
		fmt.Fprintf(w, "\nNo transition carries a `latency_ms` detail, so every figure comes from the timestamps.\n")
	}

	fmt.Fprintf(w, "\n### Resources\n\n")
	fmt.Fprintf(w, "Over %s, from the orchestrator's start until every incident was seen decided. CPU is user+sys time as %% of one core (%d%% = every core); CPU per signal divides it by -n; peak RSS is VmHWM.\n\n", seconds(r.orchestrator.Wall), 100*runtime.NumCPU())
	fmt.Fprintf(w, "| process | user s | sys s | %% of a core | CPU per signal | peak RSS | final RSS |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(o.signals))
	}
	for _, u := range []procstat.Usage{r.orchestrator, r.actions, r.bench} {
		fmt.Fprintf(w, "| %s | %.2f | %.2f | %.0f%% | %s | %s | %s |\n",
			u.Name, u.CPU.User.Seconds(), u.CPU.Sys.Seconds(), u.CorePercent(), per(u.CPU.Total()), procstat.MB(u.Mem.HWM), procstat.MB(u.Mem.RSS))
	}
	wall := r.orchestrator.Wall.Seconds()
	fmt.Fprintf(w, "| redis-server (INFO cpu) | | | %.0f%% | %s | | |\n", 100*r.redisCPU.Seconds()/wall, per(r.redisCPU))
	fmt.Fprintf(w, "| postgres (%d backends of the bench database, the poller's excluded) | | | %.0f%% | %s | | |\n",
		r.postgresProcs, 100*r.postgresCPU.Seconds()/wall, per(r.postgresCPU))
	for i, plane := range []string{"orchestrator", "action plane"} {
		pg := r.postgresByPlane[i]
		fmt.Fprintf(w, "| … of which the %s's connections (%d backends) | | | %.0f%% | %s | | |\n", plane, pg.procs, 100*pg.cpu.Seconds()/wall, per(pg.cpu))
	}
	sum := r.orchestrator.CPU.Total() + r.actions.CPU.Total() + r.redisCPU + r.postgresCPU
	fmt.Fprintf(w, "| **orchestrator + actions + Redis + Postgres** | | | **%.0f%%** | **%s** | | |\n", 100*sum.Seconds()/wall, per(sum))
	others := r.machineCPU - sum - r.bench.CPU.Total()
	fmt.Fprintf(w, "| other work on the machine (/proc/stat busy time minus the rows above; Postgres's WAL writer and checkpointer included) | | | %.0f%% | | | |\n", 100*others.Seconds()/wall)
	if others.Seconds()/wall > 0.2 {
		fmt.Fprintf(w, "\n**Other work used %.0f%% of a core during the run**: the planes, Redis and Postgres had that much less of the machine, so signals/s is lower than on an idle machine; CPU per signal is the steadier figure.\n", 100*others.Seconds()/wall)
	}
	fmt.Fprintf(w, "\nThe poller read the consumer group's progress %d times (XINFO GROUPS) and counted the decided incidents in Postgres once all entries were acknowledged. Load average (1, 5, 15 min): %s before, %s after.\n",
		r.polls, r.loadStart, r.loadEnd)

	fmt.Fprintf(w, "\n### Checks\n\n")
	if len(r.outcome.problems) == 0 {
		fmt.Fprintf(w, "- every signal (warm-up included) produced exactly one incident, with one transition of each stage and exactly one decision; one action per execute; nothing dead-lettered\n")
	}
	for _, p := range r.outcome.problems {
		fmt.Fprintf(w, "- **mismatch**: %s\n", p)
	}
	if n := r.outcome.escalatedExecutes; n > 0 {
		fmt.Fprintf(w, "- %d incidents the confidence stage decided to execute were escalated instead (no supported action)\n", n)
	}
	fmt.Fprintf(w, "- stream entries still pending (unacknowledged) 10 s after the last decision: %d\n", r.pending)
	fmt.Fprintf(w, "- webhook deliveries to the tenant's \"default\" target: %d when the last decision was seen, %d of %d executes within 30 s more (River jobs of the action plane; not part of the throughput)\n",
		r.deliveriesAtEnd, r.deliveriesFinal, r.outcome.decisions[stageExecute])
	if d[stageExecute] == 0 || d[stageClarify] == 0 || d[stageEscalate] == 0 {
		fmt.Fprintf(w, "- the mix lacks a decision: the heuristic's answers to the triage set have changed, so this run exercised fewer paths than intended\n")
	}

	if f := r.floor; f != nil {
		r.printFloor(w, f)
	}

	fmt.Fprintf(w, "\n### Targets\n\n")
	fmt.Fprintf(w, "- orchestrator heuristic path >= 2,000 signals/s: %s (%.0f signals/s)\n", yes(r.rate() >= target), r.rate())
	var p99 []string
	for _, s := range r.steps {
		src := s.gaps
		if len(s.own) > 0 {
			src = s.own
		}
		p99 = append(p99, fmt.Sprintf("%s %s", s.step.to, ms(quantile(src, 0.99))))
	}
	fmt.Fprintf(w, "- p99 stage latency: %s\n", strings.Join(p99, ", "))

	for _, p := range r.profiles {
		fmt.Fprintf(w, "\n### CPU profile: alexus %s\n\n", p.Plane)
		if p.Err != nil {
			fmt.Fprintf(w, "not taken: %v\n", p.Err)
			continue
		}
		fmt.Fprintf(w, "Saved as `%s` (`go tool pprof -top %s`):\n\n```\n%s\n```\n", p.Path, p.Path, p.Top)
	}
}

// printFloor writes the storage floor and sets it against the budget.
func (r *report) printFloor(w io.Writer, f *floor) {
	budget := time.Duration(float64(runtime.NumCPU()) / target * float64(time.Second))
	fmt.Fprintf(w, "\n### Storage floor\n\n")
	fmt.Fprintf(w, "After the run, every row it stored (warm-up included: %d signals) was stored once more by one Postgres connection as alexus_app, under row-level security: one INSERT ... SELECT per table, in one transaction. No pipeline, no contention, no per-statement or per-transaction overhead beyond one each: the least the rows kept per signal cost this machine. Left out, so the true floor is higher: River's two state changes per job, the action's status update, the audit chain's linking, the reads of the knowledge graph and thresholds, and everything outside Postgres.\n\n", f.signals)
	fmt.Fprintf(w, "| table | rows | per signal | Postgres CPU | per signal |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: |\n")
	for _, t := range f.tables {
		rows, perRow := "", ""
		if t.rows > 0 {
			rows, perRow = fmt.Sprint(t.rows), fmt.Sprintf("%.2f", float64(t.rows)/float64(f.signals))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d ms | %d µs |\n", t.table, rows, perRow, t.cpu.Milliseconds(), f.perSignal(t.cpu).Microseconds())
	}
	fmt.Fprintf(w, "| **all** | | | **%d ms** (%d ms elapsed) | **%d µs** |\n", f.cpu.Milliseconds(), f.wall.Milliseconds(), f.perSignal(f.cpu).Microseconds())
	fmt.Fprintf(w, "\nAt %.0f signals/s on %d cores, a signal may cost %d µs of CPU in all (planes, Redis and Postgres together); storing its rows in bulk takes **%.0f%%** of that. The run itself spent %d µs per signal in Postgres.\n",
		target, runtime.NumCPU(), budget.Microseconds(), 100*float64(f.perSignal(f.cpu))/float64(budget), (r.postgresCPU / time.Duration(r.opts.signals)).Microseconds())
}

func (r *report) hasOwnLatency() bool {
	for _, s := range r.steps {
		if len(s.own) > 0 {
			return true
		}
	}
	return false
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
