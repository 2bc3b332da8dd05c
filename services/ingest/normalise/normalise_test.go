package normalise

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Helpers shared by the tests of every source.

// received is when the tests' payloads arrive.
var received = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mustNormalise normalises payload with n and fails the test on an error.
func mustNormalise(t *testing.T, n Normaliser, payload string, headers map[string]string) []*signalv1.Signal {
	t.Helper()
	sigs, err := n.Normalise([]byte(payload), headers, received)
	require.NoError(t, err)
	return sigs
}

// mustNormaliseOne is mustNormalise for a payload that is one alert.
func mustNormaliseOne(t *testing.T, n Normaliser, payload string, headers map[string]string) *signalv1.Signal {
	t.Helper()
	sigs := mustNormalise(t, n, payload, headers)
	require.Len(t, sigs, 1)
	return sigs[0]
}

// quoteJSON quotes s as a JSON string for hand-built test payloads.
func quoteJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// jsonVariant returns the JSON object payload with changes applied: each
// name is set to its value, or removed when the value is nil. A name
// "parent.child" whose parent is an object member changes the member's
// child.
func jsonVariant(t testing.TB, payload string, changes map[string]any) string {
	t.Helper()
	var fields map[string]any
	require.NoError(t, json.Unmarshal([]byte(payload), &fields))
	for name, value := range changes {
		target, key := fields, name
		if parent, child, ok := strings.Cut(name, "."); ok {
			if inner, isObject := fields[parent].(map[string]any); isObject {
				target, key = inner, child
			}
		}
		if value == nil {
			delete(target, key)
			continue
		}
		target[key] = value
	}
	b, err := json.Marshal(fields)
	require.NoError(t, err)
	return string(b)
}

// requireStorableSignals is what every fuzz target asserts of a normaliser's
// result, whatever the payload. A refusal wraps ErrInvalidPayload and
// returns no signals. Otherwise there is at least one signal, and each is
// of source, has a fingerprint made by source's recipe, a title, a status
// and severity Alexus defines, no ID or tenant, valid times, no link but an
// http(s) one, and a form proto can store. It reports whether the payload
// was accepted, so that a target can go on to check what is particular to
// its source.
func requireStorableSignals(t *testing.T, source string, sigs []*signalv1.Signal, err error) (accepted bool) {
	t.Helper()
	if err != nil {
		require.ErrorIs(t, err, ErrInvalidPayload)
		require.Nil(t, sigs)
		return false
	}
	require.NotEmpty(t, sigs)
	for _, s := range sigs {
		require.Equal(t, source, s.GetSource())
		require.NotEmpty(t, s.GetFingerprint())
		require.Equal(t, source, s.GetFingerprintRecipe())
		require.NotZero(t, s.GetFingerprintRecipeVersion())
		require.NotEmpty(t, strings.TrimSpace(s.GetTitle()), "a title is never blank")
		require.Contains(t, []signalv1.Status{
			signalv1.Status_STATUS_FIRING, signalv1.Status_STATUS_RESOLVED, signalv1.Status_STATUS_ACKNOWLEDGED,
		}, s.GetStatus())
		require.NotEqual(t, signalv1.Severity_SEVERITY_UNSPECIFIED, s.GetSeverity())
		require.Empty(t, s.GetId())
		require.Empty(t, s.GetTenantId())
		if s.GetStartsAt() != nil {
			require.NoError(t, s.GetStartsAt().CheckValid())
		}
		if s.GetEndsAt() != nil {
			require.NoError(t, s.GetEndsAt().CheckValid())
		}
		if link := s.GetLink(); link != "" {
			require.True(t, isHTTPLink(link), "link %q is not an http(s) URL", link)
		}
		_, err := proto.Marshal(s)
		require.NoError(t, err, "every signal must be storable")
	}
	return true
}

