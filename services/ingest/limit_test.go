package ingest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/limit"
)

// requireRefused checks that err is RESOURCE_EXHAUSTED naming reason in an
// ErrorInfo and carrying a RetryInfo, and returns the retry delay.
func requireRefused(t *testing.T, err error, reason string) time.Duration {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code(), "%v", err)
	require.Contains(t, st.Message(), reason)
	var info *errdetails.ErrorInfo
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RetryInfo:
			retry = d
		}
	}
	require.NotNil(t, info, "refusal carries an ErrorInfo")
	require.Equal(t, reason, info.GetReason())
	require.Equal(t, ErrorDomain, info.GetDomain())
	require.NotNil(t, retry, "refusal carries a RetryInfo")
	require.Positive(t, retry.GetRetryDelay().AsDuration())
	return retry.GetRetryDelay().AsDuration()
}

func (b *bundle) try(ten tenant.ID, p []byte) error {
	_, err := b.client.Ingest(as(ten), &ingestv1.IngestRequest{Source: "alertmanager", Payload: p})
	return err
}

func (b *bundle) batch(t *testing.T, ten tenant.ID, payloads ...[]byte) (*ingestv1.IngestBatchResponse, error) {
	t.Helper()
	stream, err := b.client.IngestBatch(as(ten))
	require.NoError(t, err)
	for _, p := range payloads {
		// Send may already see the server's early answer; CloseAndRecv has it.
		if err := stream.Send(&ingestv1.IngestBatchRequest{Item: &ingestv1.IngestRequest{Source: "alertmanager", Payload: p}}); err != nil {
			break
		}
	}
	return stream.CloseAndRecv()
}

func TestIngestRateLimitIsPerTenant(t *testing.T) {
	t.Parallel()
	// One payload a second, so nothing refills during the test; one slot per
	// tenant, so a refused call that kept its slot would show as TENANT_BUSY.
	b := setup(t, withConfig(func(c *Config) {
		c.RatePerSecond, c.RateBurst = 1, 2
		c.MaxInFlightPerTenant = 1
	}))

	b.ingest(t, "acme", payload(t, firing("rate0001")))
	b.ingest(t, "acme", payload(t, firing("rate0002")))
	delay := requireRefused(t, b.try("acme", payload(t, firing("rate0003"))), limit.ReasonRateLimited)
	require.LessOrEqual(t, delay, time.Second, "the next payload fits within one emission interval")
	requireRefused(t, b.try("acme", payload(t, firing("rate0004"))), limit.ReasonRateLimited)

	// Another tenant's intake is untouched.
	got := b.ingest(t, "beta", payload(t, firing("rate0003")))
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, got[0].GetVerdict())

	require.Len(t, b.events(t, "acme"), 2, "refused payloads are not stored")
	require.False(t, b.claimExists(t, "acme", "am:rate0003"))
	ofAcme, total := b.svc.disp.InFlight("acme")
	require.Zero(t, ofAcme, "refused calls gave their slots back")
	require.Zero(t, total)
	n, err := b.rdb.Exists(context.Background(), b.space.Tenant("acme", limit.RateKey)).Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the limiter's state is the tenant's key in the namespace")
}

// A payload the normaliser rejects still takes its share of the rate, so
// junk cannot be sent faster than alerts; once refused, the tenant is
// refused again without a normaliser or Redis until the retry delay.
func TestIngestChargesBadPayloadsToo(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.RatePerSecond, c.RateBurst = 1, 2 }))

	err := b.try("acme", []byte(`{"version":"2","alerts":[]}`))
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	b.ingest(t, "acme", payload(t, firing("bad0001")))
	requireRefused(t, b.try("acme", payload(t, firing("bad0002"))), limit.ReasonRateLimited)
	// Refused from memory now: the same answer, with a RetryInfo.
	requireRefused(t, b.try("acme", []byte(`{"version":"2","alerts":[]}`)), limit.ReasonRateLimited)
	require.Len(t, b.events(t, "acme"), 1)
}

