package normalise

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// pagerDutyEvent builds a V3 webhook for incident Q2WX7LMN0ABCDE in the
// shape PagerDuty documents, with the given event type, incident status,
// urgency and priority summary.
func pagerDutyEvent(eventType, status, urgency, priority string) string {
	prio := `null`
	if priority != "" {
		prio = `{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PQ1PRIO","self":"https://api.pagerduty.com/priorities/PQ1PRIO","summary":` + quoteJSON(priority) + `,"type":"priority_reference"}`
	}
	return `{
  "event": {
    "id": "01DVKW8Q9N7T3SGY4PLXWF1ZUV",
    "event_type": ` + quoteJSON(eventType) + `,
    "resource_type": "incident",
    "occurred_at": "2026-03-01T11:58:12.345Z",
    "agent": {"html_url": "https://acme.pagerduty.com/users/PUSR001", "id": "PUSR001", "self": "https://api.pagerduty.com/users/PUSR001", "summary": "Ada Oncall", "type": "user_reference"},
    "client": {"name": "PagerDuty"},
    "data": {
      "id": "Q2WX7LMN0ABCDE",
      "type": "incident",
      "self": "https://api.pagerduty.com/incidents/Q2WX7LMN0ABCDE",
      "html_url": "https://acme.pagerduty.com/incidents/Q2WX7LMN0ABCDE",
      "number": 4711,
      "status": ` + quoteJSON(status) + `,
      "incident_key": "checkout/latency/prod",
      "created_at": "2026-03-01T11:40:00Z",
      "title": "Checkout p99 latency above SLO",
      "service": {"html_url": "https://acme.pagerduty.com/service-directory/PSVC042", "id": "PSVC042", "self": "https://api.pagerduty.com/services/PSVC042", "summary": "checkout-api", "type": "service_reference"},
      "assignees": [{"html_url": "https://acme.pagerduty.com/users/PUSR001", "id": "PUSR001", "self": "https://api.pagerduty.com/users/PUSR001", "summary": "Ada Oncall", "type": "user_reference"}],
      "escalation_policy": {"html_url": "https://acme.pagerduty.com/escalation_policies/PEP0001", "id": "PEP0001", "self": "https://api.pagerduty.com/escalation_policies/PEP0001", "summary": "Payments primary", "type": "escalation_policy_reference"},
      "teams": [{"html_url": "https://acme.pagerduty.com/teams/PTM0001", "id": "PTM0001", "self": "https://api.pagerduty.com/teams/PTM0001", "summary": "Payments", "type": "team_reference"}, {"id": "PTM0002", "summary": "SRE", "type": "team_reference"}],
      "priority": ` + prio + `,
      "urgency": ` + quoteJSON(urgency) + `,
      "conference_bridge": null,
      "resolve_reason": null
    }
  }
}`
}

func pagerDutyNormalise(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, PagerDuty{}, payload, nil)
}

func TestPagerDutyTriggered(t *testing.T) {
	t.Parallel()
	payload := pagerDutyEvent("incident.triggered", "triggered", "high", "P1")
	s := pagerDutyNormalise(t, payload)
	require.Equal(t, "pagerduty", s.GetSource())
	require.Equal(t, "pd:Q2WX7LMN0ABCDE", s.GetFingerprint())
	require.Equal(t, "pagerduty", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "Q2WX7LMN0ABCDE", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "Checkout p99 latency above SLO", s.GetTitle())
	require.Equal(t, "checkout-api", s.GetResource())
	require.Equal(t, map[string]string{
		"service": "checkout-api", "service_id": "PSVC042", "urgency": "high", "priority": "P1",
		"escalation_policy": "Payments primary", "teams": "Payments,SRE",
	}, s.GetLabels())
	require.Equal(t, "4711", s.GetAnnotations()["incident_number"])
	require.Equal(t, "checkout/latency/prod", s.GetAnnotations()["incident_key"])
	require.Equal(t, "Ada Oncall", s.GetAnnotations()["assignees"])
	require.Equal(t, "incident.triggered", s.GetAnnotations()["event_type"])
	require.Equal(t, "https://acme.pagerduty.com/incidents/Q2WX7LMN0ABCDE", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 40, 0, 0, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.JSONEq(t, payload, string(s.GetRawPayload()))
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
}

func TestPagerDutyResolved(t *testing.T) {
	t.Parallel()
	s := pagerDutyNormalise(t, pagerDutyEvent("incident.resolved", "resolved", "high", "P1"))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.Date(2026, 3, 1, 11, 58, 12, 345e6, time.UTC), s.GetEndsAt().AsTime(), "the end is when the resolve occurred")
	require.Equal(t, time.Date(2026, 3, 1, 11, 40, 0, 0, time.UTC), s.GetStartsAt().AsTime())
}

