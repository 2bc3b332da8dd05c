package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	"github.com/alexus-platform/alexus/internal/procstat"
)

// bench prepares Alexus, runs every system and returns the report. Whatever
// it started is stopped and removed before it returns, also on Ctrl-C.
func bench(ctx context.Context, o options, log io.Writer) (_ *report, err error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return nil, err
	}
	mix, err := chooseMix(o.mix, log)
	if err != nil {
		return nil, err
	}
	sources := make([]string, len(mix))
	for i, m := range mix {
		sources[i] = m.name
	}
	rep := &report{opts: o, mix: mix, args: os.Args[1:]}

	st, err := startStack(ctx, harness.Config{Flags: o.Flags, RepoRoot: root, Log: log}, sources, o.concurrency)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep.limitNotes = st.limitNotes

	// Every system gets the same alerts: generators with the same mix and
	// base time make the same bytes for the same alert number.
	base := time.Now()
	names, pids := st.pids()
	alexus := &system{
		target: target{
			name:          "Alexus (gateway + ingest)",
			url:           func(a alert) string { return "http://" + st.gateway.Addr + "/v1/webhooks/" + a.Source },
			authorization: func(a alert) string { return "Bearer " + st.tokens[a.Source] },
			render:        func(a alert) payload { return renderers[a.Source](a) },
			accepted:      http.StatusAccepted,
		},
		gen: newGenerator(mix, base), names: names, pids: pids, backends: st.PostgresBackends(0),
	}
	systems := []*system{alexus}

	var bare *system
	if o.ceiling {
		c, err := startCeiling(o.RedisURL, st.Namespace)
		if err != nil {
			return rep, fmt.Errorf("ceiling server: %w", err)
		}
		defer func() {
			if cerr := c.close(); err == nil && cerr != nil {
				err = fmt.Errorf("ceiling server: %w", cerr)
			}
		}()
		bare = &system{
			target: target{
				name:     "ceiling (net/http + pipelined XADD)",
				url:      func(a alert) string { return "http://" + c.addr + "/v1/webhooks/" + a.Source },
				render:   alexus.target.render,
				accepted: http.StatusAccepted,
			},
			gen:    newGenerator(mix, base),
			length: c.length,
		}
		systems = append(systems, bare)
	}

	var am *system
	if o.alertmanager {
		bin, err := findAlertmanager(o.alertmanagerBin)
		if err != nil {
			rep.amNote = "not run: " + err.Error()
		} else {
			proc, err := startAlertmanager(ctx, bin, o.ReadyTimeout)
			if err != nil {
				return rep, err
			}
			defer proc.close()
			am = &system{target: proc.target(), gen: newGenerator(mix, base), names: []string{"alertmanager"}, pids: []int{proc.pid()}}
			systems = append(systems, am)
		}
	}

	// The systems take turns, round by round, so that other work on the
	// machine weighs on each of them alike.
	for round := range o.rounds {
		cfg := loadConfig{
			concurrency: o.concurrency,
			requests:    o.requests / o.rounds,
			duration:    o.duration / time.Duration(o.rounds),
			dup:         o.dup,
			rate:        o.rate,
			timeout:     o.timeout,
			seed:        o.seed,
		}
		if round < o.requests%o.rounds {
			cfg.requests++
		}
		for _, s := range systems {
			if o.rounds > 1 {
				fmt.Fprintf(log, "round %d of %d: ", round+1, o.rounds)
			}
			if err := s.run(ctx, o, cfg, st.Redis, log); err != nil {
				return rep, err
			}
			if s == alexus {
				if err := st.alive(); err != nil {
					return rep, err
				}
			}
		}
	}
	rep.alexus = alexus.phase
	if am != nil {
		rep.am = am.phase
	}

	fmt.Fprintln(log, "counting the stream")
	count, err := countStream(ctx, st.Redis, signalStream(st.Namespace))
	if err != nil {
		return rep, err
	}
	var mismatch error
	rep.verify, mismatch = verdict(count, alexus.phase.result)

	if bare != nil {
		rep.ceiling = bare.phase
		n, err := bare.length(ctx)
		switch {
		case err != nil:
			return rep, err
		case n != int64(bare.phase.result.accepted):
			rep.ceilingCheck = fmt.Sprintf("MISMATCH: the ceiling stream holds %d entries for %d 202 answers", n, bare.phase.result.accepted)
			mismatch = harness.ErrMismatch
		default:
			rep.ceilingCheck = fmt.Sprintf("the ceiling stream holds %d entries, one per 202", n)
		}
	}
	return rep, mismatch
}

