package normalise

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// opsgenieCreate is the action data Opsgenie's Webhook integration posts
// when an alert is created, with description and details sent.
const opsgenieCreate = `{
  "source": {"name": "", "type": "API"},
  "alert": {
    "updatedAt": 1772362801234000000,
    "tags": ["env:prod", "payments", "region: eu-west-1"],
    "teams": ["2b9b7f5e-team-payments"],
    "recipients": ["2b9b7f5e-team-payments"],
    "message": "Checkout error rate above 5%",
    "username": "System",
    "alertId": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
    "source": "prometheus-eu",
    "alias": "checkout-error-rate-prod",
    "tinyId": "1207",
    "createdAt": 1772362800123,
    "userId": "",
    "entity": "checkout-api",
    "description": "5xx ratio is 7.2% over 5m on checkout-api in eu-west-1.",
    "details": {"runbook": "https://runbooks.example/checkout", "region": "eu-west-1", "cluster": "prod-eu-1"},
    "priority": "P2"
  },
  "action": "Create",
  "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d",
  "integrationName": "Alexus"
}`

// opsgenieClose is the Close of the same alert, without the description
// and details Opsgenie only sends on Create.
const opsgenieClose = `{
  "source": {"name": "", "type": "web"},
  "alert": {
    "updatedAt": 1772366400987000000,
    "tags": ["env:prod", "payments", "region: eu-west-1"],
    "message": "Checkout error rate above 5%",
    "username": "ada@example.com",
    "alertId": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
    "source": "prometheus-eu",
    "alias": "checkout-error-rate-prod",
    "tinyId": "1207",
    "createdAt": 1772362800123,
    "userId": "daed1180-0ce8-438b-8f8e-57e1a5920a2d",
    "entity": "checkout-api",
    "priority": "P2",
    "note": "Rolled back release 2026.03.01-2"
  },
  "action": "Close",
  "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d",
  "integrationName": "Alexus"
}`

// opsgenieAcknowledgeNoAlias is an unusual but valid Acknowledge: no alias
// (so Opsgenie's default, the alertId, stands in), no priority, a numeric
// tinyId and quoted times in milliseconds.
const opsgenieAcknowledgeNoAlias = `{
  "source": {"name": "", "type": "mobile"},
  "alert": {
    "updatedAt": "1772363000000",
    "tags": [],
    "message": "Disk 91% full on db-3",
    "username": "ada@example.com",
    "alertId": "0a0b0c0d-1111-2222-3333-444455556666",
    "tinyId": 88,
    "createdAt": "1772362000000",
    "entity": "",
    "details": {"host": "db-3"}
  },
  "action": "Acknowledge",
  "integrationName": "Alexus"
}`

func opsgenieNormalise(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, Opsgenie{}, payload, nil)
}

func TestOpsgenieCreate(t *testing.T) {
	t.Parallel()
	s := opsgenieNormalise(t, opsgenieCreate)
	require.Equal(t, "opsgenie", s.GetSource())
	require.Equal(t, "og:"+HashFields(map[string]string{"alias": "checkout-error-rate-prod"}), s.GetFingerprint())
	require.Equal(t, "opsgenie", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "Checkout error rate above 5%", s.GetTitle())
	require.Equal(t, "5xx ratio is 7.2% over 5m on checkout-api in eu-west-1.", s.GetDescription())
	require.Equal(t, "checkout-api", s.GetResource())
	require.Equal(t, map[string]string{
		"env": "prod", "payments": "", "region": "eu-west-1",
		"runbook": "https://runbooks.example/checkout", "cluster": "prod-eu-1",
	}, s.GetLabels())
	require.Equal(t, "1207", s.GetAnnotations()["tiny_id"])
	require.Equal(t, "prometheus-eu", s.GetAnnotations()["alert_source"])
	require.Equal(t, "Create", s.GetAnnotations()["action"])
	require.Equal(t, "API", s.GetAnnotations()["action_source"])
	require.Equal(t, "Alexus", s.GetAnnotations()["integration_name"])
	require.Empty(t, s.GetLink(), "the webhook carries no URL of the alert")
	require.Equal(t, time.UnixMilli(1772362800123).UTC(), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.JSONEq(t, opsgenieCreate, string(s.GetRawPayload()))
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
}

func TestOpsgenieClose(t *testing.T) {
	t.Parallel()
	s := opsgenieNormalise(t, opsgenieClose)
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.Unix(0, 1772366400987000000).UTC(), s.GetEndsAt().AsTime(), "updatedAt is in nanoseconds")
	require.Equal(t, time.UnixMilli(1772362800123).UTC(), s.GetStartsAt().AsTime())
	require.Equal(t, "Rolled back release 2026.03.01-2", s.GetAnnotations()["note"])
	require.Equal(t, "ada@example.com", s.GetAnnotations()["username"])
}

