package signature_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/gateway/signature"
	"github.com/alexus-platform/alexus/services/gateway/signature/snstest"
)

// snsKey is the RSA key of the fake SNS. It is made once: a 2048-bit key
// takes a noticeable time to generate, and the key is only read.
var snsKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// otherKey signs messages that the fake SNS's certificate must not verify.
var otherKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// selfSignedPEM returns a PEM certificate for pub, valid from notBefore to
// notAfter, signed by signer.
func selfSignedPEM(t *testing.T, pub any, signer crypto.Signer, notBefore, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "sns.us-east-1.amazonaws.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// testClock is an adjustable clock for the verifier.
type testClock struct{ now atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *testClock) Advance(d time.Duration) { c.now.Add(int64(d)) }
func newTestClock(start time.Time) *testClock {
	c := &testClock{}
	c.now.Store(start.UnixNano())
	return c
}

// snsBundle is a fake SNS: a TLS server that serves signing certificates
// (good and bad) and subscription confirmations, counting every request,
// and a verifier that trusts only that server's host.
type snsBundle struct {
	ctx      context.Context
	srv      *httptest.Server
	host     string
	key      *rsa.PrivateKey
	clock    *testClock
	verifier *signature.SNSVerifier
	// slowArrived receives when a request for /slow.pem arrives.
	slowArrived chan struct{}

	mu   sync.Mutex
	hits map[string]int // by request URI
}

func setupSNS(t *testing.T, mutate func(*signature.SNSConfig)) *snsBundle {
	t.Helper()
	key, err := snsKey()
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	goodPEM := selfSignedPEM(t, &key.PublicKey, key, now.Add(-time.Hour), now.Add(24*time.Hour))
	expiredPEM := selfSignedPEM(t, &key.PublicKey, key, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	notYetPEM := selfSignedPEM(t, &key.PublicKey, key, now.Add(24*time.Hour), now.Add(48*time.Hour))
	ecdsaPEM := selfSignedPEM(t, &ecKey.PublicKey, ecKey, now.Add(-time.Hour), now.Add(24*time.Hour))

	b := &snsBundle{
		key:         key,
		clock:       newTestClock(now),
		hits:        make(map[string]int),
		slowArrived: make(chan struct{}, 1),
	}
	stop := make(chan struct{})
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hits[r.URL.RequestURI()]++
		b.mu.Unlock()
		switch r.URL.Path {
		case "/cert.pem":
			_, _ = w.Write(goodPEM)
		case "/expired.pem":
			_, _ = w.Write(expiredPEM)
		case "/notyet.pem":
			_, _ = w.Write(notYetPEM)
		case "/ecdsa.pem":
			_, _ = w.Write(ecdsaPEM)
		case "/garbage.pem":
			_, _ = w.Write([]byte("<html>this is not a certificate</html>"))
		case "/key.pem":
			_, _ = w.Write(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
		case "/redirect.pem":
			http.Redirect(w, r, "/cert.pem", http.StatusFound)
		case "/error.pem", "/subscribe-error":
			http.Error(w, "internal error", http.StatusInternalServerError)
		case "/throttled.pem":
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case "/subscribe-forbidden":
			http.Error(w, "token expired", http.StatusForbidden)
		case "/slow.pem":
			select {
			case b.slowArrived <- struct{}{}:
			default:
			}
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		case "/subscribe":
			_, _ = w.Write([]byte("<ConfirmSubscriptionResponse/>"))
		default:
			http.NotFound(w, r)
		}
	}))
	// Handshakes cut short by a client's timeout are expected here, not
	// worth a log line.
	b.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	b.srv.StartTLS()
	t.Cleanup(b.srv.Close)
	t.Cleanup(func() { close(stop) }) // Runs first, so no handler holds up Close.

	u, err := url.Parse(b.srv.URL)
	require.NoError(t, err)
	b.host = u.Host

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	b.ctx = ctx

	cfg := signature.SNSConfig{
		AllowedHost: func(host string) bool { return host == b.host },
		Client:      b.srv.Client(),
		Now:         b.clock.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	b.verifier, err = signature.NewSNSVerifier(cfg)
	require.NoError(t, err)
	return b
}

// requests returns how many requests reached the server, for the given
// request URIs, or in all when none is given.
func (b *snsBundle) requests(uris ...string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for uri, c := range b.hits {
		if len(uris) == 0 {
			n += c
		}
		for _, u := range uris {
			if u == uri {
				n += c
			}
		}
	}
	return n
}

// pathRequests returns how many requests reached the server for path,
// whatever their query.
func (b *snsBundle) pathRequests(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for uri, c := range b.hits {
		if u, err := url.Parse(uri); err == nil && u.Path == path {
			n += c
		}
	}
	return n
}

// message returns an unsigned message of type typ whose certificate is at
// certPath on the fake SNS. The Message has characters that JSON escapes,
// since SNS signs the decoded value.
func (b *snsBundle) message(typ, version, certPath string) signature.SNSMessage {
	m := signature.SNSMessage{
		Type:             typ,
		MessageID:        "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		TopicArn:         "arn:aws:sns:us-east-1:123456789012:alerts",
		Timestamp:        "2026-11-29T08:00:00.000Z",
		SignatureVersion: version,
		SigningCertURL:   b.srv.URL + certPath,
	}
	switch typ {
	case signature.SNSNotification:
		m.Subject = "ALARM: \"db-1 disk\" in US East"
		m.Message = "{\"AlarmName\":\"db-1 disk\",\"NewStateValue\":\"ALARM\"}\nsecond line – é"
		m.UnsubscribeURL = b.srv.URL + "/unsubscribe?SubscriptionArn=x"
	default:
		m.Token = "2336412f37fb687f5d51e6e2425dacbba0ba1ad8d7c0d4e4e1b2ae5b3a7c"
		m.Message = "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:alerts.\nTo confirm the subscription, visit the SubscribeURL included in this message."
		m.SubscribeURL = b.srv.URL + "/subscribe?Action=ConfirmSubscription&Token=" + m.Token
	}
	return m
}

// sign signs m as SNS would, with key, according to m.SignatureVersion.
func sign(t *testing.T, key *rsa.PrivateKey, m *signature.SNSMessage) {
	t.Helper()
	var (
		hash   crypto.Hash
		digest []byte
	)
	switch m.SignatureVersion {
	case "1":
		sum := sha1.Sum([]byte(snstest.StringToSign(*m)))
		hash, digest = crypto.SHA1, sum[:]
	default:
		sum := sha256.Sum256([]byte(snstest.StringToSign(*m)))
		hash, digest = crypto.SHA256, sum[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, hash, digest)
	require.NoError(t, err)
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

func encode(t *testing.T, m signature.SNSMessage) []byte {
	t.Helper()
	body, err := json.Marshal(m)
	require.NoError(t, err)
	return body
}

// signed returns the body of a message signed by the fake SNS.
func (b *snsBundle) signed(t *testing.T, typ, version, certPath string) []byte {
	t.Helper()
	m := b.message(typ, version, certPath)
	sign(t, b.key, &m)
	return encode(t, m)
}

var snsTypes = []string{signature.SNSNotification, signature.SNSSubscriptionConfirmation, signature.SNSUnsubscribeConfirmation}

func TestSNSVerifyAcceptsEveryTypeAndVersion(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, nil)
	for _, typ := range snsTypes {
		for _, version := range []string{"1", "2"} {
			name := typ + " v" + version
			want := b.message(typ, version, "/cert.pem")
			sign(t, b.key, &want)

			got, err := b.verifier.Verify(b.ctx, encode(t, want))
			require.NoError(t, err, name)
			require.Equal(t, want.Type, got.Type, name)
			require.Equal(t, want.Message, got.Message, name)
			require.Equal(t, want.MessageID, got.MessageID, name)
			require.Equal(t, want.TopicArn, got.TopicArn, name)
			require.Equal(t, want.SubscribeURL, got.SubscribeURL, name)
		}
	}
	require.Equal(t, 1, b.requests("/cert.pem"))
}

func TestSNSVerifyAcceptsNotificationWithoutSubject(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, nil)
	m := b.message(signature.SNSNotification, "2", "/cert.pem")
	m.Subject = ""
	sign(t, b.key, &m)
	_, err := b.verifier.Verify(b.ctx, encode(t, m))
	require.NoError(t, err)
}

func TestSNSVerifyAcceptsSigningCertUrlSpelling(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, nil)
	body := bytes.Replace(b.signed(t, signature.SNSNotification, "1", "/cert.pem"), []byte(`"SigningCertURL"`), []byte(`"SigningCertUrl"`), 1)
	_, err := b.verifier.Verify(b.ctx, body)
	require.NoError(t, err)
}