// A batch arriving while the tenant's last refusal holds is refused whole
// from memory, bad items included, with nothing stored: each item gets what
// it would alone.
func TestIngestBatchHonoursARememberedRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.RatePerSecond, c.RateBurst = 1, 1 }))

	b.ingest(t, "acme", payload(t, firing("mem0001")))
	requireRefused(t, b.try("acme", payload(t, firing("mem0002"))), limit.ReasonRateLimited)
	_, err := b.batch(t, "acme", []byte(`{"version":"2","alerts":[]}`), payload(t, firing("mem0003")))
	requireRefused(t, err, limit.ReasonRateLimited)
	require.Len(t, b.events(t, "acme"), 1)
	require.False(t, b.claimExists(t, "acme", "am:mem0003"))
}

// A group of bad items, charged like any, is not undone by a later group the
// rate no longer covers: the bad items keep their INVALID_ARGUMENT and only
// the item beyond the rate is refused, rather than the whole call.
func TestIngestBatchKeepsChargedBadItems(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.RatePerSecond, c.RateBurst = 1, batchFlushSignals }))

	payloads := make([][]byte, 0, batchFlushSignals+1)
	for range batchFlushSignals {
		payloads = append(payloads, []byte(`{"version":"2","alerts":[]}`))
	}
	payloads = append(payloads, payload(t, firing("charged01")))
	resp, err := b.batch(t, "acme", payloads...)
	require.NoError(t, err, "not refused whole: the bad items were charged")
	items := resp.GetItems()
	require.Len(t, items, batchFlushSignals+1)
	for k := range batchFlushSignals {
		require.EqualValues(t, codes.InvalidArgument, items[k].GetRejectedCode(), "item %d", k)
	}
	last := items[batchFlushSignals]
	require.EqualValues(t, codes.ResourceExhausted, last.GetRejectedCode())
	require.Equal(t, limit.ReasonRateLimited, last.GetRejectedLimit())
	require.Empty(t, b.events(t, "acme"))
}

func TestIngestBatchRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.RatePerSecond, c.RateBurst = 1, 3 }))

	resp, err := b.batch(t, "acme",
		payload(t, firing("br01")),
		[]byte(`{"version":"2","alerts":[]}`),      // rejected by the normaliser, and charged, as alone
		payload(t, firing("br02"), firing("br03")), // one payload, however many alerts
		payload(t, firing("br04")),                 // the fourth payload: over the burst
		[]byte(`{"version":"2","alerts":[]}`),      // over the rate: refused as over it, as alone
		payload(t, firing("br06")),
	)
	require.NoError(t, err)
	items := resp.GetItems()
	require.Len(t, items, 6)
	for _, k := range []int{0, 2} {
		require.Empty(t, items[k].GetRejectedReason(), "item %d", k)
		require.NotEmpty(t, items[k].GetResults(), "item %d", k)
	}
	require.Len(t, items[2].GetResults(), 2)
	require.Contains(t, items[1].GetRejectedReason(), "not supported")
	for _, k := range []int{3, 4, 5} {
		require.Contains(t, items[k].GetRejectedReason(), limit.ReasonRateLimited, "item %d", k)
		require.Empty(t, items[k].GetResults(), "item %d", k)
		require.EqualValues(t, codes.ResourceExhausted, items[k].GetRejectedCode(), "item %d", k)
		require.Equal(t, limit.ReasonRateLimited, items[k].GetRejectedLimit(), "item %d", k)
		require.Positive(t, items[k].GetRetryAfter().AsDuration(), "item %d", k)
	}
	require.EqualValues(t, codes.InvalidArgument, items[1].GetRejectedCode())
	require.Len(t, b.events(t, "acme"), 3, "br01..br03 only")
	require.False(t, b.claimExists(t, "acme", "am:br04"))

	// With nothing left, the next batch is refused whole, like an Ingest.
	_, err = b.batch(t, "acme", payload(t, firing("br07")))
	requireRefused(t, err, limit.ReasonRateLimited)
	require.Len(t, b.events(t, "acme"), 3)

	resp, err = b.batch(t, "beta", payload(t, firing("br01")))
	require.NoError(t, err)
	require.Empty(t, resp.GetItems()[0].GetRejectedReason())
}

