package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/store"
)

const (
	// DefaultPageSize is used when a query asks for 0 entries.
	DefaultPageSize = 50
	// MaxPageSize bounds one page.
	MaxPageSize = 500
)

// ErrBadPageToken reports a page token this package did not issue, or one
// issued for a different subject filter.
var ErrBadPageToken = errors.New("invalid page token")

// ErrBadPageSize reports a negative or oversized page size.
var ErrBadPageSize = fmt.Errorf("page size must be between 0 and %d", MaxPageSize)

// Query selects one page of the log.
type Query struct {
	// PageSize is the most entries to return; 0 means DefaultPageSize.
	PageSize int
	// PageToken continues from a previous page; empty starts at the newest.
	PageToken string
	// Subject, when set, keeps only entries about that subject.
	Subject string
}

// Page is one page of the log, newest first.
type Page struct {
	// Entries are in descending ID order.
	Entries []Entry
	// NextPageToken continues after the last entry; empty on the last page.
	NextPageToken string
}

// Log reads the audit log.
type Log struct {
	db *store.DB
}

// NewLog returns a Log reading through db.
func NewLog(db *store.DB) *Log { return &Log{db: db} }

// List returns one page of the context tenant's log. Pagination is by key
// (the last ID seen), not by offset, so entries appended while a reader
// pages do not shift or repeat what it sees.
func (l *Log) List(ctx context.Context, q Query) (Page, error) {
	size := q.PageSize
	switch {
	case size == 0:
		size = DefaultPageSize
	case size < 0 || size > MaxPageSize:
		return Page{}, ErrBadPageSize
	}
	var before *int64
	if q.PageToken != "" {
		id, err := decodeToken(q.PageToken, q.Subject)
		if err != nil {
			return Page{}, err
		}
		before = &id
	}

	var entries []Entry
	err := l.db.WithTenant(ctx, func(tx pgx.Tx) error {
		// One more row than asked for tells whether a next page exists
		// without a second query.
		rows, err := tx.Query(ctx, `
			SELECT id, at, actor, event, subject, details
			FROM audit_log
			WHERE ($1::bigint IS NULL OR id < $1)
			  AND ($2 = '' OR subject = $2)
			ORDER BY id DESC
			LIMIT $3`, before, q.Subject, size+1)
		if err != nil {
			return fmt.Errorf("query audit log: %w", err)
		}
		entries, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
			var (
				e   Entry
				raw []byte
			)
			if err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Event, &e.Subject, &raw); err != nil {
				return Entry{}, err
			}
			d, err := decodeDetails(raw)
			if err != nil {
				return Entry{}, fmt.Errorf("audit entry %d: %w", e.ID, err)
			}
			e.Details = d
			e.At = e.At.UTC()
			return e, nil
		})
		if err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(entries) > size {
		entries = entries[:size]
		p.NextPageToken = encodeToken(entries[size-1].ID, q.Subject)
	}
	p.Entries = entries
	return p, nil
}

// tokenVersion prefixes every token so the format can change later without
// misreading old tokens.
const tokenVersion = "a1"

// encodeToken makes the opaque token for "entries before id". It carries a
// short hash of the subject filter so a token cannot silently be replayed
// against a different filter. It is not a security boundary: row-level
// security, not the token, keeps tenants apart.
func encodeToken(id int64, subject string) string {
	raw := tokenVersion + ":" + strconv.FormatInt(id, 10) + ":" + subjectTag(subject)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeToken(token, subject string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, fmt.Errorf("%w: not base64url", ErrBadPageToken)
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != tokenVersion {
		return 0, fmt.Errorf("%w: unknown format", ErrBadPageToken)
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: bad position", ErrBadPageToken)
	}
	if parts[2] != subjectTag(subject) {
		return 0, fmt.Errorf("%w: issued for a different subject filter", ErrBadPageToken)
	}
	return id, nil
}

func subjectTag(subject string) string {
	h := fnv.New32a()
	h.Write([]byte(subject))
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}
