package normalise

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// grafanaFiring is a webhook contact point notification with two firing
// alerts of one rule, as Grafana 10 sends it.
const grafanaFiring = `{
  "receiver": "alexus",
  "status": "firing",
  "orgId": 1,
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "Checkout latency", "grafana_folder": "Payments", "severity": "critical", "instance": "checkout-7f9c:9100", "team": "payments"},
      "annotations": {"summary": "p99 checkout latency above 2s", "description": "p99 is 3.4s over the last 5m", "runbook_url": "https://runbooks.example/checkout"},
      "startsAt": "2026-03-01T11:50:00.5+01:00",
      "endsAt": "2026-03-01T12:20:00+01:00",
      "generatorURL": "https://grafana.example/alerting/grafana/fe1k2/view?orgId=1",
      "fingerprint": "9f1c2b3a4d5e6f70",
      "silenceURL": "https://grafana.example/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DCheckout+latency",
      "dashboardURL": "https://grafana.example/d/pay01?orgId=1",
      "panelURL": "https://grafana.example/d/pay01?orgId=1&viewPanel=4",
      "values": {"A": 3.41, "C": 1},
      "valueString": "[ var='A' labels={instance=checkout-7f9c:9100} value=3.41 ], [ var='C' labels={instance=checkout-7f9c:9100} value=1 ]"
    },
    {
      "status": "firing",
      "labels": {"alertname": "Checkout latency", "grafana_folder": "Payments", "severity": "critical", "instance": "checkout-2b1d:9100", "team": "payments"},
      "annotations": {"summary": "p99 checkout latency above 2s"},
      "startsAt": "2026-03-01T11:52:00+01:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://grafana.example/alerting/grafana/fe1k2/view?orgId=1",
      "fingerprint": "0a1b2c3d4e5f6a7b",
      "silenceURL": "",
      "dashboardURL": "",
      "panelURL": "",
      "values": {"A": 2.2, "C": 1},
      "valueString": ""
    }
  ],
  "groupLabels": {"alertname": "Checkout latency"},
  "commonLabels": {"alertname": "Checkout latency", "team": "payments"},
  "commonAnnotations": {},
  "externalURL": "https://grafana.example/",
  "version": "1",
  "groupKey": "{}/{team=\"payments\"}:{alertname=\"Checkout latency\"}",
  "truncatedAlerts": 0,
  "title": "[FIRING:2] Checkout latency Payments (payments)",
  "state": "alerting",
  "message": "**Firing**\n\nValue: A=3.41, C=1\n"
}`

// grafanaResolved is the resolved notification of the first alert above.
const grafanaResolved = `{
  "receiver": "alexus",
  "status": "resolved",
  "orgId": 1,
  "alerts": [
    {
      "status": "resolved",
      "labels": {"alertname": "Checkout latency", "grafana_folder": "Payments", "severity": "critical", "instance": "checkout-7f9c:9100", "team": "payments"},
      "annotations": {"summary": "p99 checkout latency above 2s"},
      "startsAt": "2026-03-01T11:50:00.5+01:00",
      "endsAt": "2026-03-01T12:05:00+01:00",
      "generatorURL": "https://grafana.example/alerting/grafana/fe1k2/view?orgId=1",
      "fingerprint": "9f1c2b3a4d5e6f70",
      "values": {"A": 0.8, "C": 0},
      "valueString": "[ var='A' value=0.8 ]"
    }
  ],
  "version": "1",
  "groupKey": "g",
  "truncatedAlerts": 0,
  "title": "[RESOLVED] Checkout latency Payments (payments)",
  "state": "ok",
  "message": "**Resolved**"
}`

// grafanaNoData is an unusual but valid notification: a DatasourceNoData
// alert from a hand-built or older sender with no fingerprint, no summary,
// no status of its own (the envelope's stands in), no severity, null
// values and only a dashboard link.
const grafanaNoData = `{
  "status": "firing",
  "orgId": 3,
  "alerts": [
    {
      "labels": {"alertname": "DatasourceNoData", "datasource_uid": "prom-eu", "rulename": "Queue depth", "service": "billing-worker"},
      "annotations": {},
      "startsAt": "2026-03-01T11:00:00Z",
      "dashboardURL": "https://grafana.example/d/q01",
      "values": null
    }
  ],
  "version": "1",
  "state": "no_data"
}`

func grafanaNormalise(t *testing.T, payload string) []*signalv1.Signal {
	return mustNormalise(t, Grafana{}, payload, nil)
}

