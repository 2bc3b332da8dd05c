package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

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
// issued for different filters.
var ErrBadPageToken = errors.New("invalid page token")

// ErrBadPageSize reports a negative or oversized page size.
var ErrBadPageSize = fmt.Errorf("page size must be between 0 and %d", MaxPageSize)

// ErrBadFilter reports filters that contradict each other.
var ErrBadFilter = errors.New("invalid filter")

// Query selects one page of the log. Every filter that is set must match;
// the zero value of a filter matches everything.
type Query struct {
	// PageSize is the most entries to return; 0 means DefaultPageSize.
	PageSize int
	// PageToken continues from a previous page; empty starts at the newest.
	PageToken string
	// Subject keeps only entries about that subject.
	Subject string
	// Actor keeps only entries by that actor.
	Actor string
	// Event keeps only entries of exactly that event.
	Event string
	// EventPrefix keeps only entries whose event starts with it; it cannot
	// be combined with Event.
	EventPrefix string
	// Since keeps only entries written at or after it.
	Since time.Time
	// Until keeps only entries written before it; it must be after Since.
	Until time.Time
}

// validate names the first contradiction among the filters.
func (q Query) validate() error {
	switch {
	case q.PageSize < 0 || q.PageSize > MaxPageSize:
		return ErrBadPageSize
	case q.Event != "" && q.EventPrefix != "":
		return fmt.Errorf("%w: set event or event_prefix, not both", ErrBadFilter)
	case !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until):
		return fmt.Errorf("%w: since must be before until", ErrBadFilter)
	}
	return nil
}

// where is the query's filter as SQL conditions on bound arguments, only
// the filters that are set, so each combination gets a plan that can use
// the subject, actor or event index.
func (q Query) where(before *int64) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if before != nil {
		add("id < ?", *before)
	}
	if q.Subject != "" {
		add("subject = ?", q.Subject)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.Event != "" {
		add("event = ?", q.Event)
	}
	if q.EventPrefix != "" {
		// starts_with, not LIKE: a prefix holding % or _ means itself.
		add("starts_with(event, ?)", q.EventPrefix)
	}
	if !q.Since.IsZero() {
		add("at >= ?", q.Since)
	}
	if !q.Until.IsZero() {
		add("at < ?", q.Until)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// filterKey identifies the filters a page token is bound to. With only a
// subject filter it is the subject itself, as it was before the other
// filters existed, so tokens issued then still work.
func (q Query) filterKey() string {
	k := q.Subject
	if q.Actor != "" || q.Event != "" || q.EventPrefix != "" || !q.Since.IsZero() || !q.Until.IsZero() {
		k += "\x00" + q.Actor + "\x00" + q.Event + "\x00" + q.EventPrefix +
			"\x00" + timeKey(q.Since) + "\x00" + timeKey(q.Until)
	}
	return k
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
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
	if err := q.validate(); err != nil {
		return Page{}, err
	}
	size := q.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	key := q.filterKey()
	var before *int64
	if q.PageToken != "" {
		id, err := decodeToken(q.PageToken, key)
		if err != nil {
			return Page{}, err
		}
		before = &id
	}
	where, args := q.where(before)

	var entries []Entry
	err := l.db.WithTenant(ctx, func(tx pgx.Tx) error {
		// One more row than asked for tells whether a next page exists
		// without a second query.
		rows, err := tx.Query(ctx, `
			SELECT id, at, actor, event, subject, details, coalesce(seq, 0), hash, prev_hash
			FROM audit_log `+where+`
			ORDER BY id DESC
			LIMIT `+strconv.Itoa(size+1), args...)
		if err != nil {
			return fmt.Errorf("query audit log: %w", err)
		}
		entries, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
			var (
				e   Entry
				raw []byte
			)
			if err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Event, &e.Subject, &raw, &e.Seq, &e.Hash, &e.PrevHash); err != nil {
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
		p.NextPageToken = encodeToken(entries[size-1].ID, key)
	}
	p.Entries = entries
	return p, nil
}

// tokenVersion prefixes every token so the format can change later without
// misreading old tokens.
const tokenVersion = "a1"

// encodeToken makes the opaque token for "entries before id". It carries a
// short hash of the filters (Query.filterKey) so a token cannot silently be
// replayed against different filters. It is not a security boundary:
// row-level security, not the token, keeps tenants apart.
func encodeToken(id int64, filters string) string {
	raw := tokenVersion + ":" + strconv.FormatInt(id, 10) + ":" + filterTag(filters)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeToken(token, filters string) (int64, error) {
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
	if parts[2] != filterTag(filters) {
		return 0, fmt.Errorf("%w: issued for different filters", ErrBadPageToken)
	}
	return id, nil
}

func filterTag(filters string) string {
	h := fnv.New32a()
	h.Write([]byte(filters))
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}
