package normalise

import (
	"cmp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// datadogTriggered is the template documented on Datadog, filled in as
// Datadog fills it for a multi-alert metric monitor grouped by host and env.
const datadogTriggered = `{
  "id": "7459836405723874566",
  "alert_id": "91827364",
  "alert_cycle_key": "7459836401827364521",
  "alert_transition": "Triggered",
  "alert_type": "error",
  "alert_title": "[Triggered on {env:prod,host:web-1}] CPU high on web",
  "alert_status": "system.cpu.user over env:prod,host:web-1 was > 90.0 on average during the last 5m.",
  "alert_scope": "env:prod, host:web-1",
  "alert_metric": "system.cpu.user",
  "alert_query": "avg(last_5m):avg:system.cpu.user{env:prod} by {host,env} > 90",
  "alert_priority": "P2",
  "title": "[Triggered on {env:prod,host:web-1}] CPU high on web",
  "body": "%%%\nCPU on web-1 is 97%.\n@webhook-alexus\n%%%",
  "event_type": "query_alert_monitor",
  "priority": "normal",
  "date": "1772362500000",
  "last_updated": "1772362500000",
  "hostname": "web-1",
  "tags": "env:prod,host:web-1,monitor,role:frontend",
  "link": "https://app.datadoghq.com/event/event?id=7459836405723874566",
  "org": {"id": "112233", "name": "Example Corp"}
}`

// datadogRecovered is the Recovered notification of the same monitor
// group, its scope written in another order and spacing.
const datadogRecovered = `{
  "id": "7459836405723879999",
  "alert_id": "91827364",
  "alert_cycle_key": "7459836401827364521",
  "alert_transition": "Recovered",
  "alert_type": "success",
  "alert_title": "[Recovered on {env:prod,host:web-1}] CPU high on web",
  "alert_scope": "host:web-1,env:prod",
  "alert_priority": "P2",
  "title": "[Recovered on {env:prod,host:web-1}] CPU high on web",
  "body": "CPU back to 41%.",
  "date": "1772363400000",
  "hostname": "web-1",
  "tags": "env:prod,host:web-1",
  "link": "https://app.datadoghq.com/event/event?id=7459836405723879999",
  "org": {"id": "112233", "name": "Example Corp"}
}`

// datadogBareNoData is an unusual but valid body: a template that writes the
// numeric variables unquoted and leaves most fields out, for a simple
// (ungrouped) monitor's No Data notification.
const datadogBareNoData = `{
  "alert_id": 5550001,
  "alert_transition": "No Data",
  "alert_type": "error",
  "alert_title": "[No Data] Queue consumer heartbeat",
  "date": 1772362800000,
  "alert_scope": "",
  "tags": "service:queue-consumer,team:billing"
}`

func datadogNormalise(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, Datadog{}, payload, nil)
}

func TestDatadogTriggered(t *testing.T) {
	t.Parallel()
	s := datadogNormalise(t, datadogTriggered)
	require.Equal(t, "datadog", s.GetSource())
	require.Equal(t, "dd:"+HashFields(map[string]string{"alert_id": "91827364", "alert_scope": "env:prod,host:web-1"}), s.GetFingerprint())
	require.Equal(t, "datadog", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "91827364", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "[Triggered on {env:prod,host:web-1}] CPU high on web", s.GetTitle())
	require.Contains(t, s.GetDescription(), "CPU on web-1 is 97%.")
	require.Equal(t, "web-1", s.GetResource())
	require.Equal(t, map[string]string{"env": "prod", "host": "web-1", "monitor": "", "role": "frontend"}, s.GetLabels())
	require.Equal(t, "system.cpu.user", s.GetAnnotations()["alert_metric"])
	require.Equal(t, "7459836405723874566", s.GetAnnotations()["event_id"])
	require.Equal(t, "Example Corp", s.GetAnnotations()["org_name"])
	require.Equal(t, "P2", s.GetAnnotations()["priority"])
	require.Equal(t, "https://app.datadoghq.com/event/event?id=7459836405723874566", s.GetLink())
	require.Equal(t, time.UnixMilli(1772362500000).UTC(), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.JSONEq(t, datadogTriggered, string(s.GetRawPayload()))
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
}

func TestDatadogRecovered(t *testing.T) {
	t.Parallel()
	s := datadogNormalise(t, datadogRecovered)
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_INFO, s.GetSeverity())
	require.Equal(t, time.UnixMilli(1772363400000).UTC(), s.GetEndsAt().AsTime())
	require.Nil(t, s.GetStartsAt(), "Datadog reports only the time of the recovery")
}