func TestGrafanaFiring(t *testing.T) {
	t.Parallel()
	sigs := grafanaNormalise(t, grafanaFiring)
	require.Len(t, sigs, 2, "one signal per alert")
	s := sigs[0]
	require.Equal(t, "grafana", s.GetSource())
	require.Equal(t, "grafana:9f1c2b3a4d5e6f70", s.GetFingerprint())
	require.Equal(t, "grafana", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "9f1c2b3a4d5e6f70", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "p99 checkout latency above 2s", s.GetTitle())
	require.Equal(t, "p99 is 3.4s over the last 5m", s.GetDescription())
	require.Equal(t, "checkout-7f9c:9100", s.GetResource())
	require.Equal(t, "payments", s.GetLabels()["team"])
	require.Equal(t, "Payments", s.GetLabels()["grafana_folder"])
	require.Equal(t, "https://runbooks.example/checkout", s.GetAnnotations()["runbook_url"])
	require.Equal(t, "A=3.41 C=1", s.GetAnnotations()["values"])
	require.Contains(t, s.GetAnnotations()["valueString"], "value=3.41")
	require.Equal(t, "https://grafana.example/d/pay01?orgId=1&viewPanel=4", s.GetAnnotations()["panelURL"])
	require.Contains(t, s.GetAnnotations()["silenceURL"], "/alerting/silence/new")
	require.Equal(t, "https://grafana.example/alerting/grafana/fe1k2/view?orgId=1", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 10, 50, 0, 5e8, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt(), "a firing alert's endsAt is a forecast, not an end")
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId(), "normalisers never assign IDs")
	require.Empty(t, s.GetTenantId(), "normalisers never set the tenant")

	// The raw payload is the alert's own object, not the whole notification.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(s.GetRawPayload(), &raw))
	require.Equal(t, "9f1c2b3a4d5e6f70", raw["fingerprint"])
	require.NotContains(t, raw, "groupKey")

	second := sigs[1]
	require.Equal(t, "grafana:0a1b2c3d4e5f6a7b", second.GetFingerprint())
	require.Equal(t, "checkout-2b1d:9100", second.GetResource())
	require.NotContains(t, second.GetAnnotations(), "silenceURL", "empty links are left out")
	require.Nil(t, second.GetEndsAt())
}

func TestGrafanaResolved(t *testing.T) {
	t.Parallel()
	sigs := grafanaNormalise(t, grafanaResolved)
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.Date(2026, 3, 1, 11, 5, 0, 0, time.UTC), s.GetEndsAt().AsTime())
	require.Equal(t, time.Date(2026, 3, 1, 10, 50, 0, 5e8, time.UTC), s.GetStartsAt().AsTime())
	require.Equal(t, "A=0.8 C=0", s.GetAnnotations()["values"])
}

func TestGrafanaNoDataVariant(t *testing.T) {
	t.Parallel()
	sigs := grafanaNormalise(t, grafanaNoData)
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus(), "the envelope's status stands in")
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity(), "no severity label is WARNING")
	require.Equal(t, "DatasourceNoData", s.GetTitle(), "title falls back to alertname")
	require.Equal(t, "billing-worker", s.GetResource())
	require.Equal(t, "https://grafana.example/d/q01", s.GetLink(), "link falls back to the dashboard")
	require.Equal(t, "grafanalabels:"+HashFields(map[string]string{
		"alertname": "DatasourceNoData", "datasource_uid": "prom-eu", "rulename": "Queue depth", "service": "billing-worker",
	}), s.GetFingerprint())
	require.Equal(t, "grafana", s.GetFingerprintRecipe())
	require.Empty(t, s.GetExternalId(), "no vendor id without Grafana's fingerprint")
	require.NotContains(t, s.GetAnnotations(), "values")
}

