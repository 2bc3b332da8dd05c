package normalise

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

const azmonAlertID = "/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/providers/Microsoft.AlertsManagement/alerts/7c9e6679-7425-40de-944b-e07fc1f90ae7"

// azmonMetricPayload is a static-threshold metric alert on a VM in the
// common alert schema.
func azmonMetricPayload(alertID, condition, severity, resolved string) string {
	return `{
  "schemaId": "azureMonitorCommonAlertSchema",
  "data": {
    "essentials": {
      "alertId": "` + alertID + `",
      "alertRule": "vm-cpu-high",
      "alertRuleID": "/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/resourceGroups/shop-prod/providers/microsoft.insights/metricAlerts/vm-cpu-high",
      "severity": "` + severity + `",
      "signalType": "Metric",
      "monitorCondition": "` + condition + `",
      "monitoringService": "Platform",
      "alertTargetIDs": ["/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/resourcegroups/shop-prod/providers/microsoft.compute/virtualmachines/shop-web-02"],
      "configurationItems": ["shop-web-02"],
      "originAlertId": "6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a_shop-prod_microsoft.insights_metricAlerts_vm-cpu-high_1450193921",
      "firedDateTime": "2026-03-01T11:52:10.4418172Z",
      "resolvedDateTime": ` + resolved + `,
      "description": "CPU above 85% for 5 minutes",
      "essentialsVersion": "1.0",
      "alertContextVersion": "1.0",
      "targetResourceGroup": "shop-prod",
      "targetResourceType": "microsoft.compute/virtualmachines"
    },
    "alertContext": {
      "properties": null,
      "conditionType": "SingleResourceMultipleMetricCriteria",
      "condition": {
        "windowSize": "PT5M",
        "allOf": [
          {
            "metricName": "Percentage CPU",
            "metricNamespace": "Microsoft.Compute/virtualMachines",
            "operator": "GreaterThan",
            "threshold": "85",
            "timeAggregation": "Average",
            "dimensions": [{"name": "ResourceId", "value": "0f4c8f6e-1b2a-4c3d-8e9f-a0b1c2d3e4f5"}],
            "metricValue": 91.375
          }
        ],
        "windowStartTime": "2026-03-01T11:45:00.000Z",
        "windowEndTime": "2026-03-01T11:50:00.000Z"
      }
    },
    "customProperties": {"team": "storefront", "runbook": "https://runbooks.example/vm-cpu", "oncall_tier": 2}
  }
}`
}

// A log search alert (Log Alerts V2): no configuration item of its own, the
// dimensions name the computer, and the link is to the search results.
const azmonLogPayload = `{
  "schemaId": "azureMonitorCommonAlertSchema",
  "data": {
    "essentials": {
      "alertId": "/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/providers/Microsoft.AlertsManagement/alerts/B2A7D2F4-3C1E-4E8A-9F0B-1D2C3E4F5A6B",
      "alertRule": "heartbeat-missing",
      "severity": "Sev1",
      "signalType": "Log",
      "monitorCondition": "fired",
      "monitoringService": "Log Alerts V2",
      "alertTargetIDs": ["/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/resourcegroups/ops/providers/microsoft.operationalinsights/workspaces/ops-logs"],
      "configurationItems": [],
      "originAlertId": "a1b2c3d4-0000-1111-2222-333344445555",
      "firedDateTime": "2026-03-01T11:30:00Z",
      "description": "",
      "essentialsVersion": "1.0",
      "alertContextVersion": "1.0"
    },
    "alertContext": {
      "properties": {"service": "billing", "owner": {"team": "ops"}},
      "conditionType": "LogQueryCriteria",
      "condition": {
        "windowSize": "PT10M",
        "allOf": [
          {
            "searchQuery": "Heartbeat | summarize count() by Computer",
            "metricMeasureColumn": null,
            "targetResourceTypes": "['Microsoft.Compute/virtualMachines']",
            "operator": "LessThan",
            "threshold": "1",
            "timeAggregation": "Count",
            "dimensions": [{"name": "Computer", "value": "billing-worker-1"}],
            "metricValue": 0.0,
            "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1},
            "linkToSearchResultsUI": "https://portal.azure.com#@tenant/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/q/all",
            "linkToFilteredSearchResultsUI": "https://portal.azure.com#@tenant/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/q/filtered"
          }
        ],
        "windowStartTime": "2026-03-01T11:20:00Z",
        "windowEndTime": "2026-03-01T11:30:00Z"
      }
    },
    "customProperties": null
  }
}`