func TestOpsgenieAcknowledgeWithoutAlias(t *testing.T) {
	t.Parallel()
	s := opsgenieNormalise(t, opsgenieAcknowledgeNoAlias)
	require.Equal(t, signalv1.Status_STATUS_ACKNOWLEDGED, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity(), "no priority is P3, WARNING")
	require.Equal(t, "og:"+HashFields(map[string]string{"alias": "0a0b0c0d-1111-2222-3333-444455556666"}), s.GetFingerprint(),
		"without an alias the alertId stands in, as Opsgenie does")
	require.Equal(t, "db-3", s.GetResource(), "the host detail stands in for an empty entity")
	require.Equal(t, "88", s.GetAnnotations()["tiny_id"])
	require.Equal(t, time.UnixMilli(1772362000000).UTC(), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt(), "only resolved alerts end")

	// Spelling out Opsgenie's default alias changes nothing.
	spelled := strings.Replace(opsgenieAcknowledgeNoAlias, `"tinyId": 88,`, `"tinyId": 88, "alias": "0a0b0c0d-1111-2222-3333-444455556666",`, 1)
	require.Equal(t, s.GetFingerprint(), opsgenieNormalise(t, spelled).GetFingerprint())

	// With neither a message nor a tiny id, the alert id names it.
	s = opsgenieNormalise(t, `{"action":"UnAcknowledge","alert":{"alertId":"abc-123"}}`)
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, "Opsgenie alert abc-123", s.GetTitle())
	require.Nil(t, s.GetLabels())
}

func TestOpsgenieStatus(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Status{
		"Create":        signalv1.Status_STATUS_FIRING,
		"UnAcknowledge": signalv1.Status_STATUS_FIRING,
		"Acknowledge":   signalv1.Status_STATUS_ACKNOWLEDGED,
		"Close":         signalv1.Status_STATUS_RESOLVED,
		"Delete":        signalv1.Status_STATUS_RESOLVED,
	}
	for action, want := range cases {
		s := opsgenieNormalise(t, `{"action":`+quoteJSON(action)+`,"alert":{"alertId":"a1","alias":"x"}}`)
		require.Equal(t, want, s.GetStatus(), "action %s", action)
	}
}

func TestOpsgenieSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"P1": signalv1.Severity_SEVERITY_CRITICAL, " p1 ": signalv1.Severity_SEVERITY_CRITICAL,
		"P2": signalv1.Severity_SEVERITY_ERROR,
		"P3": signalv1.Severity_SEVERITY_WARNING,
		"P4": signalv1.Severity_SEVERITY_INFO, "P5": signalv1.Severity_SEVERITY_INFO,
		"": signalv1.Severity_SEVERITY_WARNING, "P6": signalv1.Severity_SEVERITY_WARNING, "critical": signalv1.Severity_SEVERITY_WARNING,
	}
	for priority, want := range cases {
		s := opsgenieNormalise(t, `{"action":"Create","alert":{"alertId":"a1","priority":`+quoteJSON(priority)+`}}`)
		require.Equal(t, want, s.GetSeverity(), "priority %q", priority)
	}
}

func TestOpsgenieFingerprintStability(t *testing.T) {
	t.Parallel()
	created := opsgenieNormalise(t, opsgenieCreate)
	closed := opsgenieNormalise(t, opsgenieClose)
	require.Equal(t, created.GetFingerprint(), closed.GetFingerprint(), "create and close share the fingerprint")

	otherAlias := opsgenieNormalise(t, strings.Replace(opsgenieCreate, `"alias": "checkout-error-rate-prod"`, `"alias": "checkout-error-rate-staging"`, 1))
	require.NotEqual(t, created.GetFingerprint(), otherAlias.GetFingerprint())

	// The alias, not the alertId, decides: Opsgenie dedups on it.
	sameAliasNewID := opsgenieNormalise(t, strings.Replace(opsgenieCreate, "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "7f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", 1))
	require.Equal(t, created.GetFingerprint(), sameAliasNewID.GetFingerprint())
}

func TestOpsgenieRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `action=Create`, "not a JSON Opsgenie webhook body"},
		{"no action", `{"alert":{"alertId":"a1"}}`, "has no action, want one of Create"},
		{"add note", `{"action":"AddNote","alert":{"alertId":"a1","note":"looking"}}`, `action "AddNote" does not change an alert's status and is not ingested; Alexus ingests Create, Acknowledge, UnAcknowledge, Close and Delete`},
		{"custom action", `{"action":"Restart pod","alert":{"alertId":"a1"}}`, `action "Restart pod"`},
		{"no alert", `{"action":"Create"}`, "has no alert"},
		{"null alert", `{"action":"Create","alert":null}`, "has no alert"},
		{"no ids", `{"action":"Create","alert":{"message":"x"}}`, "neither an alias nor an alertId"},
		{"odd alert id", `{"action":"Create","alert":{"alertId":"a b/c"}}`, "not an Opsgenie alert id"},
		{"alias too long", `{"action":"Create","alert":{"alias":"` + strings.Repeat("a", 513) + `"}}`, "longer than Opsgenie's 512"},
		{"bad createdAt", `{"action":"Create","alert":{"alertId":"a1","createdAt":"today"}}`, "alert.createdAt: not a whole number"},
		{"tags not strings", `{"action":"Create","alert":{"alertId":"a1","tags":[1]}}`, "not a JSON Opsgenie webhook body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Opsgenie{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzOpsgenie(f *testing.F) {
	for _, seed := range []string{
		opsgenieCreate, opsgenieClose, opsgenieAcknowledgeNoAlias,
		`{}`, `null`, `[]`, `{"action":"Create","alert":null}`, `{"action":"Close","alert":{"alertId":7}}`,
		`{"action":"Close","alert":{"alias":"x","createdAt":-1,"updatedAt":9223372036854775807}}`,
		`{"action":"Create","alert":{"alias":"x","createdAt":999999999999999},"source":"not an object"}`,
		"{\"action\":\"Create\",\"alert\":{\"alias\":\"\xff\",\"tags\":[\"\xfe:\",\":\"],\"details\":{\"\":\"\xfd\"}}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Opsgenie{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, OpsgenieSource, sigs, err) {
			return
		}
		require.Len(t, sigs, 1)
	})
}
