package normalise

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// elasticActivePayload is the per-alert template as Kibana renders it for
// an index threshold rule, with "context": {{{context}}}.
const elasticActivePayload = `{
  "status": "active",
  "date": "2026-03-01T11:55:00.412Z",
  "kibanaBaseUrl": "https://kibana.example.com",
  "rule": {
    "id": "2f6c1a40-d7b2-11ee-9a3c-5b1c0e2f9d11",
    "name": "Checkout latency p95",
    "spaceId": "default",
    "tags": ["team:payments", "prod"],
    "url": "https://kibana.example.com/app/management/insightsAndAlerting/triggersActions/rule/2f6c1a40-d7b2-11ee-9a3c-5b1c0e2f9d11"
  },
  "alert": {
    "id": "checkout-api",
    "uuid": "8c0e9b1e-3f41-4d7a-9a55-2b8f1c6d0e77",
    "actionGroup": "threshold met",
    "actionGroupName": "Threshold met",
    "flapping": false
  },
  "context": {
    "title": "alert Checkout latency p95 group checkout-api met threshold",
    "message": "alert 'Checkout latency p95' is active for group 'checkout-api':\n- Value: 812.5\n- Conditions Met: p95(latency) is greater than 500 over 5m",
    "group": "checkout-api",
    "date": "2026-03-01T11:55:00.000Z",
    "value": 812.5,
    "conditions": "p95(latency) is greater than 500"
  }
}`

// elasticRecoveredPayload is the action on the Recovered action group.
const elasticRecoveredPayload = `{
  "status": "recovered",
  "date": "2026-03-01T12:25:00.100Z",
  "kibanaBaseUrl": "https://kibana.example.com",
  "rule": {"id": "2f6c1a40-d7b2-11ee-9a3c-5b1c0e2f9d11", "name": "Checkout latency p95", "spaceId": "default", "tags": ["team:payments", "prod"], "url": ""},
  "alert": {"id": "checkout-api", "uuid": "8c0e9b1e-3f41-4d7a-9a55-2b8f1c6d0e77", "actionGroup": "recovered", "actionGroupName": "Recovered", "flapping": false},
  "context": {"message": "alert 'Checkout latency p95' is recovered for group 'checkout-api'", "group": "checkout-api", "value": 230.1}
}`

// elasticSummaryPayload is the summary template: new alerts as Kibana
// expands them for actions (nested), an ongoing one as stored (dotted
// names) and a recovered one.
const elasticSummaryPayload = `{
  "date": "2026-03-01T12:00:00.000Z",
  "kibanaBaseUrl": "https://kibana.example.com",
  "rule": {"id": "2f6c1a40-d7b2-11ee-9a3c-5b1c0e2f9d11", "name": "Checkout latency p95", "spaceId": "default", "tags": ["prod", "team:payments"], "url": "https://kibana.example.com/app/rules/2f6c1a40"},
  "alerts": {
    "new": {"count": 2, "data": [
      {"@timestamp": "2026-03-01T12:00:00.000Z", "kibana": {"alert": {
        "uuid": "0a1b2c3d-0000-4000-8000-000000000001", "instance": {"id": "checkout-api"},
        "status": "active", "workflow_status": "open", "start": "2026-03-01T11:55:00.412Z",
        "reason": "p95(latency) is 812.5, above 500", "action_group": "threshold met", "flapping": false,
        "url": "/app/observability/alerts/0a1b2c3d-0000-4000-8000-000000000001",
        "evaluation": {"value": 812.5, "threshold": 500}}}, "host": {"name": "api-7"}},
      {"kibana": {"alert": {"uuid": "0a1b2c3d-0000-4000-8000-000000000002", "instance": {"id": "cart-api"},
        "status": "active", "workflow_status": "acknowledged", "start": "2026-03-01T11:58:00Z",
        "severity": "critical"}}}
    ]},
    "ongoing": {"count": 1, "data": [
      {"kibana.alert.uuid": "0a1b2c3d-0000-4000-8000-000000000003", "kibana.alert.instance.id": "search-api",
       "kibana.alert.status": "active", "kibana.alert.start": "2026-03-01T11:40:00Z", "service.name": "search"}
    ]},
    "recovered": {"count": 1, "data": [
      {"kibana": {"alert": {"uuid": "0a1b2c3d-0000-4000-8000-000000000004", "instance": {"id": "login-api"},
        "status": "recovered", "start": "2026-03-01T11:30:00Z", "end": "2026-03-01T11:59:30Z"}}}
    ]}
  }
}`

