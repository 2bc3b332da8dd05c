package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/signature"
	"github.com/alexus-platform/alexus/services/gateway/signature/snstest"
	"github.com/alexus-platform/alexus/services/gateway/webhook"
)

// countingIngest counts the payloads that reach ingest, so a test can show
// that a refused delivery was never forwarded (and so never stored).
type countingIngest struct {
	ingestv1.IngestServiceClient
	calls atomic.Int64
}

func (c *countingIngest) Ingest(ctx context.Context, in *ingestv1.IngestRequest, opts ...grpc.CallOption) (*ingestv1.IngestResponse, error) {
	c.calls.Add(1)
	return c.IngestServiceClient.Ingest(ctx, in, opts...)
}

type signedBundle struct {
	*bundle
	ingest *countingIngest
	sns    *snstest.SNS
	keys   *secretbox.Keyring
	acme   context.Context
}

func setupSigned(t *testing.T, opts ...func(*webhook.Deps)) *signedBundle {
	t.Helper()
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)
	sb := &signedBundle{sns: snstest.Start(t), keys: keys}
	sb.bundle = setup(t, func(d *webhook.Deps) {
		sb.ingest = &countingIngest{IngestServiceClient: d.Ingest}
		d.Ingest, d.Keys, d.SNS = sb.ingest, keys, sb.sns.Verifier(t)
		for _, o := range opts {
			o(d)
		}
	})
	sb.acme = tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	return sb
}

// integration creates an integration of source with a signing secret and
// returns its token.
func (sb *signedBundle) integration(t *testing.T, source string, secret []byte) string {
	t.Helper()
	in, tok, err := provision.CreateIntegration(sb.acme, sb.db.DB, source, source)
	require.NoError(t, err)
	if secret != nil {
		require.NoError(t, provision.SetSigningSecret(sb.acme, sb.db.DB, sb.keys, in.ID, secret))
	}
	return tok
}

type rawAnswer struct {
	status int
	body   string
}

func (sb *signedBundle) send(t *testing.T, target string, hdr http.Header, body []byte) rawAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(sb.ctx, http.MethodPost, target, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = hdr
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return rawAnswer{status: res.StatusCode, body: string(raw)}
}

