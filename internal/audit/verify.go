package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// BreakKind says how the chain is broken at a place.
type BreakKind string

const (
	// BreakEdited: a row's content no longer matches its hash; it was
	// changed after it was written.
	BreakEdited BreakKind = "edited"
	// BreakMissing: seq jumps; the rows in between were removed.
	BreakMissing BreakKind = "missing"
	// BreakLink: a row's prev_hash is not the hash of the row before it; a
	// row was inserted, replaced or reordered, or its predecessor's hash was
	// rewritten.
	BreakLink BreakKind = "link"
	// BreakOrder: seq does not increase; rows were duplicated (possible only
	// once the unique constraint on seq is gone).
	BreakOrder BreakKind = "order"
	// BreakHead: the last row is not the chain head; the newest rows were
	// removed, rows were added past the head, or the head itself was changed.
	BreakHead BreakKind = "head"
	// BreakUnreadable: a row's details are not JSON the encoding can hash.
	BreakUnreadable BreakKind = "unreadable"
)

// Break is one place where the chain does not hold.
type Break struct {
	// Kind says how it is broken.
	Kind BreakKind
	// Seq is the row's seq (for BreakHead, the last row's; 0 when there is
	// none).
	Seq int64
	// ID is the row's storage id, 0 for BreakHead.
	ID int64
	// Detail is a sentence for a person.
	Detail string
}

// String names the break for a person.
func (b Break) String() string {
	if b.ID != 0 {
		return fmt.Sprintf("%s at seq %d (row id %d): %s", b.Kind, b.Seq, b.ID, b.Detail)
	}
	return fmt.Sprintf("%s at seq %d: %s", b.Kind, b.Seq, b.Detail)
}

// MaxBreaks bounds the breaks a Report lists; the count goes on.
const MaxBreaks = 100

// Report is the outcome of verifying one tenant's chain.
type Report struct {
	// Tenant is the tenant verified.
	Tenant tenant.ID
	// Rows is how many rows were checked.
	Rows int64
	// Pending counts the entries still unchained when the rows were read:
	// written by a transaction that committed after Verify chained the
	// tenant's entries. They are not checked and are not a break; the next
	// chaining links them.
	Pending int64
	// LastSeq and LastHash are the last row's, when there is one.
	LastSeq  int64
	LastHash []byte
	// HeadSeq and HeadHash are the chain head's; HasHead is false when the
	// tenant has none (it has never had an entry, or the head was removed).
	HasHead  bool
	HeadSeq  int64
	HeadHash []byte
	// Breaks are the first MaxBreaks breaks in seq order, the head's last.
	Breaks []Break
	// BreakCount counts every break found, listed or not.
	BreakCount int64
	// Elapsed is how long verification took.
	Elapsed time.Duration
}

// Intact reports whether the chain verified without a break.
func (r *Report) Intact() bool { return r.BreakCount == 0 }

// FirstBreak returns the first break, if any.
func (r *Report) FirstBreak() (Break, bool) {
	if len(r.Breaks) == 0 {
		return Break{}, false
	}
	return r.Breaks[0], true
}

func (r *Report) add(b Break) {
	r.BreakCount++
	if len(r.Breaks) < MaxBreaks {
		r.Breaks = append(r.Breaks, b)
	}
}

// ProgressEvery is how many rows Verify checks between progress calls.
const ProgressEvery = 100_000

// Verify first links the context tenant's unchained entries (Chain), so it
// checks every entry written before it started, then recomputes the
// tenant's hash chain, row by row in seq order, and compares its end with
// the chain head. It reads every row once, in one query streamed from one
// read-only snapshot, so rows appended or chained meanwhile neither show up
// half-way nor look like a broken head; entries that are in the snapshot but
// still unchained (their transaction committed after the chaining) are
// counted in Report.Pending, not checked. progress, when not nil, is called
// with the rows checked so far every ProgressEvery rows.
//
// The error is for failures to read or to chain; a broken chain is a Report
// that is not Intact.
func Verify(ctx context.Context, db *store.DB, progress func(rows int64)) (Report, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Report{}, err
	}
	start := time.Now()
	if _, err := Chain(ctx, db); err != nil {
		return Report{}, fmt.Errorf("chain pending audit entries: %w", err)
	}
	rep := Report{Tenant: t}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err = db.WithTenantTx(ctx, opts, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1`, string(t)).
			Scan(&rep.HeadSeq, &rep.HeadHash)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read audit chain head: %w", err)
		default:
			rep.HasHead = true
		}

		if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND hash IS NULL`,
			string(t)).Scan(&rep.Pending); err != nil {
			return fmt.Errorf("count unchained audit entries: %w", err)
		}
		// The tenant filter repeats what row-level security enforces, so the
		// scan reads the tenant's (tenant_id, seq) index and nothing else.
		rows, err := tx.Query(ctx, `
			SELECT id, seq, at, actor, event, subject, details, prev_hash, hash
			FROM audit_log WHERE tenant_id = $1 AND seq IS NOT NULL ORDER BY seq`, string(t))
		if err != nil {
			return fmt.Errorf("query audit log: %w", err)
		}
		defer rows.Close()
		c := checker{rep: &rep, rec: Record{Tenant: string(t)}}
		var (
			id        int64
			raw, hash []byte
		)
		for rows.Next() {
			if err := rows.Scan(&id, &c.rec.Seq, &c.rec.At, &c.rec.Actor, &c.rec.Event, &c.rec.Subject,
				&raw, &c.rec.PrevHash, &hash); err != nil {
				return fmt.Errorf("read audit row after seq %d: %w", rep.LastSeq, err)
			}
			c.check(id, raw, hash)
			if progress != nil && rep.Rows%ProgressEvery == 0 {
				progress(rep.Rows)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read audit log after seq %d: %w", rep.LastSeq, err)
		}
		c.checkHead()
		return nil
	})
	rep.Elapsed = time.Since(start)
	if err != nil {
		return Report{}, err
	}
	return rep, nil
}

