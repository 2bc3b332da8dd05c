package normalise

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// An issue alert rule fired for an event of issue 4242001.
const sentryEventAlertPayload = `{
  "action": "triggered",
  "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
  "data": {
    "event": {
      "event_id": "9f1c2b7e4a0d4e31b2c6d8a7e5f40312",
      "issue_id": "4242001",
      "issue_url": "https://sentry.io/api/0/issues/4242001/",
      "url": "https://sentry.io/api/0/projects/acme/checkout-api/events/9f1c2b7e4a0d4e31b2c6d8a7e5f40312/",
      "web_url": "https://sentry.io/organizations/acme/issues/4242001/events/9f1c2b7e4a0d4e31b2c6d8a7e5f40312/",
      "title": "KeyError: 'cart_id'",
      "message": "",
      "culprit": "checkout.views.pay",
      "level": "error",
      "platform": "python",
      "project": 17,
      "datetime": "2026-03-01T11:58:30.250000Z",
      "timestamp": 1772366310.25,
      "metadata": {"type": "KeyError", "value": "'cart_id'", "severity": 0.42},
      "tags": [["environment", "production"], ["server_name", "web-7"], ["release", "checkout@2.4.1"], ["level", "error"]],
      "contexts": {"runtime": {"name": "CPython", "version": "3.12.2"}},
      "exception": {"values": [{"type": "KeyError", "value": "'cart_id'", "stacktrace": {"frames": []}}]}
    },
    "triggered_rule": "Checkout errors to on-call",
    "issue_alert": {"title": "Checkout errors to on-call", "settings": [{"name": "team", "value": "payments"}]}
  },
  "installation": {"uuid": "0b3e9c1d-5b8e-4d7c-9a41-6f2a0c9e7d11"}
}`

// sentryIssuePayload is an issue webhook for issue 4242001.
func sentryIssuePayload(action, status string) string {
	return `{
  "action": "` + action + `",
  "actor": {"id": 12, "name": "Ada Lovelace", "type": "user"},
  "data": {
    "issue": {
      "id": "4242001",
      "shortId": "CHECKOUT-API-3F",
      "title": "KeyError: 'cart_id'",
      "culprit": "checkout.views.pay",
      "level": "error",
      "status": "` + status + `",
      "substatus": "ongoing",
      "platform": "python",
      "firstSeen": "2026-03-01T11:40:02.118000Z",
      "lastSeen": "2026-03-01T11:58:30.250000Z",
      "count": "37",
      "userCount": 9,
      "permalink": null,
      "web_url": "https://sentry.io/organizations/acme/issues/4242001/",
      "url": "https://sentry.io/api/0/organizations/acme/issues/4242001/",
      "project_url": "https://sentry.io/api/0/projects/acme/checkout-api/",
      "metadata": {"type": "KeyError", "value": "'cart_id'"},
      "project": {"id": "17", "name": "checkout-api", "slug": "checkout-api", "platform": "python"},
      "assignedTo": {"type": "user", "id": "12", "name": "Ada Lovelace", "email": "ada@example.com"},
      "statusDetails": {}
    }
  },
  "installation": {"uuid": "0b3e9c1d-5b8e-4d7c-9a41-6f2a0c9e7d11"}
}`
}

