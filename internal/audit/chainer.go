package audit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// ChainBatch bounds the entries one chaining transaction links, so a long
// backlog is linked in several short transactions rather than one that
// holds the tenant's head for long.
const ChainBatch = 5000

// Chain links the context tenant's unchained entries into its hash chain,
// in id order, and returns how many it linked. Each batch of up to
// ChainBatch entries is one transaction: it locks the tenant's chain head
// (creating it on the tenant's first entry), gives the entries the next
// seqs, computes each hash with the canonical encoding, writes seq,
// prev_hash and hash (once: the table's trigger refuses to change a link
// already written) and moves the head. The head lock makes chainers of one
// tenant take turns, so two of them never link the same entry; writers
// never wait for it.
//
// An entry whose transaction commits while Chain runs is linked by the next
// call.
func Chain(ctx context.Context, db *store.DB) (int64, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for {
		n, err := chainBatch(ctx, db, string(t))
		total += int64(n)
		if err != nil || n < ChainBatch {
			return total, err
		}
	}
}

// chainBatch links up to ChainBatch of tenant t's unchained entries in one
// transaction.
func chainBatch(ctx context.Context, db *store.DB, t string) (int, error) {
	var n int
	err := db.WithTenant(ctx, func(tx pgx.Tx) error {
		// Create the head when the tenant's first entries wait for their
		// link, and lock it, in one round trip. The insert waits for a
		// concurrent first insert and then does nothing; the locking read,
		// a statement of its own, sees the head that transaction committed.
		// A tenant without a head has nothing to chain (Verify reports a
		// head removed from a chain that has entries).
		var (
			headSeq  int64
			headHash []byte
		)
		b := &pgx.Batch{}
		b.Queue(`
			INSERT INTO audit_chain_heads (tenant_id)
			SELECT $1 WHERE EXISTS (SELECT 1 FROM audit_log WHERE tenant_id = $1 AND hash IS NULL)
			ON CONFLICT (tenant_id) DO NOTHING`, t)
		b.Queue(`SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 FOR UPDATE`, t)
		br := tx.SendBatch(ctx, b)
		_, err := br.Exec()
		if err == nil {
			err = br.QueryRow().Scan(&headSeq, &headHash)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock audit chain head: %w", err)
		}

		// Read after the lock is held, so a chainer that waited for another
		// sees the entries that one linked as linked.
		rows, err := tx.Query(ctx, `
			SELECT id, at, actor, event, subject, details
			FROM audit_log WHERE tenant_id = $1 AND hash IS NULL
			ORDER BY id LIMIT $2`, t, ChainBatch)
		if err != nil {
			return fmt.Errorf("read unchained audit entries: %w", err)
		}
		var (
			ids, seqs   []int64
			prevs, sums [][]byte
			rec         = Record{Tenant: t, Seq: headSeq, PrevHash: headHash}
			id          int64
			at          time.Time
			raw, buf    []byte
		)
		for rows.Next() {
			if err := rows.Scan(&id, &at, &rec.Actor, &rec.Event, &rec.Subject, &raw); err != nil {
				rows.Close()
				return fmt.Errorf("read unchained audit entry: %w", err)
			}
			buf, err = appendCanonicalJSON(buf[:0], raw)
			if err != nil {
				rows.Close()
				return fmt.Errorf("audit entry %d: details cannot be encoded: %w", id, err)
			}
			rec.Seq++
			rec.At = at
			rec.Details = buf
			sum := sha256.Sum256(rec.AppendEncoding(nil))
			ids = append(ids, id)
			seqs = append(seqs, rec.Seq)
			prevs = append(prevs, rec.PrevHash)
			sums = append(sums, sum[:])
			rec.PrevHash = sum[:]
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read unchained audit entries: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		tag, err := tx.Exec(ctx, `
			WITH link AS (
				UPDATE audit_log l SET seq = u.seq, prev_hash = u.prev_hash, hash = u.hash
				FROM unnest($2::bigint[], $3::bigint[], $4::bytea[], $5::bytea[]) AS u (id, seq, prev_hash, hash)
				WHERE l.tenant_id = $1 AND l.id = u.id
			)
			UPDATE audit_chain_heads SET seq = $6, hash = $7 WHERE tenant_id = $1`,
			t, ids, seqs, prevs, sums, rec.Seq, rec.PrevHash)
		if err != nil {
			return fmt.Errorf("link %d audit entries: %w", len(ids), err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("move audit chain head: %d rows updated", tag.RowsAffected())
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// PendingTenants returns the tenants that have unchained entries. It reads
// across tenants through a function of the schema's owner that returns
// tenant ids only, so it needs no tenant in ctx; the leader's chaining job
// calls it to find its work.
func PendingTenants(ctx context.Context, db *store.DB) ([]tenant.ID, error) {
	rows, err := db.Pool().Query(ctx, `SELECT t FROM alexus_audit_unchained_tenants() AS t ORDER BY t`)
	if err != nil {
		return nil, fmt.Errorf("find tenants with unchained audit entries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find tenants with unchained audit entries: %w", err)
	}
	out := make([]tenant.ID, 0, len(ids))
	for _, id := range ids {
		t, err := tenant.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("tenant with unchained audit entries: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}
