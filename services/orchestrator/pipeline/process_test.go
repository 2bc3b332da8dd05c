package pipeline_test

import (
	"context"
	"testing"

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
		proc:  pipeline.NewProcessor(st, incident.NewFeed(rdb, space), nil, nil, zaptest.NewLogger(t)),
	}
}

func entry(t *testing.T, id string, ev *signalv1.SignalEvent) pipeline.Entry {
	t.Helper()
	b, err := proto.Marshal(ev)
	require.NoError(t, err)
	return pipeline.Entry{Tenant: testTenant, Stream: "s", ID: id, Values: map[string]any{pipeline.EventField: string(b)}, Deliveries: 1}
}

func TestRepeatedEntryAppliedOnce(t *testing.T) {
	t.Parallel()
	b := setupProcessor(t)
	sigID := uuid.NewString()
	sig := &signalv1.Signal{Id: sigID, TenantId: string(testTenant), Source: "alertmanager", Fingerprint: "fp1",
		Status: signalv1.Status_STATUS_FIRING, Title: "t", ReceivedAt: timestamppb.Now()}
	_, err := b.store.Open(b.ctx, sig, incident.StreamPos{Ms: 100, Seq: 0})
	require.NoError(t, err)

	rep := entry(t, "200-0", &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_REPEATED, SignalId: sigID, Signal: sig})
	require.NoError(t, b.proc.Handle(context.Background(), rep))
	require.NoError(t, b.proc.Handle(context.Background(), rep), "the same entry delivered again")

	inc, trs, err := b.store.Get(b.ctx, incident.IDFor(testTenant, sigID))
	require.NoError(t, err)
	require.Equal(t, int64(2), inc.OccurrenceCount)
	var repeats int
	for _, tr := range trs {
		if tr.Stage == incident.StageRepeated {
			repeats++
			require.Equal(t, "2", tr.Details["occurrence_count"])
		}
	}
	require.Equal(t, 1, repeats)

	// An older entry than the last applied one changes nothing either.
	require.NoError(t, b.proc.Handle(context.Background(), entry(t, "150-0", &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_REPEATED, SignalId: sigID, Signal: sig})))
	inc, _, err = b.store.Get(b.ctx, inc.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2), inc.OccurrenceCount)
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
