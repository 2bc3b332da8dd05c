package normalise

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

const firingPayload = `{
  "version": "4",
  "groupKey": "{}:{alertname=\"HighErrorRate\"}",
  "truncatedAlerts": 0,
  "status": "firing",
  "receiver": "alexus",
  "groupLabels": {"alertname": "HighErrorRate"},
  "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager.example:9093",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "HighErrorRate", "severity": "critical", "instance": "api-1:8080", "job": "api"},
      "annotations": {"summary": "API error rate above 5%", "description": "5xx ratio is 7% over 5m", "runbook_url": "https://runbooks.example/api"},
      "startsAt": "2026-03-01T11:55:00.123Z",
      "endsAt": "2026-03-01T12:10:00Z",
      "generatorURL": "http://prometheus.example:9090/graph?g0.expr=rate",
      "fingerprint": "c4a1f7e0b2d3e9f1"
    }
  ]
}`

const resolvedPayload = `{
  "version": "4",
  "groupKey": "g",
  "status": "resolved",
  "receiver": "alexus",
  "alerts": [
    {
      "status": "resolved",
      "labels": {"alertname": "DiskFull", "severity": "warning", "host": "db-3"},
      "annotations": {},
      "startsAt": "2026-03-01T10:00:00Z",
      "endsAt": "2026-03-01T11:30:00Z",
      "generatorURL": "",
      "fingerprint": "00aa11bb22cc33dd"
    }
  ]
}`

const groupedPayload = `{
  "version": "4",
  "groupKey": "g",
  "status": "firing",
  "receiver": "alexus",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "PodCrashLooping", "pod": "web-1", "severity": "error"}, "annotations": {}, "startsAt": "2026-03-01T11:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "1111111111111111"},
    {"status": "resolved", "labels": {"alertname": "PodCrashLooping", "pod": "web-2", "severity": "error"}, "annotations": {}, "startsAt": "2026-03-01T11:00:00Z", "endsAt": "2026-03-01T11:20:00Z", "fingerprint": "2222222222222222"},
    {"status": "firing", "labels": {"alertname": "PodCrashLooping", "pod": "web-3"}, "annotations": {"summary": "web-3 restarts"}, "startsAt": "2026-03-01T11:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "3333333333333333"}
  ]
}`

func noFingerprintPayload(labels string) string {
	return `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":` + labels + `,"annotations":{},"startsAt":"2026-03-01T11:00:00Z"}]}`
}

func normalise(t *testing.T, payload string) []*signalv1.Signal {
	return mustNormalise(t, Alertmanager{}, payload, nil)
}

func TestAlertmanagerFiring(t *testing.T) {
	t.Parallel()
	sigs := normalise(t, firingPayload)
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, "alertmanager", s.GetSource())
	require.Equal(t, "am:c4a1f7e0b2d3e9f1", s.GetFingerprint())
	require.Equal(t, "c4a1f7e0b2d3e9f1", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "API error rate above 5%", s.GetTitle())
	require.Equal(t, "5xx ratio is 7% over 5m", s.GetDescription())
	require.Equal(t, "api-1:8080", s.GetResource())
	require.Equal(t, "api", s.GetLabels()["job"])
	require.Equal(t, "https://runbooks.example/api", s.GetAnnotations()["runbook_url"])
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 0, 123e6, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt(), "a firing alert's endsAt is a forecast, not an end")
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Equal(t, "http://prometheus.example:9090/graph?g0.expr=rate", s.GetLink())
	require.Empty(t, s.GetId(), "normalisers never assign IDs")
	require.Empty(t, s.GetTenantId(), "normalisers never set the tenant")

	// The raw payload is the alert's own object, not the whole notification.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(s.GetRawPayload(), &raw))
	require.Equal(t, "c4a1f7e0b2d3e9f1", raw["fingerprint"])
	require.NotContains(t, raw, "groupKey")
}

