package normalise

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// dynatraceOpenPayload is Alexus's template as Dynatrace fills it for a
// new problem.
const dynatraceOpenPayload = `{
  "PID": "-4507218399612716893_1772365800000V2",
  "ProblemID": "P-26031147",
  "State": "OPEN",
  "ProblemTitle": "Response time degradation",
  "ProblemSeverity": "PERFORMANCE",
  "ProblemImpact": "SERVICE",
  "ImpactedEntity": "Response time degradation on Web service checkout-api",
  "ImpactedEntityNames": "checkout-api",
  "ImpactedEntities": [
    {"type": "SERVICE", "name": "checkout-api", "entity": "SERVICE-5A6B7C8D9E0F1A2B"}
  ],
  "ProblemURL": "https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=-4507218399612716893_1772365800000V2",
  "Tags": "env:prod, team:payments, [Kubernetes]namespace:shop, critical-path",
  "ProblemDetailsText": "Response time degradation\nService checkout-api: response time 2.4 s (threshold 800 ms)",
  "ProblemDetailsJSON": {
    "id": "-4507218399612716893_1772365800000V2",
    "startTime": 1772365800000,
    "endTime": -1,
    "displayName": "26031147",
    "impactLevel": "SERVICE",
    "status": "OPEN",
    "severityLevel": "PERFORMANCE",
    "tagsOfAffectedEntities": [{"context": "CONTEXTLESS", "key": "env", "value": "prod"}]
  }
}`

// dynatraceResolvedPayload is the notification for the same problem once
// it closes.
const dynatraceResolvedPayload = `{
  "PID": "-4507218399612716893_1772365800000V2",
  "ProblemID": "P-26031147",
  "State": "RESOLVED",
  "ProblemTitle": "Response time degradation",
  "ProblemSeverity": "PERFORMANCE",
  "ProblemImpact": "SERVICE",
  "ImpactedEntity": "Response time degradation on Web service checkout-api",
  "ImpactedEntities": [{"type": "SERVICE", "name": "checkout-api", "entity": "SERVICE-5A6B7C8D9E0F1A2B"}],
  "ProblemURL": "https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=-4507218399612716893_1772365800000V2",
  "Tags": "env:prod, team:payments",
  "ProblemDetailsText": "Response time degradation (resolved)",
  "ProblemDetailsJSON": {"id": "-4507218399612716893_1772365800000V2", "startTime": 1772365800000, "endTime": 1772367300000, "status": "CLOSED"}
}`

func normaliseDynatrace(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, Dynatrace{}, payload, nil)
}

// dynatraceVariant returns dynatraceOpenPayload with fields replaced; a nil
// value removes the field.
func dynatraceVariant(t testing.TB, changes map[string]any) string {
	return jsonVariant(t, dynatraceOpenPayload, changes)
}

func TestDynatraceOpen(t *testing.T) {
	t.Parallel()
	s := normaliseDynatrace(t, dynatraceOpenPayload)
	require.Equal(t, "dynatrace", s.GetSource())
	require.Equal(t, "dt:-4507218399612716893_1772365800000V2", s.GetFingerprint())
	require.Equal(t, "dynatrace", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "P-26031147", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Equal(t, "Response time degradation", s.GetTitle())
	require.Equal(t, "Response time degradation\nService checkout-api: response time 2.4 s (threshold 800 ms)", s.GetDescription())
	require.Equal(t, "checkout-api", s.GetResource())
	require.Equal(t, map[string]string{
		"env": "prod", "team": "payments", "[Kubernetes]namespace": "shop", "critical-path": "",
		"problem_id": "P-26031147", "problem_severity": "PERFORMANCE", "problem_impact": "SERVICE",
	}, s.GetLabels())
	require.Equal(t, "checkout-api (SERVICE-5A6B7C8D9E0F1A2B)", s.GetAnnotations()["impacted_entities"])
	require.Equal(t, "Response time degradation on Web service checkout-api", s.GetAnnotations()["impacted_entity"])
	require.Equal(t, "https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=-4507218399612716893_1772365800000V2", s.GetLink())
	require.Equal(t, time.UnixMilli(1772365800000).UTC(), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt(), "endTime -1 is an open problem")
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
	require.JSONEq(t, dynatraceOpenPayload, string(s.GetRawPayload()))
}

func TestDynatraceResolved(t *testing.T) {
	t.Parallel()
	s := normaliseDynatrace(t, dynatraceResolvedPayload)
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.UnixMilli(1772365800000).UTC(), s.GetStartsAt().AsTime())
	require.Equal(t, time.UnixMilli(1772367300000).UTC(), s.GetEndsAt().AsTime())
	require.Equal(t, "checkout-api", s.GetResource())
}

