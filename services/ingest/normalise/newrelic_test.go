package normalise

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

const nrIssueID = "5f8a2c1e-9b3d-4e7f-a6c0-2d4b8e1f3a97"

// nrPayload renders the template documented on NewRelic for one issue.
func nrPayload(issueID, state, priority, closedAt string) string {
	return `{
  "issueId": "` + issueID + `",
  "issueUrl": "https://radar-api.service.newrelic.com/accounts/3141592/issues/` + issueID + `?notifier=WEBHOOK",
  "title": "Response time > 2s for at least 5 minutes on 'checkout-api'",
  "description": "p95 of checkout-api transactions has stayed above 2 seconds.",
  "priority": "` + priority + `",
  "state": "` + state + `",
  "trigger": "STATE_CHANGE",
  "isCorrelated": false,
  "createdAt": 1772365500123,
  "updatedAt": 1772366700456,
  "activatedAt": 1772365560000,
  "closedAt": ` + closedAt + `,
  "sources": ["newrelic"],
  "alertPolicyNames": ["Checkout golden signals"],
  "alertConditionNames": ["Checkout p95 latency"],
  "workflowName": "Payments on-call",
  "entitiesData": {"names": ["checkout-api", "checkout-db"], "types": ["APPLICATION", "HOST"], "ids": ["MzE0MTU5MnxBUE18QVBQTElDQVRJT058NDI", "MzE0MTU5MnxJTkZSQXxOQXw3"], "entities": [{"id": "x", "name": "checkout-api"}]},
  "impactedEntities": ["checkout-api", "checkout-db"],
  "totalIncidents": 2,
  "owner": "Grace Hopper",
  "labels": {"policyIds": ["8675309"], "accountIds": [3141592]},
  "tags": {"team": ["payments"], "env": ["prod", "eu"]},
  "accumulations": {"conditionFamilyId": [42], "nrqlQuery": ["SELECT percentile(duration, 95) FROM Transaction"], "evaluation": [{"name": "p95"}]}
}`
}

// New Relic's stock workflow template, untouched: the id comes as "id",
// entities only as impactedEntities, and there is no closedAt.
func nrDefaultTemplatePayload(state string) string {
	return `{
  "id": "` + nrIssueID + `",
  "issueUrl": "https://radar-api.service.newrelic.com/accounts/3141592/issues/` + nrIssueID + `?notifier=WEBHOOK",
  "title": "Response time > 2s for at least 5 minutes on 'checkout-api'",
  "priority": "HIGH",
  "impactedEntities": ["checkout-api"],
  "totalIncidents": 1,
  "state": "` + state + `",
  "trigger": "STATE_CHANGE",
  "isCorrelated": false,
  "createdAt": 1772365500123,
  "updatedAt": 1772366700456,
  "sources": ["newrelic"],
  "alertPolicyNames": ["Checkout golden signals"],
  "alertConditionNames": ["Checkout p95 latency"],
  "workflowName": "Payments on-call"
}`
}

func nrNormalise(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, NewRelic{}, payload, nil)
}

