package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Headers set on every delivery.
const (
	HeaderTimestamp      = "X-Alexus-Timestamp"
	HeaderSignature      = "X-Alexus-Signature"
	HeaderIdempotencyKey = "X-Alexus-Idempotency-Key"
)

// signaturePrefix names the MAC in the signature header, so another
// algorithm can be introduced later without ambiguity.
const signaturePrefix = "sha256="

// Sign returns the signature header value for a body sent at timestamp
// (unix seconds, as sent in HeaderTimestamp): "sha256=" followed by the hex
// HMAC-SHA256 of timestamp + "." + body. Covering the timestamp lets a
// receiver refuse old replays.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Sign(secret, timestamp, body),
// comparing in constant time.
func Verify(secret []byte, timestamp string, body []byte, signature string) bool {
	if !strings.HasPrefix(signature, signaturePrefix) {
		return false
	}
	got, err := hex.DecodeString(strings.TrimPrefix(signature, signaturePrefix))
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(Sign(secret, timestamp, body), signaturePrefix))
	return hmac.Equal(got, want)
}
