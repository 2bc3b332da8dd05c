package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// spec is one case as the catalogue writes it: what the alert says, in
// vendor-neutral words, and its labels. A template per source turns it into
// that vendor's raw webhook body (the shapes the normalisers document and
// test), so that the catalogue reads as a list of alerts rather than a wall
// of JSON.
type spec struct {
	ID     string
	Source string
	// Name is the alert rule / monitor / search / trigger name where the
	// vendor has one besides the title (alertname for Alertmanager and
	// Grafana, AlarmName for CloudWatch, the rule name for Elastic and
	// Sentry metric alerts, condition name for New Relic). Empty means the
	// title stands in.
	Name string
	// Title is what a person reads first: the summary, message or title.
	Title string
	// Desc is the longer text.
	Desc string
	// Resource is the host, service or CI the alert is about.
	Resource string
	// Sev is the vendor's own severity or priority word, exactly as the
	// vendor would send it ("critical", "P2", "Sev1", "Disaster", "4",
	// "AVAILABILITY", ...). Empty sends none.
	Sev string
	// Resolved sends the recovery / closed / OK notification.
	Resolved bool
	// Labels are extra labels, tags or custom properties.
	Labels map[string]string
	// Runbook is a runbook link the alert carries, if any.
	Runbook string
	// Variant picks a vendor sub-format: sentry "event" (default), "issue"
	// or "metric"; sns "alarm" (default), "plain" or "generic"; cloudevents
	// "structured" (default) or "binary"; pagerduty/opsgenie may use it for
	// the event type / action.
	Variant string

	// The labels.
	Intent   string
	Severity string
	// Clarity is the labeller's judgement of how unambiguous the signal is
	// (see README.md): "clear", "partial" or "unclear". With the intent,
	// severity, status and runbook it fixes the expected decision.
	Clarity string
	Why     string
}

// seq makes stable ids, times and hashes per case.
func (s spec) hash(n int) string {
	sum := sha256.Sum256([]byte(s.ID))
	return hex.EncodeToString(sum[:])[:n]
}

func (s spec) num(mod int) int {
	sum := sha256.Sum256([]byte(s.ID))
	v := int(sum[0])<<16 | int(sum[1])<<8 | int(sum[2])
	return v % mod
}

func (s spec) name() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Title
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tagList renders labels as "key:value" tags, sorted.
func tagList(m map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		if m[k] == "" {
			out = append(out, k)
		} else {
			out = append(out, k+":"+m[k])
		}
	}
	return out
}

const (
	startISO   = "2026-03-01T11:50:00Z"
	endISO     = "2026-03-01T12:20:00Z"
	startEpoch = 1772365800
	endEpoch   = 1772367600
)

// build renders s as its source's webhook body and headers.
func build(s spec) (json.RawMessage, map[string]string, error) {
	var (
		body    any
		headers map[string]string
	)
	switch s.Source {
	case "alertmanager":
		body = alertmanagerBody(s)
	case "grafana":
		body = grafanaBody(s)
	case "datadog":
		body = datadogBody(s)
	case "pagerduty":
		body = pagerdutyBody(s)
	case "opsgenie":
		body = opsgenieBody(s)
	case "sentry":
		body, headers = sentryBody(s)
	case "sns":
		b, err := snsBody(s)
		if err != nil {
			return nil, nil, err
		}
		body = b
	case "azure-monitor":
		body = azureBody(s)
	case "gcp-monitoring":
		body = gcpBody(s)
	case "newrelic":
		body = newrelicBody(s)
	case "zabbix":
		body = zabbixBody(s)
	case "elastic":
		body = elasticBody(s)
	case "dynatrace":
		body = dynatraceBody(s)
	case "splunk":
		body = splunkBody(s)
	case "cloudevents":
		body, headers = cloudeventsBody(s)
	case "generic":
		body = genericAlert(s)
	default:
		return nil, nil, fmt.Errorf("case %s: no template for source %q", s.ID, s.Source)
	}
	raw, err := marshal(body)
	if err != nil {
		return nil, nil, fmt.Errorf("case %s: %w", s.ID, err)
	}
	return raw, headers, nil
}

func firingWord(s spec) string {
	if s.Resolved {
		return "resolved"
	}
	return "firing"
}