func normaliseElastic(t *testing.T, payload string) []*signalv1.Signal {
	return mustNormalise(t, Elastic{}, payload, nil)
}

func TestElasticActive(t *testing.T) {
	t.Parallel()
	sigs := normaliseElastic(t, elasticActivePayload)
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, "elastic", s.GetSource())
	require.Equal(t, "elastic", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "8c0e9b1e-3f41-4d7a-9a55-2b8f1c6d0e77", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity(), "no severity given")
	require.Equal(t, "alert Checkout latency p95 group checkout-api met threshold", s.GetTitle())
	require.True(t, strings.HasPrefix(s.GetDescription(), "alert 'Checkout latency p95' is active"), s.GetDescription())
	require.Equal(t, "checkout-api", s.GetResource())
	require.Equal(t, map[string]string{
		"rule_id": "2f6c1a40-d7b2-11ee-9a3c-5b1c0e2f9d11", "rule_name": "Checkout latency p95",
		"space_id": "default", "alert_id": "checkout-api", "action_group": "threshold met",
		"flapping": "false", "tags": "prod,team:payments", "team": "payments",
	}, s.GetLabels())
	require.Equal(t, "812.5", s.GetAnnotations()["value"])
	require.Equal(t, "p95(latency) is greater than 500", s.GetAnnotations()["conditions"])
	require.Equal(t, "Threshold met", s.GetAnnotations()["action_group_name"])
	require.Equal(t, "https://kibana.example.com/app/management/insightsAndAlerting/triggersActions/rule/2f6c1a40-d7b2-11ee-9a3c-5b1c0e2f9d11", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 0, 412e6, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
	require.JSONEq(t, elasticActivePayload, string(s.GetRawPayload()))
}

func TestElasticRecovered(t *testing.T) {
	t.Parallel()
	s := normaliseElastic(t, elasticRecoveredPayload)[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, "Checkout latency p95", s.GetTitle(), "title falls back to the rule name")
	require.Nil(t, s.GetStartsAt())
	require.Equal(t, time.Date(2026, 3, 1, 12, 25, 0, 100e6, time.UTC), s.GetEndsAt().AsTime())
	require.Empty(t, s.GetLink(), "an empty rule.url is no link")
	require.Equal(t, "recovered", s.GetLabels()["action_group"])
}

// The template written variable by variable, without "status", with the
// comma-joined {{rule.tags}} and a flapping flag that Mustache quoted.
func TestElasticUnusualButValid(t *testing.T) {
	t.Parallel()
	p := `{
	  "severity": "critical",
	  "date": "2026-03-01T11:55:00Z",
	  "rule": {"id": "es-query-1", "name": "Errors in checkout logs", "tags": "prod, team:payments,prod", "url": "javascript:alert(1)"},
	  "alert": {"id": "query matched", "actionGroup": "query matched", "flapping": "true"},
	  "context": {"message": "Document count is 42 in the last 5m", "value": "42",
	              "hits": [{"_id": "a"}], "alertDetailsUrl": "https://kibana.example.com/app/observability/alerts/x"}
	}`
	s := normaliseElastic(t, p)[0]
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "query matched", s.GetResource(), "without context.group the alert id is the resource")
	require.Equal(t, "prod,team:payments", s.GetLabels()["tags"])
	require.Equal(t, "true", s.GetLabels()["flapping"])
	require.Equal(t, `[{"_id":"a"}]`, s.GetAnnotations()["hits"], "structured context values are kept as JSON")
	require.Equal(t, "https://kibana.example.com/app/observability/alerts/x", s.GetLink())
	require.Empty(t, s.GetExternalId(), "no alert.uuid in this template")

	// The Recovered action group resolves when the template has no status.
	recovered := normaliseElastic(t, strings.Replace(p, `"actionGroup": "query matched"`, `"actionGroup": "recovered"`, 1))[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, recovered.GetStatus())
	require.Equal(t, s.GetFingerprint(), recovered.GetFingerprint())
	require.Equal(t, "query matched", recovered.GetLabels()["alert_id"])

	untracked := normaliseElastic(t, jsonVariant(t, elasticActivePayload, map[string]any{"status": "untracked"}))[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, untracked.GetStatus())
}