// sentryMetricPayload is a metric alert webhook for incident incidentID of
// alert rule 31.
func sentryMetricPayload(action, incidentID, dateClosed string) string {
	return `{
  "action": "` + action + `",
  "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
  "data": {
    "description_text": "312 events in the last 5 minutes\nFilter: level:error",
    "description_title": "Critical: Checkout error burst",
    "metric_alert": {
      "alert_rule": {
        "aggregate": "count()",
        "dataset": "events",
        "environment": "production",
        "id": "31",
        "name": "Checkout error burst",
        "organization_id": "5",
        "projects": ["checkout-api"],
        "query": "level:error",
        "time_window": 5,
        "triggers": [{"label": "critical", "alert_threshold": 300, "actions": []}]
      },
      "date_closed": ` + dateClosed + `,
      "date_created": "2026-03-01T11:50:00.000000Z",
      "date_detected": "2026-03-01T11:49:00.000000Z",
      "date_started": "2026-03-01T11:49:00.000000Z",
      "id": "` + incidentID + `",
      "identifier": "88",
      "organization_id": "5",
      "projects": ["checkout-api"],
      "status": 20,
      "title": "Eager Badger"
    },
    "web_url": "https://sentry.io/organizations/acme/alerts/rules/details/31/?alert=` + incidentID + `"
  },
  "installation": {"uuid": "0b3e9c1d-5b8e-4d7c-9a41-6f2a0c9e7d11"}
}`
}

func sentryHeaders(resource string) map[string]string {
	return map[string]string{"sentry-hook-resource": resource, "sentry-hook-timestamp": "1772367000", "content-type": "application/json"}
}

func sentryNormalise(t *testing.T, payload string, headers map[string]string) *signalv1.Signal {
	return mustNormaliseOne(t, Sentry{}, payload, headers)
}

func TestSentryEventAlertFiring(t *testing.T) {
	t.Parallel()
	s := sentryNormalise(t, sentryEventAlertPayload, sentryHeaders("event_alert"))
	require.Equal(t, "sentry", s.GetSource())
	require.Equal(t, "sentry-issue:4242001", s.GetFingerprint())
	require.Equal(t, "sentry", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "4242001", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "KeyError: 'cart_id'", s.GetTitle())
	require.Empty(t, s.GetDescription(), "the metadata value is already in the title")
	require.Equal(t, "checkout-api", s.GetResource(), "the slug comes from the event's API URL")
	require.Equal(t, "production", s.GetLabels()["environment"])
	require.Equal(t, "web-7", s.GetLabels()["server_name"])
	require.Equal(t, "17", s.GetLabels()["project_id"])
	require.Equal(t, "Checkout errors to on-call", s.GetLabels()["rule"])
	require.Equal(t, "checkout.views.pay", s.GetAnnotations()["culprit"])
	require.Equal(t, "9f1c2b7e4a0d4e31b2c6d8a7e5f40312", s.GetAnnotations()["event_id"])
	require.Equal(t, "https://sentry.io/organizations/acme/issues/4242001/events/9f1c2b7e4a0d4e31b2c6d8a7e5f40312/", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 58, 30, 250e6, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.JSONEq(t, sentryEventAlertPayload, string(s.GetRawPayload()))
	require.Empty(t, s.GetId(), "normalisers never assign IDs")
	require.Empty(t, s.GetTenantId(), "normalisers never set the tenant")
}

func TestSentryIssueResolved(t *testing.T) {
	t.Parallel()
	s := sentryNormalise(t, sentryIssuePayload("resolved", "resolved"), sentryHeaders("issue"))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, "sentry-issue:4242001", s.GetFingerprint())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "checkout-api", s.GetResource())
	require.Equal(t, "CHECKOUT-API-3F", s.GetLabels()["short_id"])
	require.Equal(t, "https://sentry.io/organizations/acme/issues/4242001/", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 40, 2, 118e6, time.UTC), s.GetStartsAt().AsTime())
	require.Equal(t, time.Unix(1772367000, 0).UTC(), s.GetEndsAt().AsTime(), "Sentry-Hook-Timestamp stands in for the resolution time")

	// Without the header, the received time stands in.
	s = sentryNormalise(t, sentryIssuePayload("resolved", "resolved"), map[string]string{"Sentry-Hook-Resource": "issue"})
	require.Equal(t, received, s.GetEndsAt().AsTime())
}