func TestPagerDutyAcknowledged(t *testing.T) {
	t.Parallel()
	s := pagerDutyNormalise(t, pagerDutyEvent("incident.acknowledged", "acknowledged", "low", ""))
	require.Equal(t, signalv1.Status_STATUS_ACKNOWLEDGED, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity(), "low urgency without a priority")
	require.NotContains(t, s.GetLabels(), "priority")
	require.Nil(t, s.GetEndsAt())
}

func TestPagerDutyStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		eventType, incidentStatus string
		want                      signalv1.Status
	}{
		{"incident.triggered", "triggered", signalv1.Status_STATUS_FIRING},
		{"incident.reopened", "triggered", signalv1.Status_STATUS_FIRING},
		{"incident.unacknowledged", "triggered", signalv1.Status_STATUS_FIRING},
		{"incident.acknowledged", "acknowledged", signalv1.Status_STATUS_ACKNOWLEDGED},
		{"incident.resolved", "resolved", signalv1.Status_STATUS_RESOLVED},
		// Events that only move the incident take its own status.
		{"incident.escalated", "triggered", signalv1.Status_STATUS_FIRING},
		{"incident.reassigned", "acknowledged", signalv1.Status_STATUS_ACKNOWLEDGED},
		{"incident.delegated", "triggered", signalv1.Status_STATUS_FIRING},
		{"incident.priority_updated", "resolved", signalv1.Status_STATUS_RESOLVED},
	}
	for _, tc := range cases {
		s := pagerDutyNormalise(t, pagerDutyEvent(tc.eventType, tc.incidentStatus, "high", ""))
		require.Equal(t, tc.want, s.GetStatus(), "%s with status %s", tc.eventType, tc.incidentStatus)
	}
}

func TestPagerDutySeverity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		urgency, priority string
		want              signalv1.Severity
	}{
		{"high", "P1", signalv1.Severity_SEVERITY_CRITICAL},
		{"low", "P1", signalv1.Severity_SEVERITY_CRITICAL},
		{"high", "P2", signalv1.Severity_SEVERITY_ERROR},
		{"high", "P3", signalv1.Severity_SEVERITY_WARNING},
		{"high", "p4", signalv1.Severity_SEVERITY_INFO},
		{"high", "P5", signalv1.Severity_SEVERITY_INFO},
		{"high", "SEV-1", signalv1.Severity_SEVERITY_ERROR},
		{"high", "", signalv1.Severity_SEVERITY_ERROR},
		{"low", "", signalv1.Severity_SEVERITY_WARNING},
		{"", "", signalv1.Severity_SEVERITY_WARNING},
	}
	for _, tc := range cases {
		s := pagerDutyNormalise(t, pagerDutyEvent("incident.triggered", "triggered", tc.urgency, tc.priority))
		require.Equal(t, tc.want, s.GetSeverity(), "urgency %q, priority %q", tc.urgency, tc.priority)
	}
}

func TestPagerDutyMinimalIncident(t *testing.T) {
	t.Parallel()
	// An unusual but valid event: a numeric id, no title, service or
	// times, as a hand-made or trimmed event might carry.
	s := pagerDutyNormalise(t, `{"event":{"event_type":"incident.triggered","data":{"id":123456,"number":9}}}`)
	require.Equal(t, "pd:123456", s.GetFingerprint())
	require.Equal(t, "PagerDuty incident 9", s.GetTitle())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Empty(t, s.GetResource())
	require.Nil(t, s.GetStartsAt())

	// A reference's summary stands in for a missing title.
	s = pagerDutyNormalise(t, `{"event":{"event_type":"incident.acknowledged","data":{"id":"PABC","summary":"Disk full on db-3"}}}`)
	require.Equal(t, "Disk full on db-3", s.GetTitle())
}

