package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
)

var received = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// loadRepoTemplates loads the templates from the repository's triage set.
func loadRepoTemplates(t *testing.T) []template {
	t.Helper()
	templates, err := loadTemplates(triagePath(filepath.Join("..", "..")), received)
	require.NoError(t, err)
	return templates
}

func TestLoadTemplates(t *testing.T) {
	t.Parallel()
	templates := loadRepoTemplates(t)
	require.Greater(t, len(templates), 100)
	sources := map[string]bool{}
	for _, tpl := range templates {
		require.NotEqual(t, signalv1.Status_STATUS_RESOLVED, tpl.sig.GetStatus(), tpl.caseID)
		require.NotEmpty(t, tpl.sig.GetFingerprint(), tpl.caseID)
		require.NotEmpty(t, tpl.sig.GetTitle(), tpl.caseID)
		require.LessOrEqual(t, len(tpl.sig.GetRawPayload()), rawPayloadCap, tpl.caseID)
		sources[tpl.sig.GetSource()] = true
	}
	require.GreaterOrEqual(t, len(sources), 10, "the mix spans the vendors")
}

func TestMakeSignals(t *testing.T) {
	t.Parallel()
	templates := loadRepoTemplates(t)
	n := 2*len(templates) + 3
	sigs := makeSignals(templates, n, received.Add(time.Hour))
	require.Len(t, sigs, n)
	fps := map[string]bool{}
	for i, sig := range sigs {
		require.False(t, fps[sig.GetFingerprint()], "fingerprint %q repeats", sig.GetFingerprint())
		fps[sig.GetFingerprint()] = true
		tpl := templates[i%len(templates)].sig
		require.Equal(t, tpl.GetTitle(), sig.GetTitle())
		require.Equal(t, tpl.GetLabels(), sig.GetLabels())
		require.Equal(t, received.Add(time.Hour), sig.GetReceivedAt().AsTime())
	}
	// The copies are deep: changing one leaves its template alone.
	sigs[0].Labels["changed"] = "yes"
	require.NotContains(t, templates[0].sig.GetLabels(), "changed")
}

func TestDecodeEventRoundTrip(t *testing.T) {
	t.Parallel()
	sig := makeSignals(loadRepoTemplates(t), 1, received)[0]
	sig.Id, sig.TenantId = "6f1c1f4e-2b1e-4a51-9d0c-000000000001", benchTenant
	ev := &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_OPENED, SignalId: sig.GetId(), Signal: sig}
	raw, err := proto.Marshal(ev)
	require.NoError(t, err)

	got, err := decodeEvent(map[string]any{eventField: string(raw)})
	require.NoError(t, err)
	requireProtoEqual(t, ev, got)

	_, err = decodeEvent(map[string]any{"other": "x"})
	require.Error(t, err)
	_, err = decodeEvent(map[string]any{eventField: "\xff\xff"})
	require.Error(t, err)
}

// TestWriteSignals writes through ingest's store and reads the stream back
// as the orchestrator's consumer does.
func TestWriteSignals(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	ctx := context.Background()
	sigs := makeSignals(loadRepoTemplates(t), recordBatch+7, received)
	want := make([]*signalv1.Signal, len(sigs))
	for i, s := range sigs {
		want[i] = proto.CloneOf(s)
	}

	ids, err := writeSignals(ctx, rdb, space, sigs)
	require.NoError(t, err)
	require.Len(t, ids, len(sigs))

	events, err := streamEvents(ctx, rdb, space)
	require.NoError(t, err)
	require.NoError(t, checkStream(events, ids))
	for i, ev := range events {
		want[i].Id, want[i].TenantId = ids[i], benchTenant
		requireProtoEqual(t, want[i], ev.GetSignal())
	}
	registered, err := rdb.SIsMember(ctx, space.Global(rediskey.StreamRegistry), benchTenant).Result()
	require.NoError(t, err)
	require.True(t, registered, "the consumer finds the stream through the registry")

	// A second write of the same fingerprints is de-duplicated by the store,
	// which the benchmark refuses.
	_, err = writeSignals(ctx, rdb, space, sigs[:1])
	require.ErrorContains(t, err, "REPEATED")
}

func TestCheckStream(t *testing.T) {
	t.Parallel()
	ev := func(id, fp string) *signalv1.SignalEvent {
		return &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_OPENED, SignalId: id,
			Signal: &signalv1.Signal{Id: id, TenantId: benchTenant, Fingerprint: fp}}
	}
	a, b := "6f1c1f4e-2b1e-4a51-9d0c-000000000001", "6f1c1f4e-2b1e-4a51-9d0c-000000000002"
	require.NoError(t, checkStream([]*signalv1.SignalEvent{ev(a, "x"), ev(b, "y")}, []string{a, b}))
	require.ErrorContains(t, checkStream([]*signalv1.SignalEvent{ev(a, "x")}, []string{a, b}), "1 entries for 2 signals")
	require.ErrorContains(t, checkStream([]*signalv1.SignalEvent{ev(a, "x"), ev(b, "x")}, []string{a, b}), "repeats fingerprint")
	require.ErrorContains(t, checkStream([]*signalv1.SignalEvent{ev(b, "x"), ev(a, "y")}, []string{a, b}), "names signal")
	notUUID := ev("s1", "x")
	require.ErrorContains(t, checkStream([]*signalv1.SignalEvent{notUUID}, []string{"s1"}), "not a UUID")
}

// requireProtoEqual fails unless want and got are equal messages.
func requireProtoEqual(t *testing.T, want, got proto.Message, msgAndArgs ...any) {
	t.Helper()
	require.True(t, proto.Equal(want, got), append([]any{"want %v\ngot  %v", want, got}, msgAndArgs...)...)
}