// checker walks one tenant's rows in seq order.
type checker struct {
	rep *Report
	// rec is reused for every row, and buf for every encoding, so checking
	// a row allocates little.
	rec Record
	buf []byte
}

func (c *checker) check(id int64, details, hash []byte) {
	r := c.rep
	rec := &c.rec
	prevSeq, prevHash := r.LastSeq, r.LastHash
	r.Rows++
	// Whatever is wrong with this row, the next one is checked against it
	// as stored, so one edit is one break rather than a cascade.
	r.LastSeq, r.LastHash = rec.Seq, append(r.LastHash[:0:0], hash...)

	switch {
	case rec.Seq <= prevSeq:
		r.add(Break{Kind: BreakOrder, Seq: rec.Seq, ID: id,
			Detail: fmt.Sprintf("seq %d follows seq %d; seq must increase by one", rec.Seq, prevSeq)})
	case rec.Seq > prevSeq+1:
		r.add(Break{Kind: BreakMissing, Seq: rec.Seq, ID: id, Detail: missing(prevSeq+1, rec.Seq-1) + " removed"})
	default:
		want := prevHash
		if prevSeq == 0 {
			want = GenesisHash()
		}
		if !bytes.Equal(rec.PrevHash, want) {
			r.add(Break{Kind: BreakLink, Seq: rec.Seq, ID: id, Detail: fmt.Sprintf(
				"prev_hash %s is not the hash %s of seq %d; a row was inserted, replaced or reordered, or seq %d's hash was rewritten",
				short(rec.PrevHash), short(want), prevSeq, prevSeq)})
		}
	}

	var err error
	c.buf, err = appendCanonicalJSON(c.buf[:0], details)
	if err != nil {
		r.add(Break{Kind: BreakUnreadable, Seq: rec.Seq, ID: id, Detail: err.Error()})
		return
	}
	rec.Details = c.buf
	n := len(c.buf)
	c.buf = rec.AppendEncoding(c.buf)
	sum := sha256.Sum256(c.buf[n:])
	if !bytes.Equal(sum[:], hash) {
		r.add(Break{Kind: BreakEdited, Seq: rec.Seq, ID: id, Detail: fmt.Sprintf(
			"the row's content hashes to %s but its hash is %s; it was changed after it was written",
			short(sum[:]), short(hash))})
	}
}

func (c *checker) checkHead() {
	r := c.rep
	switch {
	case !r.HasHead && r.Rows == 0:
		// A tenant that never had an entry.
	case !r.HasHead:
		r.add(Break{Kind: BreakHead, Seq: r.LastSeq, Detail: "the tenant's chain head is missing"})
	case r.HeadSeq > r.LastSeq:
		r.add(Break{Kind: BreakHead, Seq: r.LastSeq, Detail: fmt.Sprintf(
			"the head is at seq %d but the log ends at seq %d: %s removed from the end", r.HeadSeq, r.LastSeq,
			missing(r.LastSeq+1, r.HeadSeq))})
	case r.HeadSeq < r.LastSeq:
		r.add(Break{Kind: BreakHead, Seq: r.LastSeq, Detail: fmt.Sprintf(
			"the log goes on past the head at seq %d; rows were added outside the writer or the head was moved back", r.HeadSeq)})
	case !bytes.Equal(r.HeadHash, r.LastHash):
		r.add(Break{Kind: BreakHead, Seq: r.LastSeq, Detail: fmt.Sprintf(
			"the head's hash %s is not the last row's hash %s; the last row or the head was replaced",
			short(r.HeadHash), short(r.LastHash))})
	}
}

func missing(from, to int64) string {
	if from == to {
		return fmt.Sprintf("row seq %d", from)
	}
	return fmt.Sprintf("rows seq %d to %d (%d rows)", from, to, to-from+1)
}

// short is a hash's first 8 bytes in hex, enough to tell hashes apart in a
// message.
func short(h []byte) string {
	if len(h) > 8 {
		return hex.EncodeToString(h[:8]) + "…"
	}
	return hex.EncodeToString(h)
}