func TestDatadogBareNoData(t *testing.T) {
	t.Parallel()
	s := datadogNormalise(t, datadogBareNoData)
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus(), "No Data fires")
	require.Equal(t, "5550001", s.GetExternalId(), "a bare number is read as the id")
	require.Equal(t, "dd:"+HashFields(map[string]string{"alert_id": "5550001", "alert_scope": ""}), s.GetFingerprint())
	require.Equal(t, "[No Data] Queue consumer heartbeat", s.GetTitle(), "alert_title stands in for the event title")
	require.Equal(t, "queue-consumer", s.GetResource(), "the service tag stands in for a hostname")
	require.Equal(t, time.UnixMilli(1772362800000).UTC(), s.GetStartsAt().AsTime())
	require.Empty(t, s.GetLink())

	// With no title at all, the monitor id names the alert.
	s = datadogNormalise(t, `{"alert_id":"42","alert_transition":"Warn"}`)
	require.Equal(t, "Datadog monitor 42", s.GetTitle())
	require.Nil(t, s.GetLabels())
	require.Nil(t, s.GetStartsAt())
}

func TestDatadogStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		transition, alertType string
		want                  signalv1.Status
	}{
		{"Triggered", "error", signalv1.Status_STATUS_FIRING},
		{"Re-Triggered", "error", signalv1.Status_STATUS_FIRING},
		{"Warn", "warning", signalv1.Status_STATUS_FIRING},
		{"Re-Warn", "warning", signalv1.Status_STATUS_FIRING},
		{"No Data", "error", signalv1.Status_STATUS_FIRING},
		{"Re-No Data", "error", signalv1.Status_STATUS_FIRING},
		{"Renotify", "error", signalv1.Status_STATUS_FIRING},
		{" recovered ", "success", signalv1.Status_STATUS_RESOLVED},
		{"", "success", signalv1.Status_STATUS_RESOLVED},
		{"", "warning", signalv1.Status_STATUS_FIRING},
	}
	for _, tc := range cases {
		p := `{"alert_id":"1","alert_transition":` + quoteJSON(tc.transition) + `,"alert_type":` + quoteJSON(tc.alertType) + `}`
		require.Equal(t, tc.want, datadogNormalise(t, p).GetStatus(), "transition %q, type %q", tc.transition, tc.alertType)
	}
}

func TestDatadogSeverity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		alertType, alertPriority, priority string
		want                               signalv1.Severity
	}{
		{"error", "P1", "", signalv1.Severity_SEVERITY_CRITICAL},
		{"error", "", "p1", signalv1.Severity_SEVERITY_CRITICAL},
		{"error", "P3", "", signalv1.Severity_SEVERITY_ERROR},
		{"error", "", "normal", signalv1.Severity_SEVERITY_ERROR},
		{"warning", "P1", "", signalv1.Severity_SEVERITY_WARNING},
		{"info", "", "", signalv1.Severity_SEVERITY_INFO},
		{"success", "P1", "", signalv1.Severity_SEVERITY_INFO},
		{"", "P1", "", signalv1.Severity_SEVERITY_CRITICAL},
		{"", "P2", "", signalv1.Severity_SEVERITY_ERROR},
		{"", "P3", "", signalv1.Severity_SEVERITY_WARNING},
		{"", "P4", "", signalv1.Severity_SEVERITY_INFO},
		{"", "", "P5", signalv1.Severity_SEVERITY_INFO},
		{"", "", "low", signalv1.Severity_SEVERITY_WARNING},
		{"", "", "", signalv1.Severity_SEVERITY_WARNING},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, datadogSeverity(tc.alertType, cmp.Or(tc.alertPriority, tc.priority)),
			"type %q, alert_priority %q, priority %q", tc.alertType, tc.alertPriority, tc.priority)
	}
	// And end to end, through the template's two priority fields.
	s := datadogNormalise(t, `{"alert_id":"1","alert_transition":"Triggered","alert_type":"error","priority":"normal","alert_priority":"P1"}`)
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
}

