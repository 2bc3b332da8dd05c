package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/procstat"
)

// floorTable is one table's part of the storage floor.
type floorTable struct {
	table string
	rows  int64
	cpu   time.Duration
}

// floor is what Postgres spends storing, once more and in bulk, every row
// the run stored: the least CPU that the rows the design keeps per signal
// can cost on this machine, with no pipeline, no contention and no
// per-transaction overhead.
type floor struct {
	signals int64
	tables  []floorTable
	// cpu is the backend's user+sys CPU for all the inserts and the commit;
	// wall is their elapsed time, the temporary tables' preparation
	// included.
	cpu, wall time.Duration
}

// floorCopies are the copies storeFloor makes, in the order the foreign
// keys need. The temporary tables floor_signals and floor_incidents map
// each stored ID to a new one. Every copy runs as alexus_app, under the
// tenant's row-level security, through the same indexes, keys and checks
// as the pipeline's own writes.
var floorCopies = []struct{ table, sql string }{
	{"signals", `
		INSERT INTO signals (tenant_id, id, source, fingerprint, external_id, status, severity, title, description,
		                     resource, labels, annotations, link, starts_at, ends_at, received_at, last_seen_at,
		                     occurrence_count, raw_payload, raw_truncated, fingerprint_recipe, fingerprint_recipe_version)
		SELECT s.tenant_id, m.new, source, fingerprint || '/floor', external_id, status, severity, title, description,
		       resource, labels, annotations, link, starts_at, ends_at, received_at, last_seen_at,
		       occurrence_count, raw_payload, raw_truncated, fingerprint_recipe, fingerprint_recipe_version
		FROM signals s JOIN floor_signals m ON m.old = s.id`},
	{"incidents", `
		INSERT INTO incidents (tenant_id, id, signal_id, status, stage, severity, intent, decision)
		SELECT i.tenant_id, m.new, m.signal, status, stage, severity, intent, decision
		FROM incidents i JOIN floor_incidents m ON m.old = i.id`},
	{"incident_transitions", `
		INSERT INTO incident_transitions (tenant_id, incident_id, sequence, stage, summary, details)
		SELECT t.tenant_id, m.new, sequence, stage, summary, details
		FROM incident_transitions t JOIN floor_incidents m ON m.old = t.incident_id`},
	{"triage_items", `
		INSERT INTO triage_items (tenant_id, incident_id, kind, question, route, route_reason, diagnosis, recommended_action)
		SELECT q.tenant_id, m.new, kind, question, route, route_reason, diagnosis, recommended_action
		FROM triage_items q JOIN floor_incidents m ON m.old = q.incident_id`},
	{"actions", `
		INSERT INTO actions (tenant_id, idempotency_key, incident_id, kind, params, reason, status, result, attempts)
		SELECT a.tenant_id, idempotency_key || '/floor', m.new, kind, params, reason, status, result, attempts
		FROM actions a JOIN floor_incidents m ON m.old = a.incident_id`},
	{"audit_log", `
		INSERT INTO audit_log (tenant_id, actor, event, subject, details)
		SELECT tenant_id, actor, event, subject || '/floor', details FROM audit_log`},
	{"river_job", `
		INSERT INTO river_job (state, attempt, max_attempts, attempted_at, created_at, finalized_at, scheduled_at,
		                       priority, args, attempted_by, errors, kind, metadata, queue, tags, unique_key, unique_states)
		SELECT state, attempt, max_attempts, attempted_at, created_at, finalized_at, scheduled_at,
		       priority, args, attempted_by, errors, kind, metadata, queue, tags, unique_key || '\x01'::bytea, unique_states
		FROM river_job`},
}

// storeFloor copies every row of the run's tenant tables and River jobs
// once, one INSERT ... SELECT per table in one transaction on one
// connection as alexus_app, and reads that backend's CPU before and after
// each statement from /proc. The copies stay in the bench database, which
// is dropped at the end.
//
// What it leaves out makes it a floor, not an estimate: River's two state
// changes per job (running, completed), the action's status update, the
// audit chain's linking of each entry, the reads of the knowledge graph
// and thresholds, and everything outside Postgres.
func storeFloor(ctx context.Context, st *stack) (*floor, error) {
	conn, err := st.adminConn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return nil, fmt.Errorf("floor: backend pid: %w", err)
	}
	f := &floor{}
	var before procstat.CPUTime
	began := time.Now()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, q := range []string{
			`SET LOCAL ROLE alexus_app`,
			`SELECT set_config('app.tenant_id', '` + benchTenant + `', true)`,
			`CREATE TEMP TABLE floor_signals ON COMMIT DROP AS SELECT id AS old, gen_random_uuid() AS new FROM signals`,
			`CREATE TEMP TABLE floor_incidents ON COMMIT DROP AS
			   SELECT i.id AS old, gen_random_uuid() AS new, m.new AS signal FROM incidents i JOIN floor_signals m ON m.old = i.signal_id`,
			`ANALYZE floor_signals`, `ANALYZE floor_incidents`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("floor: prepare: %w", err)
			}
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM floor_signals`).Scan(&f.signals); err != nil {
			return fmt.Errorf("floor: count signals: %w", err)
		}
		if before, err = procstat.ReadCPU(pid); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		last := before
		for _, c := range floorCopies {
			tag, err := tx.Exec(ctx, c.sql)
			if err != nil {
				return fmt.Errorf("floor: copy %s: %w", c.table, err)
			}
			now, err := procstat.ReadCPU(pid)
			if err != nil {
				return fmt.Errorf("floor: %w", err)
			}
			f.tables = append(f.tables, floorTable{table: c.table, rows: tag.RowsAffected(), cpu: now.Sub(last).Total()})
			last = now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The commit (the WAL flush of everything above) counts too.
	f.wall = time.Since(began)
	after, err := procstat.ReadCPU(pid)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	f.cpu = after.Sub(before).Total()
	var copies time.Duration
	for _, t := range f.tables {
		copies += t.cpu
	}
	f.tables = append(f.tables, floorTable{table: "commit (and the temporary tables dropped)", cpu: f.cpu - copies})
	return f, nil
}

// perSignal is d spread over the floor's signals.
func (f *floor) perSignal(d time.Duration) time.Duration {
	if f.signals == 0 {
		return 0
	}
	return d / time.Duration(f.signals)
}