func TestNewRelicFiring(t *testing.T) {
	t.Parallel()
	s := nrNormalise(t, nrPayload(nrIssueID, "ACTIVATED", "CRITICAL", "null"))
	require.Equal(t, "newrelic", s.GetSource())
	require.Equal(t, "nr:"+nrIssueID, s.GetFingerprint())
	require.Equal(t, "newrelic", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, nrIssueID, s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "Response time > 2s for at least 5 minutes on 'checkout-api'", s.GetTitle())
	require.Equal(t, "p95 of checkout-api transactions has stayed above 2 seconds.", s.GetDescription())
	require.Equal(t, "checkout-api", s.GetResource())
	require.Equal(t, "payments", s.GetLabels()["team"])
	require.Equal(t, "prod,eu", s.GetLabels()["env"])
	require.Equal(t, "8675309", s.GetLabels()["policyIds"])
	require.Equal(t, "42", s.GetLabels()["conditionFamilyId"])
	require.NotContains(t, s.GetLabels(), "evaluation", "lists of objects are not labels")
	require.Equal(t, "Checkout golden signals", s.GetLabels()["alertPolicyNames"])
	require.Equal(t, "Checkout p95 latency", s.GetLabels()["alertConditionNames"])
	require.Equal(t, "checkout-api,checkout-db", s.GetLabels()["impactedEntities"])
	require.Equal(t, "APPLICATION,HOST", s.GetLabels()["entityTypes"])
	require.Equal(t, "Payments on-call", s.GetLabels()["workflowName"])
	require.Equal(t, "STATE_CHANGE", s.GetAnnotations()["trigger"])
	require.Equal(t, "false", s.GetAnnotations()["isCorrelated"])
	require.Equal(t, "2", s.GetAnnotations()["totalIncidents"])
	require.Equal(t, "Grace Hopper", s.GetAnnotations()["owner"])
	require.Equal(t, "https://radar-api.service.newrelic.com/accounts/3141592/issues/"+nrIssueID+"?notifier=WEBHOOK", s.GetLink())
	require.Equal(t, time.UnixMilli(1772365560000).UTC(), s.GetStartsAt().AsTime(), "activatedAt wins over createdAt")
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.JSONEq(t, nrPayload(nrIssueID, "ACTIVATED", "CRITICAL", "null"), string(s.GetRawPayload()))
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
}

func TestNewRelicResolved(t *testing.T) {
	t.Parallel()
	s := nrNormalise(t, nrPayload(nrIssueID, "CLOSED", "CRITICAL", "1772366700000"))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.UnixMilli(1772366700000).UTC(), s.GetEndsAt().AsTime())

	// The stock template has no closedAt; the last update stands in.
	s = nrNormalise(t, nrDefaultTemplatePayload("CLOSED"))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.UnixMilli(1772366700456).UTC(), s.GetEndsAt().AsTime())
}

func TestNewRelicDefaultTemplate(t *testing.T) {
	t.Parallel()
	s := nrNormalise(t, nrDefaultTemplatePayload("CREATED"))
	require.Equal(t, "nr:"+nrIssueID, s.GetFingerprint(), `the stock template's "id" is the issue id`)
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "checkout-api", s.GetResource())
	require.Equal(t, time.UnixMilli(1772365500123).UTC(), s.GetStartsAt().AsTime())
	require.Empty(t, s.GetDescription())
}

func TestNewRelicAcknowledgedAndSparse(t *testing.T) {
	t.Parallel()
	s := nrNormalise(t, nrPayload(nrIssueID, "ACKNOWLEDGED", "MEDIUM", "null"))
	require.Equal(t, signalv1.Status_STATUS_ACKNOWLEDGED, s.GetStatus())
	require.Nil(t, s.GetEndsAt())

	// A hand-trimmed template: a numeric id, lower-case state, null title
	// and lists, times as strings.
	sparse := nrNormalise(t, `{"issueId":90210,"state":"activated","title":null,"alertConditionNames":null,"alertPolicyNames":["Infra"],"createdAt":"1772365500123","entitiesData":null}`)
	require.Equal(t, "nr:90210", sparse.GetFingerprint())
	require.Equal(t, "Infra", sparse.GetTitle(), "without a title the policy name stands in")
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, sparse.GetSeverity())
	require.Empty(t, sparse.GetResource())
	require.Equal(t, time.UnixMilli(1772365500123).UTC(), sparse.GetStartsAt().AsTime())

	bare := nrNormalise(t, `{"issueId":"abc","state":"CREATED"}`)
	require.Equal(t, "New Relic issue abc", bare.GetTitle())
}