func TestSentryIssueActions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		action, status string
		want           signalv1.Status
	}{
		{"created", "unresolved", signalv1.Status_STATUS_FIRING},
		{"unresolved", "unresolved", signalv1.Status_STATUS_FIRING},
		{"resolved", "resolved", signalv1.Status_STATUS_RESOLVED},
		{"assigned", "unresolved", signalv1.Status_STATUS_ACKNOWLEDGED},
		{"ignored", "ignored", signalv1.Status_STATUS_ACKNOWLEDGED},
		{"archived", "ignored", signalv1.Status_STATUS_ACKNOWLEDGED},
		// An action Sentry may add later falls back on the issue's status.
		{"priority_changed", "unresolved", signalv1.Status_STATUS_FIRING},
		{"moved", "resolved", signalv1.Status_STATUS_RESOLVED},
	}
	for _, tc := range cases {
		t.Run(tc.action, func(t *testing.T) {
			t.Parallel()
			s := sentryNormalise(t, sentryIssuePayload(tc.action, tc.status), sentryHeaders("issue"))
			require.Equal(t, tc.want, s.GetStatus())
			require.Equal(t, "sentry-issue:4242001", s.GetFingerprint())
			if tc.want != signalv1.Status_STATUS_RESOLVED {
				require.Nil(t, s.GetEndsAt())
			}
		})
	}
}

func TestSentryMetricAlert(t *testing.T) {
	t.Parallel()
	critical := sentryNormalise(t, sentryMetricPayload("critical", "1009", "null"), sentryHeaders("metric_alert"))
	require.Equal(t, "sentry-metric:31:1009", critical.GetFingerprint())
	require.Equal(t, "1009", critical.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, critical.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, critical.GetSeverity())
	require.Equal(t, "Checkout error burst", critical.GetTitle())
	require.Equal(t, "312 events in the last 5 minutes\nFilter: level:error", critical.GetDescription())
	require.Equal(t, "checkout-api", critical.GetResource())
	require.Equal(t, "count()", critical.GetLabels()["aggregate"])
	require.Equal(t, "production", critical.GetLabels()["environment"])
	require.Equal(t, "Critical: Checkout error burst", critical.GetAnnotations()["description_title"])
	require.Equal(t, "https://sentry.io/organizations/acme/alerts/rules/details/31/?alert=1009", critical.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 49, 0, 0, time.UTC), critical.GetStartsAt().AsTime())
	require.Nil(t, critical.GetEndsAt())

	warning := sentryNormalise(t, sentryMetricPayload("warning", "1009", "null"), sentryHeaders("metric_alert"))
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, warning.GetSeverity())
	require.Equal(t, signalv1.Status_STATUS_FIRING, warning.GetStatus())

	resolved := sentryNormalise(t, sentryMetricPayload("resolved", "1009", `"2026-03-01T12:04:00.000000Z"`), sentryHeaders("metric_alert"))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, resolved.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_INFO, resolved.GetSeverity())
	require.Equal(t, time.Date(2026, 3, 1, 12, 4, 0, 0, time.UTC), resolved.GetEndsAt().AsTime())
}

func TestSentryFingerprintStability(t *testing.T) {
	t.Parallel()
	alert := sentryNormalise(t, sentryEventAlertPayload, sentryHeaders("event_alert"))
	resolved := sentryNormalise(t, sentryIssuePayload("resolved", "resolved"), sentryHeaders("issue"))
	require.Equal(t, alert.GetFingerprint(), resolved.GetFingerprint(), "an issue alert and its issue's resolution share a fingerprint")
	require.Equal(t, alert.GetFingerprint(), sentryNormalise(t, sentryEventAlertPayload, sentryHeaders("event_alert")).GetFingerprint())

	other := sentryNormalise(t, `{"action":"triggered","data":{"event":{"issue_id":"4242002","title":"x"}}}`, sentryHeaders("event_alert"))
	require.NotEqual(t, alert.GetFingerprint(), other.GetFingerprint())

	warning := sentryNormalise(t, sentryMetricPayload("warning", "1009", "null"), sentryHeaders("metric_alert"))
	critical := sentryNormalise(t, sentryMetricPayload("critical", "1009", "null"), sentryHeaders("metric_alert"))
	done := sentryNormalise(t, sentryMetricPayload("resolved", "1009", `"2026-03-01T12:04:00Z"`), sentryHeaders("metric_alert"))
	next := sentryNormalise(t, sentryMetricPayload("critical", "1010", "null"), sentryHeaders("metric_alert"))
	require.Equal(t, warning.GetFingerprint(), critical.GetFingerprint())
	require.Equal(t, warning.GetFingerprint(), done.GetFingerprint())
	require.NotEqual(t, warning.GetFingerprint(), next.GetFingerprint())
	// An issue and a metric incident with the same number never collide.
	require.NotEqual(t, sentryNormalise(t, sentryMetricPayload("critical", "4242001", "null"), nil).GetFingerprint(), alert.GetFingerprint())
}