func TestAlertmanagerResolved(t *testing.T) {
	t.Parallel()
	sigs := normalise(t, resolvedPayload)
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Equal(t, "DiskFull", s.GetTitle(), "title falls back to alertname")
	require.Equal(t, "db-3", s.GetResource())
	require.Equal(t, time.Date(2026, 3, 1, 11, 30, 0, 0, time.UTC), s.GetEndsAt().AsTime())
	require.Empty(t, s.GetLink())
}

func TestAlertmanagerGrouped(t *testing.T) {
	t.Parallel()
	sigs := normalise(t, groupedPayload)
	require.Len(t, sigs, 3)
	require.Equal(t, []string{"am:1111111111111111", "am:2222222222222222", "am:3333333333333333"},
		[]string{sigs[0].GetFingerprint(), sigs[1].GetFingerprint(), sigs[2].GetFingerprint()})
	require.Equal(t, signalv1.Status_STATUS_FIRING, sigs[0].GetStatus())
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, sigs[1].GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, sigs[0].GetSeverity())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, sigs[2].GetSeverity(), "missing severity is WARNING")
	require.Equal(t, "web-3 restarts", sigs[2].GetTitle())
	require.Equal(t, "web-2", sigs[1].GetResource())
	require.Nil(t, sigs[0].GetEndsAt())
	for _, s := range sigs {
		require.Contains(t, string(s.GetRawPayload()), s.GetExternalId())
	}
}

func TestAlertmanagerLabelHashFingerprint(t *testing.T) {
	t.Parallel()
	a := normalise(t, noFingerprintPayload(`{"alertname":"X","instance":"a","job":"j"}`))[0]
	reordered := normalise(t, noFingerprintPayload(`{"job":"j","instance":"a","alertname":"X"}`))[0]
	other := normalise(t, noFingerprintPayload(`{"alertname":"X","instance":"b","job":"j"}`))[0]
	// A label name/value split must not collide with another split.
	shifted := normalise(t, noFingerprintPayload(`{"alertname":"X","instance":"aj","ob":"j"}`))[0]

	require.True(t, strings.HasPrefix(a.GetFingerprint(), "amlabels:"), a.GetFingerprint())
	require.Len(t, strings.TrimPrefix(a.GetFingerprint(), "amlabels:"), 64)
	require.Equal(t, a.GetFingerprint(), reordered.GetFingerprint())
	require.NotEqual(t, a.GetFingerprint(), other.GetFingerprint())
	require.NotEqual(t, a.GetFingerprint(), shifted.GetFingerprint())
	require.Empty(t, a.GetExternalId())

	// The contract, spelled out: sha256 of name NUL value NUL, sorted by name.
	require.Equal(t, "amlabels:"+HashFields(map[string]string{"alertname": "X", "instance": "a", "job": "j"}), a.GetFingerprint())
	// Pinned, so that a change to the contract fails here first.
	require.Equal(t, "amlabels:b814eabb2ea436be69221328d11c48921d5a492ebd696787c3545823c4e96ba8", a.GetFingerprint())
}

func TestAlertmanagerOddFingerprintFallsBackToLabels(t *testing.T) {
	t.Parallel()
	p := `{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"X"},"fingerprint":"a:b}{c"}]}`
	s := normalise(t, p)[0]
	require.True(t, strings.HasPrefix(s.GetFingerprint(), "amlabels:"), s.GetFingerprint())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus(), "the group status stands in for a missing alert status")
}

func TestAlertmanagerSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"critical": signalv1.Severity_SEVERITY_CRITICAL, "page": signalv1.Severity_SEVERITY_CRITICAL,
		"Emergency": signalv1.Severity_SEVERITY_CRITICAL, " fatal ": signalv1.Severity_SEVERITY_CRITICAL,
		"error": signalv1.Severity_SEVERITY_ERROR, "HIGH": signalv1.Severity_SEVERITY_ERROR, "major": signalv1.Severity_SEVERITY_ERROR,
		"warning": signalv1.Severity_SEVERITY_WARNING, "warn": signalv1.Severity_SEVERITY_WARNING,
		"medium": signalv1.Severity_SEVERITY_WARNING, "minor": signalv1.Severity_SEVERITY_WARNING,
		"info": signalv1.Severity_SEVERITY_INFO, "low": signalv1.Severity_SEVERITY_INFO,
		"none": signalv1.Severity_SEVERITY_INFO, "informational": signalv1.Severity_SEVERITY_INFO,
		"": signalv1.Severity_SEVERITY_WARNING, "p1": signalv1.Severity_SEVERITY_WARNING,
	}
	for label, want := range cases {
		require.Equal(t, want, SeverityWord(label), "severity label %q", label)
	}
}

func TestAlertmanagerRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `<html>`, "not a JSON Alertmanager notification"},
		{"json array", `[1,2]`, "not a JSON Alertmanager notification"},
		{"missing version", `{"alerts":[{"labels":{"a":"b"}}]}`, "has no version"},
		{"wrong version", `{"version":"3","alerts":[{"labels":{"a":"b"}}]}`, `version "3" is not supported`},
		{"no alerts", `{"version":"4","status":"firing","alerts":[]}`, "has no alerts"},
		{"alerts missing", `{"version":"4","status":"firing"}`, "has no alerts"},
		{"alert without labels", `{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"}},{"status":"firing","labels":{}}]}`, "alert 1: alert has no labels"},
		{"null alert", `{"version":"4","alerts":[null]}`, "alert 0: alert has no labels"},
		{"label not a string", `{"version":"4","alerts":[{"status":"firing","labels":{"a":1}}]}`, "alert 0: not a JSON alert object"},
		{"bad status", `{"version":"4","alerts":[{"status":"exploding","labels":{"a":"b"}}]}`, `status "exploding"`},
		{"bad time", `{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"yesterday"}]}`, "startsAt: not an RFC 3339 time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Alertmanager{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := Builtin()
	n, err := r.Lookup("alertmanager")
	require.NoError(t, err)
	require.IsType(t, Alertmanager{}, n)

	_, err = r.Lookup("nagios")
	require.True(t, errors.Is(err, ErrUnknownSource))
	require.ErrorContains(t, err, `"nagios"`)
	require.ErrorContains(t, err, "known sources are alertmanager")
}

func FuzzAlertmanager(f *testing.F) {
	for _, seed := range []string{
		firingPayload, resolvedPayload, groupedPayload,
		noFingerprintPayload(`{"alertname":"X"}`),
		`{}`, `null`, `[]`, `{"version":"4"}`, `{"version":"4","alerts":[null]}`,
		`{"version":"4","alerts":[{"labels":{"a":"b"},"startsAt":"0000-01-01T00:00:00Z"}]}`,
		`{"version":"4","alerts":[{"labels":{"a":"b"},"status":"resolved","endsAt":"9999-12-31T23:59:59.999999999+23:59"}]}`,
		"{\"version\":\"4\",\"alerts\":[{\"labels\":{\"\xff\":\"\xfe\"}}]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Alertmanager{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, AlertmanagerSource, sigs, err) {
			return
		}
		for _, s := range sigs {
			require.NotEmpty(t, s.GetLabels())
		}
	})
}

func TestAlertmanagerRecordsRecipe(t *testing.T) {
	t.Parallel()
	sigs, err := Alertmanager{}.Normalise([]byte(firingPayload), nil, received)
	require.NoError(t, err)
	require.Equal(t, "am:c4a1f7e0b2d3e9f1", sigs[0].GetFingerprint())
	require.Equal(t, "alertmanager", sigs[0].GetFingerprintRecipe())
	require.EqualValues(t, 1, sigs[0].GetFingerprintRecipeVersion())
	require.Equal(t, "c4a1f7e0b2d3e9f1", sigs[0].GetExternalId())
}
