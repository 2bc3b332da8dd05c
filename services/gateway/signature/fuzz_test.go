package signature

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fuzz targets check the header parsers, which read attacker-chosen
// strings before anything is authenticated: they must never panic, must
// return only well-formed results, and must never let a header pass that
// does not carry the right MAC. Seeds are added with f.Add and kept under
// testdata/fuzz; run one with, e.g.,
//
//	go test -run '^$' -fuzz FuzzParseAlexus ./services/gateway/signature/

const fuzzSecret = "fuzz-secret"

var fuzzNow = time.Unix(1767225600, 0)

func FuzzParseAlexus(f *testing.F) {
	body := []byte(`{"title":"disk full"}`)
	f.Add(Sign([]byte(fuzzSecret), body, fuzzNow), body)
	f.Add("t=1767225600,v1=00,v1=ff", body)
	f.Add(" v1=abcd , t=1767225600 ,, v2=zz ", body)
	f.Add("t=1767225600,t=1767225600,v1=00", body)
	f.Add("t=-1,v1=00", body)
	f.Add("t=99999999999999999999,v1=00", body)
	f.Add("t=1767225600,v1=", body)
	f.Add("t,v1", body)
	f.Add("=,=,=", []byte{})
	f.Add("", []byte("x"))

	f.Fuzz(func(t *testing.T, value string, body []byte) {
		h, err := parseAlexus(value)
		if err == nil {
			if h.timestamp < 0 || h.rawTimestamp == "" || strings.Trim(h.rawTimestamp, "0123456789") != "" {
				t.Fatalf("parseAlexus(%q) accepted timestamp %q (%d)", value, h.rawTimestamp, h.timestamp)
			}
			if len(h.signatures) == 0 {
				t.Fatalf("parseAlexus(%q) accepted no signature", value)
			}
			for _, s := range h.signatures {
				if len(s) == 0 {
					t.Fatalf("parseAlexus(%q) accepted an empty signature", value)
				}
			}
		}

		header := http.Header{}
		header.Set(HeaderAlexus, value)
		err = Verify("generic", []byte(fuzzSecret), header, body, fuzzNow)
		if err == nil {
			// It passed, so the header names a time within the window and
			// holds the MAC over that time and the body.
			want := Sign([]byte(fuzzSecret), body, time.Unix(h.timestamp, 0))
			_, mac, _ := strings.Cut(want, ",v1=")
			if !strings.Contains(strings.ToLower(value), "v1="+mac) {
				t.Fatalf("Verify accepted %q, which lacks the MAC", value)
			}
			return
		}
		if !errors.Is(err, ErrMissingSignature) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrStale) {
			t.Fatalf("Verify(%q) = %v, not a 401 error", value, err)
		}
	})
}

func FuzzAlexusRoundTrip(f *testing.F) {
	f.Add([]byte(fuzzSecret), []byte(`{"title":"disk full"}`), int64(0))
	f.Add([]byte{0}, []byte{}, int64(-299))
	f.Add([]byte("k"), []byte("\x00\xff,t=1,v1=00"), int64(300))

	f.Fuzz(func(t *testing.T, secret, body []byte, skew int64) {
		if len(secret) == 0 {
			return
		}
		signedAt := fuzzNow.Add(time.Duration(skew%1000) * time.Second)
		header := http.Header{}
		header.Set(HeaderAlexus, Sign(secret, body, signedAt))
		err := Verify("generic", secret, header, body, fuzzNow)
		inWindow := fuzzNow.Sub(signedAt).Abs() <= DefaultTolerance
		switch {
		case inWindow && err != nil:
			t.Fatalf("a fresh signature failed: %v", err)
		case !inWindow && !errors.Is(err, ErrStale):
			t.Fatalf("a signature %s old was not stale: %v", fuzzNow.Sub(signedAt), err)
		}
		tampered := append(append([]byte(nil), body...), '!')
		if err := Verify("generic", secret, header, tampered, fuzzNow); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("a tampered body was not refused: %v", err)
		}
	})
}

func FuzzParsePagerDuty(f *testing.F) {
	body := []byte(`{"event":{"event_type":"incident.triggered"}}`)
	good := hex.EncodeToString(computeMAC([]byte(fuzzSecret), body))
	f.Add("v1="+good, body)
	f.Add("v1=00,v1="+good, body)
	f.Add("v1="+strings.ToUpper(good)+", v2=zz", body)
	f.Add("v1=", body)
	f.Add("v1=0", body)
	f.Add(",,,", body)
	f.Add("v1=v1=v1=", []byte{})
	f.Add(good, body)

	f.Fuzz(func(t *testing.T, value string, body []byte) {
		sigs, err := parsePagerDuty(value)
		if err == nil {
			if len(sigs) == 0 {
				t.Fatalf("parsePagerDuty(%q) accepted no signature", value)
			}
			for _, s := range sigs {
				if len(s) == 0 {
					t.Fatalf("parsePagerDuty(%q) accepted an empty signature", value)
				}
			}
		}

		header := http.Header{}
		header.Set(HeaderPagerDuty, value)
		err = Verify("pagerduty", []byte(fuzzSecret), header, body, fuzzNow)
		if err == nil {
			mac := hex.EncodeToString(computeMAC([]byte(fuzzSecret), body))
			if !strings.Contains(strings.ToLower(value), "v1="+mac) {
				t.Fatalf("Verify accepted %q, which lacks the MAC", value)
			}
			return
		}
		if !errors.Is(err, ErrMissingSignature) && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify(%q) = %v, not a 401 error", value, err)
		}
	})
}