// No source may put a link of another scheme than http(s) in front of a
// user: each row sends javascript: where the source takes its link from.
// The generic format and CloudEvents refuse the payload, as the generic
// format documents; every other source drops the link.
func TestNoSourceEmitsScriptLinks(t *testing.T) {
	t.Parallel()
	const js = "javascript:alert(document.cookie)"
	q := quoteJSON(js)
	cases := []struct {
		name    string
		n       Normaliser
		payload string
		headers map[string]string
		refused string
	}{
		{"alertmanager", Alertmanager{}, `{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"X"},"generatorURL":` + q + `}]}`, nil, ""},
		{"grafana", Grafana{}, `{"version":"1","alerts":[{"status":"firing","labels":{"a":"b"},"generatorURL":` + q + `,"panelURL":` + q + `,"dashboardURL":` + q + `}]}`, nil, ""},
		{"datadog", Datadog{}, `{"alert_id":"1","alert_transition":"Triggered","link":` + q + `}`, nil, ""},
		{"pagerduty", PagerDuty{}, `{"event":{"event_type":"incident.triggered","data":{"id":"P1","html_url":` + q + `}}}`, nil, ""},
		{"sentry event alert", Sentry{}, `{"action":"triggered","data":{"event":{"issue_id":"1","web_url":` + q + `}}}`, nil, ""},
		{"sentry issue", Sentry{}, `{"action":"created","data":{"issue":{"id":"1","web_url":` + q + `,"permalink":` + q + `}}}`, nil, ""},
		{"sentry metric alert", Sentry{}, `{"action":"critical","data":{"metric_alert":{"id":"1","alert_rule":{"id":"2"}},"web_url":` + q + `}}`, nil, ""},
		{"azure monitor", AzureMonitor{}, `{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"/a/b","monitorCondition":"Fired","investigationLink":` + q + `},"alertContext":{"LinkToSearchResults":` + q + `}}}`, nil, ""},
		{"gcp monitoring", GCPMonitoring{}, `{"version":"1.2","incident":{"incident_id":"0.a","state":"open","url":` + q + `}}`, nil, ""},
		{"newrelic", NewRelic{}, `{"issueId":"abc","state":"CREATED","issueUrl":` + q + `}`, nil, ""},
		{"zabbix", Zabbix{}, `{"event_id":"7","event_value":"1","trigger_id":"1","zabbix_url":` + q + `}`, nil, ""},
		{"elastic", Elastic{}, `{"rule":{"id":"r","url":` + q + `},"alert":{"id":"a"},"context":{"alertDetailsUrl":` + q + `,"viewInAppUrl":` + q + `}}`, nil, ""},
		{"dynatrace", Dynatrace{}, `{"PID":"1","State":"OPEN","ProblemURL":` + q + `}`, nil, ""},
		{"splunk", Splunk{}, `{"search_name":"x","results_link":` + q + `}`, nil, ""},
		{"generic", Generic{}, `{"title":"x","link":` + q + `}`, nil, "link is not an absolute http or https URL"},
		{"cloudevents", CloudEvents{}, `{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"link":` + q + `}}`, nil, "link is not an absolute http or https URL"},
		{"sns generic", SNS{}, `{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":` + quoteJSON(`{"title":"x","link":`+q+`}`) + `}`, nil, "link is not an absolute http or https URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := tc.n.Normalise([]byte(tc.payload), tc.headers, received)
			if tc.refused != "" {
				require.ErrorIs(t, err, ErrInvalidPayload)
				require.ErrorContains(t, err, tc.refused)
				return
			}
			require.NoError(t, err)
			require.NotEmpty(t, sigs)
			for _, s := range sigs {
				require.Empty(t, s.GetLink())
			}
		})
	}
}

// The JSON scalar readers differ only where the doc comments say so.
func TestScalarTextVariants(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw               string
		text              string // scalarText and jsonText
		textErr           bool
		present           bool // presentScalarText
		stringOrNumber    string
		stringOrNumberErr bool
		optionalString    string
		optionalStringErr bool
	}{
		{raw: ``, present: false},
		{raw: `null`, present: false},
		{raw: `""`, present: true},
		{raw: `"a\u00e9"`, text: "aé", present: true, stringOrNumber: "aé", optionalString: "aé"},
		{raw: `-12.5e3`, text: "-12.5e3", present: true, stringOrNumber: "-12.5e3", optionalStringErr: true},
		{raw: `true`, text: "true", present: true, stringOrNumberErr: true, optionalStringErr: true},
		{raw: `{"a":1}`, textErr: true, stringOrNumberErr: true, optionalStringErr: true},
		{raw: `[1]`, textErr: true, stringOrNumberErr: true, optionalStringErr: true},
	}
	for _, tc := range cases {
		text, err := scalarText(json.RawMessage(tc.raw))
		require.Equal(t, tc.textErr, err != nil, "scalarText(%s)", tc.raw)
		require.Equal(t, tc.text, text, "scalarText(%s)", tc.raw)

		s, ok := presentScalarText(json.RawMessage(tc.raw))
		require.Equal(t, tc.present, ok, "presentScalarText(%s)", tc.raw)
		require.Equal(t, tc.text, s, "presentScalarText(%s)", tc.raw)

		s, err = optionalString(json.RawMessage(tc.raw))
		require.Equal(t, tc.optionalStringErr, err != nil, "optionalString(%s)", tc.raw)
		require.Equal(t, tc.optionalString, s, "optionalString(%s)", tc.raw)

		if tc.raw == `` {
			continue // not a JSON value, so no decoder ever passes it
		}
		var jt jsonText
		err = json.Unmarshal([]byte(tc.raw), &jt)
		require.Equal(t, tc.textErr, err != nil, "jsonText(%s)", tc.raw)
		require.Equal(t, tc.text, string(jt), "jsonText(%s)", tc.raw)

		var sn stringOrNumber
		err = json.Unmarshal([]byte(tc.raw), &sn)
		require.Equal(t, tc.stringOrNumberErr, err != nil, "stringOrNumber(%s)", tc.raw)
		require.Equal(t, tc.stringOrNumber, string(sn), "stringOrNumber(%s)", tc.raw)
	}
}