func TestSNSVerifyRefusesTamperedMessages(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, nil)
	other, err := otherKey()
	require.NoError(t, err)

	tests := []struct {
		name string
		typ  string
		// change alters a signed message before it is encoded.
		change func(m *signature.SNSMessage)
		// raw, when set, replaces the encoded body.
		raw string
	}{
		{name: "Message changed", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.Message += "!" }},
		{name: "TopicArn changed", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) {
			m.TopicArn = "arn:aws:sns:us-east-1:999999999999:alerts"
		}},
		{name: "Subject removed", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.Subject = "" }},
		{name: "Timestamp changed", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.Timestamp = "2026-11-29T09:00:00.000Z" }},
		{name: "SubscriptionConfirmation relabelled UnsubscribeConfirmation", typ: signature.SNSSubscriptionConfirmation, change: func(m *signature.SNSMessage) {
			m.Type = signature.SNSUnsubscribeConfirmation
		}},
		{name: "UnsubscribeConfirmation relabelled SubscriptionConfirmation", typ: signature.SNSUnsubscribeConfirmation, change: func(m *signature.SNSMessage) {
			m.Type = signature.SNSSubscriptionConfirmation
		}},
		{name: "Notification relabelled SubscriptionConfirmation", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) {
			m.Type = signature.SNSSubscriptionConfirmation
			m.Token = "t"
			m.SubscribeURL = "https://" + b.host + "/subscribe"
		}},
		{name: "unknown Type", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.Type = "Telegram" }},
		{name: "no Type", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.Type = "" }},
		{name: "SubscribeURL changed", typ: signature.SNSSubscriptionConfirmation, change: func(m *signature.SNSMessage) {
			m.SubscribeURL = "https://" + b.host + "/subscribe?Token=attacker"
		}},
		{name: "Token removed", typ: signature.SNSSubscriptionConfirmation, change: func(m *signature.SNSMessage) { m.Token = "" }},
		{name: "MessageId removed", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.MessageID = "" }},
		{name: "version 2 signature claimed as version 1", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.SignatureVersion = "1" }},
		{name: "unsupported SignatureVersion", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.SignatureVersion = "3" }},
		{name: "signed by another key", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { sign(t, other, m) }},
		{name: "Signature not base64", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.Signature = "not base64!" }},
		{name: "Signature empty", typ: signature.SNSNotification, change: func(m *signature.SNSMessage) { m.Signature = "" }},
		{name: "not JSON", raw: "Type=Notification"},
		{name: "JSON array", raw: "[]"},
		{name: "JSON null", raw: "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.raw)
			if tt.raw == "" {
				m := b.message(tt.typ, "2", "/cert.pem")
				sign(t, b.key, &m)
				tt.change(&m)
				body = encode(t, m)
			}
			_, err := b.verifier.Verify(b.ctx, body)
			require.ErrorIs(t, err, signature.ErrBadSignature)
			require.Equal(t, http.StatusUnauthorized, signature.HTTPStatus(err))
		})
	}
}