func TestElasticSummary(t *testing.T) {
	t.Parallel()
	sigs := normaliseElastic(t, elasticSummaryPayload)
	require.Len(t, sigs, 4)
	var ids, resources []string
	var statuses []signalv1.Status
	for _, s := range sigs {
		ids = append(ids, s.GetLabels()["alert_id"])
		resources = append(resources, s.GetResource())
		statuses = append(statuses, s.GetStatus())
	}
	require.Equal(t, []string{"checkout-api", "cart-api", "search-api", "login-api"}, ids)
	require.Equal(t, []string{"api-7", "cart-api", "search", "login-api"}, resources)
	require.Equal(t, []signalv1.Status{
		signalv1.Status_STATUS_FIRING, signalv1.Status_STATUS_ACKNOWLEDGED,
		signalv1.Status_STATUS_FIRING, signalv1.Status_STATUS_RESOLVED,
	}, statuses)

	first := sigs[0]
	require.Equal(t, "0a1b2c3d-0000-4000-8000-000000000001", first.GetExternalId())
	require.Equal(t, "Checkout latency p95", first.GetTitle())
	require.Equal(t, "p95(latency) is 812.5, above 500", first.GetDescription())
	require.Equal(t, "812.5", first.GetAnnotations()["evaluation_value"])
	require.Equal(t, "https://kibana.example.com/app/observability/alerts/0a1b2c3d-0000-4000-8000-000000000001", first.GetLink(),
		"a relative kibana.alert.url is joined to kibanaBaseUrl")
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 0, 412e6, time.UTC), first.GetStartsAt().AsTime())
	require.Nil(t, first.GetEndsAt())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, sigs[1].GetSeverity())
	require.Equal(t, "https://kibana.example.com/app/rules/2f6c1a40", sigs[2].GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 59, 30, 0, time.UTC), sigs[3].GetEndsAt().AsTime())

	// Each signal's raw payload is its own alert document.
	for _, s := range sigs {
		require.Contains(t, string(s.GetRawPayload()), s.GetExternalId())
		require.NotContains(t, string(s.GetRawPayload()), `"alerts"`)
	}

	// The same alert has the same fingerprint in either form.
	active := normaliseElastic(t, elasticActivePayload)[0]
	require.Equal(t, active.GetFingerprint(), first.GetFingerprint())
}

func TestElasticSummaryAll(t *testing.T) {
	t.Parallel()
	p := `{"rule": {"id": "r1", "name": "Disk"}, "alerts": {"all": {"count": 2, "data": [
	  {"kibana.alert.instance.id": "db-1", "kibana.alert.status": "active", "kibana.alert.workflow_status": "acknowledged",
	   "kibana.alert.rule.tags": ["storage"]},
	  {"kibana.alert.instance.id": "db-2", "kibana.alert.status": "recovered", "kibana.alert.end": "2026-03-01T11:00:00Z"}
	]}}}`
	sigs := normaliseElastic(t, p)
	require.Len(t, sigs, 2)
	require.Equal(t, signalv1.Status_STATUS_ACKNOWLEDGED, sigs[0].GetStatus())
	require.Equal(t, "storage", sigs[0].GetLabels()["tags"], "the document's own tags stand in for rule.tags")
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, sigs[1].GetStatus())
	require.Equal(t, time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), sigs[1].GetEndsAt().AsTime())

	// "all" is ignored when the specific buckets are there, so nothing
	// is counted twice.
	both := `{"rule": {"id": "r1"}, "alerts": {
	  "new": {"data": [{"kibana.alert.instance.id": "db-1"}]},
	  "all": {"data": [{"kibana.alert.instance.id": "db-1", "kibana.alert.status": "active"}]}}}`
	require.Len(t, normaliseElastic(t, both), 1)

	// A summary may carry the rule only inside its documents.
	noRule := `{"alerts": {"new": {"data": [{"kibana.alert.instance.id": "db-1", "kibana.alert.rule.uuid": "r1", "kibana.alert.rule.name": "Disk"}]}}}`
	s := normaliseElastic(t, noRule)[0]
	require.Equal(t, "Disk", s.GetTitle())
	require.Equal(t, sigs[0].GetFingerprint(), s.GetFingerprint())
}