func hexMAC(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestVendorSignaturesAreCheckedWhenASecretIsSet(t *testing.T) {
	t.Parallel()
	sb := setupSigned(t)
	secret := []byte("whsec-0123456789abcdef")
	body := []byte(`{"action":"created","data":{"issue":{"id":"1","title":"boom"}}}`)
	sentry := sb.integration(t, "sentry", secret)
	pagerduty := sb.integration(t, "pagerduty", secret)
	generic := sb.integration(t, "generic", secret)
	unsigned := sb.integration(t, "datadog", nil)

	for _, tc := range []struct {
		name   string
		source string
		hdr    http.Header
		want   int
	}{
		{"sentry signed", "sentry", http.Header{"Authorization": {"Bearer " + sentry}, "Sentry-Hook-Signature": {hexMAC(secret, body)}}, http.StatusAccepted},
		{"sentry unsigned", "sentry", http.Header{"Authorization": {"Bearer " + sentry}}, http.StatusUnauthorized},
		{"sentry signed with another secret", "sentry", http.Header{"Authorization": {"Bearer " + sentry}, "Sentry-Hook-Signature": {hexMAC([]byte("other"), body)}}, http.StatusUnauthorized},
		{"pagerduty rotated secrets", "pagerduty", http.Header{"Authorization": {"Bearer " + pagerduty}, "X-Pagerduty-Signature": {"v1=" + hexMAC([]byte("old"), body) + ",v1=" + hexMAC(secret, body)}}, http.StatusAccepted},
		{"pagerduty bad", "pagerduty", http.Header{"Authorization": {"Bearer " + pagerduty}, "X-Pagerduty-Signature": {"v1=00"}}, http.StatusUnauthorized},
		{"generic alexus scheme", "generic", http.Header{"Authorization": {"Bearer " + generic}, "X-Alexus-Signature": {signature.Sign(secret, body, time.Now())}}, http.StatusAccepted},
		{"generic replayed", "generic", http.Header{"Authorization": {"Bearer " + generic}, "X-Alexus-Signature": {signature.Sign(secret, body, time.Now().Add(-time.Hour))}}, http.StatusUnauthorized},
		{"no secret, no signature needed", "datadog", http.Header{"Authorization": {"Bearer " + unsigned}}, http.StatusAccepted},
	} {
		before := sb.ingest.calls.Load()
		a := sb.send(t, sb.base+tc.source, tc.hdr, body)
		require.Equal(t, tc.want, a.status, "%s: %s", tc.name, a.body)
		forwarded := sb.ingest.calls.Load() - before
		if tc.want == http.StatusAccepted {
			require.EqualValues(t, 1, forwarded, tc.name)
		} else {
			require.Zero(t, forwarded, "%s: a refused delivery never reaches ingest", tc.name)
			var e webhook.ErrorBody
			require.NoError(t, json.Unmarshal([]byte(a.body), &e))
			require.Equal(t, "unauthenticated", e.Code, tc.name)
			require.Contains(t, e.Error, "signature", tc.name)
		}
	}
}

func TestSigningSecretWithoutKeyRingIsAnswered503(t *testing.T) {
	t.Parallel()
	// The secret was sealed with a key ring this gateway was not given: it
	// cannot check the signature, and must neither let the delivery through
	// nor blame the vendor.
	sb := setupSigned(t)
	sb.bundle = setup(t) // no Keys
	tok := sb.integration(t, "sentry", []byte("s3cret"))
	a := sb.send(t, sb.base+"sentry", http.Header{"Authorization": {"Bearer " + tok}}, []byte(`{}`))
	require.Equal(t, http.StatusServiceUnavailable, a.status, a.body)
	require.Contains(t, a.body, "retry later")
}

func TestIntegrationTokenInBasicAuthOrURL(t *testing.T) {
	t.Parallel()
	sb := setupSigned(t)
	tok := sb.integration(t, "azure-monitor", nil)
	body := []byte(`{}`)

	// Basic auth: the password is the token, the user anything.
	a := sb.send(t, sb.base+"azure-monitor", http.Header{"Authorization": {"Basic " + basic("azure", tok)}}, body)
	require.NotEqual(t, http.StatusUnauthorized, a.status, a.body)
	a = sb.send(t, sb.base+"azure-monitor", http.Header{"Authorization": {"Basic " + basic("azure", "hunter2")}}, body)
	require.Equal(t, http.StatusUnauthorized, a.status, a.body)

	// The query parameter, for vendors that can set neither.
	a = sb.send(t, sb.base+"azure-monitor?token="+url.QueryEscape(tok), http.Header{}, body)
	require.NotEqual(t, http.StatusUnauthorized, a.status, a.body)
	jwt := sb.issuer.Token(t, "acme")
	a = sb.send(t, sb.base+"azure-monitor?token="+jwt, http.Header{}, body)
	require.Equal(t, http.StatusUnauthorized, a.status, "a JWT is never taken from a URL: %s", a.body)
	require.Contains(t, a.body, "only an integration token")
	sb.requireNoTokenInLogs(t, tok)
}

func basic(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestSNSMessagesAreAlwaysVerified(t *testing.T) {
	t.Parallel()
	sb := setupSigned(t)
	tok := sb.integration(t, "sns", nil)
	auth := http.Header{"Authorization": {"Basic " + basic("sns", tok)}, "Content-Type": {"text/plain; charset=UTF-8"}}

	// A subscription confirmation is confirmed, once, and not ingested.
	a := sb.send(t, sb.base+"sns", auth.Clone(), sb.sns.SubscriptionConfirmation(t))
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Contains(t, a.body, `"confirmed":true`)
	require.Equal(t, 1, sb.sns.Confirmations())
	require.Zero(t, sb.ingest.calls.Load())

	// A signed notification is forwarded.
	alarm := `{"AlarmName":"db-1 disk","NewStateValue":"ALARM","StateChangeTime":"2026-11-29T08:00:00.000+0000"}`
	a = sb.send(t, sb.base+"sns", auth.Clone(), sb.sns.Notification(t, "ALARM: db-1 disk", alarm))
	require.Equal(t, http.StatusAccepted, a.status, a.body)
	require.EqualValues(t, 1, sb.ingest.calls.Load())

	// A tampered one is refused, whoever sends it: the tenant's JWT too.
	var msg map[string]any
	require.NoError(t, json.Unmarshal(sb.sns.Notification(t, "ALARM: db-1 disk", alarm), &msg))
	msg["Message"] = strings.Replace(alarm, "ALARM", "OK", 1)
	tampered, err := json.Marshal(msg)
	require.NoError(t, err)
	a = sb.send(t, sb.base+"sns", auth.Clone(), tampered)
	require.Equal(t, http.StatusUnauthorized, a.status, a.body)
	jwt := http.Header{"Authorization": {"Bearer " + sb.issuer.Token(t, "acme")}}
	a = sb.send(t, sb.base+"sns", jwt, tampered)
	require.Equal(t, http.StatusUnauthorized, a.status, a.body)
	unsigned, err := json.Marshal(map[string]string{"Type": "Notification", "Message": alarm})
	require.NoError(t, err)
	a = sb.send(t, sb.base+"sns", jwt, unsigned)
	require.Equal(t, http.StatusUnauthorized, a.status, a.body)
	require.EqualValues(t, 1, sb.ingest.calls.Load(), "nothing refused reached ingest")
	require.Equal(t, 1, sb.sns.CertRequests(), "the signing certificate is fetched once and cached")
}