// An activity log alert: its context has a shape of its own, with no
// condition list, and it carries no custom properties.
const azmonActivityPayload = `{
  "schemaId": "azureMonitorCommonAlertSchema",
  "data": {
    "essentials": {
      "alertId": "/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/providers/Microsoft.AlertsManagement/alerts/0e0d0c0b-0a09-0807-0605-040302010000",
      "alertRule": "vm-restarted",
      "severity": "Sev4",
      "signalType": "Activity Log",
      "monitorCondition": "Fired",
      "monitoringService": "Activity Log - Administrative",
      "alertTargetIDs": ["/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/resourcegroups/shop-prod/providers/microsoft.compute/virtualmachines/shop-web-02"],
      "originAlertId": "c4d5e6f7-0000-4000-8000-000000000001_2026-03-01T11:00:00Z",
      "firedDateTime": "2026-03-01T11:00:05.123+00:00",
      "essentialsVersion": "1.0",
      "alertContextVersion": "1.0"
    },
    "alertContext": {
      "authorization": {"action": "Microsoft.Compute/virtualMachines/restart/action", "scope": "/subscriptions/x"},
      "channels": "Operation",
      "caller": "ops@example.com",
      "condition": "not an object in this context",
      "eventTimestamp": "2026-03-01T11:00:01.2917159+00:00",
      "level": "Informational",
      "operationName": "Microsoft.Compute/virtualMachines/restart/action",
      "properties": {"statusCode": "OK"},
      "status": "Succeeded"
    },
    "customProperties": null
  }
}`

func azmonNormalise(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, AzureMonitor{}, payload, nil)
}

func TestAzureMonitorFiring(t *testing.T) {
	t.Parallel()
	s := azmonNormalise(t, azmonMetricPayload(azmonAlertID, "Fired", "Sev2", "null"))
	require.Equal(t, "azure-monitor", s.GetSource())
	require.Equal(t, "azmon:7c9e6679-7425-40de-944b-e07fc1f90ae7", s.GetFingerprint())
	require.Equal(t, "azure-monitor", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, azmonAlertID, s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Equal(t, "vm-cpu-high", s.GetTitle())
	require.Equal(t, "CPU above 85% for 5 minutes", s.GetDescription())
	require.Equal(t, "shop-web-02", s.GetResource())
	require.Equal(t, "storefront", s.GetLabels()["team"])
	require.Equal(t, "2", s.GetLabels()["oncall_tier"])
	require.Equal(t, "0f4c8f6e-1b2a-4c3d-8e9f-a0b1c2d3e4f5", s.GetLabels()["ResourceId"])
	require.Equal(t, "Sev2", s.GetLabels()["severity"])
	require.Equal(t, "shop-prod", s.GetLabels()["targetResourceGroup"])
	require.Equal(t, "Percentage CPU", s.GetAnnotations()["metricName"])
	require.Equal(t, "85", s.GetAnnotations()["threshold"])
	require.Equal(t, "91.375", s.GetAnnotations()["metricValue"])
	require.Contains(t, s.GetAnnotations()["originAlertId"], "metricAlerts_vm-cpu-high")
	require.Equal(t, time.Date(2026, 3, 1, 11, 52, 10, 441817200, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Empty(t, s.GetLink(), "metric alerts carry no portal link")
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.JSONEq(t, azmonMetricPayload(azmonAlertID, "Fired", "Sev2", "null"), string(s.GetRawPayload()))
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
}

func TestAzureMonitorResolved(t *testing.T) {
	t.Parallel()
	s := azmonNormalise(t, azmonMetricPayload(azmonAlertID, "Resolved", "Sev2", `"2026-03-01T12:03:16.2246313Z"`))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.Date(2026, 3, 1, 12, 3, 16, 224631300, time.UTC), s.GetEndsAt().AsTime())
	require.Equal(t, "azmon:7c9e6679-7425-40de-944b-e07fc1f90ae7", s.GetFingerprint())
}

func TestAzureMonitorLogSearchAlert(t *testing.T) {
	t.Parallel()
	s := azmonNormalise(t, azmonLogPayload)
	require.Equal(t, "azmon:b2a7d2f4-3c1e-4e8a-9f0b-1d2c3e4f5a6b", s.GetFingerprint(), "the GUID is lower-cased")
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus(), "the condition matches without regard to case")
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "/subscriptions/6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a/resourcegroups/ops/providers/microsoft.operationalinsights/workspaces/ops-logs", s.GetResource(),
		"without configuration items the target's id stands in")
	require.Equal(t, "billing-worker-1", s.GetLabels()["Computer"])
	require.Equal(t, "billing", s.GetLabels()["service"])
	require.Equal(t, "ops", s.GetLabels()["owner.team"])
	require.Equal(t, "Heartbeat | summarize count() by Computer", s.GetAnnotations()["searchQuery"])
	require.Equal(t, "https://portal.azure.com#@tenant/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/q/filtered", s.GetLink())
	require.Empty(t, s.GetDescription())
}

