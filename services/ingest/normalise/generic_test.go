package normalise

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// A sender that uses its own fingerprint, as a cron monitor or a home-grown
// health checker would.
const genericFiringPayload = `{
  "title": "Nightly backup failed",
  "status": "firing",
  "severity": "error",
  "description": "pg_dump exited with status 1 after 12m",
  "resource": "db-primary-1",
  "labels": {"job": "backup", "env": "prod"},
  "annotations": {"runbook": "https://runbooks.example/backup"},
  "link": "https://cron.example/jobs/backup/runs/8812",
  "fingerprint": "backup/db-primary-1",
  "starts_at": "2026-03-01T02:00:05Z",
  "ends_at": "2026-03-01T04:00:00Z"
}`

const genericResolvedPayload = `{
  "title": "Nightly backup failed",
  "status": "resolved",
  "severity": "error",
  "resource": "db-primary-1",
  "labels": {"job": "backup", "env": "prod"},
  "fingerprint": "backup/db-primary-1",
  "starts_at": "2026-03-01T02:00:05Z",
  "ends_at": "2026-03-01T03:10:00+01:00"
}`

// A list of alerts without fingerprints, with odd but valid spellings: an
// upper-case status, a title with surrounding space, null annotations, and
// a body and an alert that claim a tenant.
const genericListPayload = `{
  "tenant": "someone-else",
  "tenant_id": "00000000-0000-0000-0000-000000000000",
  "alerts": [
    {"title": "  Queue depth high  ", "status": "ACKNOWLEDGED", "severity": "page", "resource": "orders-queue",
     "labels": {"queue": "orders"}, "annotations": null, "tenant_id": "00000000-0000-0000-0000-000000000001"},
    {"title": "Queue depth high", "resource": "billing-queue", "labels": {"queue": "billing"}},
    {"title": "Certificate expires in 7 days", "severity": "low"}
  ]
}`

func genericNormalise(t *testing.T, payload string) []*signalv1.Signal {
	return mustNormalise(t, Generic{}, payload, nil)
}

func TestGenericFiring(t *testing.T) {
	t.Parallel()
	sigs := genericNormalise(t, genericFiringPayload)
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, "generic", s.GetSource())
	require.Equal(t, "generic:backup/db-primary-1", s.GetFingerprint())
	require.Equal(t, "generic", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "backup/db-primary-1", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "Nightly backup failed", s.GetTitle())
	require.Equal(t, "pg_dump exited with status 1 after 12m", s.GetDescription())
	require.Equal(t, "db-primary-1", s.GetResource())
	require.Equal(t, map[string]string{"job": "backup", "env": "prod"}, s.GetLabels())
	require.Equal(t, "https://runbooks.example/backup", s.GetAnnotations()["runbook"])
	require.Equal(t, "https://cron.example/jobs/backup/runs/8812", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 2, 0, 5, 0, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt(), "a firing alert's ends_at is a forecast, not an end")
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
	require.JSONEq(t, genericFiringPayload, string(s.GetRawPayload()))
}

func TestGenericResolved(t *testing.T) {
	t.Parallel()
	s := genericNormalise(t, genericResolvedPayload)[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.Date(2026, 3, 1, 2, 10, 0, 0, time.UTC), s.GetEndsAt().AsTime())
	require.Empty(t, s.GetDescription())
	require.Empty(t, s.GetLink())
}

func TestGenericList(t *testing.T) {
	t.Parallel()
	sigs := genericNormalise(t, genericListPayload)
	require.Len(t, sigs, 3)

	orders := sigs[0]
	require.Equal(t, "Queue depth high", orders.GetTitle(), "the title is trimmed")
	require.Equal(t, signalv1.Status_STATUS_ACKNOWLEDGED, orders.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, orders.GetSeverity())
	require.Empty(t, orders.GetAnnotations())
	require.Empty(t, orders.GetExternalId())
	require.Empty(t, orders.GetTenantId(), "a body never chooses the tenant")
	require.NotContains(t, orders.GetLabels(), "tenant_id")

	billing := sigs[1]
	require.Equal(t, signalv1.Status_STATUS_FIRING, billing.GetStatus(), "status defaults to firing")
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, billing.GetSeverity(), "severity defaults to WARNING")
	require.Nil(t, billing.GetStartsAt())

	cert := sigs[2]
	require.Equal(t, signalv1.Severity_SEVERITY_INFO, cert.GetSeverity())
	require.Empty(t, cert.GetResource())
	require.Nil(t, cert.GetLabels())

	// Each signal keeps its own alert object, not the whole list.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(billing.GetRawPayload(), &raw))
	require.Equal(t, "billing-queue", raw["resource"])
	require.NotContains(t, raw, "alerts")
	for _, s := range sigs {
		require.Empty(t, s.GetTenantId())
		require.True(t, strings.HasPrefix(s.GetFingerprint(), "generichash:"), s.GetFingerprint())
	}
}