func TestSNSVerifyRefusesCertURLsWithoutFetching(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		// defaultHosts uses the production host rule instead of allowing
		// the fake SNS.
		defaultHosts bool
		certURL      func(b *snsBundle) string
	}{
		{"host not allowed by the default rule", true, func(b *snsBundle) string { return b.srv.URL + "/cert.pem" }},
		{"host not allowed", false, func(b *snsBundle) string { return "https://localhost:1/cert.pem" }},
		{"http", false, func(b *snsBundle) string { return "http://" + b.host + "/cert.pem" }},
		{"no scheme", false, func(b *snsBundle) string { return "//" + b.host + "/cert.pem" }},
		{"user info", false, func(b *snsBundle) string { return "https://sns@" + b.host + "/cert.pem" }},
		{"not a .pem", false, func(b *snsBundle) string { return b.srv.URL + "/cert.txt" }},
		{"empty", false, func(b *snsBundle) string { return "" }},
		{"look-alike host", true, func(b *snsBundle) string { return "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem" }},
		{"SNS host with a port", true, func(b *snsBundle) string { return "https://sns.us-east-1.amazonaws.com:8443/cert.pem" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSNS(t, func(c *signature.SNSConfig) {
				if tt.defaultHosts {
					c.AllowedHost = nil
				}
			})
			m := b.message(signature.SNSNotification, "2", "/cert.pem")
			m.SigningCertURL = tt.certURL(b)
			sign(t, b.key, &m)

			_, err := b.verifier.Verify(b.ctx, encode(t, m))
			require.ErrorIs(t, err, signature.ErrBadSignature)
			require.Equal(t, http.StatusUnauthorized, signature.HTTPStatus(err))
			require.Zero(t, b.requests(), "nothing may be fetched for a refused URL")
		})
	}
}

func TestDefaultSNSHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"sns.us-east-1.amazonaws.com", true},
		{"sns.eu-central-2.amazonaws.com", true},
		{"sns.us-gov-west-1.amazonaws.com", true},
		{"sns.cn-north-1.amazonaws.com.cn", true},
		{"sns.us-east-1.amazonaws.com:443", false},
		{"sns.us-east-1.amazonaws.com.evil.example", false},
		{"evil.example/sns.us-east-1.amazonaws.com", false},
		{"sqs.us-east-1.amazonaws.com", false},
		{"sns.amazonaws.com", false},
		{"xsns.us-east-1.amazonaws.com", false},
		{"sns.us_east.amazonaws.com", false},
		{"s3.amazonaws.com", false},
		{"", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, signature.DefaultSNSHost(tt.host), tt.host)
	}
}

func TestSNSVerifyRefusesUntrustworthyCertificates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		certPath string
	}{
		{"expired", "/expired.pem"},
		{"not yet valid", "/notyet.pem"},
		{"not PEM", "/garbage.pem"},
		{"PEM but not a certificate", "/key.pem"},
		{"not RSA", "/ecdsa.pem"},
		{"not found", "/missing.pem"},
		{"redirect not followed", "/redirect.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSNS(t, nil)
			_, err := b.verifier.Verify(b.ctx, b.signed(t, signature.SNSNotification, "2", tt.certPath))
			require.ErrorIs(t, err, signature.ErrBadSignature)
			require.NotErrorIs(t, err, signature.ErrUnavailable)
			require.Equal(t, http.StatusUnauthorized, signature.HTTPStatus(err))
			require.Zero(t, b.requests("/cert.pem"), "a redirect must not be followed")
		})
	}
}

func TestSNSVerifyCachesCertificates(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, nil)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		typ := snsTypes[i%len(snsTypes)]
		m := b.message(typ, []string{"1", "2"}[i%2], "/cert.pem")
		m.MessageID = fmt.Sprintf("message-%d", i)
		sign(t, b.key, &m)
		body := encode(t, m)
		wg.Go(func() {
			_, err := b.verifier.Verify(b.ctx, body)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.requests(), "concurrent messages must share one fetch")
}

func TestSNSCertificateCacheExpiresAndIsBounded(t *testing.T) {
	t.Parallel()

	t.Run("TTL", func(t *testing.T) {
		t.Parallel()
		b := setupSNS(t, func(c *signature.SNSConfig) { c.CacheTTL = time.Minute })
		body := b.signed(t, signature.SNSNotification, "2", "/cert.pem")
		for range 3 {
			_, err := b.verifier.Verify(b.ctx, body)
			require.NoError(t, err)
		}
		require.Equal(t, 1, b.requests())
		b.clock.Advance(time.Minute + time.Second)
		_, err := b.verifier.Verify(b.ctx, body)
		require.NoError(t, err)
		require.Equal(t, 2, b.requests())
	})

	t.Run("size", func(t *testing.T) {
		t.Parallel()
		b := setupSNS(t, func(c *signature.SNSConfig) { c.CacheSize = 2 })
		bodies := map[string][]byte{}
		for _, v := range []string{"a", "b", "c"} {
			bodies[v] = b.signed(t, signature.SNSNotification, "2", "/cert.pem?v="+v)
		}
		// a and b fill the cache; c evicts a, the least recently used
		// after b was used again; b is still cached, a is fetched again.
		for _, v := range []string{"a", "b", "b", "c", "b", "a"} {
			_, err := b.verifier.Verify(b.ctx, bodies[v])
			require.NoError(t, err, v)
		}
		require.Equal(t, 2, b.requests("/cert.pem?v=a"))
		require.Equal(t, 1, b.requests("/cert.pem?v=b"))
		require.Equal(t, 1, b.requests("/cert.pem?v=c"))
	})
}