func TestAzureMonitorActivityLogAlert(t *testing.T) {
	t.Parallel()
	s := azmonNormalise(t, azmonActivityPayload)
	require.Equal(t, "azmon:0e0d0c0b-0a09-0807-0605-040302010000", s.GetFingerprint())
	require.Equal(t, signalv1.Severity_SEVERITY_INFO, s.GetSeverity())
	require.Equal(t, "shop-web-02", s.GetResource()[strings.LastIndex(s.GetResource(), "/")+1:])
	require.Equal(t, "Activity Log", s.GetLabels()["signalType"])
	require.NotContains(t, s.GetLabels(), "statusCode", "a context of another shape is read on a best-effort basis")
	require.Equal(t, time.Date(2026, 3, 1, 11, 0, 5, 123e6, time.UTC), s.GetStartsAt().AsTime())
}

func TestAzureMonitorFingerprintStability(t *testing.T) {
	t.Parallel()
	fired := azmonNormalise(t, azmonMetricPayload(azmonAlertID, "Fired", "Sev2", "null"))
	again := azmonNormalise(t, azmonMetricPayload(azmonAlertID, "Fired", "Sev1", "null"))
	resolved := azmonNormalise(t, azmonMetricPayload(azmonAlertID, "Resolved", "Sev2", `"2026-03-01T12:03:16Z"`))
	upper := azmonNormalise(t, azmonMetricPayload(strings.ToUpper(azmonAlertID), "Fired", "Sev2", "null"))
	other := azmonNormalise(t, azmonMetricPayload(strings.Replace(azmonAlertID, "7c9e6679", "8d0f7780", 1), "Fired", "Sev2", "null"))
	require.Equal(t, fired.GetFingerprint(), again.GetFingerprint())
	require.Equal(t, fired.GetFingerprint(), resolved.GetFingerprint())
	require.Equal(t, fired.GetFingerprint(), upper.GetFingerprint(), "Azure ids match without regard to case")
	require.NotEqual(t, fired.GetFingerprint(), other.GetFingerprint(), "a new alert instance of the same rule is a new alert")
	require.NotEqual(t, fired.GetFingerprint(), azmonNormalise(t, azmonLogPayload).GetFingerprint())
}

func TestAzureMonitorSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"Sev0": signalv1.Severity_SEVERITY_CRITICAL, "sev0": signalv1.Severity_SEVERITY_CRITICAL,
		"Sev1": signalv1.Severity_SEVERITY_ERROR, "Sev2": signalv1.Severity_SEVERITY_WARNING,
		"Sev3": signalv1.Severity_SEVERITY_INFO, "Sev4": signalv1.Severity_SEVERITY_INFO,
		"": signalv1.Severity_SEVERITY_WARNING, "Sev9": signalv1.Severity_SEVERITY_WARNING,
		"Critical": signalv1.Severity_SEVERITY_WARNING,
	}
	for sev, want := range cases {
		require.Equal(t, want, azmonSeverity(sev), "severity %q", sev)
		require.Equal(t, want, azmonNormalise(t, azmonMetricPayload(azmonAlertID, "Fired", sev, "null")).GetSeverity(), "severity %q", sev)
	}
}

func TestAzureMonitorRejects(t *testing.T) {
	t.Parallel()
	essentials := func(fields string) string {
		return `{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{` + fields + `}}}`
	}
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `<html>`, "not a JSON Azure Monitor alert"},
		{"json array", `[{}]`, "not a JSON Azure Monitor alert"},
		{"no schema", `{"data":{"essentials":{}}}`, "has no schemaId; enable the common alert schema"},
		{"older schema", `{"schemaId":"AzureMonitorMetricAlert","data":{"status":"Activated"}}`, `schemaId "AzureMonitorMetricAlert" is not supported`},
		{"no essentials", `{"schemaId":"azureMonitorCommonAlertSchema","data":{}}`, "has no data.essentials"},
		{"no data", `{"schemaId":"azureMonitorCommonAlertSchema"}`, "has no data.essentials"},
		{"no alert id", essentials(`"monitorCondition":"Fired"`), "essentials.alertId is missing"},
		{"alert id without instance", essentials(`"alertId":"/subscriptions/x/alerts/","monitorCondition":"Fired"`), "does not end in an alert instance id"},
		{"alert id with spaces", essentials(`"alertId":"a b","monitorCondition":"Fired"`), "does not end in an alert instance id"},
		{"bad condition", essentials(`"alertId":"/a/b","monitorCondition":"Exploded"`), `monitorCondition "Exploded" is neither`},
		{"no condition", essentials(`"alertId":"/a/b"`), `monitorCondition "" is neither`},
		{"bad fired time", essentials(`"alertId":"/a/b","monitorCondition":"Fired","firedDateTime":"3/22/2019 1:36:31 PM"`), "firedDateTime: not an RFC 3339 time"},
		{"future essentials", essentials(`"alertId":"/a/b","monitorCondition":"Fired","essentialsVersion":"2.0"`), `essentialsVersion "2.0" is not supported`},
		{"targets not a list", essentials(`"alertId":"/a/b","monitorCondition":"Fired","alertTargetIDs":"x"`), "not a JSON Azure Monitor alert"},
		{"custom properties not an object", `{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"/a/b","monitorCondition":"Fired"},"customProperties":"x"}}`, "not a JSON Azure Monitor alert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := AzureMonitor{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzAzureMonitor(f *testing.F) {
	for _, seed := range []string{
		azmonMetricPayload(azmonAlertID, "Fired", "Sev0", "null"),
		azmonMetricPayload(azmonAlertID, "Resolved", "Sev3", `"2026-03-01T12:03:16Z"`),
		azmonLogPayload, azmonActivityPayload,
		`{}`, `null`, `[]`, `{"schemaId":"azureMonitorCommonAlertSchema"}`,
		`{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"x","monitorCondition":"Fired"}}}`,
		`{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"x","monitorCondition":"Resolved","resolvedDateTime":"9999-12-31T23:59:59Z"},"customProperties":{"a":{"b":{"c":{"d":{"e":1}}}}}}}`,
		"{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"data\":{\"essentials\":{\"alertId\":\"x\",\"monitorCondition\":\"Fired\",\"alertRule\":\"\xff\"},\"alertContext\":{\"condition\":{\"allOf\":[{\"dimensions\":[{\"name\":\"\xfe\",\"value\":1}]}]}}}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := AzureMonitor{}.Normalise(payload, nil, received)
		requireStorableSignals(t, AzureMonitorSource, sigs, err)
	})
}
