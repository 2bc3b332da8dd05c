package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	"github.com/alexus-platform/alexus/internal/procstat"
)

// target is the throughput target: webhook actions per second
// against a local receiver.
const target = 1000.0

// report is everything printed at the end. Times are durations since the
// benchmark's epoch.
type report struct {
	opts     options
	args     []string
	settings []string

	// measured is set once every measured action is SUCCEEDED and the
	// figures below are filled in.
	measured bool
	// start is the first submission; submitted, when the last call
	// answered; lastDelivery, when the receiver got the last action's
	// first delivery; lastSucceeded, the start of the transaction that
	// recorded the last SUCCEEDED.
	start, submitted, lastDelivery, lastSucceeded time.Duration
	// resumed, with -drain, is when the paused webhook queue was resumed.
	resumed time.Duration
	// wall runs from start to the poll that found every action SUCCEEDED:
	// the window of the CPU figures.
	wall time.Duration

	// toDelivery is, per action, from the call being sent to the
	// receiver getting the delivery; call is the ExecuteAction round trip.
	toDelivery, call percentiles

	plane, bench       procstat.Usage
	postgresCPU        time.Duration
	postgresProcs      int
	machineCPU         time.Duration
	loadStart, loadEnd string

	deliveries  deliveryCheck
	submissions submissionCheck
	store       storeCheck
	profile     *harness.Profile
}

// latency fills in the latency figures and the last delivery from what
// the callers and the receiver recorded.
func (r *report) latency(subs []submission, recv *receiver) {
	toDelivery := make([]time.Duration, 0, len(subs))
	call := make([]time.Duration, 0, len(subs))
	for i, s := range subs {
		call = append(call, s.answered-s.sent)
		if at := time.Duration(recv.first[i].Load()); at > 0 {
			toDelivery = append(toDelivery, at-s.sent)
			r.lastDelivery = max(r.lastDelivery, at)
		}
	}
	r.toDelivery, r.call = percentilesOf(toDelivery), percentilesOf(call)
}

// percentiles summarises a set of durations.
type percentiles struct {
	n                  int
	p50, p90, p99, max time.Duration
}