func TestGenericFingerprintStability(t *testing.T) {
	t.Parallel()
	firing := genericNormalise(t, genericFiringPayload)[0]
	resolved := genericNormalise(t, genericResolvedPayload)[0]
	other := genericNormalise(t, strings.Replace(genericFiringPayload, "backup/db-primary-1", "backup/db-replica-2", 1))[0]
	require.Equal(t, firing.GetFingerprint(), resolved.GetFingerprint())
	require.NotEqual(t, firing.GetFingerprint(), other.GetFingerprint())

	// Without a fingerprint: title, resource and labels, in any order.
	hashed := func(body string) string {
		return genericNormalise(t, body)[0].GetFingerprint()
	}
	a := hashed(`{"title":"Disk full","resource":"db-3","labels":{"mount":"/var","team":"dba"}}`)
	require.Equal(t, a, hashed(`{"status":"resolved","labels":{"team":"dba","mount":"/var"},"resource":"db-3","title":" Disk full ","severity":"critical","description":"cleared"}`),
		"status, severity, description and label order do not change the identity")
	require.NotEqual(t, a, hashed(`{"title":"Disk full","resource":"db-4","labels":{"mount":"/var","team":"dba"}}`))
	require.NotEqual(t, a, hashed(`{"title":"Disk nearly full","resource":"db-3","labels":{"mount":"/var","team":"dba"}}`))
	require.NotEqual(t, a, hashed(`{"title":"Disk full","resource":"db-3","labels":{"mount":"/home","team":"dba"}}`))
	require.NotEqual(t, a, hashed(`{"title":"Disk full","resource":"db-3","labels":{"mount":"/var"}}`))
	// A label named like a field is not that field.
	require.NotEqual(t, hashed(`{"title":"X","labels":{"resource":"db-3"}}`), hashed(`{"title":"X","resource":"db-3"}`))

	// The contract, spelled out and pinned, so that a change fails here first.
	require.Equal(t, "generichash:"+HashFields(map[string]string{
		"title": "Disk full", "resource": "db-3", "label:mount": "/var", "label:team": "dba",
	}), a)
	require.Equal(t, "generichash:49062a1288daf6f71a26f21dc6aa716692eb0e1ae9da305f94cf3855891df86d", a)

	// A sender fingerprint that looks like a hash cannot collide with one.
	own := hashed(`{"title":"Y","fingerprint":"` + strings.TrimPrefix(a, "generichash:") + `"}`)
	require.NotEqual(t, a, own)
}

func TestGenericSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"critical": signalv1.Severity_SEVERITY_CRITICAL, "Page": signalv1.Severity_SEVERITY_CRITICAL,
		"error": signalv1.Severity_SEVERITY_ERROR, "high": signalv1.Severity_SEVERITY_ERROR,
		"warning": signalv1.Severity_SEVERITY_WARNING, "minor": signalv1.Severity_SEVERITY_WARNING,
		"info": signalv1.Severity_SEVERITY_INFO, " LOW ": signalv1.Severity_SEVERITY_INFO,
		"": signalv1.Severity_SEVERITY_WARNING, "sev2": signalv1.Severity_SEVERITY_WARNING,
	}
	for word, want := range cases {
		body, err := json.Marshal(map[string]string{"title": "t", "severity": word})
		require.NoError(t, err)
		require.Equal(t, want, genericNormalise(t, string(body))[0].GetSeverity(), "severity %q", word)
	}
}

func TestGenericRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `title: x`, "not a JSON object"},
		{"array", `[{"title":"x"}]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"truncated", `{"title":"x"`, "not a JSON object in the generic alert format"},
		{"no title", `{"status":"firing"}`, "title is missing"},
		{"blank title", `{"title":"   "}`, "title is missing"},
		{"bad status", `{"title":"x","status":"exploded"}`, `status "exploded" is not firing, resolved or acknowledged`},
		{"label not string", `{"title":"x","labels":{"port":8080}}`, "alert does not fit the generic format"},
		{"labels not object", `{"title":"x","labels":["a"]}`, "alert does not fit the generic format"},
		{"bad starts_at", `{"title":"x","starts_at":"yesterday"}`, "starts_at: not an RFC 3339 time"},
		{"bad ends_at", `{"title":"x","status":"resolved","ends_at":"1700000000"}`, "ends_at: not an RFC 3339 time"},
		{"long fingerprint", `{"title":"x","fingerprint":"` + strings.Repeat("é", 201) + `"}`, "fingerprint is 201 characters long"},
		{"control in fingerprint", `{"title":"x","fingerprint":"a\u0000b"}`, "not printable"},
		{"javascript link", `{"title":"x","link":"javascript:alert(1)"}`, "link is not an absolute http or https URL"},
		{"relative link", `{"title":"x","link":"/alerts/1"}`, "link is not an absolute http or https URL"},
		{"alerts not array", `{"alerts":{"title":"x"}}`, "alerts is not a JSON array"},
		{"empty list", `{"alerts":[]}`, "alerts list is empty"},
		{"bad item", `{"alerts":[{"title":"x"},{"title":""}]}`, "alert 1: title is missing"},
		{"null item", `{"alerts":[null]}`, "alert 0: alert is not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Generic{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func TestGenericFingerprintLimit(t *testing.T) {
	t.Parallel()
	fp := strings.Repeat("é", 200)
	s := genericNormalise(t, `{"title":"x","fingerprint":"`+fp+`"}`)[0]
	require.Equal(t, "generic:"+fp, s.GetFingerprint(), "200 characters are allowed, whatever their bytes")
}

func FuzzGeneric(f *testing.F) {
	for _, seed := range []string{
		genericFiringPayload, genericResolvedPayload, genericListPayload,
		`{}`, `null`, `[]`, `{"alerts":null}`, `{"alerts":[]}`, `{"alerts":[null,{}]}`,
		`{"title":"x","starts_at":"0000-01-01T00:00:00Z"}`,
		`{"title":"x","status":"resolved","ends_at":"9999-12-31T23:59:59.999999999+23:59"}`,
		`{"title":"x","fingerprint":"\u00ff\ufffd"}`,
		"{\"title\":\"\xff\",\"labels\":{\"\xfe\":\"\xfd\"}}",
		`{"title":"x","link":"http://[::1"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Generic{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, GenericSource, sigs, err) {
			return
		}
		for _, s := range sigs {
			require.NotEmpty(t, strings.TrimSpace(s.GetTitle()))
		}
	})
}
