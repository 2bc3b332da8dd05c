package main

import (
	"time"
)

// Cloud providers' monitors: Azure Monitor (common alert schema) and Google
// Cloud Monitoring (schema 1.2). AWS CloudWatch arrives through SNS, whose
// deliveries must carry AWS's signature, which the benchmark cannot make;
// it has no generator (see unrenderable).

func init() {
	renderers["azure-monitor"] = renderAzureMonitor
	renderers["gcp-monitoring"] = renderGCPMonitoring
	unrenderable["sns"] = "deliveries must carry AWS's own SNS signature, which a load generator cannot make"
}

// renderAzureMonitor writes a fired metric alert in the common alert
// schema.
func renderAzureMonitor(a alert) payload {
	sev := map[string]string{"critical": "Sev0", "error": "Sev1", "warning": "Sev2", "info": "Sev3"}[a.Severity]
	const sub = "/subscriptions/11111111-2222-3333-4444-555555555555"
	target := sub + "/resourceGroups/platform-" + a.Env + "/providers/Microsoft.Compute/virtualMachines/" + a.Pod
	return jsonPayload(map[string]any{
		"schemaId": "azureMonitorCommonAlertSchema",
		"data": map[string]any{
			"essentials": map[string]any{
				"alertId":             sub + "/providers/Microsoft.AlertsManagement/alerts/" + a.UUID(),
				"alertRule":           a.Name,
				"alertRuleID":         sub + "/resourceGroups/platform-" + a.Env + "/providers/microsoft.insights/metricAlerts/" + a.Name,
				"severity":            sev,
				"signalType":          "Metric",
				"monitorCondition":    "Fired",
				"monitoringService":   "Platform",
				"alertTargetIDs":      []string{target},
				"configurationItems":  []string{a.Pod},
				"originAlertId":       a.UUID() + "_" + a.Name,
				"firedDateTime":       a.Starts.UTC().Format(time.RFC3339Nano),
				"description":         a.Summary,
				"essentialsVersion":   "1.0",
				"alertContextVersion": "1.0",
				"investigationLink":   "https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/Investigation.ReactView/alertId/" + a.UUID(),
				"targetResourceGroup": "platform-" + a.Env,
				"targetResourceType":  "microsoft.compute/virtualmachines",
			},
			"alertContext": map[string]any{
				"properties":    nil,
				"conditionType": "SingleResourceMultipleMetricCriteria",
				"condition": map[string]any{
					"windowSize": "PT5M",
					"allOf": []map[string]any{{
						"metricName":      "Percentage CPU",
						"metricNamespace": "Microsoft.Compute/virtualMachines",
						"operator":        "GreaterThan",
						"threshold":       "90",
						"timeAggregation": "Average",
						"dimensions":      []map[string]string{{"name": "ResourceId", "value": a.Pod}},
						"metricValue":     a.Value,
					}},
					"windowStartTime": a.Starts.Add(-5 * time.Minute).UTC().Format(time.RFC3339Nano),
					"windowEndTime":   a.Starts.UTC().Format(time.RFC3339Nano),
				},
			},
			"customProperties": map[string]string{"team": "platform", "service": a.Service},
		},
	})
}

// renderGCPMonitoring writes an open incident, schema version 1.2.
func renderGCPMonitoring(a alert) payload {
	sev := map[string]string{"critical": "Critical", "error": "Error", "warning": "Warning", "info": "No severity"}[a.Severity]
	return jsonPayload(map[string]any{
		"version": "1.2",
		"incident": map[string]any{
			"incident_id":                "0." + a.ID,
			"scoping_project_id":         "example-platform",
			"scoping_project_number":     123456789012,
			"url":                        "https://console.cloud.google.com/monitoring/alerting/incidents/0." + a.ID + "?project=example-platform",
			"started_at":                 a.Starts.Unix(),
			"ended_at":                   nil,
			"state":                      "open",
			"summary":                    a.Summary + ".",
			"apigee_url":                 "",
			"observed_value":             a.Value,
			"resource":                   map[string]any{"type": "k8s_container", "labels": map[string]string{"pod_name": a.Pod, "namespace_name": a.Service, "project_id": "example-platform"}},
			"resource_type_display_name": "Kubernetes Container",
			"resource_id":                "",
			"resource_display_name":      a.Pod,
			"resource_name":              "projects/example-platform/containers/" + a.Pod,
			"metric":                     map[string]any{"type": "kubernetes.io/container/cpu/limit_utilization", "displayName": "CPU limit utilization", "labels": map[string]string{}},
			"metadata":                   map[string]any{"system_labels": map[string]string{}, "user_labels": map[string]string{"env": a.Env}},
			"policy_name":                a.Name,
			"policy_user_labels":         map[string]string{"team": "platform", "severity": a.Severity},
			"documentation":              map[string]string{"content": a.Summary + " for the last 5 minutes.", "mime_type": "text/markdown", "subject": "[ALERT] " + a.Name},
			"condition":                  map[string]any{"name": "projects/example-platform/alertPolicies/1/conditions/2", "displayName": a.Name},
			"condition_name":             a.Name,
			"threshold_value":            "90",
			"severity":                   sev,
		},
	})
}
