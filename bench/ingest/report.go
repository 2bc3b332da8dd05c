package main

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/procstat"
)

// phase is one system's run and what it cost.
type phase struct {
	result *loadResult
	// procs are the system's own processes; none for the in-process
	// ceiling.
	procs []procstat.Usage
	// bench is this process over the phase: the load generator, plus the
	// ceiling server during the ceiling's phase.
	bench procstat.Usage
	// redisCPU is the Redis server's CPU time over the phase.
	redisCPU time.Duration
	// postgresCPU is the CPU time of the Postgres backends serving the
	// system (postgresProcs of them); zero for systems without any.
	postgresCPU   time.Duration
	postgresProcs int
	// loadStart and loadEnd are the machine's load averages around the
	// run: work of others on the machine skews every figure.
	loadStart, loadEnd string
}

// merge adds a later run of the same system.
func (p *phase) merge(o *phase) {
	p.result.merge(o.result)
	for i := range p.procs {
		p.procs[i].Add(o.procs[i])
	}
	p.bench.Add(o.bench)
	p.redisCPU += o.redisCPU
	p.postgresCPU += o.postgresCPU
	p.postgresProcs = max(p.postgresProcs, o.postgresProcs)
	p.loadEnd = o.loadEnd
}

// report is everything printed at the end.
type report struct {
	opts         options
	args         []string
	mix          []weightedSource
	limitNotes   []string
	alexus       *phase
	verify       []string
	ceiling      *phase
	ceilingCheck string
	am           *phase
	amNote       string
}

// Print writes the report in Markdown.
func (r *report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n## Ingest benchmark\n\n")
	fmt.Fprintf(w, "- command: `go run ./bench/ingest %s`\n", strings.Join(r.args, " "))
	fmt.Fprintf(w, "- machine: %d cores (load generator included), %s\n", runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "- mix: %s; duplicates: %.0f%%; connections: %d; rounds: %d\n", formatMix(r.mix), 100*r.opts.dup, r.opts.concurrency, r.opts.rounds)
	fmt.Fprintf(w, "- planes' log level: %s\n", r.opts.LogLevel)
	for _, n := range r.limitNotes {
		fmt.Fprintf(w, "- limits: %s\n", n)
	}
	for _, e := range r.opts.PlaneEnv {
		fmt.Fprintf(w, "- plane setting: %s\n", e)
	}

	fmt.Fprintf(w, "\n| system | signals/s | p50 | p99 | CPU | peak RSS | ratio to ceiling |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | --- | --- | ---: |\n")
	for _, p := range []*phase{r.alexus, r.ceiling, r.am} {
		if p == nil {
			continue
		}
		res := p.result
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s |\n",
			res.system, res.rate(), ms(res.quantile(0.50)), ms(res.quantile(0.99)), cpuCell(p), rssCell(p), r.ratio(p))
	}
	if r.am == nil && r.amNote != "" {
		fmt.Fprintf(w, "| Alertmanager | %s | | | | | |\n", r.amNote)
	}
	fmt.Fprintf(w, "\nCPU is user+sys time over the run as %% of one core (200%% = both cores); peak RSS is VmHWM.\n")

	fmt.Fprintf(w, "\n### Details\n\n")
	fmt.Fprintf(w, "| system | requests | accepted | elapsed | p50 | p90 | p99 | max | refused / failed |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, p := range []*phase{r.alexus, r.ceiling, r.am} {
		if p == nil {
			continue
		}
		res := p.result
		acc := 202
		if p == r.am {
			acc = 200
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s | %s |\n",
			res.system, res.requests, res.accepted, res.elapsed.Round(10*time.Millisecond),
			ms(res.quantile(0.50)), ms(res.quantile(0.90)), ms(res.quantile(0.99)), ms(res.quantile(1)), res.refused(acc))
	}
	for _, p := range []*phase{r.alexus, r.ceiling, r.am} {
		if p == nil {
			continue
		}
		codes := make([]int, 0, len(p.result.samples))
		for code := range p.result.samples {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		for _, code := range codes {
			fmt.Fprintf(w, "\n%s answered %d like this: `%s`\n", p.result.system, code, p.result.samples[code])
		}
		if n := p.result.byStatus[http.StatusTooManyRequests] + p.result.byStatus[http.StatusServiceUnavailable]; n > 0 {
			fmt.Fprintf(w, "\n**%d requests to %s were refused with 429/503: a rate limit or in-flight bound capped this run, so its signals/s is that limit, not the system's capacity.** Raise the limit with -plane-env (see the limits above).\n", n, p.result.system)
		}
	}

	fmt.Fprintf(w, "\nCPU per signal is CPU time divided by accepted signals. Unlike signals/s, it hardly depends on what else the machine runs.\n")
	fmt.Fprintf(w, "\n| phase | process | user s | sys s | %% of a core | CPU per signal | peak RSS (VmHWM) | final RSS (VmRSS) |\n")
	fmt.Fprintf(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range []*phase{r.alexus, r.ceiling, r.am} {
		if p == nil {
			continue
		}
		bench := p.bench
		bench.Name = "bench (load generator)"
		if p == r.ceiling {
			bench.Name = "bench (load generator + ceiling server)"
		}
		per := func(d time.Duration) string {
			if p.result.accepted == 0 {
				return "—"
			}
			return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(p.result.accepted))
		}
		for _, u := range append(append([]procstat.Usage{}, p.procs...), bench) {
			fmt.Fprintf(w, "| %s | %s | %.2f | %.2f | %.0f%% | %s | %s | %s |\n",
				p.result.system, u.Name, u.CPU.User.Seconds(), u.CPU.Sys.Seconds(), u.CorePercent(), per(u.CPU.Total()), procstat.MB(u.Mem.HWM), procstat.MB(u.Mem.RSS))
		}
		fmt.Fprintf(w, "| %s | redis-server (INFO cpu) | | | %.0f%% | %s | | |\n",
			p.result.system, 100*p.redisCPU.Seconds()/p.result.elapsed.Seconds(), per(p.redisCPU))
		if p.postgresProcs > 0 {
			fmt.Fprintf(w, "| %s | postgres (%d backends of the bench database) | | | %.0f%% | %s | | |\n",
				p.result.system, p.postgresProcs, 100*p.postgresCPU.Seconds()/p.result.elapsed.Seconds(), per(p.postgresCPU))
		}
	}

	fmt.Fprintf(w, "\nLoad average (1, 5, 15 min) before the first and after the last run of each system: ")
	var loads []string
	for _, p := range []*phase{r.alexus, r.ceiling, r.am} {
		if p != nil {
			loads = append(loads, fmt.Sprintf("%s: %s → %s", p.result.system, p.loadStart, p.loadEnd))
		}
	}
	fmt.Fprintf(w, "%s.\n", strings.Join(loads, "; "))

	fmt.Fprintf(w, "\n### Stream check\n\n")
	for _, l := range r.verify {
		fmt.Fprintf(w, "- %s\n", l)
	}
	if r.ceilingCheck != "" {
		fmt.Fprintf(w, "- %s\n", r.ceilingCheck)
	}
	r.printTargets(w)
}