func TestSNSVerifyReportsUnavailableCertificates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		certPath string
	}{
		{"server error", "/error.pem"},
		{"throttled", "/throttled.pem"},
		{"timeout", "/slow.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSNS(t, func(c *signature.SNSConfig) { c.Timeout = 500 * time.Millisecond })
			_, err := b.verifier.Verify(b.ctx, b.signed(t, signature.SNSNotification, "2", tt.certPath))
			require.ErrorIs(t, err, signature.ErrUnavailable)
			require.NotErrorIs(t, err, signature.ErrBadSignature)
			require.Equal(t, http.StatusServiceUnavailable, signature.HTTPStatus(err))
		})
	}
}

func TestSNSVerifyRemembersFailuresBriefly(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, func(c *signature.SNSConfig) { c.FailureTTL = 10 * time.Second })
	body := b.signed(t, signature.SNSNotification, "2", "/error.pem")
	for range 3 {
		_, err := b.verifier.Verify(b.ctx, body)
		require.ErrorIs(t, err, signature.ErrUnavailable)
	}
	require.Equal(t, 1, b.requests(), "a failure is remembered for FailureTTL")

	b.clock.Advance(11 * time.Second)
	_, err := b.verifier.Verify(b.ctx, body)
	require.ErrorIs(t, err, signature.ErrUnavailable)
	require.Equal(t, 2, b.requests(), "and then fetched again")
}

func TestSNSVerifyBoundsConcurrentFetches(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, func(c *signature.SNSConfig) {
		c.MaxFetches = 1
		c.Timeout = 5 * time.Second
	})
	slow := b.signed(t, signature.SNSNotification, "2", "/slow.pem")
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := b.verifier.Verify(ctx, slow)
		done <- err
	}()
	<-b.slowArrived

	_, err := b.verifier.Verify(b.ctx, b.signed(t, signature.SNSNotification, "2", "/cert.pem"))
	require.ErrorIs(t, err, signature.ErrUnavailable)
	require.Zero(t, b.requests("/cert.pem"))

	// A caller that gives up stops waiting, with a retryable error.
	cancel()
	require.ErrorIs(t, <-done, signature.ErrUnavailable)
}

func TestSNSConfirmSubscription(t *testing.T) {
	t.Parallel()
	b := setupSNS(t, nil)
	msg, err := b.verifier.Verify(b.ctx, b.signed(t, signature.SNSSubscriptionConfirmation, "2", "/cert.pem"))
	require.NoError(t, err)

	require.NoError(t, b.verifier.ConfirmSubscription(b.ctx, msg))
	require.Equal(t, 1, b.pathRequests("/subscribe"), "the SubscribeURL is visited exactly once")
	require.Equal(t, 1, b.requests(msg.SubscribeURL[len(b.srv.URL):]), "with its query intact")
}