// Without the Sentry-Hook-Resource header the resource is inferred; ids may
// come as JSON numbers and tags as key/value objects, and an event with
// little more than its issue id is still an alert.
func TestSentryInferredAndSparse(t *testing.T) {
	t.Parallel()
	p := `{"action":"triggered","data":{"event":{"issue_id":4242001,"project":17,"timestamp":1772366310.5,
		"metadata":{"type":"TimeoutError","value":"upstream took 30s"},
		"tags":[{"key":"environment","value":"staging"},{"key":"attempt","value":3},"junk",null,["only-one"]]},
		"triggered_rule":"Any new issue"}}`
	s := sentryNormalise(t, p, nil)
	require.Equal(t, "sentry-issue:4242001", s.GetFingerprint())
	require.Equal(t, "TimeoutError: upstream took 30s", s.GetTitle())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity(), "no level is Sentry's default, error")
	require.Equal(t, "17", s.GetResource(), "without an API URL the project's number stands in")
	require.Equal(t, "staging", s.GetLabels()["environment"])
	require.Equal(t, "3", s.GetLabels()["attempt"])
	require.Equal(t, time.Unix(1772366310, 5e8).UTC(), s.GetStartsAt().AsTime())
	require.Empty(t, s.GetLink())

	issue := sentryNormalise(t, `{"action":"created","data":{"issue":{"id":77,"title":"","metadata":{"title":"Slow DB query"},"level":"warning"}}}`, nil)
	require.Equal(t, "sentry-issue:77", issue.GetFingerprint())
	require.Equal(t, "Slow DB query", issue.GetTitle())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, issue.GetSeverity())

	metric := sentryNormalise(t, `{"action":"critical","data":{"metric_alert":{"id":5,"alert_rule":{"id":6}}}}`, map[string]string{"SENTRY-HOOK-RESOURCE": "metric_alert"})
	require.Equal(t, "sentry-metric:6:5", metric.GetFingerprint())
	require.Equal(t, "Sentry metric alert 6", metric.GetTitle())
}

func TestSentrySeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"fatal": signalv1.Severity_SEVERITY_CRITICAL, "FATAL": signalv1.Severity_SEVERITY_CRITICAL,
		"error": signalv1.Severity_SEVERITY_ERROR, "": signalv1.Severity_SEVERITY_ERROR,
		"warning": signalv1.Severity_SEVERITY_WARNING, "info": signalv1.Severity_SEVERITY_INFO,
		"debug": signalv1.Severity_SEVERITY_INFO, "sample": signalv1.Severity_SEVERITY_INFO,
		"shrug": signalv1.Severity_SEVERITY_WARNING,
	}
	for level, want := range cases {
		require.Equal(t, want, sentryLevel(level), "level %q", level)
		p := `{"action":"triggered","data":{"event":{"issue_id":"1","level":` + quoteJSON(level) + `}}}`
		require.Equal(t, want, sentryNormalise(t, p, sentryHeaders("event_alert")).GetSeverity(), "level %q", level)
	}
}

func TestSentryRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, resource, payload, want string
	}{
		{"not json", "", `<html>`, "not a JSON Sentry webhook"},
		{"empty", "", ``, "not a JSON Sentry webhook"},
		{"trailing data", "", `{"action":"triggered","data":{"event":{"issue_id":"1"}}} {}`, "data after the JSON value"},
		{"json array", "", `[1]`, "not a JSON Sentry webhook"},
		{"installation", "installation", `{"action":"created","data":{"installation":{}}}`, `Sentry-Hook-Resource "installation" carries no alert`},
		{"nothing to infer", "", `{"action":"created","data":{"comment":"hi"}}`, "none of data.event, data.issue or data.metric_alert"},
		{"header without body", "issue", `{"action":"created","data":{}}`, "data.issue is missing"},
		{"no issue id", "event_alert", `{"action":"triggered","data":{"event":{"title":"x"}}}`, "data.event.issue_id is missing"},
		{"odd issue id", "issue", `{"action":"created","data":{"issue":{"id":"1 OR 1=1"}}}`, "data.issue.id is not 1-128 ASCII"},
		{"id is an object", "issue", `{"action":"created","data":{"issue":{"id":{"n":1}}}}`, "not a JSON Sentry webhook"},
		{"event alert action", "event_alert", `{"action":"deleted","data":{"event":{"issue_id":"1"}}}`, `action "deleted" is not "triggered"`},
		{"issue action and status unknown", "issue", `{"action":"deleted","data":{"issue":{"id":"1","status":"gone"}}}`, `action "deleted" and issue status "gone"`},
		{"metric action", "metric_alert", `{"action":"exploding","data":{"metric_alert":{"id":"1","alert_rule":{"id":"2"}}}}`, `action "exploding" is none of`},
		{"metric without rule", "metric_alert", `{"action":"critical","data":{"metric_alert":{"id":"1"}}}`, "alert_rule.id is missing"},
		{"bad datetime", "event_alert", `{"action":"triggered","data":{"event":{"issue_id":"1","datetime":"yesterday"}}}`, "data.event.datetime: not an RFC 3339 time"},
		{"timestamp out of range", "event_alert", `{"action":"triggered","data":{"event":{"issue_id":"1","timestamp":1e300}}}`, "data.event.timestamp: time out of range"},
		{"bad firstSeen", "issue", `{"action":"created","data":{"issue":{"id":"1","firstSeen":"soon"}}}`, "data.issue.firstSeen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var headers map[string]string
			if tc.resource != "" {
				headers = sentryHeaders(tc.resource)
			}
			sigs, err := Sentry{}.Normalise([]byte(tc.payload), headers, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzSentry(f *testing.F) {
	for _, seed := range []struct{ resource, payload string }{
		{"event_alert", sentryEventAlertPayload},
		{"issue", sentryIssuePayload("resolved", "resolved")},
		{"issue", sentryIssuePayload("assigned", "unresolved")},
		{"metric_alert", sentryMetricPayload("critical", "1009", "null")},
		{"metric_alert", sentryMetricPayload("resolved", "1009", `"2026-03-01T12:04:00Z"`)},
		{"", `{"action":"triggered","data":{"event":{"issue_id":4242001,"tags":[{"key":"a","value":1}]}}}`},
		{"", `{"action":"critical","data":{"metric_alert":{"id":5,"alert_rule":{"id":6}}}}`},
		{"", `{}`}, {"", `null`}, {"", `[]`}, {"comment", `{"data":{}}`},
		{"", `{"data":{"event":{"issue_id":"1","timestamp":"1e308","datetime":""}}}`},
		{"", "{\"data\":{\"issue\":{\"id\":\"1\",\"status\":\"unresolved\",\"title\":\"\xff\"}}}"},
	} {
		f.Add(seed.resource, []byte(seed.payload))
	}
	f.Fuzz(func(t *testing.T, resource string, payload []byte) {
		sigs, err := Sentry{}.Normalise(payload, map[string]string{"sentry-hook-resource": resource}, received)
		requireStorableSignals(t, SentrySource, sigs, err)
	})
}