func amAlert(s spec) map[string]any {
	labels := copyLabels(s.Labels)
	if labels["alertname"] == "" {
		labels["alertname"] = s.name()
	}
	if s.Sev != "" {
		labels["severity"] = s.Sev
	}
	if s.Resource != "" {
		if _, ok := labels["instance"]; !ok {
			if _, ok := labels["service"]; !ok {
				labels["instance"] = s.Resource
			}
		}
	}
	ann := map[string]string{}
	if s.Title != "" {
		ann["summary"] = s.Title
	}
	if s.Desc != "" {
		ann["description"] = s.Desc
	}
	if s.Runbook != "" {
		ann["runbook_url"] = s.Runbook
	}
	end := "0001-01-01T00:00:00Z"
	if s.Resolved {
		end = endISO
	}
	return map[string]any{
		"status":       firingWord(s),
		"labels":       labels,
		"annotations":  ann,
		"startsAt":     startISO,
		"endsAt":       end,
		"generatorURL": "http://prometheus.prod.internal:9090/graph?g0.expr=" + strings.ReplaceAll(labels["alertname"], " ", "_") + "&g0.tab=1",
		"fingerprint":  s.hash(16),
	}
}

func alertmanagerBody(s spec) any {
	a := amAlert(s)
	labels := a["labels"].(map[string]string)
	return map[string]any{
		"version":           "4",
		"groupKey":          `{}:{alertname="` + labels["alertname"] + `"}`,
		"truncatedAlerts":   0,
		"status":            firingWord(s),
		"receiver":          "alexus",
		"groupLabels":       map[string]string{"alertname": labels["alertname"]},
		"commonLabels":      labels,
		"commonAnnotations": a["annotations"],
		"externalURL":       "http://alertmanager.prod.internal:9093",
		"alerts":            []any{a},
	}
}

func grafanaBody(s spec) any {
	a := amAlert(s)
	labels := a["labels"].(map[string]string)
	a["generatorURL"] = "https://grafana.example.com/alerting/grafana/" + s.hash(10) + "/view"
	a["silenceURL"] = "https://grafana.example.com/alerting/silence/new?matcher=alertname%3D" + strings.ReplaceAll(labels["alertname"], " ", "+")
	a["dashboardURL"] = "https://grafana.example.com/d/" + s.hash(8)
	a["panelURL"] = "https://grafana.example.com/d/" + s.hash(8) + "?viewPanel=2"
	a["values"] = map[string]any{"B": 0.93, "C": 1}
	a["valueString"] = "[ var='B' labels={} value=0.93 ], [ var='C' labels={} value=1 ]"
	state := "alerting"
	if s.Resolved {
		state = "ok"
	}
	title := "[" + strings.ToUpper(firingWord(s)) + ":1] " + labels["alertname"]
	return map[string]any{
		"receiver":          "alexus",
		"status":            firingWord(s),
		"orgId":             1,
		"alerts":            []any{a},
		"groupLabels":       map[string]string{"alertname": labels["alertname"]},
		"commonLabels":      labels,
		"commonAnnotations": a["annotations"],
		"externalURL":       "https://grafana.example.com/",
		"version":           "1",
		"groupKey":          `{}:{alertname="` + labels["alertname"] + `"}`,
		"truncatedAlerts":   0,
		"title":             title,
		"state":             state,
		"message":           "**" + upperFirst(firingWord(s)) + "**\n\nValue: B=0.93\nLabels:\n - alertname = " + labels["alertname"],
	}
}

// datadogBody: Sev is "error", "warning", "info" or "success" (the
// alert_type), optionally followed by "/P1".."/P5" for the monitor priority.
func datadogBody(s spec) any {
	alertType, prio, _ := strings.Cut(s.Sev, "/")
	transition := "Triggered"
	switch {
	case s.Resolved:
		transition, alertType = "Recovered", "success"
	case alertType == "warning":
		transition = "Warn"
	}
	tags := copyLabels(s.Labels)
	if s.Resource != "" {
		if _, ok := tags["service"]; !ok {
			tags["host"] = s.Resource
		}
	}
	scope := ""
	if s.Resource != "" {
		scope = "host:" + s.Resource
	}
	id := 40000000 + s.num(9000000)
	return map[string]any{
		"id":               fmt.Sprint(7000000000000000000 + int64(s.num(1_000_000_000))),
		"alert_id":         fmt.Sprint(id),
		"alert_cycle_key":  fmt.Sprint(7000000000000000000 + int64(s.num(999_999_999))),
		"alert_transition": transition,
		"alert_type":       alertType,
		"alert_title":      "[" + transition + "] " + s.name(),
		"alert_status":     "",
		"alert_scope":      scope,
		"alert_metric":     "",
		"alert_query":      "",
		"alert_priority":   prio,
		"title":            "[" + transition + " on " + scope + "] " + s.Title,
		"body":             s.Desc,
		"event_type":       "query_alert_monitor",
		"priority":         "normal",
		"date":             fmt.Sprint(int64(startEpoch) * 1000),
		"last_updated":     fmt.Sprint(int64(startEpoch) * 1000),
		"hostname":         s.Resource,
		"tags":             strings.Join(tagList(tags), ","),
		"link":             fmt.Sprintf("https://app.datadoghq.com/event/event?id=%d", id),
		"org":              map[string]any{"id": "11287", "name": "Acme Payments"},
	}
}

