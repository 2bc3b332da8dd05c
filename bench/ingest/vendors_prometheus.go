package main

import (
	"fmt"
	"time"
)

// Prometheus-family formats: Alertmanager's webhook (version 4), Grafana
// alerting's webhook (version 1, the same grouped shape plus Grafana's
// fields), and Alertmanager's v2 API postable alerts, which the
// Alertmanager comparison posts.

func init() {
	renderers["alertmanager"] = renderAlertmanager
	renderers["grafana"] = renderGrafana
}

// amWebhook is Alertmanager's webhook_config body, version "4".
type amWebhook struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amWebhookAlert  `json:"alerts"`
}

type amWebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

func annotations(a alert) map[string]string {
	return map[string]string{
		"summary":     a.Summary,
		"description": a.Summary + " for the last 5 minutes.",
		"runbook_url": "https://runbooks.example.com/" + a.Name,
	}
}

func generatorURL(a alert) string {
	return "http://prometheus.example.com/graph?g0.expr=" + a.Name + "&g0.tab=1"
}

// renderAlertmanager sends one firing alert per notification, as
// Alertmanager does for a group that holds one alert; Alertmanager's own
// fingerprint is 16 hex digits, which the alert's ID is.
func renderAlertmanager(a alert) payload {
	labels := a.Labels()
	return jsonPayload(amWebhook{
		Version:           "4",
		GroupKey:          `{}:{alertname="` + a.Name + `"}`,
		Status:            "firing",
		Receiver:          "alexus",
		GroupLabels:       map[string]string{"alertname": a.Name},
		CommonLabels:      labels,
		CommonAnnotations: annotations(a),
		ExternalURL:       "http://alertmanager.example.com:9093",
		Alerts: []amWebhookAlert{{
			Status:       "firing",
			Labels:       labels,
			Annotations:  annotations(a),
			StartsAt:     a.Starts.UTC().Format(time.RFC3339Nano),
			EndsAt:       "0001-01-01T00:00:00Z",
			GeneratorURL: generatorURL(a),
			Fingerprint:  a.ID,
		}},
	})
}

// amPostableAlert is one element of Alertmanager's POST /api/v2/alerts.
type amPostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// renderPostable writes the alert as Prometheus would post it to
// Alertmanager: an array holding the one alert, with no endsAt (still
// firing). Whatever vendor the alert was drawn for, Alertmanager gets the
// same labels, so a duplicate is the same alert to it too.
func renderPostable(a alert) payload {
	return jsonPayload([]amPostableAlert{{
		Labels:       a.Labels(),
		Annotations:  annotations(a),
		StartsAt:     a.Starts.UTC().Format(time.RFC3339Nano),
		GeneratorURL: generatorURL(a),
	}})
}

// grafanaWebhook is Grafana alerting's webhook contact point body.
type grafanaWebhook struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	OrgID             int               `json:"orgId"`
	Alerts            []grafanaAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Title             string            `json:"title"`
	State             string            `json:"state"`
	Message           string            `json:"message"`
}

type grafanaAlert struct {
	Status       string             `json:"status"`
	Labels       map[string]string  `json:"labels"`
	Annotations  map[string]string  `json:"annotations"`
	StartsAt     string             `json:"startsAt"`
	EndsAt       string             `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	SilenceURL   string             `json:"silenceURL"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	Values       map[string]float64 `json:"values"`
	ValueString  string             `json:"valueString"`
}

// renderGrafana sends one firing alert per notification; Grafana's
// fingerprint, like Alertmanager's, is 16 hex digits.
func renderGrafana(a alert) payload {
	labels := a.Labels()
	labels["grafana_folder"] = "Platform"
	const base = "https://grafana.example.com"
	return jsonPayload(grafanaWebhook{
		Receiver:          "alexus",
		Status:            "firing",
		OrgID:             1,
		GroupLabels:       map[string]string{"alertname": a.Name, "grafana_folder": "Platform"},
		CommonLabels:      labels,
		CommonAnnotations: annotations(a),
		ExternalURL:       base + "/",
		Version:           "1",
		GroupKey:          `{}/{}:{alertname="` + a.Name + `", grafana_folder="Platform"}`,
		Title:             "[FIRING:1] " + a.Name + " Platform (" + a.Host + ")",
		State:             "alerting",
		Message:           "**Firing**\n\n" + a.Summary,
		Alerts: []grafanaAlert{{
			Status:       "firing",
			Labels:       labels,
			Annotations:  annotations(a),
			StartsAt:     a.Starts.UTC().Format(time.RFC3339Nano),
			EndsAt:       "0001-01-01T00:00:00Z",
			GeneratorURL: base + "/alerting/grafana/" + a.Name + "/view",
			Fingerprint:  a.ID,
			SilenceURL:   base + "/alerting/silence/new?matcher=alertname%3D" + a.Name,
			DashboardURL: base + "/d/platform",
			PanelURL:     base + "/d/platform?viewPanel=2",
			Values:       map[string]float64{"A": a.Value, "C": 1},
			ValueString:  fmt.Sprintf("[ var='A' labels={instance=%s} value=%g ]", a.Host, a.Value),
		}},
	})
}
