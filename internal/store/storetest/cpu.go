package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/procstat"
)

// BackendWatch measures the CPU time that the Postgres backends serving a
// bundle's database spend, read from /proc (procstat.WatchGroup), so that a
// benchmark can report what its operations cost Postgres beside what they
// cost Go. It needs Postgres on this machine; where it is elsewhere, Stop
// says so.
type BackendWatch struct {
	g *procstat.GroupWatcher
}

// WatchBackends starts a BackendWatch on the bundle's database. A backend
// that starts later counts from zero.
func (b *Bundle) WatchBackends(tb testing.TB) *BackendWatch {
	tb.Helper()
	g, err := procstat.WatchGroup(backendLister(b.AdminURL))
	if err != nil {
		tb.Fatalf("watch postgres backends: %v", err)
	}
	return &BackendWatch{g: g}
}

// Stop returns the backends' CPU time since WatchBackends, and false when
// none of them could be read from /proc.
func (w *BackendWatch) Stop(tb testing.TB) (time.Duration, bool) {
	tb.Helper()
	cpu, procs, err := w.g.Stop()
	if err != nil {
		tb.Fatalf("watch postgres backends: %v", err)
	}
	return cpu, procs > 0
}

// backendLister lists the backends of admin's database, except the one
// asking.
func backendLister(admin string) func() ([]int, error) {
	return func() ([]int, error) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return nil, err
		}
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		return pgx.CollectRows(rows, pgx.RowTo[int])
	}
}
