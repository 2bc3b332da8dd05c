package storetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BackendWatch measures the CPU time that the Postgres backends serving a
// bundle's database spend, read from /proc, so that a benchmark can report
// what its operations cost Postgres beside what they cost Go. It needs
// Postgres on this machine and readable /proc entries; where it has
// neither, Stop says so.
type BackendWatch struct {
	admin  string
	before map[int]time.Duration
}

// WatchBackends starts a BackendWatch on the bundle's database. A backend
// that starts later counts from zero.
func (b *Bundle) WatchBackends(tb testing.TB) *BackendWatch {
	tb.Helper()
	w := &BackendWatch{admin: b.AdminURL}
	w.before = backendsCPU(w.pids(tb))
	return w
}

// Stop returns the backends' CPU time since WatchBackends, and false when
// it could not be read.
func (w *BackendWatch) Stop(tb testing.TB) (time.Duration, bool) {
	tb.Helper()
	after := backendsCPU(w.pids(tb))
	if w.before == nil || after == nil {
		return 0, false
	}
	var d time.Duration
	for pid, t := range after {
		d += t - w.before[pid]
	}
	return d, true
}

// pids lists the backends of the database, except the one asking.
func (w *BackendWatch) pids(tb testing.TB) []int {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.admin)
	if err != nil {
		tb.Fatalf("list postgres backends: %v", err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		tb.Fatalf("list postgres backends: %v", err)
	}
	return pids
}

// backendsCPU reads each PID's user+sys CPU time from /proc, or nil when
// one cannot be read (Postgres is elsewhere, or a backend went away).
func backendsCPU(pids []int) map[int]time.Duration {
	out := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		utime, err1 := strconv.ParseInt(f[11], 10, 64)
		stime, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return nil
		}
		out[pid] = time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	return out
}
