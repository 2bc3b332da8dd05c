package dedup

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
)

type bundle struct {
	rdb   *redis.Client
	space rediskey.Space
	store *Store
	ctx   context.Context
}

func setup(t *testing.T, window time.Duration) *bundle {
	t.Helper()
	rdb, space := redistest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	return &bundle{rdb: rdb, space: space, store: New(autopipe.New(rdb), space, window), ctx: ctx}
}

func signal(fp string, st signalv1.Status) *signalv1.Signal {
	return &signalv1.Signal{Source: "alertmanager", Fingerprint: fp, Status: st, Title: "t", Labels: map[string]string{"a": "b"}}
}

func (b *bundle) events(t *testing.T) []*signalv1.SignalEvent {
	t.Helper()
	msgs, err := b.rdb.XRange(context.Background(), b.space.Tenant("acme", rediskey.SignalStream), "-", "+").Result()
	require.NoError(t, err)
	out := make([]*signalv1.SignalEvent, len(msgs))
	for i, m := range msgs {
		raw, ok := m.Values["event"].(string)
		require.True(t, ok, "entry %s has no event field", m.ID)
		out[i] = &signalv1.SignalEvent{}
		require.NoError(t, proto.Unmarshal([]byte(raw), out[i]))
	}
	return out
}

// TestRecordLoadsUncachedScript runs a script Redis has never seen, so the
// pipelined EVALSHA fails with NOSCRIPT and Record must fall back to EVAL
// without recording the alert twice.
func TestRecordLoadsUncachedScript(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	b.store.script = redis.NewScript(recordSource + "\n-- " + uuid.NewString())

	sigs := []*signalv1.Signal{signal("fp1", signalv1.Status_STATUS_FIRING), signal("fp1", signalv1.Status_STATUS_FIRING)}
	outs, err := b.store.Record(b.ctx, sigs)
	require.NoError(t, err)
	require.Equal(t, signalv1.EventKind_EVENT_KIND_OPENED, outs[0].Kind)
	require.Equal(t, signalv1.EventKind_EVENT_KIND_REPEATED, outs[1].Kind)
	require.Equal(t, outs[0].SignalID, outs[1].SignalID)
	require.Equal(t, outs[0].SignalID, sigs[1].GetId())

	evs := b.events(t)
	require.Len(t, evs, 2)
	require.Equal(t, signalv1.EventKind_EVENT_KIND_OPENED, evs[0].GetKind())
	require.Equal(t, signalv1.EventKind_EVENT_KIND_REPEATED, evs[1].GetKind())
	require.Equal(t, "acme", evs[1].GetSignal().GetTenantId())
}

func TestRecordResolvedWithoutClaim(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	outs, err := b.store.Record(b.ctx, []*signalv1.Signal{signal("gone", signalv1.Status_STATUS_RESOLVED)})
	require.NoError(t, err)
	require.Equal(t, Outcome{Kind: signalv1.EventKind_EVENT_KIND_RESOLVED}, outs[0])

	evs := b.events(t)
	require.Len(t, evs, 1)
	require.Equal(t, signalv1.EventKind_EVENT_KIND_RESOLVED, evs[0].GetKind())
	require.Empty(t, evs[0].GetSignalId())
	require.Equal(t, "gone", evs[0].GetSignal().GetFingerprint(), "the orchestrator resolves by fingerprint")
}

// TestRecordLongClaimValue checks the script's protobuf length encoding past
// one varint byte, with a claim value longer than 127 bytes.
func TestRecordLongClaimValue(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	long := strings.Repeat("x", 300)
	require.NoError(t, b.rdb.Set(context.Background(), b.space.Tenant("acme", rediskey.Dedup, "fp"), long, time.Hour).Err())

	outs, err := b.store.Record(b.ctx, []*signalv1.Signal{signal("fp", signalv1.Status_STATUS_RESOLVED)})
	require.NoError(t, err)
	require.Equal(t, long, outs[0].SignalID)
	evs := b.events(t)
	require.Len(t, evs, 1)
	require.Equal(t, long, evs[0].GetSignalId())
	require.Equal(t, long, evs[0].GetSignal().GetId())
	require.Equal(t, "t", evs[0].GetSignal().GetTitle(), "the appended fields merge into the marshalled signal")
}

func TestRecordClaimExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, 20*time.Millisecond)
	first, err := b.store.Record(b.ctx, []*signalv1.Signal{signal("fp", signalv1.Status_STATUS_FIRING)})
	require.NoError(t, err)

	claim := b.space.Tenant("acme", rediskey.Dedup, "fp")
	require.Eventually(t, func() bool {
		n, err := b.rdb.Exists(context.Background(), claim).Result()
		return err == nil && n == 0
	}, 5*time.Second, 5*time.Millisecond)

	again, err := b.store.Record(b.ctx, []*signalv1.Signal{signal("fp", signalv1.Status_STATUS_FIRING)})
	require.NoError(t, err)
	require.Equal(t, signalv1.EventKind_EVENT_KIND_OPENED, again[0].Kind)
	require.NotEqual(t, first[0].SignalID, again[0].SignalID)
}

func TestRecordRequiresTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	_, err := b.store.Record(context.Background(), []*signalv1.Signal{signal("fp", signalv1.Status_STATUS_FIRING)})
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	n, err := b.rdb.Exists(context.Background(), b.space.Global(rediskey.StreamRegistry)).Result()
	require.NoError(t, err)
	require.Zero(t, n, "nothing is written without a tenant")
}