func TestNewRelicFingerprintStability(t *testing.T) {
	t.Parallel()
	created := nrNormalise(t, nrDefaultTemplatePayload("CREATED"))
	activated := nrNormalise(t, nrPayload(nrIssueID, "ACTIVATED", "CRITICAL", "null"))
	acked := nrNormalise(t, nrPayload(nrIssueID, "ACKNOWLEDGED", "CRITICAL", "null"))
	closed := nrNormalise(t, nrPayload(nrIssueID, "CLOSED", "CRITICAL", "1772366700000"))
	upper := nrNormalise(t, nrPayload("5F8A2C1E-9B3D-4E7F-A6C0-2D4B8E1F3A97", "ACTIVATED", "CRITICAL", "null"))
	other := nrNormalise(t, nrPayload("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "ACTIVATED", "CRITICAL", "null"))
	for _, s := range []*signalv1.Signal{activated, acked, closed, upper} {
		require.Equal(t, created.GetFingerprint(), s.GetFingerprint())
	}
	require.NotEqual(t, created.GetFingerprint(), other.GetFingerprint())
}

func TestNewRelicSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"CRITICAL": signalv1.Severity_SEVERITY_CRITICAL, "critical": signalv1.Severity_SEVERITY_CRITICAL,
		"HIGH": signalv1.Severity_SEVERITY_ERROR, "MEDIUM": signalv1.Severity_SEVERITY_WARNING,
		"LOW": signalv1.Severity_SEVERITY_INFO, "": signalv1.Severity_SEVERITY_WARNING,
		"P1": signalv1.Severity_SEVERITY_WARNING,
	}
	for priority, want := range cases {
		require.Equal(t, want, nrPriority(priority), "priority %q", priority)
		require.Equal(t, want, nrNormalise(t, nrPayload(nrIssueID, "ACTIVATED", priority, "null")).GetSeverity(), "priority %q", priority)
	}
}

func TestNewRelicRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `<html>`, "not a JSON New Relic workflow notification"},
		{"json array", `[]`, "not a JSON New Relic workflow notification"},
		{"null", `null`, "issueId is missing"},
		{"no id", `{"state":"ACTIVATED"}`, "issueId is missing"},
		{"odd id", `{"issueId":"../../etc","state":"ACTIVATED"}`, "issueId is not 1-128 ASCII"},
		{"no state", `{"issueId":"abc"}`, "state is missing; the workflow's payload template must send {{ json state }}"},
		{"bad state", `{"issueId":"abc","state":"DEACTIVATED"}`, `state "DEACTIVATED" is none of`},
		{"title as a list", `{"issueId":"abc","state":"CREATED","title":["a"]}`, "not a JSON New Relic workflow notification"},
		{"bad createdAt", `{"issueId":"abc","state":"CREATED","createdAt":"{{ createdAt }}"}`, "not a JSON New Relic workflow notification"},
		{"createdAt out of range", `{"issueId":"abc","state":"CREATED","createdAt":1e20}`, "activatedAt or createdAt: time out of range"},
		{"unrendered template", `{"issueId": {{ json issueId }}}`, "not a JSON New Relic workflow notification"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := NewRelic{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzNewRelic(f *testing.F) {
	for _, seed := range []string{
		nrPayload(nrIssueID, "ACTIVATED", "CRITICAL", "null"),
		nrPayload(nrIssueID, "CLOSED", "LOW", "1772366700000"),
		nrDefaultTemplatePayload("ACKNOWLEDGED"),
		`{"issueId":90210,"state":"activated","title":null,"alertConditionNames":null,"createdAt":"1772365500123","entitiesData":null}`,
		`{}`, `null`, `[]`, `{"id":"a","state":"CLOSED","updatedAt":253402300799999}`,
		`{"id":"a","state":"CREATED","labels":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}},"tags":{"x":[[1]]}}`,
		"{\"id\":\"a\",\"state\":\"CREATED\",\"title\":\"\xff\",\"tags\":{\"\xfe\":[\"\xfd\"]}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := NewRelic{}.Normalise(payload, nil, received)
		requireStorableSignals(t, NewRelicSource, sigs, err)
	})
}