// pagerdutyBody: Sev is "P1".."P5", or "high"/"low" urgency.
func pagerdutyBody(s spec) any {
	eventType := "incident.triggered"
	status := "triggered"
	if s.Variant != "" {
		eventType = s.Variant
	}
	if s.Resolved {
		eventType, status = "incident.resolved", "resolved"
	}
	id := "Q" + strings.ToUpper(s.hash(13))
	inc := map[string]any{
		"id":                id,
		"type":              "incident",
		"self":              "https://api.pagerduty.com/incidents/" + id,
		"html_url":          "https://acme.pagerduty.com/incidents/" + id,
		"number":            1000 + s.num(9000),
		"status":            status,
		"incident_key":      s.hash(32),
		"created_at":        startISO,
		"title":             s.Title,
		"service":           map[string]any{"html_url": "https://acme.pagerduty.com/services/PSVC" + s.hash(3), "id": "PSVC" + strings.ToUpper(s.hash(3)), "self": "https://api.pagerduty.com/services/PSVC" + s.hash(3), "summary": s.Resource, "type": "service_reference"},
		"assignees":         []any{map[string]any{"html_url": "https://acme.pagerduty.com/users/PUSR01", "id": "PUSR01", "self": "https://api.pagerduty.com/users/PUSR01", "summary": "Dana Oncall", "type": "user_reference"}},
		"escalation_policy": map[string]any{"html_url": "https://acme.pagerduty.com/escalation_policies/PEP01", "id": "PEP01", "self": "https://api.pagerduty.com/escalation_policies/PEP01", "summary": "Platform on-call", "type": "escalation_policy_reference"},
		"teams":             []any{map[string]any{"html_url": "https://acme.pagerduty.com/teams/PTM01", "id": "PTM01", "self": "https://api.pagerduty.com/teams/PTM01", "summary": "Platform", "type": "team_reference"}},
		"conference_bridge": nil,
		"resolve_reason":    nil,
	}
	if s.Desc != "" {
		inc["description"] = s.Desc
	}
	switch strings.ToLower(s.Sev) {
	case "high", "low":
		inc["urgency"] = strings.ToLower(s.Sev)
		inc["priority"] = nil
	case "":
		inc["urgency"] = "high"
		inc["priority"] = nil
	default:
		inc["urgency"] = "high"
		inc["priority"] = map[string]any{"html_url": "https://acme.pagerduty.com/account/incident_priorities", "id": "PPRI" + s.Sev, "self": "https://api.pagerduty.com/priorities/PPRI" + s.Sev, "summary": s.Sev, "type": "priority_reference"}
	}
	return map[string]any{"event": map[string]any{
		"id":            "01" + strings.ToUpper(s.hash(24)),
		"event_type":    eventType,
		"resource_type": "incident",
		"occurred_at":   startISO,
		"agent":         map[string]any{"html_url": "https://acme.pagerduty.com/users/PUSR01", "id": "PUSR01", "self": "https://api.pagerduty.com/users/PUSR01", "summary": "Dana Oncall", "type": "user_reference"},
		"client":        nil,
		"data":          inc,
	}}
}

// opsgenieBody: Sev is "P1".."P5".
func opsgenieBody(s spec) any {
	action := "Create"
	if s.Variant != "" {
		action = s.Variant
	}
	if s.Resolved {
		action = "Close"
	}
	details := copyLabels(s.Labels)
	alert := map[string]any{
		"alertId":     s.hash(8) + "-" + s.hash(4) + "-4c1d-9e2f-" + s.hash(12),
		"message":     s.Title,
		"tags":        tagList(map[string]string{"env": "prod"}),
		"tinyId":      fmt.Sprint(100 + s.num(900)),
		"entity":      s.Resource,
		"alias":       s.hash(20),
		"createdAt":   int64(startEpoch) * 1000,
		"updatedAt":   int64(startEpoch) * 1_000_000_000,
		"username":    "System",
		"userId":      "",
		"description": s.Desc,
		"team":        "platform",
		"responders":  []any{map[string]any{"id": "8d3c7f4e", "type": "team", "name": "platform"}},
		"teams":       []string{"8d3c7f4e"},
		"actions":     []string{},
		"details":     details,
		"source":      "api",
	}
	if s.Sev != "" {
		alert["priority"] = s.Sev
	}
	return map[string]any{
		"action":          action,
		"alert":           alert,
		"source":          map[string]any{"name": "", "type": "api"},
		"integrationName": "Alexus webhook",
		"integrationId":   "4a6c2b8e-1d3f-4e5a-9b7c-0d1e2f3a4b5c",
		"integrationType": "Webhook",
	}
}