func TestElasticFingerprint(t *testing.T) {
	t.Parallel()
	active := normaliseElastic(t, elasticActivePayload)[0]
	recovered := normaliseElastic(t, elasticRecoveredPayload)[0]
	// A later activation of the same group gets a new uuid and keeps its
	// fingerprint.
	again := normaliseElastic(t, strings.Replace(elasticActivePayload, "8c0e9b1e-3f41", "11111111-3f41", 1))[0]
	otherGroup := normaliseElastic(t, strings.ReplaceAll(elasticActivePayload, `"checkout-api"`, `"cart-api"`))[0]
	otherRule := normaliseElastic(t, strings.ReplaceAll(elasticActivePayload, "2f6c1a40-d7b2", "99999999-d7b2"))[0]

	require.Equal(t, active.GetFingerprint(), recovered.GetFingerprint())
	require.Equal(t, active.GetFingerprint(), again.GetFingerprint())
	require.NotEqual(t, active.GetExternalId(), again.GetExternalId())
	require.NotEqual(t, active.GetFingerprint(), otherGroup.GetFingerprint())
	require.NotEqual(t, active.GetFingerprint(), otherRule.GetFingerprint())

	// The contract, spelled out, and pinned (sha256 of "alert_id\0x\0rule_id\0r\0",
	// computed outside Go).
	require.Equal(t, "es:"+HashFields(map[string]string{"rule_id": "2f6c1a40-d7b2-11ee-9a3c-5b1c0e2f9d11", "alert_id": "checkout-api"}), active.GetFingerprint())
	require.Equal(t, "es:"+HashFields(map[string]string{"alert_id": "x", "rule_id": "r"}), normaliseElastic(t, `{"rule":{"id":"r"},"alert":{"id":"x"}}`)[0].GetFingerprint())
	require.Equal(t, "es:b141cba94671693d42c4548b2519465e0bf68a142befb88438b43109b9a0da4f", normaliseElastic(t, `{"rule":{"id":"r"},"alert":{"id":"x"}}`)[0].GetFingerprint())
}

func TestElasticSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"critical": signalv1.Severity_SEVERITY_CRITICAL, "high": signalv1.Severity_SEVERITY_ERROR,
		"medium": signalv1.Severity_SEVERITY_WARNING, "low": signalv1.Severity_SEVERITY_INFO,
		"": signalv1.Severity_SEVERITY_WARNING, "sev1": signalv1.Severity_SEVERITY_WARNING,
	}
	for severity, want := range cases {
		top := normaliseElastic(t, jsonVariant(t, elasticActivePayload, map[string]any{"severity": severity}))[0]
		require.Equal(t, want, top.GetSeverity(), "severity %q", severity)
		fromContext := normaliseElastic(t, jsonVariant(t, elasticActivePayload, map[string]any{"context": map[string]any{"severity": severity}}))[0]
		require.Equal(t, want, fromContext.GetSeverity(), "context.severity %q", severity)
		doc := `{"rule":{"id":"r"},"alerts":{"new":{"data":[{"kibana.alert.instance.id":"a","kibana.alert.severity":"` + severity + `"}]}}}`
		require.Equal(t, want, normaliseElastic(t, doc)[0].GetSeverity(), "kibana.alert.severity %q", severity)
	}
	// The template's own severity wins over the alert's.
	p := `{"severity":"low","rule":{"id":"r"},"alerts":{"new":{"data":[{"kibana.alert.instance.id":"a","kibana.alert.severity":"critical"}]}}}`
	require.Equal(t, signalv1.Severity_SEVERITY_INFO, normaliseElastic(t, p)[0].GetSeverity())
}

func TestElasticRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `rule fired`, "not a JSON Kibana webhook body"},
		{"json array", `[]`, "not a JSON Kibana webhook body"},
		{"neither form", `{"rule":{"id":"r"}}`, `has neither "alert"`},
		{"null alert", `{"rule":{"id":"r"},"alert":null}`, `has neither "alert"`},
		{"missing rule id", `{"rule":{"name":"n"},"alert":{"id":"a"}}`, "rule.id is missing"},
		{"missing alert id", `{"rule":{"id":"r"},"alert":{"uuid":"u"}}`, "alert.id is missing"},
		{"bad status", `{"status":"exploded","rule":{"id":"r"},"alert":{"id":"a"}}`, `status is neither "active" nor "recovered"`},
		{"bad date", `{"date":"yesterday","rule":{"id":"r"},"alert":{"id":"a"}}`, "date: not an RFC 3339 time"},
		{"unrendered mustache", `{"date":"{{date}}","rule":{"id":"r"},"alert":{"id":"a"}}`, "date: not an RFC 3339 time"},
		{"flapping an object", `{"rule":{"id":"r"},"alert":{"id":"a","flapping":{}}}`, "alert.flapping: want a string or a number"},
		{"tags an object", `{"rule":{"id":"r","tags":{}},"alert":{"id":"a"}}`, "rule.tags: neither an array"},
		{"context a string", `{"rule":{"id":"r"},"alert":{"id":"a"},"context":"x"}`, "not a JSON Kibana webhook body"},
		{"empty summary", `{"rule":{"id":"r"},"alerts":{"new":{"count":0,"data":[]},"ongoing":{"data":[]},"recovered":{"data":[]}}}`, "summary has no alerts"},
		{"summary without buckets", `{"rule":{"id":"r"},"alerts":{}}`, "summary has no alerts"},
		{"summary element not an object", `{"rule":{"id":"r"},"alerts":{"new":{"data":[{"kibana.alert.instance.id":"a"},7]}}}`, "alerts.new.data[1]: not a JSON alert document"},
		{"summary null element", `{"rule":{"id":"r"},"alerts":{"recovered":{"data":[null]}}}`, "alerts.recovered.data[0]: not a JSON alert document"},
		{"summary without instance id", `{"rule":{"id":"r"},"alerts":{"ongoing":{"data":[{"kibana":{"alert":{"uuid":"u"}}}]}}}`, "alerts.ongoing.data[0]: kibana.alert.instance.id is missing"},
		{"summary without rule", `{"alerts":{"new":{"data":[{"kibana.alert.instance.id":"a"}]}}}`, "neither rule.id nor kibana.alert.rule.uuid"},
		{"summary bad start", `{"rule":{"id":"r"},"alerts":{"new":{"data":[{"kibana.alert.instance.id":"a","kibana.alert.start":"noon"}]}}}`, "kibana.alert.start: not an RFC 3339 time"},
		{"all without status", `{"rule":{"id":"r"},"alerts":{"all":{"data":[{"kibana.alert.instance.id":"a"}]}}}`, "kibana.alert.status is missing"},
		{"all with odd status", `{"rule":{"id":"r"},"alerts":{"all":{"data":[{"kibana.alert.instance.id":"a","kibana.alert.status":"OK?"}]}}}`, "kibana.alert.status: status is neither"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Elastic{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzElastic(f *testing.F) {
	for _, seed := range []string{
		elasticActivePayload, elasticRecoveredPayload, elasticSummaryPayload,
		`{"rule":{"id":"r"},"alert":{"id":"a"}}`,
		`{"rule":{"id":"r","tags":"a,b:c"},"alert":{"id":"a","actionGroup":"recovered","flapping":true}}`,
		`{"rule":{"id":"r"},"alerts":{"all":{"data":[{"kibana.alert.instance.id":"a","kibana.alert.status":"recovered"}]}}}`,
		`{"rule":{"id":"r"},"alerts":{"new":{"data":[{"kibana":{"alert.instance":{"id":"a"}},"kibana.alert":{"start":"2026-03-01T00:00:00Z"}}]}}}`,
		`{"kibanaBaseUrl":"https://k","rule":{"id":"r"},"alerts":{"new":{"data":[{"kibana.alert.instance.id":"a","kibana.alert.url":"//evil"}]}}}`,
		`{"date":"9999-12-31T23:59:59.999999999+23:59","rule":{"id":"r"},"alert":{"id":"a"}}`,
		"{\"rule\":{\"id\":\"\xff\"},\"alert\":{\"id\":\"\xfe\"}}",
		`{}`, `null`, `[]`, `{"alerts":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Elastic{}.Normalise(payload, nil, received)
		requireStorableSignals(t, ElasticSource, sigs, err)
	})
}
