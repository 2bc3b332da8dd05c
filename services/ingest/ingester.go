package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
	"github.com/alexus-platform/alexus/services/ingest/dedup"
	"github.com/alexus-platform/alexus/services/ingest/limit"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
	"github.com/alexus-platform/alexus/services/ingest/sources"
)

// Errors for payloads refused before any normaliser sees them.
var (
	// ErrPayloadTooLarge reports a payload over Config.MaxPayloadBytes.
	ErrPayloadTooLarge = errors.New("payload too large")
	// ErrPayloadTooDeep reports a payload nesting arrays and objects deeper
	// than Config.MaxJSONDepth.
	ErrPayloadTooDeep = errors.New("payload too deep")
	// ErrPayloadNotUTF8 reports a payload that is not valid UTF-8, which no
	// JSON text can be.
	ErrPayloadNotUTF8 = errors.New("payload is not valid UTF-8")
	// ErrSourcesUnavailable reports that the tenant's own sources (mapping
	// rules, fingerprint overrides) could not be loaded, so no payload of
	// the tenant can be normalised as configured; retrying is safe.
	ErrSourcesUnavailable = errors.New("tenant source configuration unavailable")
)

// batchFlushSignals is how many normalised signals a batch holds before it
// records them, which bounds a batch's memory whatever its item count.
const batchFlushSignals = 128

// Result is the verdict on one alert.
type Result struct {
	// SignalID is the signal the alert was filed under.
	SignalID string
	// Fingerprint is the alert's fingerprint.
	Fingerprint string
	// Title is the alert's title.
	Title string
	// Kind is OPENED (a new signal), REPEATED (a duplicate) or RESOLVED.
	Kind signalv1.EventKind
}

// Ingester normalises, de-duplicates and records payloads for the tenant in
// the context.
type Ingester struct {
	log         *zap.Logger
	normalisers *normalise.Registry
	// sources gives each tenant's mapping rules and fingerprint overrides;
	// nil means native sources only, as they ship.
	sources    *sources.Cache
	store      *dedup.Store
	rate       *limit.RateLimiter
	rawCap     int
	maxPayload int
	maxDepth   int
	now        func() time.Time
}

// NewIngester returns an Ingester over rdb; cfg must be valid. srcs may be
// nil, and then only native sources are known and no override applies.
func NewIngester(cfg Config, log *zap.Logger, rdb redis.UniversalClient, srcs *sources.Cache) *Ingester {
	// One Pipeliner for the rate checks and the records, so that a call's
	// check can share a pipeline with other calls' records.
	pipe := autopipe.New(rdb)
	return &Ingester{
		log:         log,
		normalisers: normalise.Builtin(),
		sources:     srcs,
		store:       dedup.New(pipe, cfg.Namespace, cfg.DedupWindow),
		rate:        limit.NewRateLimiter(pipe, cfg.Namespace, limit.Rate{PerSecond: cfg.RatePerSecond, Burst: cfg.RateBurst}),
		rawCap:      cfg.RawPayloadCap,
		maxPayload:  cfg.MaxPayloadBytes,
		maxDepth:    cfg.MaxJSONDepth,
		now:         time.Now,
	}
}

// Ingest charges one payload to the tenant's rate, normalises payload with
// source's normaliser and records every alert in it, returning one result
// per alert in payload order. It returns only after every alert was
// recorded.
//
// A payload that normalises is charged and recorded by one Redis script,
// so a refused payload records nothing and an accepted one costs one
// command. A payload that turns out bad is charged all the same, before
// its error is returned, so that a tenant cannot spend this replica's CPU
// on junk faster than on alerts; and a tenant whose last payload was
// refused moments ago is refused again before any normaliser runs (see
// limit.RateLimiter.Refused).
//
// Errors: a *limit.Refusal (RATE_LIMITED) when the tenant is over its rate,
// and limit.ErrUnavailable when the rate could not be checked, both with
// nothing stored; normalise.ErrUnknownSource, normalise.ErrInvalidPayload,
// ErrPayloadTooLarge, ErrPayloadTooDeep and ErrPayloadNotUTF8 for bad input,
// with nothing stored; dedup.ErrUnavailable when Redis failed, in which case
// the payload's alerts may or may not have been stored (all or none), and
// retrying is safe.
func (i *Ingester) Ingest(ctx context.Context, source string, payload []byte, headers map[string]string) ([]Result, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	if r, ok := i.rate.Refused(t, time.Now()); ok {
		return nil, r
	}
	sigs, err := i.Normalise(ctx, source, payload, headers)
	if err != nil {
		if err := i.rate.Allow(ctx, t, 1); err != nil {
			i.logRateError(t, err)
			return nil, err
		}
		return nil, err
	}
	if !i.rate.Enabled() {
		return i.Record(ctx, sigs)
	}
	burst, rate, period := i.rate.Limit()
	sent := time.Now()
	outs, err := i.store.RecordCharged(ctx, sigs, dedup.Charge{Key: i.rate.Key(t), Cost: 1, Burst: burst, Rate: rate, Period: period})
	var over *dedup.OverRateError
	if errors.As(err, &over) {
		return nil, i.rate.NoteRefused(t, sent, over.RetryAfter)
	}
	return i.results(t, sigs, outs, err)
}