func percentilesOf(d []time.Duration) percentiles {
	if len(d) == 0 {
		return percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration {
		// Nearest rank: the smallest value with at least q of them at or
		// below it.
		i := int(q*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return percentiles{n: len(d), p50: at(0.50), p90: at(0.90), p99: at(0.99), max: d[len(d)-1]}
}

// rate is actions per second from the first submission to t.
func (r *report) rate(t time.Duration) float64 {
	if t <= r.start {
		return 0
	}
	return float64(r.opts.actions) / (t - r.start).Seconds()
}

// exactlyOnce reports whether every check passed.
func (r *report) exactlyOnce() bool {
	return r.deliveries.ok() && r.store.ok() &&
		r.submissions.replayed == 0 && r.submissions.distinctIDs == r.opts.actions
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// perAction is a CPU time divided over the measured actions.
func (r *report) perAction(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)/float64(r.opts.actions))
}

// Print writes the report in Markdown.
func (r *report) Print(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "\n## Action plane benchmark: webhook actions\n\n")
	fmt.Fprintf(w, "- command: `go run ./bench/actions %s`\n", strings.Join(r.args, " "))
	fmt.Fprintf(w, "- machine: %d cores (the plane, Postgres and the benchmark share them), %s; load average %s at the start, %s at the end\n",
		runtime.NumCPU(), runtime.Version(), r.loadStart, r.loadEnd)
	fmt.Fprintf(w, "- workload: %d ExecuteAction calls over gRPC from %d concurrent callers, each a webhook action with its own idempotency key to the tenant's \"default\" target, a receiver inside the benchmark that answers 200 at once; %d warm-up actions before\n",
		o.actions, o.callers, o.warmup)
	fmt.Fprintf(w, "- planes' log level: %s\n", o.LogLevel)
	for _, s := range r.settings {
		fmt.Fprintf(w, "- setting: %s\n", s)
	}
	for _, e := range o.PlaneEnv {
		if !slices.ContainsFunc(r.settings, func(s string) bool { return strings.HasPrefix(s, e) }) {
			fmt.Fprintf(w, "- -plane-env: %s\n", e)
		}
	}
	if !r.measured {
		fmt.Fprintf(w, "\nThe run did not finish; no figures.\n")
		return
	}

	done := r.rate(r.lastSucceeded)
	window := "from the first call"
	if o.drain {
		drained := float64(o.actions) / (r.lastSucceeded - r.resumed).Seconds()
		window = "from the queue's resume"
		fmt.Fprintf(w, "\n**webhook jobs/s >= 1,000: %s (%.0f jobs/s draining a backlog of %d queued actions, queue resumed to last action SUCCEEDED)**\n\n", yesNo(drained >= target), drained, o.actions)
		fmt.Fprintf(w, "| measure | value |\n|---|---|\n")
		fmt.Fprintf(w, "| jobs/s (queue resumed to last SUCCEEDED recorded) | %.0f (%s) |\n", drained, ms(r.lastSucceeded-r.resumed))
	} else {
		fmt.Fprintf(w, "\n**webhook actions/s >= 1,000: %s (%.0f actions/s, first submission to last action SUCCEEDED)**\n\n", yesNo(done >= target), done)
		fmt.Fprintf(w, "| measure | value |\n|---|---|\n")
	}
	fmt.Fprintf(w, "| submissions/s (first call sent to last call answered) | %.0f (%s) |\n", r.rate(r.submitted), ms(r.submitted-r.start))
	fmt.Fprintf(w, "| deliveries/s (first call sent to last delivery received) | %.0f (%s) |\n", r.rate(r.lastDelivery), ms(r.lastDelivery-r.start))
	fmt.Fprintf(w, "| actions/s (first call sent to last SUCCEEDED recorded) | %.0f (%s) |\n", done, ms(r.lastSucceeded-r.start))
	fmt.Fprintf(w, "| call sent to delivery received, p50 / p90 / p99 / max | %s / %s / %s / %s |\n", ms(r.toDelivery.p50), ms(r.toDelivery.p90), ms(r.toDelivery.p99), ms(r.toDelivery.max))
	fmt.Fprintf(w, "| ExecuteAction round trip, p50 / p90 / p99 / max | %s / %s / %s / %s |\n", ms(r.call.p50), ms(r.call.p90), ms(r.call.p99), ms(r.call.max))

	fmt.Fprintf(w, "\nCPU over the %s %s to every action found SUCCEEDED:\n\n", r.wall.Round(time.Millisecond), window)
	fmt.Fprintf(w, "| process | CPU | per action | cores busy | peak RSS |\n|---|---|---|---|---|\n")
	for _, u := range []procstat.Usage{r.plane, r.bench} {
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s |\n", u.Name, u.CPU.Total().Round(time.Millisecond), r.perAction(u.CPU.Total()), u.CorePercent()/100, procstat.MB(u.Mem.HWM))
	}
	fmt.Fprintf(w, "| Postgres (%d backends of the bench database) | %s | %s | %.2f | - |\n", r.postgresProcs, r.postgresCPU.Round(time.Millisecond), r.perAction(r.postgresCPU), r.postgresCPU.Seconds()/r.wall.Seconds())
	fmt.Fprintf(w, "| whole machine (/proc/stat) | %s | %s | %.2f of %d | - |\n", r.machineCPU.Round(time.Millisecond), r.perAction(r.machineCPU), r.machineCPU.Seconds()/r.wall.Seconds(), runtime.NumCPU())

	d, s, st := r.deliveries, r.submissions, r.store
	fmt.Fprintf(w, "\n**exactly once: %s**\n\n", yesNo(r.exactlyOnce()))
	fmt.Fprintf(w, "- every key delivered once: %s (%d once, %d missing, %d more than once; warm-up keys more than once %d; deliveries under unknown keys %d; bad signatures %d)\n",
		yesNo(d.ok()), d.once, d.missing, d.duplicated, d.warmupDuplicated, d.unknown, d.badSignatures)
	fmt.Fprintf(w, "- every call made a new action: %s (%d distinct action IDs, %d replayed answers)\n",
		yesNo(s.replayed == 0 && s.distinctIDs == o.actions), s.distinctIDs, s.replayed)
	fmt.Fprintf(w, "- every action SUCCEEDED once (warm-up included, %d): %s (%d action rows, %d SUCCEEDED with one recorded run; %d action.succeeded audit entries over %d actions; %d webhook jobs, %d completed)\n",
		st.want, yesNo(st.ok()), st.actions, st.succeededOnce, st.succeededEntries, st.succeededSubjects, st.jobs, st.jobsCompleted)

	if p := r.profile; p != nil {
		fmt.Fprintf(w, "\n### CPU profile of alexus actions (%ds from the first call)\n\n", o.ProfileSeconds)
		if p.Err != nil {
			fmt.Fprintf(w, "not taken: %v\n", p.Err)
			return
		}
		fmt.Fprintf(w, "%s\n\n```\n%s\n```\n", p.Path, p.Top)
	}
}