// sentryBody: Variant "event" (issue alert, Sev the event level), "issue"
// (issue created, Sev the level) or "metric" (Sev "critical"/"warning").
func sentryBody(s spec) (any, map[string]string) {
	project := s.Resource
	issueID := fmt.Sprint(4200000 + s.num(700000))
	headers := map[string]string{"content-type": "application/json", "sentry-hook-timestamp": fmt.Sprint(startEpoch)}
	tags := [][]string{{"environment", "production"}}
	for _, k := range sortedKeys(s.Labels) {
		tags = append(tags, []string{k, s.Labels[k]})
	}
	switch s.Variant {
	case "metric":
		headers["sentry-hook-resource"] = "metric_alert"
		action := s.Sev
		prefix := upperFirst(s.Sev)
		if s.Resolved {
			action, prefix = "resolved", "Resolved"
		}
		id := fmt.Sprint(1000 + s.num(9000))
		return map[string]any{
			"action": action,
			"actor":  map[string]any{"id": "sentry", "name": "Sentry", "type": "application"},
			"data": map[string]any{
				"description_text":  s.Desc,
				"description_title": prefix + ": " + s.name(),
				"metric_alert": map[string]any{
					"alert_rule": map[string]any{
						"aggregate": "count()", "dataset": "events", "environment": "production",
						"id": fmt.Sprint(10 + s.num(90)), "name": s.name(), "organization_id": "5",
						"projects": []string{project}, "query": "level:error", "time_window": 5,
					},
					"date_closed": nil, "date_created": startISO, "date_detected": startISO, "date_started": startISO,
					"id": id, "identifier": fmt.Sprint(s.num(500)), "organization_id": "5",
					"projects": []string{project}, "status": 20, "title": "Eager Badger",
				},
				"web_url": "https://sentry.io/organizations/acme/alerts/rules/details/31/?alert=" + id,
			},
			"installation": map[string]any{"uuid": "0b3e9c1d-5b8e-4d7c-9a41-6f2a0c9e7d11"},
		}, headers
	case "issue":
		headers["sentry-hook-resource"] = "issue"
		action, status := "created", "unresolved"
		if s.Resolved {
			action, status = "resolved", "resolved"
		}
		return map[string]any{
			"action": action,
			"actor":  map[string]any{"id": "sentry", "name": "Sentry", "type": "application"},
			"data": map[string]any{"issue": map[string]any{
				"id": issueID, "shortId": strings.ToUpper(project) + "-" + fmt.Sprint(s.num(900)), "title": s.Title,
				"culprit": s.Desc, "level": s.Sev, "status": status, "substatus": "new", "platform": "python",
				"project":  map[string]any{"id": "17", "name": project, "slug": project, "platform": "python"},
				"metadata": map[string]any{"title": s.Title},
				"count":    "12", "userCount": 3,
				"firstSeen": startISO, "lastSeen": startISO,
				"web_url":   "https://sentry.io/organizations/acme/issues/" + issueID + "/",
				"permalink": "https://acme.sentry.io/issues/" + issueID + "/",
			}},
			"installation": map[string]any{"uuid": "0b3e9c1d-5b8e-4d7c-9a41-6f2a0c9e7d11"},
		}, headers
	}
	headers["sentry-hook-resource"] = "event_alert"
	eventID := s.hash(32)
	typ, val, _ := strings.Cut(s.Title, ": ")
	event := map[string]any{
		"event_id": eventID, "issue_id": issueID,
		"issue_url": "https://sentry.io/api/0/issues/" + issueID + "/",
		"url":       "https://sentry.io/api/0/projects/acme/" + project + "/events/" + eventID + "/",
		"web_url":   "https://sentry.io/organizations/acme/issues/" + issueID + "/events/" + eventID + "/",
		"title":     s.Title, "message": "", "culprit": s.Desc, "platform": "python", "project": 17,
		"datetime": startISO, "timestamp": startEpoch,
		"metadata": map[string]any{"type": typ, "value": val},
		"tags":     tags,
	}
	if s.Sev != "" {
		event["level"] = s.Sev
	}
	rule := s.Name
	if rule == "" {
		rule = "Errors to on-call"
	}
	return map[string]any{
		"action": "triggered",
		"actor":  map[string]any{"id": "sentry", "name": "Sentry", "type": "application"},
		"data": map[string]any{
			"event":          event,
			"triggered_rule": rule,
			"issue_alert":    map[string]any{"title": rule, "settings": []any{}},
		},
		"installation": map[string]any{"uuid": "0b3e9c1d-5b8e-4d7c-9a41-6f2a0c9e7d11"},
	}, headers
}