// Normalise checks payload's size, encoding and nesting and turns it into
// signals with the normaliser of source (a native one, or the context
// tenant's mapping rule of that name), applying the tenant's fingerprint
// override of source if it has one. It stores nothing. Each signal's raw
// payload is cut at the configured cap.
func (i *Ingester) Normalise(ctx context.Context, source string, payload []byte, headers map[string]string) ([]*signalv1.Signal, error) {
	snap, err := i.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	n, err := i.normalisers.Lookup(source)
	if err != nil {
		rule, ok, rerr := snap.Rule(source)
		switch {
		case rerr != nil:
			return nil, fmt.Errorf("%w: %v", ErrBrokenRule, rerr)
		case !ok:
			return nil, fmt.Errorf("%w (nor is it one of the tenant's mapping rules)", err)
		}
		n = rule
	}
	return i.NormaliseWith(n, snap, source, payload, headers)
}

// ErrBrokenRule reports a stored mapping rule that no longer compiles.
var ErrBrokenRule = errors.New("mapping rule does not compile")

// snapshot returns the context tenant's source configuration, or nil when
// the Ingester has none. A stale snapshot served because a reload failed is
// used, with a warning.
func (i *Ingester) snapshot(ctx context.Context) (*sources.Snapshot, error) {
	if i.sources == nil {
		return nil, nil
	}
	snap, err := i.sources.Snapshot(ctx)
	if err != nil {
		t, _ := tenant.Require(ctx)
		if snap == nil {
			i.log.Warn("loading tenant sources failed", zap.String("tenant_id", t.String()), zap.Error(err))
			return nil, fmt.Errorf("%w: %w", ErrSourcesUnavailable, err)
		}
		i.log.Warn("loading tenant sources failed; using the last loaded", zap.String("tenant_id", t.String()), zap.Error(err))
	}
	return snap, nil
}

// NormaliseWith is Normalise with the normaliser and the tenant's
// configuration given, for dry runs of a rule not yet saved.
//
// The encoding and nesting checks run before any normaliser, so that none
// has to defend itself against them: a decoder never recurses deeper than
// the cap, and every string it yields is valid UTF-8. Each is one pass over
// the bytes without a parse (BenchmarkDepthScan in package limit measures
// the depth scan).
func (i *Ingester) NormaliseWith(n normalise.Normaliser, snap *sources.Snapshot, source string, payload []byte, headers map[string]string) ([]*signalv1.Signal, error) {
	if len(payload) > i.maxPayload {
		return nil, fmt.Errorf("%w: %d bytes, at most %d accepted", ErrPayloadTooLarge, len(payload), i.maxPayload)
	}
	if !utf8.Valid(payload) {
		return nil, ErrPayloadNotUTF8
	}
	if limit.ExceedsDepth(payload, i.maxDepth) {
		return nil, fmt.Errorf("%w: JSON nesting deeper than %d", ErrPayloadTooDeep, i.maxDepth)
	}
	sigs, err := n.Normalise(payload, headers, i.now())
	if err != nil {
		return nil, fmt.Errorf("normalise %s payload: %w", source, err)
	}
	override, overridden := snap.Override(source)
	for _, sig := range sigs {
		if overridden {
			override.Apply(sig)
		}
		scrubNUL(sig)
		if len(sig.RawPayload) > i.rawCap {
			sig.RawPayload = bytes.Clone(sig.RawPayload[:i.rawCap])
			sig.RawTruncated = true
		}
	}
	return sigs, nil
}

// Record de-duplicates and appends sigs for the tenant in ctx.
func (i *Ingester) Record(ctx context.Context, sigs []*signalv1.Signal) ([]Result, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	outs, err := i.store.Record(ctx, sigs)
	return i.results(t, sigs, outs, err)
}

