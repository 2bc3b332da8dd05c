package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/procstat"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// benchTenant is the tenant every action is executed for.
const benchTenant = "bench"

// bench starts the action plane with the receiver as the tenant's webhook
// target, runs the warm-up, then submits the measured actions and waits
// until every one is delivered and SUCCEEDED, and returns the report.
// Whatever it started is stopped and removed before it returns, also on
// Ctrl-C.
func bench(ctx context.Context, o options, log io.Writer) (*report, error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return nil, err
	}
	internalSecret, webhookSecret := randBytes(32), randBytes(32)
	rep := &report{opts: o, args: os.Args[1:]}
	epoch := time.Now()
	recv := newReceiver(webhookSecret, epoch, o.actions)
	defer recv.close()

	st, err := harness.Start(ctx, harness.Config{
		Flags:    o.Flags,
		RepoRoot: root,
		Bin:      o.Bin,
		Pprof:    o.ProfileDir != "",
		Keep:     o.Keep,
		Log:      log,
		Settings: func(context.Context, *harness.Stack) ([]string, error) {
			return []string{
				// The benchmark signs its own internal identity tokens, so it
				// chooses the secret rather than the harness.
				"ALEXUS_INTERNAL_TOKEN_SECRET=base64:" + base64.StdEncoding.EncodeToString(internalSecret),
				"ALEXUS_ACTIONS_WEBHOOK_SECRET=base64:" + base64.StdEncoding.EncodeToString(webhookSecret),
				// The receiver listens on loopback.
				"ALEXUS_ACTIONS_EGRESS_ALLOW=127.0.0.0/8",
			}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if help, err := st.Alexus(ctx, "actions", "--help"); err == nil {
		rep.settings = planeSettings(help, o.PlaneEnv)
	}
	if _, err := st.Alexus(ctx, "tenant", "create", benchTenant, "--webhook-url", recv.srv.URL+"/remediate"); err != nil {
		return nil, err
	}
	plane, err := st.StartPlane("actions")
	if err != nil {
		return nil, err
	}
	if err := st.WaitHealthy(ctx, plane); err != nil {
		return nil, err
	}

	signer, err := tenant.NewSigner(internalSecret, 0)
	if err != nil {
		return nil, err
	}
	cc, err := rpc.Dial(plane.Addr, signer)
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	client := actionsv1.NewActionServiceClient(cc)
	callCtx := tenant.WithIdentity(ctx, tenant.Identity{Tenant: benchTenant, Subject: "system:orchestrator"})
	conn, err := pgx.Connect(ctx, st.DBURL)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", st.DBName, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stall := max(o.ReadyTimeout, 30*time.Second)
	deadline := time.Now().Add(o.Timeout)

	if o.warmup > 0 {
		fmt.Fprintf(log, "warm-up: %d actions\n", o.warmup)
		if _, err := submit(callCtx, client, epoch, warmupPrefix, o.warmup, o.callers); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		err := waitFor(ctx, "warm-up deliveries", o.warmup, deadline, stall, 20*time.Millisecond, func() (int, error) {
			return recv.warmupDelivered(), plane.Gone()
		})
		if err != nil {
			return nil, err
		}
		err = waitFor(ctx, "warm-up actions SUCCEEDED", o.warmup, deadline, stall, 100*time.Millisecond, func() (int, error) {
			n, _, err := succeeded(ctx, conn, warmupPrefix)
			return n, err
		})
		if err != nil {
			return nil, err
		}
		if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
	}

	var queues *queueControl
	if o.drain {
		if queues, err = newQueueControl(ctx, st.DBURL); err != nil {
			return nil, err
		}
		defer queues.close()
		if err := queues.pause(ctx); err != nil {
			return nil, err
		}
	}
	var (
		machine  *procstat.MachineWatcher
		w        *procstat.Watcher
		profiled = make(chan harness.Profile, 1)
	)
	watch := func() error {
		machine, err = procstat.WatchMachine(st.PostgresBackends(int(conn.PgConn().PID())))
		if err != nil {
			return err
		}
		rep.loadStart = machine.LoadStart
		w = procstat.Watch([]string{"alexus actions", "bench (callers, receiver)"}, []int{plane.PID(), os.Getpid()})
		if o.ProfileDir != "" {
			fmt.Fprintf(log, "profiling the action plane for %ds into %s\n", o.ProfileSeconds, o.ProfileDir)
			go func() { profiled <- harness.CaptureProfile(ctx, plane, o.ProfileSeconds, o.ProfileDir) }()
		}
		return nil
	}
	if !o.drain {
		if err := watch(); err != nil {
			return nil, err
		}
	}

	fmt.Fprintf(log, "measured: %d actions from %d callers\n", o.actions, o.callers)
	rep.start = time.Since(epoch)
	subs, err := submit(callCtx, client, epoch, benchPrefix, o.actions, o.callers)
	if err != nil {
		return nil, err
	}
	rep.submitted = time.Since(epoch)
	if o.drain {
		if err := watch(); err != nil {
			return nil, err
		}
		if n := recv.measuredDelivered(); n > 0 {
			return nil, fmt.Errorf("%d actions were delivered while the webhook queue was paused", n)
		}
		rep.resumed = time.Since(epoch)
		if err := queues.resume(ctx); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "submitted in %s with the webhook queue paused; resumed it, waiting for the deliveries\n", (rep.submitted - rep.start).Round(time.Millisecond))
	} else {
		fmt.Fprintf(log, "submitted in %s; waiting for the deliveries\n", (rep.submitted - rep.start).Round(time.Millisecond))
	}
	err = waitFor(ctx, "deliveries", o.actions, deadline, stall, 10*time.Millisecond, func() (int, error) {
		return recv.measuredDelivered(), plane.Gone()
	})
	if err != nil {
		return nil, err
	}
	var lastAt time.Time
	err = waitFor(ctx, "actions SUCCEEDED", o.actions, deadline, stall, 50*time.Millisecond, func() (n int, err error) {
		n, lastAt, err = succeeded(ctx, conn, benchPrefix)
		return n, err
	})
	if err != nil {
		return nil, err
	}
	rep.wall = time.Since(epoch) - rep.start
	if o.drain {
		rep.wall = time.Since(epoch) - rep.resumed
	}
	usage, err := w.Stop()
	if err != nil {
		return nil, err
	}
	rep.plane, rep.bench = usage[0], usage[1]
	mu, err := machine.Stop()
	if err != nil {
		return nil, err
	}
	rep.postgresCPU, rep.postgresProcs, rep.machineCPU, rep.loadEnd = mu.PostgresCPU, mu.PostgresProcs, mu.MachineCPU, mu.LoadEnd

	rep.lastSucceeded = lastAt.Sub(epoch)
	rep.latency(subs, recv)
	rep.measured = true

	// River marks a job completed shortly after the worker returns; the
	// check waits for that before it counts jobs.
	total := o.warmup + o.actions
	err = waitFor(ctx, "webhook jobs completed", total, deadline, stall, 100*time.Millisecond, func() (int, error) {
		return completedJobs(ctx, conn)
	})
	if err != nil {
		return rep, err
	}
	rep.deliveries = recv.check()
	rep.submissions = checkSubmissions(subs)
	if rep.store, err = checkStore(ctx, conn, total); err != nil {
		return rep, err
	}
	if o.ProfileDir != "" {
		p := <-profiled
		rep.profile = &p
	}
	if !rep.exactlyOnce() {
		return rep, fmt.Errorf("exactly-once check: %w", harness.ErrMismatch)
	}
	return rep, nil
}

// waitFor polls progress every poll until it reaches want. It gives up
// when the deadline passes, when progress has not moved for stall, or when
// progress returns an error (e.g. the plane exited).
func waitFor(ctx context.Context, what string, want int, deadline time.Time, stall, poll time.Duration, progress func() (int, error)) error {
	last, moved := -1, time.Now()
	for {
		n, err := progress()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if n >= want {
			return nil
		}
		now := time.Now()
		if n != last {
			last, moved = n, now
		}
		switch {
		case now.After(deadline):
			return fmt.Errorf("waiting for %s: %d of %d at the -timeout", what, n, want)
		case now.Sub(moved) > stall:
			return fmt.Errorf("waiting for %s: stuck at %d of %d for %s", what, n, want, stall)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
