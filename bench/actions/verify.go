package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// The queries run as the admin user on the bench database, which the
// tenant tables' row-level security does not restrict.

// succeeded counts the SUCCEEDED actions whose key starts with prefix and
// returns the latest updated_at among them: the start of the transaction
// that recorded the last outcome.
func succeeded(ctx context.Context, conn *pgx.Conn, prefix string) (int, time.Time, error) {
	var (
		n    int
		last *time.Time
	)
	err := conn.QueryRow(ctx, `
		SELECT count(*), max(updated_at) FROM actions
		WHERE status = $1 AND idempotency_key LIKE $2`, string(action.StatusSucceeded), prefix+"%").Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count succeeded actions: %w", err)
	}
	if last == nil {
		return n, time.Time{}, nil
	}
	return n, *last, nil
}

// completedJobs counts the webhook jobs River has marked completed.
func completedJobs(ctx context.Context, conn *pgx.Conn) (int, error) {
	var n int
	err := conn.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`, webhook.Args{}.Kind()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count completed webhook jobs: %w", err)
	}
	return n, nil
}

// storeCheck is what Postgres holds once the run is over.
type storeCheck struct {
	want int
	// actions rows, of which SUCCEEDED with one recorded run.
	actions, succeededOnce int
	// succeededEntries are action.succeeded audit entries, over
	// succeededSubjects distinct actions.
	succeededEntries, succeededSubjects int
	// jobs are webhook jobs, of which completed.
	jobs, jobsCompleted int
}

func (s storeCheck) ok() bool {
	return s.actions == s.want && s.succeededOnce == s.want &&
		s.succeededEntries == s.want && s.succeededSubjects == s.want &&
		s.jobs == s.want && s.jobsCompleted == s.want
}

// checkStore reads what the run left in Postgres; want is the number of
// actions the benchmark submitted, warm-up included.
func checkStore(ctx context.Context, conn *pgx.Conn, want int) (storeCheck, error) {
	s := storeCheck{want: want}
	err := conn.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE status = $1 AND attempts = 1) FROM actions`,
		string(action.StatusSucceeded)).Scan(&s.actions, &s.succeededOnce)
	if err != nil {
		return s, fmt.Errorf("check actions: %w", err)
	}
	err = conn.QueryRow(ctx, `
		SELECT count(*), count(DISTINCT subject) FROM audit_log WHERE event = $1`,
		action.EventSucceeded).Scan(&s.succeededEntries, &s.succeededSubjects)
	if err != nil {
		return s, fmt.Errorf("check audit log: %w", err)
	}
	err = conn.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE state = 'completed') FROM river_job WHERE kind = $1`,
		webhook.Args{}.Kind()).Scan(&s.jobs, &s.jobsCompleted)
	if err != nil {
		return s, fmt.Errorf("check river jobs: %w", err)
	}
	return s, nil
}