// results turns the store's outcomes for sigs into results, or logs and
// wraps its error.
func (i *Ingester) results(t tenant.ID, sigs []*signalv1.Signal, outs []dedup.Outcome, err error) ([]Result, error) {
	if err != nil {
		i.log.Warn("recording signals failed", zap.String("tenant_id", t.String()), zap.Int("signals", len(sigs)), zap.Error(err))
		return nil, fmt.Errorf("record %d signals: %w", len(sigs), err)
	}
	res := make([]Result, len(sigs))
	for k, o := range outs {
		res[k] = Result{SignalID: o.SignalID, Fingerprint: sigs[k].GetFingerprint(), Title: sigs[k].GetTitle(), Kind: o.Kind}
		if ce := i.log.Check(zap.DebugLevel, "signal recorded"); ce != nil {
			ce.Write(
				zap.String("tenant_id", t.String()),
				zap.String("source", sigs[k].GetSource()),
				zap.String("fingerprint", sigs[k].GetFingerprint()),
				zap.String("signal_id", o.SignalID),
				zap.Stringer("event", o.Kind))
		}
	}
	return res, nil
}

// logRateError logs a rate check that could not be made; a refusal is an
// answer, logged by the RPC layer with its code.
func (i *Ingester) logRateError(t tenant.ID, err error) {
	if errors.Is(err, limit.ErrUnavailable) {
		i.log.Warn("rate check failed", zap.String("tenant_id", t.String()), zap.Error(err))
	}
}

// BatchItem is the outcome of one item of a batch.
type BatchItem struct {
	// Results holds one result per alert when the item was taken.
	Results []Result
	// Rejected says why the item was refused; empty when it was taken.
	Rejected string
	// Err is the refusal as the Ingester's error (a normalise error, a
	// *limit.Refusal, ...), which the handler maps to the code an Ingest
	// of the item alone would have failed with; nil when the item failed
	// request validation.
	Err error
}

// Batch collects the items of one IngestBatch call. Items are normalised as
// they are added and recorded in pipelined groups, so a batch holds at most
// about batchFlushSignals signals in memory.
//
// Each item counts one payload against the tenant's rate, as an Ingest of
// it alone would, including an item that fails to normalise: junk costs a
// tenant as much of its rate as alerts do. The charge is made for a whole
// group just before it is recorded, so a batch costs one rate check per
// group rather than per item. When the rate covers only part of a group,
// the items beyond it, in item order, are rejected with the RATE_LIMITED
// reason (a bad item too, as it would be alone), and so is every later item
// of the batch without being normalised. When it covers none and nothing of
// the batch was recorded yet, the whole call is refused with the
// *limit.Refusal, as an Ingest would be. An item arriving while the tenant's
// last refusal still holds (limit.RateLimiter.Refused) is rejected with it
// before it is normalised, as it would be alone.
type Batch struct {
	ing     *Ingester
	items   []BatchItem
	pending []*signalv1.Signal
	// owners[k] is the index of the item pending[k] came from; ascending.
	owners []int
	// bad holds the items rejected for their content since the last charge,
	// which are charged with the next group; ascending.
	bad []int
	// recorded says whether a group of this batch was recorded, charged
	// whether any of its items was charged to the rate.
	recorded, charged bool
	// limited, once set, is the refusal every later item is rejected with.
	limited *limit.Refusal
}

// NewBatch starts a batch.
func (i *Ingester) NewBatch() *Batch {
	return &Batch{ing: i}
}

// Len returns the number of items added or rejected so far.
func (b *Batch) Len() int { return len(b.items) }

// Add normalises one item. A bad item is marked rejected and does not fail
// the batch; an error means recording the batch's pending signals failed,
// or the tenant's rate refused the whole batch (a *limit.Refusal).
func (b *Batch) Add(ctx context.Context, source string, payload []byte, headers map[string]string) error {
	if b.limited != nil {
		b.rejectErr(b.limited)
		return nil
	}
	if t, err := tenant.Require(ctx); err == nil {
		if r, ok := b.ing.rate.Refused(t, time.Now()); ok {
			b.rejectErr(r)
			return nil
		}
	}
	sigs, err := b.ing.Normalise(ctx, source, payload, headers)
	switch {
	case errors.Is(err, ErrSourcesUnavailable):
		// Not the item's fault: the whole batch can be retried.
		return err
	case err != nil:
		if b.ing.rate.Enabled() {
			b.bad = append(b.bad, len(b.items))
		}
		b.rejectErr(err)
		if len(b.bad) >= batchFlushSignals {
			return b.flush(ctx)
		}
		return nil
	}
	idx := len(b.items)
	b.items = append(b.items, BatchItem{Results: make([]Result, 0, len(sigs))})
	for _, sig := range sigs {
		b.pending = append(b.pending, sig)
		b.owners = append(b.owners, idx)
	}
	if len(b.pending) >= batchFlushSignals {
		return b.flush(ctx)
	}
	return nil
}

