package normalise

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// gcpmonPayload is a schema 1.2 notification for a Compute Engine CPU
// incident.
func gcpmonPayload(incidentID, state, severity, endedAt string) string {
	return `{
  "incident": {
    "incident_id": "` + incidentID + `",
    "scoping_project_id": "shop-prod-4821",
    "scoping_project_number": 918273645501,
    "url": "https://console.cloud.google.com/monitoring/alerting/alerts/` + incidentID + `?project=shop-prod-4821",
    "started_at": 1772365800,
    "ended_at": ` + endedAt + `,
    "state": "` + state + `",
    "summary": "CPU utilization for shop-prod-4821 web-3 with metric labels {instance_name=web-3} is above the threshold of 0.800 with a value of 0.934.",
    "apigee_url": "https://apigee.google.com",
    "observed_value": "0.934",
    "resource": {"type": "gce_instance", "labels": {"instance_id": "4419087710823654321", "project_id": "shop-prod-4821", "zone": "europe-west1-b"}},
    "resource_type_display_name": "VM Instance",
    "resource_id": "",
    "resource_display_name": "web-3",
    "resource_name": "shop-prod-4821 web-3",
    "metric": {"type": "compute.googleapis.com/instance/cpu/utilization", "displayName": "CPU utilization", "labels": {"instance_name": "web-3"}},
    "metadata": {"system_labels": {"machine_type": "e2-standard-4"}, "user_labels": {"env": "prod"}},
    "policy_name": "Web CPU high",
    "policy_user_labels": {"team": "storefront"},
    "documentation": {"content": "Scale the web MIG or check for a runaway job.", "mime_type": "text/markdown", "subject": "[ALERT - Critical] Web CPU high"},
    "condition": {
      "name": "projects/shop-prod-4821/alertPolicies/1529374650/conditions/1529374651",
      "displayName": "VM Instance - CPU utilization",
      "conditionThreshold": {"filter": "metric.type=\"compute.googleapis.com/instance/cpu/utilization\"", "comparison": "COMPARISON_GT", "thresholdValue": 0.8, "duration": "300s", "trigger": {"count": 1}}
    },
    "condition_name": "VM Instance - CPU utilization",
    "threshold_value": "0.8",
    "severity": "` + severity + `"
  },
  "version": "1.2"
}`
}

// The console's Test Connection payload: version "test", upper-case state,
// documentation as a plain string, ids as numbers, zero times.
const gcpmonTestConnectionPayload = `{
  "version": "test",
  "incident": {
    "incident_id": 12345,
    "scoping_project_id": "12345",
    "scoping_project_number": 12345,
    "url": "http://www.example.com",
    "started_at": 0,
    "ended_at": 0,
    "state": "OPEN",
    "summary": "Test Incident",
    "observed_value": "1.0",
    "resource": {"type": "example_resource", "labels": {"example": "label"}},
    "resource_id": "12345",
    "metric": {"type": "test.googleapis.com/metric", "displayName": "Test Metric", "labels": {"example": "label"}},
    "metadata": {"system_labels": {"example": "label"}, "user_labels": {"example": "label"}},
    "policy_name": "projects/12345/alertPolicies/12345",
    "policy_user_labels": {"severity": "page"},
    "documentation": "Test documentation",
    "condition_name": "Example condition",
    "threshold_value": "0.5"
  }
}`

func gcpmonNormalise(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, GCPMonitoring{}, payload, nil)
}