func TestIngestTenantBusy(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.MaxInFlight, c.MaxInFlightPerTenant = 4, 1 }))

	// Hold acme's only slot as a call in flight would.
	hold, err := b.svc.disp.Acquire(context.Background(), "acme")
	require.NoError(t, err)

	delay := requireRefused(t, b.try("acme", payload(t, firing("busy0001"))), limit.ReasonTenantBusy)
	require.Equal(t, time.Second, delay)
	_, err = b.batch(t, "acme", payload(t, firing("busy0002")))
	requireRefused(t, err, limit.ReasonTenantBusy)
	require.Empty(t, b.events(t, "acme"), "refused calls store nothing")

	// Another tenant keeps its share.
	got := b.ingest(t, "beta", payload(t, firing("busy0001")))
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, got[0].GetVerdict())

	hold()
	got = b.ingest(t, "acme", payload(t, firing("busy0001")))
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, got[0].GetVerdict())
}

func TestIngestReplicaBusy(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.MaxInFlight, c.MaxInFlightPerTenant = 1, 1 }))

	hold, err := b.svc.disp.Acquire(context.Background(), "beta")
	require.NoError(t, err)
	requireRefused(t, b.try("acme", payload(t, firing("full0001"))), limit.ReasonIngestBusy)
	require.Empty(t, b.events(t, "acme"))
	hold()
	b.ingest(t, "acme", payload(t, firing("full0001")))
}

// withDeep returns p, an Alertmanager payload, with a field holding n nested
// arrays: the payload is then n+1 levels deep.
func withDeep(p []byte, n int) []byte {
	deep := `"deep":` + string(bytes.Repeat([]byte("["), n)) + string(bytes.Repeat([]byte("]"), n)) + `,`
	return append([]byte("{"+deep), p[1:]...)
}

func TestIngestRefusesDeepAndNonUTF8Payloads(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.MaxJSONDepth = 8 }))

	_, err := b.client.Ingest(as("acme"), &ingestv1.IngestRequest{Source: "alertmanager", Payload: withDeep(payload(t, firing("deep0001")), 8)})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), "JSON nesting deeper than 8")

	notUTF8 := bytes.Replace(payload(t, firing("utf80001")), []byte("HighLatency"), []byte("High\xffLatency"), 1)
	_, err = b.client.Ingest(as("acme"), &ingestv1.IngestRequest{Source: "alertmanager", Payload: notUTF8})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "not valid UTF-8")

	resp, err := b.batch(t, "acme", withDeep(payload(t, firing("deep0002")), 100), notUTF8)
	require.NoError(t, err)
	require.Contains(t, resp.GetItems()[0].GetRejectedReason(), "JSON nesting deeper than 8")
	require.Contains(t, resp.GetItems()[1].GetRejectedReason(), "not valid UTF-8")

	require.Empty(t, b.events(t, "acme"), "nothing refused was appended")
	for _, fp := range []string{"deep0001", "deep0002", "utf80001"} {
		require.False(t, b.claimExists(t, "acme", "am:"+fp))
	}

	// At the cap is fine.
	got := b.ingest(t, "acme", withDeep(payload(t, firing("deep0003")), 7))
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, got[0].GetVerdict())
}

func TestIngestDefaultDepthCap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for depth, ok := range map[int]bool{63: true, 64: false} {
		err := b.try("acme", withDeep(payload(t, firing(fmt.Sprintf("cap%d", depth))), depth))
		if ok {
			require.NoError(t, err)
		} else {
			require.Equal(t, codes.InvalidArgument, status.Code(err))
			require.Contains(t, status.Convert(err).Message(), "JSON nesting deeper than 64")
		}
	}
}