// system is one system under test and what its runs add up to.
type system struct {
	target target
	gen    *generator
	state  runState
	// names and pids are the system's own processes, measured over each
	// run; backends lists Postgres processes working for it.
	names    []string
	pids     []int
	backends func() ([]int, error)
	// length counts what the ceiling appended.
	length func(context.Context) (int64, error)
	// phase adds up the system's runs.
	phase *phase
}

func (s *system) run(ctx context.Context, o options, cfg loadConfig, rdb *redis.Client, log io.Writer) error {
	ph, err := runPhase(ctx, o, s, cfg, rdb, log)
	if err != nil {
		return err
	}
	if s.phase == nil {
		s.phase = ph
	} else {
		s.phase.merge(ph)
	}
	return nil
}

// chooseMix returns -mix checked against the normalisers, or the default
// mix, saying which registered sources it leaves out and why.
func chooseMix(flagValue string, log io.Writer) ([]weightedSource, error) {
	if flagValue != "" {
		mix, err := parseMix(flagValue)
		if err != nil {
			return nil, err
		}
		return mix, checkMix(mix)
	}
	mix, skipped := defaultMix()
	for _, s := range skipped {
		fmt.Fprintln(log, "left out of the default mix:", s)
	}
	if len(mix) == 0 {
		return nil, errors.New("no registered source has a payload generator whose payloads its normaliser accepts")
	}
	return mix, nil
}

// runPhase drives one system once and measures its processes, the Postgres
// backends working for it, Redis, and this process, which runs the load
// generator.
func runPhase(ctx context.Context, o options, s *system, cfg loadConfig, rdb *redis.Client, log io.Writer) (*phase, error) {
	t := s.target
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(o.settle):
	}
	fmt.Fprintf(log, "driving %s: %s\n", t.name, describeLoad(cfg))
	redisBefore, err := procstat.RedisCPU(ctx, rdb)
	if err != nil {
		return nil, err
	}
	var pg *procstat.GroupWatcher
	if s.backends != nil {
		if pg, err = procstat.WatchGroup(s.backends); err != nil {
			return nil, fmt.Errorf("postgres backends: %w", err)
		}
	}
	load := procstat.LoadAverage()
	w := procstat.Watch(slices.Concat(s.names, []string{"bench"}), slices.Concat(s.pids, []int{os.Getpid()}))
	res := drive(ctx, t, s.gen, cfg, &s.state, log)
	usage, err := w.Stop()
	if err != nil {
		return nil, err
	}
	ph := &phase{
		result:    res,
		procs:     usage[:len(usage)-1],
		bench:     usage[len(usage)-1],
		loadStart: load,
		loadEnd:   procstat.LoadAverage(),
	}
	if pg != nil {
		if ph.postgresCPU, ph.postgresProcs, err = pg.Stop(); err != nil {
			return nil, fmt.Errorf("postgres backends: %w", err)
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	redisAfter, err := procstat.RedisCPU(ctx, rdb)
	if err != nil {
		return nil, err
	}
	ph.redisCPU = redisAfter - redisBefore
	return ph, nil
}

func describeLoad(cfg loadConfig) string {
	amount := fmt.Sprintf("%d requests", cfg.requests)
	if cfg.duration > 0 {
		amount = cfg.duration.String()
	}
	pace := ""
	if cfg.rate > 0 {
		pace = fmt.Sprintf(", paced to %.0f/s", cfg.rate)
	}
	return fmt.Sprintf("%s, %d connections, %.0f%% duplicates%s", amount, cfg.concurrency, 100*cfg.dup, pace)
}