func TestDynatraceMerged(t *testing.T) {
	t.Parallel()
	s := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{"State": "MERGED"}))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus(), "a merged problem never gets its own RESOLVED")
	require.Equal(t, "dt:-4507218399612716893_1772365800000V2", s.GetFingerprint())
}

// Dynatrace's own test notification: numeric ids, JSON placeholders quoted
// into strings, "Problem URL" as in Dynatrace's example, no details, no
// title, and an availability problem.
func TestDynatraceUnusualButValid(t *testing.T) {
	t.Parallel()
	s := normaliseDynatrace(t, `{
	  "PID": 99999, "ProblemID": 999, "State": "open", "ProblemSeverity": "AVAILABILITY",
	  "ImpactedEntity": "Host unavailable on db-9",
	  "ImpactedEntities": "[{\"type\": \"HOST\", \"name\": \"db-9\", \"entity\": \"HOST-0000000000000001\"}]",
	  "ProblemDetailsJSON": "{\"startTime\": \"1772365800000\"}",
	  "Problem URL": "https://example.com",
	  "Tags": ""
	}`)
	require.Equal(t, "dt:99999", s.GetFingerprint())
	require.Equal(t, "999", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "Dynatrace problem 999", s.GetTitle())
	require.Equal(t, "db-9", s.GetResource())
	require.Equal(t, "https://example.com", s.GetLink())
	require.Equal(t, time.UnixMilli(1772365800000).UTC(), s.GetStartsAt().AsTime())
	require.Equal(t, map[string]string{"problem_id": "999", "problem_severity": "AVAILABILITY"}, s.GetLabels())

	minimal := normaliseDynatrace(t, `{"PID":"1_2V2","State":"RESOLVED","ImpactedEntity":"Something on host-1"}`)
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, minimal.GetStatus())
	require.Equal(t, "Something on host-1", minimal.GetResource())
	require.Equal(t, "Dynatrace problem 1_2V2", minimal.GetTitle())
	require.Nil(t, minimal.GetEndsAt())

	v2 := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{
		"ProblemDetailsJSON": nil, "ProblemDetailsJSONv2": map[string]any{"problemId": "x", "startTime": 1772365000000},
	}))
	require.Equal(t, time.UnixMilli(1772365000000).UTC(), v2.GetStartsAt().AsTime())

	unsafe := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{"ProblemURL": "data:text/html,<script>"}))
	require.Empty(t, unsafe.GetLink())
}

func TestDynatraceFingerprint(t *testing.T) {
	t.Parallel()
	open := normaliseDynatrace(t, dynatraceOpenPayload)
	resolved := normaliseDynatrace(t, dynatraceResolvedPayload)
	merged := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{"State": "MERGED", "ProblemTitle": "Multiple service problems"}))
	other := normaliseDynatrace(t, strings.ReplaceAll(dynatraceOpenPayload, "-4507218399612716893_", "-1111111111111111111_"))
	sameDisplayID := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{"PID": "123_456V2"}))

	require.Equal(t, open.GetFingerprint(), resolved.GetFingerprint())
	require.Equal(t, open.GetFingerprint(), merged.GetFingerprint())
	require.NotEqual(t, open.GetFingerprint(), other.GetFingerprint())
	require.NotEqual(t, open.GetFingerprint(), sameDisplayID.GetFingerprint(), "PID, not ProblemID, tells problems apart")

	// A PID outside the usual alphabet is hashed, not stored as sent.
	odd := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{"PID": "pid with spaces/and:slashes"}))
	require.Equal(t, "dthash:"+HashFields(map[string]string{"pid": "pid with spaces/and:slashes"}), odd.GetFingerprint())
	long := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{"PID": strings.Repeat("7", 129)}))
	require.True(t, strings.HasPrefix(long.GetFingerprint(), "dthash:"), long.GetFingerprint())
	// Pinned (sha256 of "pid\0x y\0", computed outside Go).
	require.Equal(t, "dthash:37ceeabe425c4c81861a88ae3143baf7f29ddcc8e8fac2666c6e74c8514b155f",
		normaliseDynatrace(t, `{"PID":"x y","State":"OPEN"}`).GetFingerprint())
}

func TestDynatraceSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"AVAILABILITY":           signalv1.Severity_SEVERITY_CRITICAL,
		"ERROR":                  signalv1.Severity_SEVERITY_ERROR,
		"PERFORMANCE":            signalv1.Severity_SEVERITY_WARNING,
		"RESOURCE_CONTENTION":    signalv1.Severity_SEVERITY_WARNING,
		"CUSTOM_ALERT":           signalv1.Severity_SEVERITY_WARNING,
		"MONITORING_UNAVAILABLE": signalv1.Severity_SEVERITY_WARNING,
		"INFO":                   signalv1.Severity_SEVERITY_INFO,
		"info":                   signalv1.Severity_SEVERITY_INFO,
		"":                       signalv1.Severity_SEVERITY_WARNING,
		"DOOM":                   signalv1.Severity_SEVERITY_WARNING,
	}
	for severity, want := range cases {
		require.Equal(t, want, dynatraceSeverity(severity), "ProblemSeverity %q", severity)
	}
	s := normaliseDynatrace(t, dynatraceVariant(t, map[string]any{"ProblemSeverity": "ERROR"}))
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
}

func TestDynatraceRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `State: OPEN`, "not a JSON object"},
		{"json array", `[{"PID":"1"}]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"missing PID", dynatraceVariant(t, map[string]any{"PID": nil}), "PID is missing"},
		{"PID an object", dynatraceVariant(t, map[string]any{"PID": map[string]any{}}), "PID: want a string or a number"},
		{"missing state", dynatraceVariant(t, map[string]any{"State": nil}), "State is missing"},
		{"unknown state", dynatraceVariant(t, map[string]any{"State": "{State}"}), `State is none of "OPEN", "RESOLVED" and "MERGED"`},
		{"entities an object", dynatraceVariant(t, map[string]any{"ImpactedEntities": map[string]any{"a": 1}}), "ImpactedEntities: not the JSON Dynatrace documents"},
		{"entities quoted badly", dynatraceVariant(t, map[string]any{"ImpactedEntities": "[{"}), "ImpactedEntities: not the JSON Dynatrace documents"},
		{"details a number", dynatraceVariant(t, map[string]any{"ProblemDetailsJSON": 7}), "ProblemDetailsJSON: not the JSON Dynatrace documents"},
		{"start not millis", dynatraceVariant(t, map[string]any{"ProblemDetailsJSON": map[string]any{"startTime": "yesterday"}}), "ProblemDetailsJSON: startTime: not whole milliseconds"},
		{"start out of range", dynatraceVariant(t, map[string]any{"ProblemDetailsJSON": map[string]any{"startTime": 9e18}}), "ProblemDetailsJSON: startTime: time out of range"},
		{"end an object", dynatraceVariant(t, map[string]any{"ProblemDetailsJSON": map[string]any{"endTime": map[string]any{}}}), "ProblemDetailsJSON: endTime: want a string or a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Dynatrace{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzDynatrace(f *testing.F) {
	for _, seed := range []string{
		dynatraceOpenPayload, dynatraceResolvedPayload,
		`{"PID":"1","State":"MERGED"}`,
		`{"PID":99999,"ProblemID":999,"State":"OPEN","ImpactedEntities":"[]","ProblemDetailsJSON":"{}"}`,
		`{"PID":"1","State":"OPEN","Tags":"a:b:c, ,d"}`,
		`{"PID":"1","State":"RESOLVED","ProblemDetailsJSON":{"startTime":1,"endTime":253402300799999}}`,
		`{"PID":"1","State":"OPEN","ProblemDetailsJSON":{"startTime":1e3}}`,
		"{\"PID\":\"\xff\",\"State\":\"OPEN\"}",
		`{}`, `null`, `[]`, `{"PID":null,"State":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Dynatrace{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, DynatraceSource, sigs, err) {
			return
		}
		require.Len(t, sigs, 1)
	})
}