func TestGCPMonitoringFiring(t *testing.T) {
	t.Parallel()
	s := gcpmonNormalise(t, gcpmonPayload("0.n4k2v7xq9w1z", "open", "Critical", "null"))
	require.Equal(t, "gcp-monitoring", s.GetSource())
	require.Equal(t, "gcpmon:0.n4k2v7xq9w1z", s.GetFingerprint())
	require.Equal(t, "gcp-monitoring", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "0.n4k2v7xq9w1z", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "Web CPU high", s.GetTitle())
	require.Contains(t, s.GetDescription(), "is above the threshold of 0.800")
	require.Equal(t, "web-3", s.GetResource())
	require.Equal(t, "storefront", s.GetLabels()["team"])
	require.Equal(t, "prod", s.GetLabels()["env"])
	require.Equal(t, "e2-standard-4", s.GetLabels()["system.machine_type"])
	require.Equal(t, "europe-west1-b", s.GetLabels()["resource.zone"])
	require.Equal(t, "gce_instance", s.GetLabels()["resource.type"])
	require.Equal(t, "web-3", s.GetLabels()["metric.instance_name"])
	require.Equal(t, "compute.googleapis.com/instance/cpu/utilization", s.GetLabels()["metric.type"])
	require.Equal(t, "shop-prod-4821", s.GetLabels()["scoping_project_id"])
	require.Equal(t, "Scale the web MIG or check for a runaway job.", s.GetAnnotations()["documentation"])
	require.Equal(t, "[ALERT - Critical] Web CPU high", s.GetAnnotations()["subject"])
	require.Equal(t, "0.934", s.GetAnnotations()["observed_value"])
	require.Equal(t, "0.8", s.GetAnnotations()["threshold_value"])
	require.Equal(t, "https://console.cloud.google.com/monitoring/alerting/alerts/0.n4k2v7xq9w1z?project=shop-prod-4821", s.GetLink())
	require.Equal(t, time.Unix(1772365800, 0).UTC(), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.JSONEq(t, gcpmonPayload("0.n4k2v7xq9w1z", "open", "Critical", "null"), string(s.GetRawPayload()))
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
}

func TestGCPMonitoringResolved(t *testing.T) {
	t.Parallel()
	s := gcpmonNormalise(t, gcpmonPayload("0.n4k2v7xq9w1z", "closed", "Critical", "1772366520"))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.Unix(1772366520, 0).UTC(), s.GetEndsAt().AsTime())
	require.Equal(t, "gcpmon:0.n4k2v7xq9w1z", s.GetFingerprint())
}

func TestGCPMonitoringTestConnection(t *testing.T) {
	t.Parallel()
	s := gcpmonNormalise(t, gcpmonTestConnectionPayload)
	require.Equal(t, "gcpmon:12345", s.GetFingerprint(), "a numeric id reads as its digits")
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity(), "no severity: the policy's severity label decides")
	require.Equal(t, "projects/12345/alertPolicies/12345", s.GetTitle())
	require.Equal(t, "12345", s.GetResource())
	require.Equal(t, "Test documentation", s.GetAnnotations()["documentation"])
	require.Nil(t, s.GetStartsAt(), "0 means unset")
}

func TestGCPMonitoringAcknowledgedAndSparse(t *testing.T) {
	t.Parallel()
	s := gcpmonNormalise(t, `{"version":"1.2","incident":{"incident_id":"0.abc","state":"acknowledged","started_at":"1772365800","documentation":null,"summary":"Uptime check failed"}}`)
	require.Equal(t, signalv1.Status_STATUS_ACKNOWLEDGED, s.GetStatus())
	require.Equal(t, "Uptime check failed", s.GetTitle(), "without a policy name the summary stands in")
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Equal(t, time.Unix(1772365800, 0).UTC(), s.GetStartsAt().AsTime(), "a time sent as a string still reads")
	require.Empty(t, s.GetResource())

	bare := gcpmonNormalise(t, `{"version":"1.2","incident":{"incident_id":"0.def","state":"open"}}`)
	require.Equal(t, "Cloud Monitoring incident 0.def", bare.GetTitle())
}

func TestGCPMonitoringFingerprintStability(t *testing.T) {
	t.Parallel()
	open := gcpmonNormalise(t, gcpmonPayload("0.n4k2v7xq9w1z", "open", "Critical", "null"))
	again := gcpmonNormalise(t, gcpmonPayload("0.n4k2v7xq9w1z", "open", "Warning", "null"))
	closed := gcpmonNormalise(t, gcpmonPayload("0.n4k2v7xq9w1z", "closed", "Critical", "1772366520"))
	other := gcpmonNormalise(t, gcpmonPayload("0.p8r3s6t1u0v2", "open", "Critical", "null"))
	require.Equal(t, open.GetFingerprint(), again.GetFingerprint())
	require.Equal(t, open.GetFingerprint(), closed.GetFingerprint())
	require.NotEqual(t, open.GetFingerprint(), other.GetFingerprint())
}

