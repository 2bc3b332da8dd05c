package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
	"github.com/alexus-platform/alexus/services/orchestrator/pipeline"
)

type processBundle struct {
	ctx   context.Context
	store *incident.Store
	proc  *pipeline.Processor
}

// setupProcessor gives a Processor on a real database and Redis, without
// reasoning or action clients: the events tested here never reach them.
func setupProcessor(t *testing.T) *processBundle {
	t.Helper()
	db := storetest.New(t).DB
	rdb, space := redistest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: testTenant, Subject: "test"})
	_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
	require.NoError(t, err)
	st := incident.NewStore(db)
	return &processBundle{
		ctx:   ctx,
		store: st,
		proc:  pipeline.NewProcessor(st, incident.NewFeed(rdb, space), nil, nil, pipeline.OwnerRouter{DefaultRoute: st.DefaultRoute}, zaptest.NewLogger(t)),
	}
}

func entry(t *testing.T, id string, ev *signalv1.SignalEvent) pipeline.Entry {
	t.Helper()
	b, err := proto.Marshal(ev)
	require.NoError(t, err)
	return pipeline.Entry{Tenant: testTenant, Stream: "s", ID: id, Values: map[string]any{pipeline.EventField: string(b)}, Deliveries: 1}
}

func TestRepeatedEntriesCountOnceInAnyOrder(t *testing.T) {
	t.Parallel()
	b := setupProcessor(t)
	sigID := uuid.NewString()
	sig := &signalv1.Signal{Id: sigID, TenantId: string(testTenant), Source: "alertmanager", Fingerprint: "fp1",
		Status: signalv1.Status_STATUS_FIRING, Title: "t", ReceivedAt: timestamppb.Now()}
	_, err := b.store.Open(b.ctx, sig)
	require.NoError(t, err)
	repeat := func(id string, seen time.Time) pipeline.Entry {
		s := proto.CloneOf(sig)
		s.ReceivedAt = timestamppb.New(seen)
		return entry(t, id, &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_REPEATED, SignalId: sigID, Signal: s})
	}
	later, earlier := time.Now().Add(2*time.Minute), time.Now().Add(time.Minute)

	// The newer entry is processed first, as after a retry or on another
	// replica; the older one still counts.
	require.NoError(t, b.proc.Handle(context.Background(), repeat("200-0", later)))
	require.NoError(t, b.proc.Handle(context.Background(), repeat("150-0", earlier)))
	// A redelivery of either changes nothing.
	require.NoError(t, b.proc.Handle(context.Background(), repeat("200-0", later)), "the same entry delivered again")
	require.NoError(t, b.proc.Handle(context.Background(), repeat("150-0", earlier)), "the same entry delivered again")

	inc, trs, err := b.store.Get(b.ctx, incident.IDFor(testTenant, sigID))
	require.NoError(t, err)
	require.Equal(t, int64(3), inc.OccurrenceCount, "the first occurrence and two repeats")
	require.WithinDuration(t, later, inc.LastSeenAt, time.Millisecond, "last seen is the latest, not the last processed")
	var counts []string
	for _, tr := range trs {
		if tr.Stage == incident.StageRepeated {
			counts = append(counts, tr.Details["occurrence_count"])
		}
	}
	require.Equal(t, []string{"2", "3"}, counts, "one repeated transition per entry")
}

func TestRepeatOfUnknownSignalIsRetried(t *testing.T) {
	t.Parallel()
	b := setupProcessor(t)
	err := b.proc.Handle(context.Background(), entry(t, "1-0", &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_REPEATED, SignalId: uuid.NewString(),
		Signal: &signalv1.Signal{TenantId: string(testTenant)}}))
	require.ErrorIs(t, err, incident.ErrSignalNotFound)
	require.False(t, pipeline.IsPermanent(err), "the OPENED event may still be on its way")
}

func TestMalformedEntriesArePermanent(t *testing.T) {
	t.Parallel()
	b := setupProcessor(t)
	tests := map[string]pipeline.Entry{
		"garbage bytes":  {Tenant: testTenant, Stream: "s", ID: "1-0", Values: map[string]any{pipeline.EventField: "\xff\xfe not a proto"}},
		"no event field": {Tenant: testTenant, Stream: "s", ID: "1-0", Values: map[string]any{"other": "x"}},
		"another tenant's payload": entry(t, "1-0", &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_OPENED, SignalId: uuid.NewString(),
			Signal: &signalv1.Signal{TenantId: "globex", Title: "t"}}),
		"opened without uuid": entry(t, "1-0", &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_OPENED, SignalId: "nope",
			Signal: &signalv1.Signal{TenantId: string(testTenant)}}),
		"unknown kind":        entry(t, "1-0", &signalv1.SignalEvent{SignalId: uuid.NewString()}),
		"resolved of nothing": entry(t, "1-0", &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_RESOLVED}),
	}
	for name, e := range tests {
		err := b.proc.Handle(context.Background(), e)
		require.Error(t, err, name)
		require.True(t, pipeline.IsPermanent(err), "%s: %v", name, err)
	}
}