// snsBody: Variant "alarm" (a CloudWatch alarm; Sev unused, Resolved sends
// OK, Sev "INSUFFICIENT_DATA" sends that state), "plain" (a text
// notification with Subject) or "generic" (an Alexus generic alert object).
func snsBody(s spec) (any, error) {
	subject := ""
	var message string
	switch s.Variant {
	case "plain":
		subject = s.Title
		message = s.Desc
	case "generic":
		raw, err := marshal(genericAlert(s))
		if err != nil {
			return nil, err
		}
		message = string(raw)
	default:
		state, old := "ALARM", "OK"
		if s.Resolved {
			state, old = "OK", "ALARM"
		}
		if s.Sev == "INSUFFICIENT_DATA" {
			state = "INSUFFICIENT_DATA"
		}
		dimName := "InstanceId"
		if s.Labels["dimension"] != "" {
			dimName = s.Labels["dimension"]
		}
		ns := s.Labels["namespace"]
		if ns == "" {
			ns = "AWS/EC2"
		}
		metric := s.Labels["metric"]
		if metric == "" {
			metric = "CPUUtilization"
		}
		alarm := map[string]any{
			"AlarmName":        s.name(),
			"AlarmDescription": s.Title,
			"AWSAccountId":     "123456789012",
			"NewStateValue":    state,
			"NewStateReason":   s.Desc,
			"StateChangeTime":  "2026-03-01T11:55:00.123+0000",
			"Region":           "US East (N. Virginia)",
			"AlarmArn":         "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + s.name(),
			"OldStateValue":    old,
			"OKActions":        []string{},
			"AlarmActions":     []string{"arn:aws:sns:us-east-1:123456789012:alexus"},
			"Trigger": map[string]any{
				"MetricName": metric, "Namespace": ns, "StatisticType": "Statistic", "Statistic": "AVERAGE", "Unit": nil,
				"Dimensions": []any{map[string]string{"value": s.Resource, "name": dimName}},
				"Period":     300, "EvaluationPeriods": 2, "DatapointsToAlarm": 2,
				"ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0, "TreatMissingData": "missing",
			},
		}
		raw, err := marshal(alarm)
		if err != nil {
			return nil, err
		}
		message = string(raw)
		subject = `ALARM: "` + s.name() + `" in US East (N. Virginia)`
		if s.Resolved {
			subject = `OK: "` + s.name() + `" in US East (N. Virginia)`
		}
	}
	env := map[string]any{
		"Type":             "Notification",
		"MessageId":        s.hash(8) + "-fdea-4c2c-8f9d-" + s.hash(12),
		"TopicArn":         "arn:aws:sns:us-east-1:123456789012:alexus",
		"Message":          message,
		"Timestamp":        "2026-03-01T11:55:01.204Z",
		"SignatureVersion": "2",
		"Signature":        "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
		"SigningCertURL":   "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
		"UnsubscribeURL":   "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:alexus:c9135db0-26c4-47ec-8998-413945fb5a96",
	}
	if subject != "" {
		env["Subject"] = subject
	}
	return env, nil
}

