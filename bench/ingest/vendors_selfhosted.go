package main

import (
	"strconv"
	"time"
)

// Self-hosted tools whose webhook bodies are templates: Zabbix (a webhook
// media type's parameters), Kibana alerting (the webhook connector) and
// Splunk (the built-in webhook alert action, whose body is fixed). Each
// follows what Alexus documents for it in services/ingest/normalise.

func init() {
	renderers["zabbix"] = renderZabbix
	renderers["elastic"] = renderElastic
	renderers["splunk"] = renderSplunk
}

// renderZabbix writes a problem notification (event_value 1) with the
// parameters of Zabbix's own webhook integrations, all as strings, as
// Zabbix sends them.
func renderZabbix(a alert) payload {
	sev := map[string][2]string{"critical": {"5", "Disaster"}, "error": {"4", "High"}, "warning": {"2", "Warning"}, "info": {"1", "Information"}}[a.Severity]
	return jsonPayload(map[string]any{
		"event_id":                 a.Number(),
		"event_value":              "1",
		"event_update_status":      "0",
		"event_ack_status":         "No",
		"event_name":               a.Summary,
		"event_severity":           sev[1],
		"event_nseverity":          sev[0],
		"event_timestamp":          strconv.FormatInt(a.Starts.Unix(), 10),
		"event_date":               a.Starts.UTC().Format("2006.01.02"),
		"event_time":               a.Starts.UTC().Format("15:04:05"),
		"event_recovery_timestamp": "{EVENT.RECOVERY.TIMESTAMP}",
		"event_recovery_date":      "{EVENT.RECOVERY.DATE}",
		"event_recovery_time":      "{EVENT.RECOVERY.TIME}",
		"event_tags":               `[{"tag":"env","value":"` + a.Env + `"},{"tag":"service","value":"` + a.Service + `"}]`,
		"event_opdata":             "Current value: " + strconv.FormatFloat(a.Value, 'f', 1, 64),
		"event_source":             "0",
		"trigger_id":               strconv.Itoa(20000 + kindIndex(a)),
		"trigger_name":             a.Summary,
		"trigger_description":      a.Summary + " for the last 5 minutes.",
		"host_name":                a.Pod,
		"host_host":                a.Pod,
		"host_ip":                  "10.0." + strconv.Itoa(int(a.hash>>8&0xff)) + "." + strconv.Itoa(int(a.hash&0xff)),
		"alert_subject":            "Problem: " + a.Summary,
		"alert_message":            "Problem started at " + a.Starts.UTC().Format("15:04:05") + " on " + a.Starts.UTC().Format("2006.01.02"),
		"zabbix_url":               "https://zabbix.example.com",
	})
}

// renderElastic fills Alexus's Kibana template for one active alert of a
// threshold rule grouped by pod.
func renderElastic(a alert) payload {
	ruleID := "6f1c" + strconv.Itoa(1000+kindIndex(a)) + "-aa11-4b22-8c33-0d44e55f66a7"
	return jsonPayload(map[string]any{
		"status":        "active",
		"severity":      map[string]string{"critical": "critical", "error": "high", "warning": "medium", "info": "low"}[a.Severity],
		"date":          a.Starts.UTC().Format(time.RFC3339Nano),
		"kibanaBaseUrl": "https://kibana.example.com",
		"rule": map[string]any{
			"id":      ruleID,
			"name":    a.Name,
			"spaceId": "default",
			"tags":    []string{"env:" + a.Env, "team:platform"},
			"url":     "https://kibana.example.com/app/observability/alerts/rules/" + ruleID,
		},
		"alert": map[string]any{
			"id":              a.Pod,
			"uuid":            a.UUID(),
			"actionGroup":     "threshold met",
			"actionGroupName": "Threshold met",
			"flapping":        false,
		},
		"context": map[string]any{
			"title":   a.Summary,
			"message": a.Summary + " for the last 5 minutes.",
			"reason":  "system.cpu.total.norm.pct is " + strconv.FormatFloat(a.Value, 'f', 1, 64) + "% in the last 5 mins for " + a.Pod + ". Alert when > 90%.",
			"group":   a.Pod,
			"value":   a.Value,
		},
	})
}

// renderSplunk writes the webhook alert action's fixed body for a
// scheduled search whose first result row is about the pod.
func renderSplunk(a alert) payload {
	sid := "scheduler__admin__search__RMD5" + a.ID + "_at_" + strconv.FormatInt(a.Starts.Unix(), 10) + "_" + strconv.Itoa(a.Seq%1000)
	return jsonPayload(map[string]any{
		"sid":          sid,
		"search_name":  a.Name,
		"app":          "search",
		"owner":        "admin",
		"results_link": "https://splunk.example.com:8000/app/search/@go?sid=" + sid,
		"result": map[string]any{
			"host":       a.Pod,
			"source":     "/var/log/" + a.Service + ".log",
			"sourcetype": "kube:container",
			"severity":   a.Severity,
			"count":      strconv.Itoa(int(a.Value)),
			"_time":      strconv.FormatInt(a.Starts.Unix(), 10),
			"_raw":       a.Summary,
		},
	})
}