// After Redis loses its data (a restart without persistence, a failover),
// the next Record must put the tenant back in the stream registry, or the
// orchestrator would never find the stream its new signals go to.
func TestRecordRegistersTenantAgainAfterDataLoss(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	registry := b.space.Global(rediskey.StreamRegistry)
	members := func() []string {
		t.Helper()
		m, err := b.rdb.SMembers(context.Background(), registry).Result()
		require.NoError(t, err)
		return m
	}

	_, err := b.store.Record(b.ctx, []*signalv1.Signal{signal("fp", signalv1.Status_STATUS_FIRING)})
	require.NoError(t, err)
	require.Equal(t, []string{"acme"}, members())

	// Lose every key of this test's namespace; the Redis is shared, so
	// nothing else is touched.
	ctx := context.Background()
	iter := b.rdb.Scan(ctx, 0, string(b.space)+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	require.Contains(t, keys, registry)
	require.NoError(t, b.rdb.Del(ctx, keys...).Err())
	require.Empty(t, members())

	outs, err := b.store.Record(b.ctx, []*signalv1.Signal{signal("fp", signalv1.Status_STATUS_FIRING)})
	require.NoError(t, err)
	require.Equal(t, signalv1.EventKind_EVENT_KIND_OPENED, outs[0].Kind, "the lost claim is gone too")
	require.Equal(t, []string{"acme"}, members())
	require.Len(t, b.events(t), 1)
}

// A charged call that does not fit the rate records nothing; the charge
// uses redis_rate's GCRA state, so a limiter on the same key sees it.
func TestRecordChargedRefusesOverRateWithNothingRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	rateKey := b.space.Tenant("acme", "ratelimit")
	charge := Charge{Key: rateKey, Cost: 1, Burst: 2, Rate: 1, Period: time.Second}

	for _, fp := range []string{"c1", "c2"} {
		outs, err := b.store.RecordCharged(b.ctx, []*signalv1.Signal{signal(fp, signalv1.Status_STATUS_FIRING)}, charge)
		require.NoError(t, err)
		require.Equal(t, signalv1.EventKind_EVENT_KIND_OPENED, outs[0].Kind)
	}
	_, err := b.store.RecordCharged(b.ctx, []*signalv1.Signal{signal("c3", signalv1.Status_STATUS_FIRING), signal("c4", signalv1.Status_STATUS_FIRING)}, charge)
	var over *OverRateError
	require.ErrorAs(t, err, &over)
	require.Positive(t, over.RetryAfter)
	require.LessOrEqual(t, over.RetryAfter, time.Second)

	require.Len(t, b.events(t), 2, "the refused call appended nothing")
	n, err := b.rdb.Exists(context.Background(), b.space.Tenant("acme", rediskey.Dedup, "c3")).Result()
	require.NoError(t, err)
	require.Zero(t, n, "and claimed nothing")

	// redis_rate's script reads the same state: its TAT is the one the
	// record script wrote, a float of seconds since 2017.
	tat, err := b.rdb.Get(context.Background(), rateKey).Float64()
	require.NoError(t, err)
	require.Greater(t, tat, float64(time.Now().Unix()-1483228800))

	// Uncharged records are not metered.
	_, err = b.store.Record(b.ctx, []*signalv1.Signal{signal("c5", signalv1.Status_STATUS_FIRING)})
	require.NoError(t, err)
	require.Len(t, b.events(t), 3)
}

// A charge with no signals only charges, and registers nothing.
func TestRecordChargedWithoutSignalsOnlyCharges(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	charge := Charge{Key: b.space.Tenant("acme", "ratelimit"), Cost: 1, Burst: 1, Rate: 1, Period: time.Second}
	outs, err := b.store.RecordCharged(b.ctx, nil, charge)
	require.NoError(t, err)
	require.Empty(t, outs)
	_, err = b.store.RecordCharged(b.ctx, nil, charge)
	var over *OverRateError
	require.ErrorAs(t, err, &over)
	require.Empty(t, b.events(t))
}

// The event's labels and annotations, written by hand after the rest of the
// signal (see marshalEvent), decode as if proto.Marshal had written them.
func TestRecordEventCarriesLabelsAndAnnotations(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour)
	sig := signal("maps", signalv1.Status_STATUS_FIRING)
	sig.Labels = map[string]string{"alertname": "HighLatency", "severity": "critical", "": "empty key", "long": strings.Repeat("é", 200)}
	sig.Annotations = map[string]string{"summary": "p99 above 2s", "empty": ""}
	sig.Description = "d"
	want := proto.Clone(sig).(*signalv1.Signal)

	outs, err := b.store.Record(b.ctx, []*signalv1.Signal{sig})
	require.NoError(t, err)
	require.Equal(t, want.GetLabels(), sig.GetLabels(), "Record leaves the maps in place")
	require.Equal(t, want.GetAnnotations(), sig.GetAnnotations())

	evs := b.events(t)
	require.Len(t, evs, 1)
	want.TenantId, want.Id = "acme", outs[0].SignalID
	require.True(t, proto.Equal(want, evs[0].GetSignal()), "got %v", evs[0].GetSignal())

	bad := signal("bad", signalv1.Status_STATUS_FIRING)
	bad.Labels = map[string]string{"k": "\xff"}
	_, err = b.store.Record(b.ctx, []*signalv1.Signal{bad})
	require.Error(t, err, "a label that is not UTF-8 is refused, as proto.Marshal refuses it")
	require.Len(t, b.events(t), 1)
}