// azureBody: Sev is "Sev0".."Sev4".
func azureBody(s spec) any {
	cond, resolved := "Fired", any(nil)
	if s.Resolved {
		cond, resolved = "Resolved", endISO
	}
	guid := s.hash(8) + "-" + s.hash(4) + "-4e1f-8a2b-" + s.hash(12)
	sub := "6d0c1b5e-4a27-4f3e-9a55-0c1f2e3d4b5a"
	rt := s.Labels["resourceType"]
	if rt == "" {
		rt = "microsoft.compute/virtualmachines"
	}
	target := "/subscriptions/" + sub + "/resourcegroups/shop-prod/providers/" + rt + "/" + s.Resource
	custom := map[string]string{}
	for k, v := range s.Labels {
		if k != "resourceType" {
			custom[k] = v
		}
	}
	if s.Runbook != "" {
		custom["runbook"] = s.Runbook
	}
	return map[string]any{
		"schemaId": "azureMonitorCommonAlertSchema",
		"data": map[string]any{
			"essentials": map[string]any{
				"alertId":             "/subscriptions/" + sub + "/providers/Microsoft.AlertsManagement/alerts/" + guid,
				"alertRule":           s.name(),
				"alertRuleID":         "/subscriptions/" + sub + "/resourceGroups/shop-prod/providers/microsoft.insights/metricAlerts/" + s.name(),
				"severity":            s.Sev,
				"signalType":          "Metric",
				"monitorCondition":    cond,
				"monitoringService":   "Platform",
				"alertTargetIDs":      []string{target},
				"configurationItems":  []string{s.Resource},
				"originAlertId":       sub + "_shop-prod_microsoft.insights_metricAlerts_" + s.hash(10),
				"firedDateTime":       startISO,
				"resolvedDateTime":    resolved,
				"description":         s.Title + descSep(s.Desc),
				"essentialsVersion":   "1.0",
				"alertContextVersion": "1.0",
				"targetResourceGroup": "shop-prod",
				"targetResourceType":  rt,
			},
			"alertContext": map[string]any{
				"properties":    nil,
				"conditionType": "SingleResourceMultipleMetricCriteria",
				"condition": map[string]any{
					"windowSize": "PT5M",
					"allOf": []any{map[string]any{
						"metricName": "Percentage CPU", "metricNamespace": "Microsoft.Compute/virtualMachines",
						"operator": "GreaterThan", "threshold": "85", "timeAggregation": "Average",
						"dimensions": []any{}, "metricValue": 91.4,
					}},
					"windowStartTime": "2026-03-01T11:45:00.000Z", "windowEndTime": "2026-03-01T11:50:00.000Z",
				},
			},
			"customProperties": custom,
		},
	}
}

func descSep(d string) string {
	if d == "" {
		return ""
	}
	return ". " + d
}

// gcpBody: Sev is "Critical", "Error", "Warning" or "No severity".
func gcpBody(s spec) any {
	state, ended := "open", any(nil)
	if s.Resolved {
		state, ended = "closed", endEpoch
	}
	id := "0." + s.hash(12)
	labels := map[string]string{"env": "prod"}
	for k, v := range s.Labels {
		labels[k] = v
	}
	inc := map[string]any{
		"incident_id":                id,
		"scoping_project_id":         "shop-prod-4821",
		"scoping_project_number":     918273645501,
		"url":                        "https://console.cloud.google.com/monitoring/alerting/alerts/" + id + "?project=shop-prod-4821",
		"started_at":                 startEpoch,
		"ended_at":                   ended,
		"state":                      state,
		"summary":                    s.Desc,
		"apigee_url":                 "https://apigee.google.com",
		"observed_value":             "0.934",
		"resource":                   map[string]any{"type": "gce_instance", "labels": map[string]string{"project_id": "shop-prod-4821", "zone": "europe-west1-b"}},
		"resource_type_display_name": "VM Instance",
		"resource_id":                "",
		"resource_display_name":      s.Resource,
		"resource_name":              "shop-prod-4821 " + s.Resource,
		"metric":                     map[string]any{"type": "compute.googleapis.com/instance/cpu/utilization", "displayName": "CPU utilization", "labels": map[string]string{}},
		"metadata":                   map[string]any{"system_labels": map[string]string{}, "user_labels": labels},
		"policy_name":                s.Title,
		"policy_user_labels":         map[string]string{"team": "platform"},
		"condition_name":             s.name(),
		"threshold_value":            "0.8",
		"severity":                   s.Sev,
	}
	doc := map[string]any{"content": "", "mime_type": "text/markdown", "subject": "[ALERT - " + s.Sev + "] " + s.Title}
	if s.Runbook != "" {
		doc["content"] = "Runbook: " + s.Runbook
	}
	inc["documentation"] = doc
	return map[string]any{"incident": inc, "version": "1.2"}
}

