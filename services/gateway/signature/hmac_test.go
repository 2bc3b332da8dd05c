package signature_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/gateway/signature"
)

// hexMAC is the hex HMAC-SHA256 of the concatenated parts, computed here
// rather than by the package so that a test checks the package against the
// vendors' documented formats, not against itself.
func hexMAC(secret string, parts ...string) string {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// hdr builds a header from name, value pairs; a repeated name adds a line.
func hdr(pairs ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return h
}

const (
	testSecret = "s3cret-for-tests"
	testBody   = `{"title":"disk full","labels":{"host":"db-1"}}`
)

var testNow = time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestVerify(t *testing.T) {
	t.Parallel()
	now := testNow
	ts := unix(now)
	good := hexMAC(testSecret, testBody)
	other := hexMAC("another-secret", testBody)

	tests := []struct {
		name    string
		source  string
		header  http.Header
		body    string
		wantErr error
	}{
		// Sentry.
		{"sentry valid", "sentry", hdr("Sentry-Hook-Signature", good), testBody, nil},
		{"sentry upper-case hex", "sentry", hdr("Sentry-Hook-Signature", strings.ToUpper(good)), testBody, nil},
		{"sentry missing", "sentry", hdr("Sentry-Hook-Timestamp", ts), testBody, signature.ErrMissingSignature},
		{"sentry wrong secret", "sentry", hdr("Sentry-Hook-Signature", other), testBody, signature.ErrBadSignature},
		{"sentry tampered body", "sentry", hdr("Sentry-Hook-Signature", good), testBody + " ", signature.ErrBadSignature},
		{"sentry not hex", "sentry", hdr("Sentry-Hook-Signature", "zz"+good[2:]), testBody, signature.ErrBadSignature},
		{"sentry truncated", "sentry", hdr("Sentry-Hook-Signature", good[:32]), testBody, signature.ErrBadSignature},

		// Jira admin webhooks (WebSub method=signature).
		{"jira valid", "jira", hdr("X-Hub-Signature", "sha256="+good), testBody, nil},
		{"jira method upper-case", "jira", hdr("X-Hub-Signature", "SHA256="+good), testBody, nil},
		{"jira missing", "jira", hdr("X-Atlassian-Webhook-Identifier", "1"), testBody, signature.ErrMissingSignature},
		{"jira wrong secret", "jira", hdr("X-Hub-Signature", "sha256="+other), testBody, signature.ErrBadSignature},
		{"jira tampered body", "jira", hdr("X-Hub-Signature", "sha256="+good), testBody + " ", signature.ErrBadSignature},
		{"jira sha1 method", "jira", hdr("X-Hub-Signature", "sha1="+good), testBody, signature.ErrBadSignature},
		{"jira bare hex", "jira", hdr("X-Hub-Signature", good), testBody, signature.ErrBadSignature},

		// PagerDuty v3.
		{"pagerduty valid", "pagerduty", hdr("X-PagerDuty-Signature", "v1="+good), testBody, nil},
		{"pagerduty rotation, second matches", "pagerduty", hdr("X-PagerDuty-Signature", "v1="+other+",v1="+good), testBody, nil},
		{"pagerduty rotation, first matches", "pagerduty", hdr("X-PagerDuty-Signature", "v1="+good+",v1="+other), testBody, nil},
		{"pagerduty spaces after commas", "pagerduty", hdr("X-PagerDuty-Signature", "v1="+other+", v1="+good), testBody, nil},
		{"pagerduty two header lines", "pagerduty", hdr("X-PagerDuty-Signature", "v1="+other, "X-PagerDuty-Signature", "v1="+good), testBody, nil},
		{"pagerduty future version beside v1", "pagerduty", hdr("X-PagerDuty-Signature", "v2=abcd,v1="+good), testBody, nil},
		{"pagerduty none matches", "pagerduty", hdr("X-PagerDuty-Signature", "v1="+other), testBody, signature.ErrBadSignature},
		{"pagerduty tampered body", "pagerduty", hdr("X-PagerDuty-Signature", "v1="+good), `{"title":"disk ok"}`, signature.ErrBadSignature},
		{"pagerduty no v1", "pagerduty", hdr("X-PagerDuty-Signature", "v0="+good), testBody, signature.ErrBadSignature},
		{"pagerduty bare hex", "pagerduty", hdr("X-PagerDuty-Signature", good), testBody, signature.ErrBadSignature},
		{"pagerduty v1 not hex", "pagerduty", hdr("X-PagerDuty-Signature", "v1=nothex,v1="+good), testBody, signature.ErrBadSignature},
		{"pagerduty missing", "pagerduty", hdr(), testBody, signature.ErrMissingSignature},

		// Grafana Alerting.
		{"grafana body only", "grafana", hdr("X-Grafana-Alerting-Signature", good), testBody, nil},
		{"grafana legacy signature header", "grafana", hdr("X-Grafana-Alert-Signature", good), testBody, nil},
		{"grafana timestamped", "grafana", hdr("X-Grafana-Alerting-Signature", hexMAC(testSecret, ts, ":", testBody), "X-Grafana-Alerting-Timestamp", ts), testBody, nil},
		{"grafana timestamped, provisioning example header", "grafana", hdr("X-Grafana-Alerting-Signature", hexMAC(testSecret, ts, ":", testBody), "X-Grafana-Alerting-Signature-Timestamp", ts), testBody, nil},
		{"grafana timestamp 4m59s old", "grafana", hdr("X-Grafana-Alerting-Signature", hexMAC(testSecret, unix(now.Add(-299*time.Second)), ":", testBody), "X-Grafana-Alerting-Timestamp", unix(now.Add(-299*time.Second))), testBody, nil},
		{"grafana timestamp 10m old", "grafana", hdr("X-Grafana-Alerting-Signature", hexMAC(testSecret, unix(now.Add(-10*time.Minute)), ":", testBody), "X-Grafana-Alerting-Timestamp", unix(now.Add(-10*time.Minute))), testBody, signature.ErrStale},
		{"grafana timestamp sent but body-only MAC", "grafana", hdr("X-Grafana-Alerting-Signature", good, "X-Grafana-Alerting-Timestamp", ts), testBody, signature.ErrBadSignature},
		{"grafana timestamp replaced", "grafana", hdr("X-Grafana-Alerting-Signature", hexMAC(testSecret, ts, ":", testBody), "X-Grafana-Alerting-Timestamp", unix(now.Add(time.Second))), testBody, signature.ErrBadSignature},
		{"grafana dot separator", "grafana", hdr("X-Grafana-Alerting-Signature", hexMAC(testSecret, ts, ".", testBody), "X-Grafana-Alerting-Timestamp", ts), testBody, signature.ErrBadSignature},
		{"grafana timestamp not digits", "grafana", hdr("X-Grafana-Alerting-Signature", hexMAC(testSecret, "+"+ts, ":", testBody), "X-Grafana-Alerting-Timestamp", "+"+ts), testBody, signature.ErrBadSignature},
		{"grafana sha256= prefix", "grafana", hdr("X-Grafana-Alerting-Signature", "sha256="+good), testBody, signature.ErrBadSignature},
		{"grafana missing", "grafana", hdr("X-Grafana-Alerting-Timestamp", ts), testBody, signature.ErrMissingSignature},

		// The Alexus scheme, for every other source.
		{"alexus valid", "generic", hdr("X-Alexus-Signature", "t="+ts+",v1="+hexMAC(testSecret, ts, ".", testBody)), testBody, nil},
		{"alexus valid for datadog", "datadog", hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), now)), testBody, nil},
		{"alexus valid for a mapping rule source", "acme-rule_7", hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), now)), testBody, nil},
		{"alexus elements reordered, spaced", "cloudevents", hdr("X-Alexus-Signature", " v1="+hexMAC(testSecret, ts, ".", testBody)+" , t="+ts+" "), testBody, nil},
		{"alexus rotation", "generic", hdr("X-Alexus-Signature", "t="+ts+",v1="+hexMAC("old", ts, ".", testBody)+",v1="+hexMAC(testSecret, ts, ".", testBody)), testBody, nil},
		{"alexus unknown key ignored", "generic", hdr("X-Alexus-Signature", "t="+ts+",v2=00ff,v1="+hexMAC(testSecret, ts, ".", testBody)), testBody, nil},
		{"alexus empty body", "generic", hdr("X-Alexus-Signature", "t="+ts+",v1="+hexMAC(testSecret, ts, ".")), "", nil},
		{"alexus 4m59s in the future", "generic", hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), now.Add(299*time.Second))), testBody, nil},
		{"alexus 6m old", "generic", hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), now.Add(-6*time.Minute))), testBody, signature.ErrStale},
		{"alexus 6m in the future", "generic", hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), now.Add(6*time.Minute))), testBody, signature.ErrStale},
		{"alexus old and wrong is bad, not stale", "generic", hdr("X-Alexus-Signature", signature.Sign([]byte("wrong"), []byte(testBody), now.Add(-time.Hour))), testBody, signature.ErrBadSignature},
		{"alexus wrong secret", "generic", hdr("X-Alexus-Signature", signature.Sign([]byte("wrong"), []byte(testBody), now)), testBody, signature.ErrBadSignature},
		{"alexus tampered body", "generic", hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), now)), testBody + "\n", signature.ErrBadSignature},
		{"alexus t changed", "generic", hdr("X-Alexus-Signature", "t="+unix(now.Add(time.Second))+",v1="+hexMAC(testSecret, ts, ".", testBody)), testBody, signature.ErrBadSignature},
		{"alexus MAC of body alone", "generic", hdr("X-Alexus-Signature", "t="+ts+",v1="+good), testBody, signature.ErrBadSignature},
		{"alexus no t", "generic", hdr("X-Alexus-Signature", "v1="+hexMAC(testSecret, ts, ".", testBody)), testBody, signature.ErrBadSignature},
		{"alexus two t", "generic", hdr("X-Alexus-Signature", "t="+ts+",t="+ts+",v1="+hexMAC(testSecret, ts, ".", testBody)), testBody, signature.ErrBadSignature},
		{"alexus signed t", "generic", hdr("X-Alexus-Signature", "t=+"+ts+",v1="+hexMAC(testSecret, "+"+ts, ".", testBody)), testBody, signature.ErrBadSignature},
		{"alexus t in milliseconds is stale", "generic", hdr("X-Alexus-Signature", "t="+ts+"000,v1="+hexMAC(testSecret, ts+"000", ".", testBody)), testBody, signature.ErrStale},
		{"alexus no v1", "generic", hdr("X-Alexus-Signature", "t="+ts), testBody, signature.ErrBadSignature},
		{"alexus v1 not hex", "generic", hdr("X-Alexus-Signature", "t="+ts+",v1=xyz"), testBody, signature.ErrBadSignature},
		{"alexus element without =", "generic", hdr("X-Alexus-Signature", "t="+ts+",v1="+hexMAC(testSecret, ts, ".", testBody)+",junk"), testBody, signature.ErrBadSignature},
		{"alexus missing", "generic", hdr(), testBody, signature.ErrMissingSignature},
		{"alexus source ignores vendor headers", "generic", hdr("Sentry-Hook-Signature", good, "X-PagerDuty-Signature", "v1="+good), testBody, signature.ErrMissingSignature},
		{"vendor source ignores the Alexus header", "sentry", hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), now)), testBody, signature.ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := signature.Verify(tt.source, []byte(testSecret), tt.header, []byte(tt.body), now)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, http.StatusUnauthorized, signature.HTTPStatus(err))
			require.NotContains(t, err.Error(), good, "errors must not echo a MAC")
		})
	}
}