// printTargets compares the run with the targets that one run can
// judge.
func (r *report) printTargets(w io.Writer) {
	if r.alexus == nil {
		return
	}
	fmt.Fprintf(w, "\n### Targets\n\n")
	if r.ceiling != nil {
		ratio := r.alexus.result.rate() / r.ceiling.result.rate()
		fmt.Fprintf(w, "- intake ≥ 50%% of the ceiling: %s (%.0f%%)\n", yes(ratio >= 0.5), 100*ratio)
	}
	if r.am != nil {
		fmt.Fprintf(w, "- intake above Alertmanager's: %s (%.0f vs %.0f alerts/s)\n", yes(r.alexus.result.rate() > r.am.result.rate()), r.alexus.result.rate(), r.am.result.rate())
	}
	var hwm int64
	for _, u := range r.alexus.procs {
		hwm += u.Mem.HWM
	}
	fmt.Fprintf(w, "- gateway + ingest peak RSS < 200 MB: %s (%s)\n", yes(hwm < 200<<20), procstat.MB(hwm))
	if r.opts.rate > 0 {
		p99 := r.alexus.result.quantile(0.99)
		fmt.Fprintf(w, "- p99 < 25 ms at %.0f requests/s: %s (%s); the target holds if this rate is half the sustained maximum of an unpaced run\n",
			r.opts.rate, yes(p99 < 25*time.Millisecond), ms(p99))
		fmt.Fprintf(w, "- with -rate every system is paced, so signals/s and the ratio to the ceiling say nothing about capacity\n")
	} else {
		fmt.Fprintf(w, "- p99 < 25 ms at half the sustained maximum: run again with -rate %.0f\n", r.alexus.result.rate()/2)
	}
}

func (r *report) ratio(p *phase) string {
	if r.ceiling == nil || r.ceiling.result.rate() == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", p.result.rate()/r.ceiling.result.rate())
}

func cpuCell(p *phase) string {
	if len(p.procs) == 0 {
		return fmt.Sprintf("in bench process (%.0f%% with load gen)", p.bench.CorePercent())
	}
	var total float64
	parts := make([]string, len(p.procs))
	for i, u := range p.procs {
		total += u.CorePercent()
		parts[i] = fmt.Sprintf("%s %.0f%%", u.Name, u.CorePercent())
	}
	if len(p.procs) == 1 {
		return fmt.Sprintf("%.0f%%", total)
	}
	return fmt.Sprintf("%.0f%% (%s)", total, strings.Join(parts, ", "))
}

func rssCell(p *phase) string {
	if len(p.procs) == 0 {
		return "—"
	}
	var total int64
	parts := make([]string, len(p.procs))
	for i, u := range p.procs {
		total += u.Mem.HWM
		parts[i] = fmt.Sprintf("%s %s", u.Name, procstat.MB(u.Mem.HWM))
	}
	if len(p.procs) == 1 {
		return procstat.MB(total)
	}
	return fmt.Sprintf("%s (%s)", procstat.MB(total), strings.Join(parts, ", "))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