// newrelicBody: Sev is "CRITICAL", "HIGH", "MEDIUM" or "LOW".
func newrelicBody(s spec) any {
	state := "ACTIVATED"
	var closed any
	if s.Resolved {
		state, closed = "CLOSED", int64(endEpoch)*1000
	}
	id := s.hash(8) + "-" + s.hash(4) + "-4a5b-8c9d-" + s.hash(12)
	return map[string]any{
		"issueId":             id,
		"issueUrl":            "https://radar-api.service.newrelic.com/accounts/3412987/issues/" + id,
		"title":               s.Title,
		"description":         s.Desc,
		"priority":            s.Sev,
		"state":               state,
		"trigger":             "STATE_CHANGE",
		"isCorrelated":        false,
		"createdAt":           int64(startEpoch) * 1000,
		"updatedAt":           int64(startEpoch) * 1000,
		"activatedAt":         int64(startEpoch) * 1000,
		"closedAt":            closed,
		"sources":             []string{"newrelic"},
		"alertPolicyNames":    []string{"Production services"},
		"alertConditionNames": []string{s.name()},
		"workflowName":        "Alexus",
		"entitiesData":        map[string]any{"names": []string{s.Resource}, "types": []string{"APPLICATION"}, "ids": []string{"MzQxMjk4N3xBUE18QVBQTElDQVRJT058" + s.hash(8)}},
		"impactedEntities":    []string{s.Resource},
		"totalIncidents":      1,
		"owner":               "",
		"labels":              s.Labels,
		"tags":                map[string][]string{"env": {"prod"}},
	}
}

// zabbixBody: Sev is the severity name ("Disaster", "High", "Average",
// "Warning", "Information", "Not classified").
func zabbixBody(s spec) any {
	nsev := map[string]string{"Disaster": "5", "High": "4", "Average": "3", "Warning": "2", "Information": "1", "Not classified": "0"}[s.Sev]
	value := "1"
	if s.Resolved {
		value = "0"
	}
	tags := []map[string]string{{"tag": "env", "value": "prod"}}
	for _, k := range sortedKeys(s.Labels) {
		tags = append(tags, map[string]string{"tag": k, "value": s.Labels[k]})
	}
	tagsJSON, _ := marshal(tags)
	eventID := fmt.Sprint(800000 + s.num(100000))
	return map[string]any{
		"event_id":                 eventID,
		"event_value":              value,
		"event_update_status":      "0",
		"event_ack_status":         "No",
		"event_name":               s.Title,
		"event_severity":           s.Sev,
		"event_nseverity":          nsev,
		"event_timestamp":          fmt.Sprint(startEpoch),
		"event_date":               "2026.03.01",
		"event_time":               "11:50:00",
		"event_recovery_timestamp": "{EVENT.RECOVERY.TIMESTAMP}",
		"event_tags":               string(tagsJSON),
		"event_opdata":             "",
		"event_source":             "0",
		"trigger_id":               fmt.Sprint(20000 + s.num(9000)),
		"trigger_name":             s.Title,
		"trigger_description":      s.Desc,
		"host_name":                s.Resource,
		"host_host":                s.Resource,
		"host_ip":                  fmt.Sprintf("10.0.%d.%d", s.num(250), s.num(200)+2),
		"alert_subject":            "Problem: " + s.Title,
		"alert_message":            s.Desc,
		"zabbix_url":               "https://zabbix.example.com",
	}
}

// elasticBody: Sev is the template's "severity" word (or empty).
func elasticBody(s spec) any {
	status := "active"
	group := "query matched"
	if s.Resolved {
		status, group = "recovered", "recovered"
	}
	tags := tagList(s.Labels)
	if tags == nil {
		tags = []string{}
	}
	body := map[string]any{
		"status":        status,
		"date":          startISO,
		"kibanaBaseUrl": "https://kibana.example.com",
		"rule": map[string]any{
			"id": s.hash(8) + "-" + s.hash(4) + "-11ee-9c1a-" + s.hash(12), "name": s.name(), "spaceId": "default",
			"tags": tags, "url": "https://kibana.example.com/app/observability/alerts/rules/" + s.hash(8),
		},
		"alert": map[string]any{"id": s.Resource, "uuid": s.hash(8) + "-aaaa-4bbb-8ccc-" + s.hash(12), "actionGroup": group, "actionGroupName": upperFirst(group), "flapping": false},
		"context": map[string]any{
			"title":   s.Title,
			"reason":  s.Desc,
			"message": s.Title + descSep(s.Desc),
			"group":   s.Resource,
			"value":   "93.1",
		},
	}
	if s.Sev != "" {
		body["severity"] = s.Sev
	}
	return body
}

