package main

import (
	"strconv"
	"strings"
	"time"
)

// SaaS monitors and incident tools: Datadog, PagerDuty, Opsgenie, Sentry,
// New Relic and Dynatrace. Where a vendor's body is a user-written template
// (Datadog, New Relic, Dynatrace), the payload follows the template
// Alexus documents for it in services/ingest/normalise.

func init() {
	renderers["datadog"] = renderDatadog
	renderers["pagerduty"] = renderPagerDuty
	renderers["opsgenie"] = renderOpsgenie
	renderers["sentry"] = renderSentry
	renderers["newrelic"] = renderNewRelic
	renderers["dynatrace"] = renderDynatrace
}

// kindIndex is the alert's position in the catalogue, a stable small
// number for monitor, rule and policy ids.
func kindIndex(a alert) int {
	for i, k := range kinds {
		if k.name == a.Name {
			return i
		}
	}
	return 0
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// renderDatadog fills Alexus's Datadog template for a multi-alert monitor
// that triggered on one group (the pod).
func renderDatadog(a alert) payload {
	monitor := strconv.Itoa(4_200_000 + kindIndex(a))
	alertType := map[string]string{"critical": "error", "error": "error", "warning": "warning", "info": "info"}[a.Severity]
	priority := map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": "P4"}[a.Severity]
	scope := "env:" + a.Env + ",pod_name:" + a.Pod
	return jsonPayload(map[string]any{
		"id":               a.Number(),
		"alert_id":         monitor,
		"alert_cycle_key":  a.Number(),
		"alert_transition": "Triggered",
		"alert_type":       alertType,
		"alert_title":      "[Triggered on {" + scope + "}] " + a.Name,
		"alert_status":     "",
		"alert_scope":      scope,
		"alert_metric":     "kubernetes.cpu.usage.total",
		"alert_query":      "avg(last_5m):avg:kubernetes.cpu.usage.total{*} by {env,pod_name} > 90",
		"alert_priority":   priority,
		"title":            "[Triggered on {" + scope + "}] " + a.Summary,
		"body":             "%%%\n" + a.Summary + "\n%%%",
		"event_type":       "query_alert_monitor",
		"priority":         "normal",
		"date":             millis(a.Starts),
		"last_updated":     millis(a.Starts),
		"hostname":         a.Host,
		"tags":             "env:" + a.Env + ",service:" + a.Service + ",pod_name:" + a.Pod + ",team:platform",
		"link":             "https://app.datadoghq.com/event/event?id=" + a.Number(),
		"org":              map[string]string{"id": "123456", "name": "Example Inc"},
	})
}

// renderPagerDuty writes a V3 incident.triggered event.
func renderPagerDuty(a alert) payload {
	id := "Q" + strings.ToUpper(a.ID)
	priority := map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": "P4"}[a.Severity]
	urgency := "high"
	if a.Severity == "warning" || a.Severity == "info" {
		urgency = "low"
	}
	ref := func(typ, id, summary string) map[string]string {
		return map[string]string{"id": id, "type": typ, "summary": summary, "self": "https://api.pagerduty.com/" + typ + "s/" + id, "html_url": "https://example.pagerduty.com/" + typ + "s/" + id}
	}
	return jsonPayload(map[string]any{
		"event": map[string]any{
			"id":            "01" + strings.ToUpper(a.ID) + "EVT",
			"event_type":    "incident.triggered",
			"resource_type": "incident",
			"occurred_at":   a.Starts.UTC().Format(time.RFC3339),
			"agent":         ref("service_reference", "PSVC01", a.Service),
			"client":        map[string]string{"name": "Monitoring"},
			"data": map[string]any{
				"id":                id,
				"type":              "incident",
				"self":              "https://api.pagerduty.com/incidents/" + id,
				"html_url":          "https://example.pagerduty.com/incidents/" + id,
				"number":            a.Seq + 1,
				"status":            "triggered",
				"incident_key":      a.UUID(),
				"created_at":        a.Starts.UTC().Format(time.RFC3339),
				"title":             a.Summary,
				"service":           ref("service_reference", "PSVC01", a.Service),
				"assignees":         []any{ref("user_reference", "PUSR01", "On-call Engineer")},
				"escalation_policy": ref("escalation_policy_reference", "PESC01", "Platform"),
				"teams":             []any{ref("team_reference", "PTEAM1", "Platform")},
				"priority":          ref("priority_reference", "PPRI0"+priority[1:], priority),
				"urgency":           urgency,
				"conference_bridge": nil,
				"resolve_reason":    nil,
			},
		},
	})
}

// renderOpsgenie writes the Create action of an alert whose alias is the
// creator's own de-duplication key.
func renderOpsgenie(a alert) payload {
	priority := map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": "P4"}[a.Severity]
	return jsonPayload(map[string]any{
		"action": "Create",
		"alert": map[string]any{
			"alertId":     a.UUID(),
			"message":     a.Summary,
			"tags":        []string{"env:" + a.Env, "service:" + a.Service, "team:platform"},
			"tinyId":      strconv.Itoa(a.Seq + 1),
			"entity":      a.Host,
			"alias":       a.Name + "/" + a.Pod,
			"createdAt":   a.Starts.UnixMilli(),
			"updatedAt":   a.Starts.UnixNano(),
			"username":    "System",
			"userId":      "",
			"description": a.Summary + " for the last 5 minutes.",
			"priority":    priority,
			"source":      "Monitoring",
			"details":     map[string]string{"pod": a.Pod, "host": a.Host},
		},
		"source":          map[string]string{"name": "", "type": "api"},
		"integrationName": "Alexus",
		"integrationId":   "8b4ed1c4-6f2c-4e5d-9a2f-0c1d2e3f4a5b",
		"integrationType": "Webhook",
	})
}

// renderSentry writes an issue alert (resource event_alert) for an event
// of a new issue, with the Sentry-Hook-Resource header Sentry sends.
func renderSentry(a alert) payload {
	level := map[string]string{"critical": "fatal", "error": "error", "warning": "warning", "info": "info"}[a.Severity]
	issue := a.Number()
	project := a.Service
	eventURL := "https://sentry.io/api/0/projects/example/" + project + "/events/" + a.ID + "/"
	return jsonPayload(map[string]any{
		"action": "triggered",
		"installation": map[string]string{
			"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de",
		},
		"data": map[string]any{
			"event": map[string]any{
				"event_id":  a.ID + a.ID,
				"issue_id":  issue,
				"issue_url": "https://sentry.io/api/0/issues/" + issue + "/",
				"url":       eventURL,
				"web_url":   "https://example.sentry.io/issues/" + issue + "/events/" + a.ID + "/",
				"title":     "RuntimeError: " + a.Summary,
				"message":   "",
				"culprit":   a.Service + ".handlers in handle",
				"level":     level,
				"platform":  "python",
				"project":   1000 + kindIndex(a),
				"datetime":  a.Starts.UTC().Format("2006-01-02T15:04:05.000000Z"),
				"timestamp": a.Starts.Unix(),
				"metadata":  map[string]string{"type": "RuntimeError", "value": a.Summary},
				"tags":      [][]string{{"environment", a.Env}, {"server_name", a.Pod}, {"level", level}},
			},
			"triggered_rule": "Page on new " + a.Service + " errors",
			"issue_alert":    map[string]string{"title": "Page on new " + a.Service + " errors"},
		},
		"actor": map[string]string{"type": "application", "id": "sentry", "name": "Sentry"},
	}).withHeader("Sentry-Hook-Resource", "event_alert").
		withHeader("Sentry-Hook-Timestamp", strconv.FormatInt(a.Starts.Unix(), 10))
}

// renderNewRelic fills Alexus's New Relic workflow template for an
// activated issue.
func renderNewRelic(a alert) payload {
	priority := map[string]string{"critical": "CRITICAL", "error": "HIGH", "warning": "MEDIUM", "info": "LOW"}[a.Severity]
	return jsonPayload(map[string]any{
		"issueId":             a.UUID(),
		"issueUrl":            "https://one.newrelic.com/alerts-ai/issues/" + a.UUID(),
		"title":               a.Summary,
		"description":         a.Summary + " for the last 5 minutes.",
		"priority":            priority,
		"state":               "ACTIVATED",
		"trigger":             "STATE_CHANGE",
		"isCorrelated":        false,
		"createdAt":           a.Starts.UnixMilli(),
		"updatedAt":           a.Starts.UnixMilli(),
		"activatedAt":         a.Starts.UnixMilli(),
		"closedAt":            nil,
		"sources":             []string{"newrelic"},
		"alertPolicyNames":    []string{"Platform golden signals"},
		"alertConditionNames": []string{a.Name},
		"workflowName":        "Alexus",
		"entitiesData":        map[string]any{"names": []string{a.Pod}, "types": []string{"APPLICATION"}, "ids": []string{"MXxBUE18QVBQTElDQVRJT058" + a.ID}},
		"impactedEntities":    []string{a.Pod},
		"totalIncidents":      1,
		"owner":               "",
		"labels":              map[string][]string{"env": {a.Env}, "service": {a.Service}},
		"tags":                map[string][]string{"team": {"platform"}},
	})
}

// renderDynatrace fills Alexus's Dynatrace custom-integration template for
// an open problem.
func renderDynatrace(a alert) payload {
	severity := map[string]string{"critical": "AVAILABILITY", "error": "ERROR", "warning": "PERFORMANCE", "info": "INFO"}[a.Severity]
	pid := a.Number() + "_" + millis(a.Starts) + "V2"
	return jsonPayload(map[string]any{
		"PID":                 pid,
		"ProblemID":           "P-" + strconv.Itoa(a.Seq+1),
		"State":               "OPEN",
		"ProblemTitle":        a.Summary,
		"ProblemSeverity":     severity,
		"ProblemImpact":       "SERVICE",
		"ImpactedEntity":      a.Summary + " on " + a.Pod,
		"ImpactedEntityNames": a.Pod,
		"ImpactedEntities":    []map[string]string{{"type": "SERVICE", "name": a.Pod, "entity": "SERVICE-" + strings.ToUpper(a.ID)}},
		"ProblemURL":          "https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=" + pid,
		"Tags":                "env:" + a.Env + ", service:" + a.Service + ", team:platform",
		"ProblemDetailsText":  a.Summary + " for the last 5 minutes.",
		"ProblemDetailsJSON":  map[string]any{"startTime": a.Starts.UnixMilli(), "endTime": -1},
	})
}