// Reject records an item refused before it could be normalised, such as
// one that failed request validation.
func (b *Batch) Reject(reason string) {
	b.items = append(b.items, BatchItem{Rejected: reason})
}

func (b *Batch) rejectErr(err error) {
	b.items = append(b.items, BatchItem{Rejected: err.Error(), Err: err})
}

// Finish records what is still pending and returns one item per item added,
// in order.
func (b *Batch) Finish(ctx context.Context) ([]BatchItem, error) {
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	// A batch the rate refused entirely, from the refusal remembered or from
	// the charge, is refused whole, as one Ingest would be.
	var refusal *limit.Refusal
	for k, it := range b.items {
		r, ok := it.Err.(*limit.Refusal)
		if !ok || b.recorded || b.charged {
			refusal = nil
			break
		}
		if k == 0 {
			refusal = r
		}
	}
	if refusal != nil {
		return nil, refusal
	}
	return b.items, nil
}

func (b *Batch) flush(ctx context.Context) error {
	if len(b.pending) == 0 && len(b.bad) == 0 {
		return nil
	}
	if err := b.charge(ctx); err != nil {
		return err
	}
	if len(b.pending) == 0 {
		return nil
	}
	res, err := b.ing.Record(ctx, b.pending)
	if err != nil {
		return err
	}
	b.recorded = true
	for k, r := range res {
		item := &b.items[b.owners[k]]
		item.Results = append(item.Results, r)
	}
	b.pending, b.owners = nil, nil
	return nil
}

// charge takes one payload per pending item and per bad item since the
// last charge from the tenant's rate. The items it does not cover, the
// last ones in item order, are rejected with the refusal, and the signals
// of those that were pending are dropped.
func (b *Batch) charge(ctx context.Context) error {
	bad := b.bad
	b.bad = nil
	if !b.ing.rate.Enabled() {
		return nil
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	// The items to charge, in item order: the bad ones and the owners of
	// the pending signals, each once.
	items := make([]int, 0, len(bad)+len(b.owners))
	for k, o := range b.owners {
		for len(bad) > 0 && bad[0] < o {
			items, bad = append(items, bad[0]), bad[1:]
		}
		if k == 0 || o != b.owners[k-1] {
			items = append(items, o)
		}
	}
	items = append(items, bad...)
	allowed, err := b.ing.rate.AllowAtMost(ctx, t, len(items))
	var refusal *limit.Refusal
	switch {
	case err == nil:
		b.charged = true
		return nil
	case !errors.As(err, &refusal):
		b.ing.logRateError(t, err)
		return err
	case allowed == 0 && !b.recorded && !b.charged:
		return refusal
	}
	b.charged = b.charged || allowed > 0
	b.limited = refusal
	for _, o := range items[allowed:] {
		b.items[o] = BatchItem{Rejected: refusal.Error(), Err: refusal}
	}
	keep := 0
	for k, o := range b.owners {
		if b.items[o].Err == refusal {
			continue
		}
		b.pending[keep], b.owners[keep] = b.pending[k], o
		keep++
	}
	clear(b.pending[keep:])
	b.pending, b.owners = b.pending[:keep], b.owners[:keep]
	return nil
}

// scrubNUL replaces every NUL character in sig's text with U+FFFD. JSON
// allows "\u0000" in strings, but Postgres text and jsonb cannot hold it,
// so a signal carrying one would be accepted here and then fail forever
// downstream. The raw payload (bytes) keeps it.
func scrubNUL(sig *signalv1.Signal) {
	fix := func(s string) string {
		if strings.IndexByte(s, 0) < 0 {
			return s
		}
		return strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	for _, p := range []*string{&sig.Source, &sig.Fingerprint, &sig.Title, &sig.Description, &sig.Resource,
		&sig.ExternalId, &sig.Link, &sig.FingerprintRecipe} {
		*p = fix(*p)
	}
	for _, m := range []map[string]string{sig.Labels, sig.Annotations} {
		for k, v := range m {
			if fk := fix(k); fk != k {
				delete(m, k)
				k = fk
			}
			m[k] = fix(v)
		}
	}
}
