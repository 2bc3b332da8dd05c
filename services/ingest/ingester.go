package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/dedup"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// ErrPayloadTooLarge reports a payload over Config.MaxPayloadBytes.
var ErrPayloadTooLarge = errors.New("payload too large")

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
	store       *dedup.Store
	rawCap      int
	maxPayload  int
	now         func() time.Time
}

// NewIngester returns an Ingester over rdb; cfg must be valid.
func NewIngester(cfg Config, log *zap.Logger, rdb redis.UniversalClient) *Ingester {
	return &Ingester{
		log:         log,
		normalisers: normalise.Builtin(),
		store:       dedup.New(rdb, cfg.Namespace, cfg.DedupWindow),
		rawCap:      cfg.RawPayloadCap,
		maxPayload:  cfg.MaxPayloadBytes,
		now:         time.Now,
	}
}

// Ingest normalises payload with source's normaliser and records every
// alert in it, returning one result per alert in payload order. It returns
// only after every alert was recorded.
//
// Errors: normalise.ErrUnknownSource, normalise.ErrInvalidPayload and
// ErrPayloadTooLarge for bad input, with nothing stored; dedup.ErrUnavailable
// when Redis failed, in which case some alerts of a grouped payload may be
// stored (each one fully or not at all) and retrying is safe.
func (i *Ingester) Ingest(ctx context.Context, source string, payload []byte, headers map[string]string) ([]Result, error) {
	sigs, err := i.Normalise(source, payload, headers)
	if err != nil {
		return nil, err
	}
	return i.Record(ctx, sigs)
}

// Normalise checks payload's size and turns it into signals, storing
// nothing. Each signal's raw payload is cut at the configured cap.
func (i *Ingester) Normalise(source string, payload []byte, headers map[string]string) ([]*signalv1.Signal, error) {
	if len(payload) > i.maxPayload {
		return nil, fmt.Errorf("%w: %d bytes, at most %d accepted", ErrPayloadTooLarge, len(payload), i.maxPayload)
	}
	n, err := i.normalisers.Lookup(source)
	if err != nil {
		return nil, err
	}
	sigs, err := n.Normalise(payload, headers, i.now())
	if err != nil {
		return nil, fmt.Errorf("normalise %s payload: %w", source, err)
	}
	for _, sig := range sigs {
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
	if err != nil {
		i.log.Warn("recording signals failed", zap.String("tenant_id", t.String()), zap.Int("signals", len(sigs)), zap.Error(err))
		return nil, fmt.Errorf("record %d signals: %w", len(sigs), err)
	}
	res := make([]Result, len(sigs))
	for k, o := range outs {
		res[k] = Result{SignalID: o.SignalID, Fingerprint: sigs[k].GetFingerprint(), Title: sigs[k].GetTitle(), Kind: o.Kind}
		i.log.Debug("signal recorded",
			zap.String("tenant_id", t.String()),
			zap.String("source", sigs[k].GetSource()),
			zap.String("fingerprint", sigs[k].GetFingerprint()),
			zap.String("signal_id", o.SignalID),
			zap.Stringer("event", o.Kind))
	}
	return res, nil
}

// BatchItem is the outcome of one item of a batch.
type BatchItem struct {
	// Results holds one result per alert when the item was taken.
	Results []Result
	// Rejected says why the item was refused; empty when it was taken.
	Rejected string
}

// Batch collects the items of one IngestBatch call. Items are normalised as
// they are added and recorded in pipelined groups, so a batch holds at most
// about batchFlushSignals signals in memory.
type Batch struct {
	ing     *Ingester
	items   []BatchItem
	pending []*signalv1.Signal
	// owners[k] is the index of the item pending[k] came from.
	owners []int
}

// NewBatch starts a batch.
func (i *Ingester) NewBatch() *Batch {
	return &Batch{ing: i}
}

// Len returns the number of items added or rejected so far.
func (b *Batch) Len() int { return len(b.items) }

// Add normalises one item. A bad item is marked rejected and does not fail
// the batch; an error means recording the batch's pending signals failed.
func (b *Batch) Add(ctx context.Context, source string, payload []byte, headers map[string]string) error {
	sigs, err := b.ing.Normalise(source, payload, headers)
	if err != nil {
		b.Reject(err.Error())
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

// Finish records what is still pending and returns one item per item added,
// in order.
func (b *Batch) Finish(ctx context.Context) ([]BatchItem, error) {
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	return b.items, nil
}

func (b *Batch) flush(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	res, err := b.ing.Record(ctx, b.pending)
	if err != nil {
		return err
	}
	for k, r := range res {
		item := &b.items[b.owners[k]]
		item.Results = append(item.Results, r)
	}
	b.pending, b.owners = nil, nil
	return nil
}
