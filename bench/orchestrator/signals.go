package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
	"github.com/alexus-platform/alexus/services/ingest/dedup"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// triageCase is what the benchmark reads of one case of the labelled triage
// set (testdata/triage/cases.json, written by bench/triage): a vendor's raw
// webhook and the request headers its normaliser reads.
type triageCase struct {
	ID      string            `json:"id"`
	Source  string            `json:"source"`
	Payload json.RawMessage   `json:"payload"`
	Headers map[string]string `json:"headers,omitempty"`
}

// template is one firing signal as ingest's normaliser made it from a
// triage case; the benchmark's signals are copies of the templates.
type template struct {
	caseID string
	sig    *signalv1.Signal
}

// triagePath is where the triage set lives under the repository root.
func triagePath(root string) string {
	return filepath.Join(root, "testdata", "triage", "cases.json")
}

// rawPayloadCap is ingest's default ALEXUS_INGEST_RAW_PAYLOAD_CAP: the
// bytes of raw payload a signal keeps.
const rawPayloadCap = 65536

// loadTemplates normalises every case of the triage set with the built-in
// normaliser of its source, as ingest would, and keeps the signals that
// ingest records as OPENED: everything but resolved notifications.
func loadTemplates(path string, received time.Time) ([]template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set struct {
		Cases []triageCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	reg := normalise.Builtin()
	var out []template
	for _, c := range set.Cases {
		n, err := reg.Lookup(c.Source)
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.ID, err)
		}
		headers := c.Headers
		if headers == nil {
			headers = map[string]string{}
		}
		sigs, err := n.Normalise(c.Payload, headers, received)
		if err != nil {
			return nil, fmt.Errorf("case %s: normalise: %w", c.ID, err)
		}
		for _, sig := range sigs {
			if sig.GetStatus() == signalv1.Status_STATUS_RESOLVED {
				continue
			}
			if len(sig.RawPayload) > rawPayloadCap {
				sig.RawPayload, sig.RawTruncated = sig.RawPayload[:rawPayloadCap], true
			}
			out = append(out, template{caseID: c.ID, sig: sig})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no firing signal", path)
	}
	return out, nil
}

// makeSignals returns n signals, the templates taken in turn. Signal i is a
// copy of template i mod len(templates) with a fingerprint of its own, so
// ingest's de-duplication opens every one, and received now. Title,
// severity, resource, labels and annotations stay the template's, so the
// heuristic decides each copy as it decides its template, and the mix of
// decisions is the triage set's.
func makeSignals(templates []template, n int, received time.Time) []*signalv1.Signal {
	out := make([]*signalv1.Signal, n)
	for i := range out {
		t := templates[i%len(templates)]
		sig := proto.CloneOf(t.sig)
		sig.Fingerprint = fmt.Sprintf("%s/bench-%07d", t.sig.GetFingerprint(), i)
		sig.ReceivedAt = timestamppb.New(received)
		out[i] = sig
	}
	return out
}

// recordBatch is how many signals one record call carries: ingest's
// batchFlushSignals, the most it records at once.
const recordBatch = 128

// dedupWindow is ingest's default ALEXUS_INGEST_DEDUP_WINDOW.
const dedupWindow = 24 * time.Hour

// writeSignals records sigs for the bench tenant with ingest's own store
// (services/ingest/dedup), so the stream holds exactly what ingest writes:
// the tenant in the stream registry <ns>:streams, a dedup claim per
// fingerprint, and one entry per signal in <ns>:{bench}:signals whose field
// "event" is a marshalled OPENED SignalEvent. It returns the signal IDs the
// store assigned, in order, and fails unless every signal was OPENED.
func writeSignals(ctx context.Context, rdb *redis.Client, space rediskey.Space, sigs []*signalv1.Signal) ([]string, error) {
	store := dedup.New(autopipe.New(rdb), space, dedupWindow)
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: benchTenant, Subject: "bench:orchestrator"})
	ids := make([]string, 0, len(sigs))
	for start := 0; start < len(sigs); start += recordBatch {
		batch := sigs[start:min(start+recordBatch, len(sigs))]
		outs, err := store.Record(ctx, batch)
		if err != nil {
			return nil, err
		}
		for k, o := range outs {
			if o.Kind != signalv1.EventKind_EVENT_KIND_OPENED {
				return nil, fmt.Errorf("signal %d (fingerprint %q) was recorded as %s, not OPENED", start+k, batch[k].GetFingerprint(), o.Kind)
			}
			ids = append(ids, o.SignalID)
		}
	}
	return ids, nil
}

// streamEvents reads the tenant's stream and decodes every entry's event
// field as the orchestrator's consumer does.
func streamEvents(ctx context.Context, rdb *redis.Client, space rediskey.Space) ([]*signalv1.SignalEvent, error) {
	key := space.Tenant(benchTenant, rediskey.SignalStream)
	var out []*signalv1.SignalEvent
	start := "-"
	for {
		msgs, err := rdb.XRangeN(ctx, key, start, "+", 5000).Result()
		if err != nil {
			return nil, fmt.Errorf("xrange %s: %w", key, err)
		}
		for _, m := range msgs {
			ev, err := decodeEvent(m.Values)
			if err != nil {
				return nil, fmt.Errorf("entry %s: %w", m.ID, err)
			}
			out = append(out, ev)
		}
		if len(msgs) < 5000 {
			return out, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// eventField is the stream entry field holding the SignalEvent
// (pipeline.EventField).
const eventField = "event"

// decodeEvent decodes an entry's event field.
func decodeEvent(values map[string]any) (*signalv1.SignalEvent, error) {
	raw, ok := values[eventField].(string)
	if !ok {
		return nil, errors.New("entry has no event field")
	}
	var ev signalv1.SignalEvent
	if err := proto.Unmarshal([]byte(raw), &ev); err != nil {
		return nil, fmt.Errorf("decode signal event: %w", err)
	}
	return &ev, nil
}