func TestDatadogFingerprintStability(t *testing.T) {
	t.Parallel()
	triggered := datadogNormalise(t, datadogTriggered)
	recovered := datadogNormalise(t, datadogRecovered)
	require.Equal(t, triggered.GetFingerprint(), recovered.GetFingerprint(), "triggered and recovered share the fingerprint")

	otherGroup := datadogNormalise(t, strings.Replace(datadogTriggered, `"alert_scope": "env:prod, host:web-1"`, `"alert_scope": "env:prod, host:web-2"`, 1))
	otherMonitor := datadogNormalise(t, strings.Replace(datadogTriggered, `"alert_id": "91827364"`, `"alert_id": "91827365"`, 1))
	require.NotEqual(t, triggered.GetFingerprint(), otherGroup.GetFingerprint(), "another group of the monitor differs")
	require.NotEqual(t, triggered.GetFingerprint(), otherMonitor.GetFingerprint(), "another monitor differs")

	// A number and its quoted text are the same monitor.
	require.Equal(t,
		datadogNormalise(t, `{"alert_id":77,"alert_type":"error"}`).GetFingerprint(),
		datadogNormalise(t, `{"alert_id":"77","alert_type":"error"}`).GetFingerprint())
}

func TestDatadogRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"form encoded", `alert_id=1&alert_transition=Triggered`, `is "Encode as form" on?`},
		{"json array", `[]`, "not a JSON Datadog webhook body"},
		{"no alert id", `{"alert_transition":"Triggered","title":"x"}`, `put "alert_id": "$ALERT_ID"`},
		{"blank alert id", `{"alert_id":"  ","alert_transition":"Triggered"}`, "has no alert_id"},
		{"alert id object", `{"alert_id":{"a":1},"alert_transition":"Triggered"}`, "neither a string nor a number"},
		{"unknown transition", `{"alert_id":"1","alert_transition":"Exploded"}`, `alert_transition "Exploded" is not one of`},
		{"no status at all", `{"alert_id":"1"}`, "neither an alert_transition nor an alert_type"},
		{"date not a number", `{"alert_id":"1","alert_transition":"Triggered","date":"$DATE"}`, "date is not epoch milliseconds"},
		{"date out of range", `{"alert_id":"1","alert_transition":"Triggered","date":9223372036854775807}`, "date is out of range"},
		{"tags not a string", `{"alert_id":"1","alert_transition":"Triggered","tags":["a"]}`, "not a JSON Datadog webhook body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Datadog{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzDatadog(f *testing.F) {
	for _, seed := range []string{
		datadogTriggered, datadogRecovered, datadogBareNoData,
		`{}`, `null`, `[]`, `{"alert_id":null}`, `{"alert_id":"1"}`,
		`{"alert_id":-1,"alert_type":"error","date":-5}`,
		`{"alert_id":1e400,"alert_type":"error"}`,
		`{"alert_id":"1","alert_transition":"Triggered","date":"253402300800000"}`,
		"{\"alert_id\":\"\xff\",\"alert_transition\":\"Recovered\",\"alert_scope\":\"\xfe:\xfd, ,\",\"tags\":\":,a:b:c\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Datadog{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, DatadogSource, sigs, err) {
			return
		}
		require.Len(t, sigs, 1)
	})
}
