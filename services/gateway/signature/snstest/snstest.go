// Package snstest is a fake AWS SNS for tests of code that receives SNS
// HTTP deliveries: a TLS server that serves a signing certificate and
// answers subscription confirmations, counting them, and a way to sign
// messages with that certificate's key exactly as SNS does (signature
// version 2, SHA256withRSA over the canonical string AWS documents). Its
// Verifier trusts that server's host and nothing else.
package snstest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexus-platform/alexus/services/gateway/signature"
)

// SNS is one fake SNS endpoint.
type SNS struct {
	srv          *httptest.Server
	key          *rsa.PrivateKey
	confirmed    atomic.Int64
	certRequests atomic.Int64
}

// Start starts a fake SNS that lives as long as t.
func Start(t testing.TB) *SNS {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate SNS key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "sns.us-east-1.amazonaws.com"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create SNS certificate: %v", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s := &SNS{key: key}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cert.pem":
			s.certRequests.Add(1)
			_, _ = w.Write(certPEM)
		case "/confirm":
			s.confirmed.Add(1)
			_, _ = w.Write([]byte(`<ConfirmSubscriptionResponse/>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// Host is the fake's host:port, which its Verifier allows.
func (s *SNS) Host() string {
	u, _ := url.Parse(s.srv.URL)
	return u.Host
}

// Client is an HTTP client that trusts the fake's TLS certificate.
func (s *SNS) Client() *http.Client { return s.srv.Client() }

// Verifier returns an SNS verifier that fetches certificates from the fake
// only.
func (s *SNS) Verifier(t testing.TB) *signature.SNSVerifier {
	t.Helper()
	host := s.Host()
	v, err := signature.NewSNSVerifier(signature.SNSConfig{
		AllowedHost: func(h string) bool { return h == host },
		Client:      s.Client(),
	})
	if err != nil {
		t.Fatalf("new SNS verifier: %v", err)
	}
	return v
}

// Confirmations counts the subscription confirmations received.
func (s *SNS) Confirmations() int { return int(s.confirmed.Load()) }

// CertRequests counts the certificate fetches received.
func (s *SNS) CertRequests() int { return int(s.certRequests.Load()) }

// Notification returns a signed Notification carrying message (for
// CloudWatch, the alarm JSON).
func (s *SNS) Notification(t testing.TB, subject, message string) []byte {
	t.Helper()
	return s.Sign(t, signature.SNSMessage{
		Type: signature.SNSNotification, MessageID: randomID(t), Subject: subject, Message: message,
		TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts", Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		UnsubscribeURL: s.srv.URL + "/unsubscribe",
	})
}

// SubscriptionConfirmation returns a signed SubscriptionConfirmation whose
// SubscribeURL is the fake's.
func (s *SNS) SubscriptionConfirmation(t testing.TB) []byte {
	t.Helper()
	token := randomID(t)
	return s.Sign(t, signature.SNSMessage{
		Type: signature.SNSSubscriptionConfirmation, MessageID: randomID(t), Token: token,
		Message:  "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:alerts.",
		TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts", Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		SubscribeURL: s.srv.URL + "/confirm?Action=ConfirmSubscription&Token=" + token,
	})
}

// Sign fills in m's certificate URL and signature (version 2) and returns
// it as SNS posts it.
func (s *SNS) Sign(t testing.TB, m signature.SNSMessage) []byte {
	t.Helper()
	m.SignatureVersion, m.SigningCertURL = "2", s.srv.URL+"/cert.pem"
	sum := sha256.Sum256([]byte(StringToSign(m)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatalf("sign SNS message: %v", err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("encode SNS message: %v", err)
	}
	return body
}

// StringToSign is the canonical string as AWS documents it, written out
// independently of package signature so each checks the other.
func StringToSign(m signature.SNSMessage) string {
	var fields [][2]string
	if m.Type == signature.SNSNotification {
		fields = [][2]string{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != "" {
			fields = append(fields, [2]string{"Subject", m.Subject})
		}
		fields = append(fields, [2]string{"Timestamp", m.Timestamp}, [2]string{"TopicArn", m.TopicArn}, [2]string{"Type", m.Type})
	} else {
		fields = [][2]string{
			{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type},
		}
	}
	var out []byte
	for _, f := range fields {
		out = append(out, f[0]+"\n"+f[1]+"\n"...)
	}
	return string(out)
}

func randomID(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random id: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