func TestVerifyRefusesAnEmptySecret(t *testing.T) {
	t.Parallel()
	for _, source := range []string{"sentry", "pagerduty", "grafana", "generic"} {
		// A MAC keyed with the empty secret is one anyone can compute.
		h := hdr("Sentry-Hook-Signature", hexMAC("", testBody), "X-PagerDuty-Signature", "v1="+hexMAC("", testBody),
			"X-Grafana-Alerting-Signature", hexMAC("", testBody),
			"X-Alexus-Signature", signature.Sign(nil, []byte(testBody), testNow))
		err := signature.Verify(source, nil, h, []byte(testBody), testNow)
		require.ErrorIs(t, err, signature.ErrNoSecret, source)
		require.Equal(t, http.StatusInternalServerError, signature.HTTPStatus(err), source)
	}
}

func TestVerifySendsSNSToSNSVerifier(t *testing.T) {
	t.Parallel()
	h := hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), testNow))
	err := signature.Verify("sns", []byte(testSecret), h, []byte(testBody), testNow)
	require.ErrorContains(t, err, "SNSVerifier")
	require.Equal(t, http.StatusInternalServerError, signature.HTTPStatus(err),
		"a wiring mistake is Alexus's fault, not the sender's")
}

func TestHMACVerifierTolerance(t *testing.T) {
	t.Parallel()
	signed := testNow.Add(-2 * time.Minute)
	h := hdr("X-Alexus-Signature", signature.Sign([]byte(testSecret), []byte(testBody), signed))

	tests := []struct {
		name      string
		tolerance time.Duration
		wantErr   error
	}{
		{"zero means the default", 0, nil},
		{"negative means the default", -time.Second, nil},
		{"wide enough", 3 * time.Minute, nil},
		{"too narrow", time.Minute, signature.ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := signature.HMACVerifier{Tolerance: tt.tolerance}.Verify("generic", []byte(testSecret), h, []byte(testBody), testNow)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

// TestSignKnownAnswer pins the example in the package documentation, which
// was computed with openssl, so the documented scheme and the code cannot
// drift apart.
func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	got := signature.Sign([]byte("alexus-example-secret"), []byte(`{"title":"disk full"}`), time.Unix(1767225600, 999_000_000))
	require.Equal(t, "t=1767225600,v1=f661e9a4694f965d0e34a14b38331ade57bd22890ca908e6656d3442020405e6", got)
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, http.StatusOK},
		{"missing", signature.ErrMissingSignature, http.StatusUnauthorized},
		{"bad, wrapped", errors.Join(errors.New("context"), signature.ErrBadSignature), http.StatusUnauthorized},
		{"stale", signature.ErrStale, http.StatusUnauthorized},
		{"unavailable", signature.ErrUnavailable, http.StatusServiceUnavailable},
		{"no secret", signature.ErrNoSecret, http.StatusInternalServerError},
		{"other", errors.New("boom"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, signature.HTTPStatus(tt.err))
		})
	}
}
