package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// target is the goal for verifying a million rows.
const target = 30 * time.Second

// options are the command-line flags.
type options struct {
	postgresURL string
	rows        int
	noise       int
	runs        int
	keep        bool
}

func parseFlags(args []string) (options, error) {
	var o options
	def := os.Getenv("ALEXUS_POSTGRES_URL")
	if def == "" {
		def = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	fs := flag.NewFlagSet("bench/audit", flag.ContinueOnError)
	fs.StringVar(&o.postgresURL, "postgres-url", def, "admin (superuser) Postgres URL; the run creates and drops a database of its own (ALEXUS_POSTGRES_URL)")
	fs.IntVar(&o.rows, "rows", 1_000_000, "audit rows of the verified tenant")
	fs.IntVar(&o.noise, "noise", 100_000, "audit rows of a second tenant in the same table, which verification must skip")
	fs.IntVar(&o.runs, "runs", 3, "timed verifications; the first reads a cold cache, the others a warm one")
	fs.BoolVar(&o.keep, "keep-db", false, "leave the database in place")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.rows < 2:
		return o, errors.New("-rows must be at least 2")
	case o.noise < 0:
		return o, errors.New("-noise must not be negative")
	case o.runs < 1:
		return o, errors.New("-runs must be at least 1")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/audit:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/audit:", err)
		if ctx.Err() != nil {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	d, err := createDatabase(ctx, o.postgresURL)
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "database %s is kept (-keep-db)\n", d.Name)
	} else {
		defer d.drop()
	}

	const verified, other = tenant.ID("bench"), tenant.ID("noise")
	start := time.Now()
	if err := d.seed(ctx, other, o.noise); err != nil {
		return err
	}
	if err := d.seed(ctx, verified, o.rows); err != nil {
		return err
	}
	seedTime := time.Since(start)
	var size string
	if err := d.admin.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('audit_log'))`).Scan(&size); err != nil {
		return err
	}

	fmt.Printf("# bench/audit: `alexus audit verify` over %d rows\n\n", o.rows)
	fmt.Printf("Database %s: tenant %s has %d audit rows, tenant %s %d more in the same table (audit_log with its indexes: %s).\n",
		d.Name, verified, o.rows, other, o.noise, size)
	fmt.Printf("Seeded in %.1fs (COPY, chain computed in Go with internal/audit's encoding).\n\n", seedTime.Seconds())
	fmt.Println("| run | rows checked | seconds | rows/s | intact |")
	fmt.Println("| --- | ---: | ---: | ---: | --- |")

	vctx := tenant.WithIdentity(ctx, tenant.Identity{Tenant: verified, Subject: "bench-audit"})
	var best time.Duration
	for i := range o.runs {
		rep, err := audit.Verify(vctx, d.db, nil)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		fmt.Printf("| %d | %d | %.2f | %.0f | %t |\n", i+1, rep.Rows, rep.Elapsed.Seconds(),
			float64(rep.Rows)/rep.Elapsed.Seconds(), rep.Intact())
		if !rep.Intact() || rep.Rows != int64(o.rows) {
			first, _ := rep.FirstBreak()
			return fmt.Errorf("the seeded chain must verify with %d rows: got %d rows, %s", o.rows, rep.Rows, first)
		}
		if best == 0 || rep.Elapsed < best {
			best = rep.Elapsed
		}
	}

	// Edit one row in the middle as the owner, with triggers off (the
	// write-once trigger refuses the edit otherwise), and check the break is
	// found where it is.
	mid := int64(o.rows / 2)
	if _, err := d.admin.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		return err
	}
	if _, err := d.admin.Exec(ctx, `UPDATE audit_log SET details = '{"forged": "yes"}' WHERE tenant_id = $1 AND seq = $2`,
		string(verified), mid); err != nil {
		return err
	}
	if _, err := d.admin.Exec(ctx, `RESET session_replication_role`); err != nil {
		return err
	}
	rep, err := audit.Verify(vctx, d.db, nil)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	first, broken := rep.FirstBreak()
	if !broken || first.Kind != audit.BreakEdited || first.Seq != mid || rep.BreakCount != 1 {
		return fmt.Errorf("an edit of seq %d must be found as the one break: got %d breaks, first %v", mid, rep.BreakCount, first)
	}
	fmt.Printf("\nEdited seq %d as the owner, triggers off: found in %.2fs as %q.\n", mid, rep.Elapsed.Seconds(), first.String())

	met := "met"
	if o.rows < 1_000_000 || best >= target {
		met = "not met"
		if o.rows < 1_000_000 {
			met = "not measured (fewer than 1,000,000 rows)"
		}
	}
	fmt.Printf("\n**Target** (1,000,000 rows in under %s): best %.2fs, %s.\n", target, best.Seconds(), met)
	return nil
}

// database is the run's throw-away database: an admin connection, which
// seeds (COPY into a table under row-level security needs a role that
// bypasses it), and the application-role pool, which verifies as the
// command does.
type database struct {
	*harness.Database
	admin *pgx.Conn
	db    *store.DB
}

func createDatabase(ctx context.Context, adminURL string) (*database, error) {
	hd, err := harness.CreateDatabase(ctx, adminURL, "alexus_bench_audit_")
	if err != nil {
		return nil, err
	}
	d := &database{Database: hd}
	if d.admin, err = pgx.Connect(ctx, hd.URL); err != nil {
		d.drop()
		return nil, err
	}
	if d.db, err = store.Open(ctx, store.Config{AdminURL: hd.URL, MaxConns: 4}); err != nil {
		d.drop()
		return nil, err
	}
	return d, nil
}

// drop closes the connections and drops the database; it runs even when
// the run's context is cancelled.
func (d *database) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d.db != nil {
		d.db.Close()
	}
	if d.admin != nil {
		_ = d.admin.Close(ctx)
	}
	_ = d.Drop()
}

// seed creates tenant t through provisioning (its "tenant.created" entry is
// written by the writer and chained, seq 1) and appends rows-1 more entries with COPY,
// chained from that head, then moves the head.
func (d *database) seed(ctx context.Context, t tenant.ID, rows int) error {
	if rows == 0 {
		return nil
	}
	tctx := tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: "bench-audit"})
	if _, err := provision.EnsureTenant(tctx, d.db, provision.TenantOptions{}); err != nil {
		return fmt.Errorf("tenant %s: %w", t, err)
	}
	if _, err := audit.Chain(tctx, d.db); err != nil {
		return fmt.Errorf("chain the first entry of %s: %w", t, err)
	}
	src := &entries{tenant: string(t), n: int64(rows), at: time.Now().UTC().Truncate(time.Microsecond)}
	if err := d.admin.QueryRow(ctx, `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1`, string(t)).
		Scan(&src.seq, &src.prev); err != nil {
		return fmt.Errorf("read the head of %s: %w", t, err)
	}
	start := time.Now()
	copied, err := d.admin.CopyFrom(ctx, pgx.Identifier{"audit_log"},
		[]string{"tenant_id", "seq", "at", "actor", "event", "subject", "details", "prev_hash", "hash"}, src)
	if err != nil {
		return fmt.Errorf("copy audit rows of %s: %w", t, err)
	}
	if _, err := d.admin.Exec(ctx, `UPDATE audit_chain_heads SET seq = $2, hash = $3 WHERE tenant_id = $1`,
		string(t), src.seq, src.prev); err != nil {
		return err
	}
	if _, err := d.admin.Exec(ctx, `VACUUM ANALYZE audit_log`); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded %d rows of %s in %.1fs\n", copied+1, t, time.Since(start).Seconds())
	return nil
}

// entries generates audit rows for COPY, each linked to the one before it.
type entries struct {
	tenant string
	n      int64 // rows in total, the head's included
	seq    int64 // the last row generated (the head before the first)
	prev   []byte
	at     time.Time
	row    []any
}

var (
	actors = []string{"user:alice", "user:bob", "system:actions", "system:orchestrator", "system:cli"}
	events = []string{"action.requested", "action.succeeded", "action.failed", "incident.transition", "ticket.synced",
		"integration_token.created", "mapping_rule.updated"}
)

func (e *entries) Next() bool {
	if e.seq >= e.n {
		return false
	}
	e.seq++
	i := e.seq
	details := map[string]string{
		"kind":    "webhook",
		"target":  "default",
		"attempt": strconv.FormatInt(i%5+1, 10),
		"reason":  "disk on db-" + strconv.FormatInt(i%17, 10) + " is 91% full",
	}
	rec := audit.Record{
		Tenant:   e.tenant,
		Seq:      i,
		At:       e.at.Add(time.Duration(i) * time.Millisecond),
		Actor:    actors[i%int64(len(actors))],
		Event:    events[i%int64(len(events))],
		Subject:  "action/" + strconv.FormatInt(i*7919%1_000_003, 36),
		Details:  audit.CanonicalStrings(details),
		PrevHash: e.prev,
	}
	h := rec.Hash()
	e.row = []any{rec.Tenant, rec.Seq, rec.At, rec.Actor, rec.Event, rec.Subject, rec.Details, rec.PrevHash, h[:]}
	e.prev = h[:]
	return true
}

func (e *entries) Values() ([]any, error) { return e.row, nil }

func (e *entries) Err() error { return nil }