func TestSNSConfirmSubscriptionRefuses(t *testing.T) {
	t.Parallel()

	// elsewhere is a second server, whose host the verifier does not
	// allow, standing in for an attacker's SubscribeURL.
	var elsewhereHits atomic.Int64
	elsewhere := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereHits.Add(1)
	}))
	t.Cleanup(elsewhere.Close)

	tests := []struct {
		name string
		// msg returns the message to confirm.
		msg     func(t *testing.T, b *snsBundle) *signature.SNSMessage
		wantErr error
	}{
		{"not verified", func(t *testing.T, b *snsBundle) *signature.SNSMessage {
			m := b.message(signature.SNSSubscriptionConfirmation, "2", "/cert.pem")
			return &m
		}, nil},
		{"nil", func(t *testing.T, b *snsBundle) *signature.SNSMessage { return nil }, nil},
		{"UnsubscribeConfirmation", func(t *testing.T, b *snsBundle) *signature.SNSMessage {
			return b.verified(t, signature.SNSUnsubscribeConfirmation, nil)
		}, nil},
		{"Notification", func(t *testing.T, b *snsBundle) *signature.SNSMessage {
			return b.verified(t, signature.SNSNotification, nil)
		}, nil},
		{"SubscribeURL changed after Verify", func(t *testing.T, b *snsBundle) *signature.SNSMessage {
			m := b.verified(t, signature.SNSSubscriptionConfirmation, nil)
			m.SubscribeURL = elsewhere.URL + "/subscribe"
			return m
		}, signature.ErrBadSignature},
		{"SubscribeURL host not allowed", func(t *testing.T, b *snsBundle) *signature.SNSMessage {
			return b.verified(t, signature.SNSSubscriptionConfirmation, func(m *signature.SNSMessage) {
				m.SubscribeURL = elsewhere.URL + "/subscribe?Token=" + m.Token
			})
		}, signature.ErrBadSignature},
		{"SubscribeURL http", func(t *testing.T, b *snsBundle) *signature.SNSMessage {
			return b.verified(t, signature.SNSSubscriptionConfirmation, func(m *signature.SNSMessage) {
				m.SubscribeURL = "http://" + b.host + "/subscribe"
			})
		}, signature.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSNS(t, nil)
			msg := tt.msg(t, b)
			err := b.verifier.ConfirmSubscription(b.ctx, msg)
			require.Error(t, err)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			require.NotErrorIs(t, err, signature.ErrUnavailable)
			require.Zero(t, b.pathRequests("/subscribe"), "nothing may be confirmed")
		})
	}
	require.Zero(t, elsewhereHits.Load(), "a disallowed SubscribeURL must never be visited")
}

func TestSNSConfirmSubscriptionReportsSNSAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		path       string
		wantErr    error
		wantStatus int
	}{
		{"server error is retryable", "/subscribe-error", signature.ErrUnavailable, http.StatusServiceUnavailable},
		{"refusal is not", "/subscribe-forbidden", nil, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupSNS(t, nil)
			msg := b.verified(t, signature.SNSSubscriptionConfirmation, func(m *signature.SNSMessage) {
				m.SubscribeURL = b.srv.URL + tt.path
			})
			err := b.verifier.ConfirmSubscription(b.ctx, msg)
			require.Error(t, err)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			require.Equal(t, tt.wantStatus, signature.HTTPStatus(err))
			require.Equal(t, 1, b.requests(tt.path))
		})
	}
}

// verified returns a message of type typ, changed by change (when not nil)
// before it is signed, as Verify returned it.
func (b *snsBundle) verified(t *testing.T, typ string, change func(*signature.SNSMessage)) *signature.SNSMessage {
	t.Helper()
	m := b.message(typ, "2", "/cert.pem")
	if change != nil {
		change(&m)
	}
	sign(t, b.key, &m)
	got, err := b.verifier.Verify(b.ctx, encode(t, m))
	require.NoError(t, err)
	return got
}

func TestSNSConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   signature.SNSConfig
		field string
	}{
		{"timeout", signature.SNSConfig{Timeout: -time.Second}, "Timeout"},
		{"cache size", signature.SNSConfig{CacheSize: -1}, "CacheSize"},
		{"cache TTL", signature.SNSConfig{CacheTTL: -time.Second}, "CacheTTL"},
		{"max fetches", signature.SNSConfig{MaxFetches: -1}, "MaxFetches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := signature.NewSNSVerifier(tt.cfg)
			require.ErrorContains(t, err, "SNSConfig."+tt.field)
		})
	}
	_, err := signature.NewSNSVerifier(signature.SNSConfig{FailureTTL: -1})
	require.NoError(t, err, "a negative FailureTTL turns failure caching off")
}