func TestPagerDutyFingerprintStability(t *testing.T) {
	t.Parallel()
	triggered := pagerDutyNormalise(t, pagerDutyEvent("incident.triggered", "triggered", "high", "P2"))
	acked := pagerDutyNormalise(t, pagerDutyEvent("incident.acknowledged", "acknowledged", "high", "P1"))
	resolved := pagerDutyNormalise(t, pagerDutyEvent("incident.resolved", "resolved", "low", ""))
	require.Equal(t, triggered.GetFingerprint(), acked.GetFingerprint())
	require.Equal(t, triggered.GetFingerprint(), resolved.GetFingerprint())

	other := pagerDutyNormalise(t, strings.ReplaceAll(pagerDutyEvent("incident.triggered", "triggered", "high", "P2"), "Q2WX7LMN0ABCDE", "Q9ZZ1AAA2BBBCC"))
	require.NotEqual(t, triggered.GetFingerprint(), other.GetFingerprint())
	require.Equal(t, "pd:Q9ZZ1AAA2BBBCC", other.GetFingerprint())
}

func TestPagerDutyRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `{"event":`, "not a JSON PagerDuty webhook"},
		{"v2 webhook", `{"messages":[{"event":"incident.trigger","incident":{"id":"P1"}}]}`, "only V3 webhook subscriptions"},
		{"no event type", `{"event":{"data":{"id":"P1"}}}`, "has no event_type"},
		{"annotated", `{"event":{"event_type":"incident.annotated","data":{"type":"incident_note","content":"hi"}}}`, `event type "incident.annotated" is not ingested; Alexus ingests incident.triggered`},
		{"service updated", `{"event":{"event_type":"service.updated","data":{"id":"PSVC","type":"service"}}}`, `"service.updated" is not ingested`},
		{"ping", `{"event":{"event_type":"pagey.ping","data":{"message":"Hello from your friend Pagey!"}}}`, `"pagey.ping" is not ingested`},
		{"data not an incident", `{"event":{"event_type":"incident.triggered","data":{"id":"P1","type":"incident_note"}}}`, `type "incident_note", want "incident"`},
		{"data missing", `{"event":{"event_type":"incident.triggered"}}`, "not a JSON incident object"},
		{"data null", `{"event":{"event_type":"incident.triggered","data":null}}`, "incident has no id"},
		{"id with separators", `{"event":{"event_type":"incident.triggered","data":{"id":"a:b c"}}}`, "incident has no id"},
		{"status unknown", `{"event":{"event_type":"incident.escalated","data":{"id":"P1","status":"snoozed"}}}`, `incident status "snoozed"`},
		{"bad created_at", `{"event":{"event_type":"incident.triggered","data":{"id":"P1","created_at":"yesterday"}}}`, "created_at: not an RFC 3339 time"},
		{"bad occurred_at", `{"event":{"event_type":"incident.resolved","occurred_at":"later","data":{"id":"P1"}}}`, "occurred_at: not an RFC 3339 time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := PagerDuty{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzPagerDuty(f *testing.F) {
	for _, seed := range []string{
		pagerDutyEvent("incident.triggered", "triggered", "high", "P1"),
		pagerDutyEvent("incident.resolved", "resolved", "low", ""),
		pagerDutyEvent("incident.priority_updated", "acknowledged", "high", "P4"),
		`{}`, `null`, `[]`, `{"event":null}`, `{"event":{"event_type":"incident.triggered","data":{"id":1}}}`,
		`{"event":{"event_type":"incident.resolved","occurred_at":"9999-12-31T23:59:59Z","data":{"id":"P1","teams":[null],"service":null}}}`,
		"{\"event\":{\"event_type\":\"incident.triggered\",\"data\":{\"id\":\"P1\",\"title\":\"\xff\",\"assignees\":[{\"summary\":\"\xfe\"}]}}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := PagerDuty{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, PagerDutySource, sigs, err) {
			return
		}
		require.Len(t, sigs, 1)
		require.True(t, strings.HasPrefix(sigs[0].GetFingerprint(), "pd:"))
	})
}