func TestGCPMonitoringSeverity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		severity, label string
		want            signalv1.Severity
	}{
		{"Critical", "", signalv1.Severity_SEVERITY_CRITICAL},
		{"CRITICAL", "info", signalv1.Severity_SEVERITY_CRITICAL},
		{"Error", "", signalv1.Severity_SEVERITY_ERROR},
		{"Warning", "", signalv1.Severity_SEVERITY_WARNING},
		{"No severity", "", signalv1.Severity_SEVERITY_WARNING},
		{"No severity", "low", signalv1.Severity_SEVERITY_INFO},
		{"", "critical", signalv1.Severity_SEVERITY_CRITICAL},
		{"", "major", signalv1.Severity_SEVERITY_ERROR},
		{"", "", signalv1.Severity_SEVERITY_WARNING},
	}
	for _, tc := range cases {
		labels := map[string]any{}
		if tc.label != "" {
			labels["severity"] = tc.label
		}
		require.Equal(t, tc.want, gcpmonSeverity(tc.severity, labels), "severity %q, label %q", tc.severity, tc.label)
	}
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, gcpmonNormalise(t, gcpmonPayload("0.a", "open", "Error", "null")).GetSeverity())
}

func TestGCPMonitoringRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `<html>`, "not a JSON Cloud Monitoring notification"},
		{"json array", `[]`, "not a JSON Cloud Monitoring notification"},
		{"no version", `{"incident":{"incident_id":"0.a","state":"open"}}`, "has no version"},
		{"other 1.x without incident", `{"version":"1.1"}`, "has no incident"},
		{"unknown version", `{"version":"2.0","incident":{"incident_id":"0.a","state":"open"}}`, `version "2.0" is not supported`},
		{"no incident", `{"version":"1.2"}`, "has no incident"},
		{"no incident id", `{"version":"1.2","incident":{"state":"open"}}`, "incident_id is missing"},
		{"odd incident id", `{"version":"1.2","incident":{"incident_id":"0.a/../b","state":"open"}}`, "incident_id is not 1-128 ASCII"},
		{"bad state", `{"version":"1.2","incident":{"incident_id":"0.a","state":"melting"}}`, `state "melting" is none of`},
		{"bad started_at", `{"version":"1.2","incident":{"incident_id":"0.a","state":"open","started_at":"noon"}}`, "not a JSON Cloud Monitoring notification"},
		{"started_at out of range", `{"version":"1.2","incident":{"incident_id":"0.a","state":"open","started_at":1e15}}`, "started_at: time out of range"},
		{"labels not an object", `{"version":"1.2","incident":{"incident_id":"0.a","state":"open","policy_user_labels":[1]}}`, "not a JSON Cloud Monitoring notification"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := GCPMonitoring{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzGCPMonitoring(f *testing.F) {
	for _, seed := range []string{
		gcpmonPayload("0.n4k2v7xq9w1z", "open", "Critical", "null"),
		gcpmonPayload("0.n4k2v7xq9w1z", "closed", "No severity", "1772366520"),
		gcpmonTestConnectionPayload,
		`{"version":"1.2","incident":{"incident_id":"0.abc","state":"acknowledged","started_at":"1772365800","documentation":null}}`,
		`{}`, `null`, `[]`, `{"version":"1.2"}`, `{"version":1.2,"incident":{"incident_id":1,"state":"open"}}`,
		`{"version":"1.2","incident":{"incident_id":"a","state":"closed","ended_at":253402300799}}`,
		"{\"version\":\"1.2\",\"incident\":{\"incident_id\":\"a\",\"state\":\"open\",\"policy_name\":\"\xff\",\"resource\":{\"labels\":{\"\xfe\":[1,\"x\",null]}}}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := GCPMonitoring{}.Normalise(payload, nil, received)
		requireStorableSignals(t, GCPMonitoringSource, sigs, err)
	})
}