func TestGrafanaFingerprintStability(t *testing.T) {
	t.Parallel()
	firing := grafanaNormalise(t, grafanaFiring)
	resolved := grafanaNormalise(t, grafanaResolved)
	require.Equal(t, firing[0].GetFingerprint(), resolved[0].GetFingerprint(), "firing and resolved share the fingerprint")
	require.NotEqual(t, firing[0].GetFingerprint(), firing[1].GetFingerprint(), "two instances of one rule differ")

	// Without Grafana's fingerprint the labels decide, whatever their order.
	hashed := func(labels string) string {
		p := `{"version":"1","status":"firing","alerts":[{"labels":` + labels + `}]}`
		return grafanaNormalise(t, p)[0].GetFingerprint()
	}
	a := hashed(`{"alertname":"Disk","host":"db-1"}`)
	require.Equal(t, a, hashed(`{"host":"db-1","alertname":"Disk"}`))
	require.NotEqual(t, a, hashed(`{"alertname":"Disk","host":"db-2"}`))
	require.True(t, strings.HasPrefix(a, "grafanalabels:"), a)
	// Pinned, so that a change to the contract fails here first.
	require.Equal(t, "grafanalabels:"+HashFields(map[string]string{"alertname": "Disk", "host": "db-1"}), a)

	// A fingerprint that is not plain alphanumerics falls back to the labels.
	odd := `{"version":"1","status":"firing","alerts":[{"labels":{"alertname":"Disk","host":"db-1"},"fingerprint":"a:b/c"}]}`
	require.Equal(t, a, grafanaNormalise(t, odd)[0].GetFingerprint())
}

func TestGrafanaSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"critical": signalv1.Severity_SEVERITY_CRITICAL,
		"High":     signalv1.Severity_SEVERITY_ERROR,
		"warning":  signalv1.Severity_SEVERITY_WARNING,
		"info":     signalv1.Severity_SEVERITY_INFO,
		"":         signalv1.Severity_SEVERITY_WARNING,
		"sev1":     signalv1.Severity_SEVERITY_WARNING,
	}
	for label, want := range cases {
		p := `{"version":"1","alerts":[{"status":"firing","labels":{"alertname":"X","severity":` + quoteJSON(label) + `},"fingerprint":"ab12"}]}`
		require.Equal(t, want, grafanaNormalise(t, p)[0].GetSeverity(), "severity label %q", label)
	}
}

func TestGrafanaAnnotationNamesAreNotOverwritten(t *testing.T) {
	t.Parallel()
	p := `{"version":"1","alerts":[{"status":"firing","labels":{"alertname":"X"},"annotations":{"panelURL":"from the rule"},"panelURL":"https://grafana.example/p"}]}`
	s := grafanaNormalise(t, p)[0]
	require.Equal(t, "from the rule", s.GetAnnotations()["panelURL"])
	require.Equal(t, "https://grafana.example/p", s.GetLink())
}

func TestGrafanaRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `<html>`, "not a JSON Grafana alerting notification"},
		{"json array", `[1]`, "not a JSON Grafana alerting notification"},
		{"missing version", `{"status":"firing","alerts":[{"labels":{"a":"b"}}]}`, "has no version"},
		{"legacy alerting", `{"ruleId":7,"ruleName":"CPU","state":"alerting","evalMatches":[]}`, "legacy Grafana alerting"},
		{"alertmanager version", `{"version":"4","alerts":[{"labels":{"a":"b"}}]}`, `version "4" is not supported`},
		{"no alerts", `{"version":"1","alerts":[]}`, "has no alerts"},
		{"null alert", `{"version":"1","status":"firing","alerts":[null]}`, "alert 0: alert has no labels"},
		{"labels not strings", `{"version":"1","alerts":[{"status":"firing","labels":{"a":1}}]}`, "alert 0: not a JSON alert object"},
		{"no status anywhere", `{"version":"1","alerts":[{"labels":{"a":"b"}}]}`, "alert 0: alert has no status"},
		{"bad status", `{"version":"1","alerts":[{"status":"pending","labels":{"a":"b"}}]}`, `status "pending"`},
		{"bad time", `{"version":"1","alerts":[{"status":"firing","labels":{"a":"b"}},{"status":"firing","labels":{"a":"c"},"endsAt":"soon"}]}`, "alert 1: endsAt: not an RFC 3339 time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Grafana{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzGrafana(f *testing.F) {
	for _, seed := range []string{
		grafanaFiring, grafanaResolved, grafanaNoData,
		`{}`, `null`, `[]`, `{"version":"1"}`, `{"version":"1","alerts":[null]}`,
		"{\"version\":\"1\",\"status\":\"firing\",\"alerts\":[{\"labels\":{\"a\":\"b\"},\"values\":{\"A\":\"\xff\",\"B\":{\"x\": [1, 2]}}}]}",
		`{"version":"1","alerts":[{"status":"resolved","labels":{"a":"b"},"endsAt":"9999-12-31T23:59:59.999999999+23:59"}]}`,
		"{\"version\":\"1\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"\xff\":\"\xfe\"},\"fingerprint\":\"\"}]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Grafana{}.Normalise(payload, nil, received)
		requireStorableSignals(t, GrafanaSource, sigs, err)
	})
}
