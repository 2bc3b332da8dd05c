package audit_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// tamper runs SQL as the admin, which skips row-level security and the
// application role's grants, with triggers off (session_replication_role),
// as anyone with the database's keys can.
func (b *bundle) tamper(t *testing.T, sql string, args ...any) {
	t.Helper()
	var tag pgconn.CommandTag
	err := pgx.BeginFunc(b.ctx, b.admin, func(tx pgx.Tx) error {
		if _, err := tx.Exec(b.ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		var err error
		tag, err = tx.Exec(b.ctx, sql, args...)
		return err
	})
	require.NoError(t, err)
	require.Positive(t, tag.RowsAffected(), "the tampering must change something: %s", sql)
}

func requireOneBreak(t *testing.T, rep audit.Report, kind audit.BreakKind, seq int64) audit.Break {
	t.Helper()
	require.False(t, rep.Intact())
	require.EqualValues(t, 1, rep.BreakCount, "%v", rep.Breaks)
	first, ok := rep.FirstBreak()
	require.True(t, ok)
	require.Equal(t, kind, first.Kind, first.String())
	require.Equal(t, seq, first.Seq, first.String())
	return first
}

func TestVerifyCleanChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 10)

	rep := b.verify(t, "acme")
	require.True(t, rep.Intact(), "%v", rep.Breaks)
	require.Equal(t, tenant.ID("acme"), rep.Tenant)
	require.EqualValues(t, 10, rep.Rows)
	require.True(t, rep.HasHead)
	require.EqualValues(t, 10, rep.HeadSeq)
	require.Equal(t, rep.HeadHash, rep.LastHash)
	require.Len(t, rep.HeadHash, audit.HashSize)

	var progress []int64
	_, err := audit.Verify(as("acme"), b.db, func(n int64) { progress = append(progress, n) })
	require.NoError(t, err)
	require.Empty(t, progress, "ten rows are fewer than one progress step")

	empty := b.verify(t, "nobody")
	require.True(t, empty.Intact())
	require.Zero(t, empty.Rows)
	require.False(t, empty.HasHead)
}

func TestVerifyFindsAnEditedRow(t *testing.T) {
	t.Parallel()
	for name, sql := range map[string]string{
		"details": `UPDATE audit_log SET details = '{"n": "forged"}' WHERE tenant_id = 'acme' AND seq = 4`,
		"actor":   `UPDATE audit_log SET actor = 'user:someone-else' WHERE tenant_id = 'acme' AND seq = 4`,
		"time":    `UPDATE audit_log SET at = at - interval '1 microsecond' WHERE tenant_id = 'acme' AND seq = 4`,
		"key":     `UPDATE audit_log SET details = details || '{"extra": "1"}' WHERE tenant_id = 'acme' AND seq = 4`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.addTenant(t, "acme", 7)
			b.tamper(t, sql)
			br := requireOneBreak(t, b.verify(t, "acme"), audit.BreakEdited, 4)
			require.Contains(t, br.String(), "edited at seq 4")
		})
	}
}

// An editor who also rewrites the row's hash (with the SQL implementation of
// the encoding) moves the break to the next row's link.
func TestVerifyFindsARehashedRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 7)
	b.tamper(t, `UPDATE audit_log SET subject = 'thing/forged' WHERE tenant_id = 'acme' AND seq = 4`)
	b.tamper(t, `UPDATE audit_log SET hash = alexus_audit_entry_hash(tenant_id, seq, at, actor, event, subject, details, prev_hash)
		WHERE tenant_id = 'acme' AND seq = 4`)
	requireOneBreak(t, b.verify(t, "acme"), audit.BreakLink, 5)
}

func TestVerifyFindsARemovedRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 7)
	b.tamper(t, `DELETE FROM audit_log WHERE tenant_id = 'acme' AND seq = 3`)

	rep := b.verify(t, "acme")
	require.EqualValues(t, 6, rep.Rows)
	br := requireOneBreak(t, rep, audit.BreakMissing, 4)
	require.Contains(t, br.Detail, "row seq 3 removed")

	b.tamper(t, `DELETE FROM audit_log WHERE tenant_id = 'acme' AND seq IN (1, 5, 6)`)
	rep = b.verify(t, "acme")
	require.EqualValues(t, 3, rep.Rows)
	require.EqualValues(t, 3, rep.BreakCount, "%v", rep.Breaks)
	require.Equal(t, "missing at seq 2 (row id 2): row seq 1 removed", rep.Breaks[0].String())
	require.Contains(t, rep.Breaks[1].Detail, "row seq 3 removed")
	require.Contains(t, rep.Breaks[2].Detail, "rows seq 5 to 6 (2 rows) removed")
}

// Removing the newest rows leaves a chain that is whole up to its end; the
// head gives it away.
func TestVerifyFindsATruncatedTail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 7)
	b.tamper(t, `DELETE FROM audit_log WHERE tenant_id = 'acme' AND seq = 7`)
	br := requireOneBreak(t, b.verify(t, "acme"), audit.BreakHead, 6)
	require.Contains(t, br.Detail, "the head is at seq 7 but the log ends at seq 6: row seq 7 removed")

	b.tamper(t, `DELETE FROM audit_chain_heads WHERE tenant_id = 'acme'`)
	br = requireOneBreak(t, b.verify(t, "acme"), audit.BreakHead, 6)
	require.Contains(t, br.Detail, "head is missing")
}

func TestVerifyFindsAnInsertedRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 3)
	// A row added past the head by someone who skipped the writer.
	b.tamper(t, `INSERT INTO audit_log (tenant_id, seq, actor, event, subject, prev_hash, hash)
		SELECT tenant_id, 4, 'evil', 'x', 'y', hash, hash FROM audit_log WHERE tenant_id = 'acme' AND seq = 3`)
	rep := b.verify(t, "acme")
	require.EqualValues(t, 2, rep.BreakCount, "%v", rep.Breaks)
	require.Equal(t, audit.BreakEdited, rep.Breaks[0].Kind)
	require.EqualValues(t, 4, rep.Breaks[0].Seq)
	require.Equal(t, audit.BreakHead, rep.Breaks[1].Kind)
	require.Contains(t, rep.Breaks[1].Detail, "past the head")
}

// Verifying one tenant reads that tenant's rows only: another tenant's
// broken chain neither shows up in its report nor counts among its rows.
func TestVerifyReadsOneTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 5)
	b.addTenant(t, "globex", 8)
	b.tamper(t, `UPDATE audit_log SET actor = 'forged' WHERE tenant_id = 'globex' AND seq = 2`)
	b.tamper(t, `DELETE FROM audit_log WHERE tenant_id = 'globex' AND seq = 8`)

	acme := b.verify(t, "acme")
	require.True(t, acme.Intact(), "%v", acme.Breaks)
	require.EqualValues(t, 5, acme.Rows)
	require.EqualValues(t, 5, acme.HeadSeq)

	globex := b.verify(t, "globex")
	require.EqualValues(t, 7, globex.Rows)
	require.EqualValues(t, 2, globex.BreakCount, "%v", globex.Breaks)
	require.Equal(t, audit.BreakEdited, globex.Breaks[0].Kind)
	require.Equal(t, audit.BreakHead, globex.Breaks[1].Kind)

	// Each tenant's chain starts at seq 1 from the genesis hash.
	var firsts int
	require.NoError(t, b.admin.QueryRow(b.ctx,
		`SELECT count(*) FROM audit_log WHERE seq = 1 AND prev_hash = decode(repeat('00', 32), 'hex')`).Scan(&firsts))
	require.Equal(t, 2, firsts)
}