// dynatraceBody: Sev is the ProblemSeverity.
func dynatraceBody(s spec) any {
	state := "OPEN"
	if s.Resolved {
		state = "RESOLVED"
	}
	pid := "-" + fmt.Sprint(1000000000000000000+int64(s.num(999999999))) + "_" + fmt.Sprint(startEpoch) + "000V2"
	impact := "SERVICE"
	if s.Labels["impact"] != "" {
		impact = s.Labels["impact"]
	}
	tags := []string{}
	for _, k := range sortedKeys(s.Labels) {
		if k != "impact" {
			tags = append(tags, k+":"+s.Labels[k])
		}
	}
	entityID := "SERVICE-" + strings.ToUpper(s.hash(16))
	return map[string]any{
		"PID":                 pid,
		"ProblemID":           fmt.Sprint(s.num(9999)),
		"State":               state,
		"ProblemTitle":        s.Title,
		"ProblemSeverity":     s.Sev,
		"ProblemImpact":       impact,
		"ImpactedEntity":      s.Title + " on " + s.Resource,
		"ImpactedEntityNames": s.Resource,
		"ImpactedEntities":    []any{map[string]string{"type": "SERVICE", "name": s.Resource, "entity": entityID}},
		"ProblemURL":          "https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=" + pid,
		"Tags":                strings.Join(tags, ", "),
		"ProblemDetailsText":  s.Desc,
		"ProblemDetailsJSON":  map[string]any{"startTime": int64(startEpoch) * 1000, "endTime": -1, "displayName": "P-" + fmt.Sprint(s.num(9999)), "status": state},
	}
}

// splunkBody: Sev goes into result.severity (Splunk's words or numbers).
func splunkBody(s spec) any {
	result := map[string]any{
		"host":       s.Resource,
		"source":     "/var/log/app/" + strings.ReplaceAll(s.Resource, ".", "-") + ".log",
		"sourcetype": "app:json",
		"count":      fmt.Sprint(5 + s.num(400)),
		"_time":      fmt.Sprint(startEpoch),
		"_raw":       s.Desc,
	}
	for k, v := range s.Labels {
		result[k] = v
	}
	if s.Sev != "" {
		result["severity"] = s.Sev
	}
	return map[string]any{
		"sid":          "scheduler__admin__search__RMD5" + s.hash(16) + "_at_" + fmt.Sprint(startEpoch) + "_" + fmt.Sprint(s.num(9000)),
		"search_name":  s.Title,
		"app":          "search",
		"owner":        "admin",
		"results_link": "https://splunk.example.com:8000/app/search/@go?sid=scheduler__admin__search__RMD5" + s.hash(16),
		"result":       result,
	}
}

// genericAlert is an alert of Alexus's generic format.
func genericAlert(s spec) map[string]any {
	a := map[string]any{"title": s.Title, "status": firingWord(s)}
	if s.Sev != "" {
		a["severity"] = s.Sev
	}
	if s.Desc != "" {
		a["description"] = s.Desc
	}
	if s.Resource != "" {
		a["resource"] = s.Resource
	}
	if len(s.Labels) > 0 {
		a["labels"] = s.Labels
	}
	ann := map[string]string{}
	if s.Runbook != "" {
		ann["runbook_url"] = s.Runbook
	}
	if len(ann) > 0 {
		a["annotations"] = ann
	}
	a["starts_at"] = startISO
	if s.Resolved {
		a["ends_at"] = endISO
	}
	return a
}

// cloudeventsBody: Variant "binary" sends the data as the body with ce-*
// headers; otherwise a structured event. Name is the event type.
func cloudeventsBody(s spec) (any, map[string]string) {
	data := genericAlert(s)
	typ := s.Name
	if typ == "" {
		typ = "com.acme.monitoring.alert"
	}
	suffix := ".firing"
	if s.Resolved {
		suffix = ".resolved"
	}
	typ += suffix
	source := "//monitoring.acme.example/checks"
	id := s.hash(8) + "-" + s.hash(4) + "-4f00-9a00-" + s.hash(12)
	if s.Variant == "binary" {
		return data, map[string]string{
			"content-type":   "application/json",
			"ce-specversion": "1.0",
			"ce-id":          id,
			"ce-source":      source,
			"ce-type":        typ,
			"ce-subject":     s.Resource,
			"ce-time":        startISO,
		}
	}
	return map[string]any{
		"specversion":     "1.0",
		"id":              id,
		"source":          source,
		"type":            typ,
		"subject":         s.Resource,
		"time":            startISO,
		"datacontenttype": "application/json",
		"data":            data,
	}, map[string]string{"content-type": "application/cloudevents+json"}
}

// marshal is json.Marshal without HTML escaping, so URLs read as sent.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// upperFirst upper-cases the first letter of s.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
