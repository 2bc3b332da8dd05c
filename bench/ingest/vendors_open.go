package main

import (
	"time"
)

// Open formats: Alexus's generic JSON (format version 1) and CloudEvents
// 1.0 in structured mode.

func init() {
	renderers["generic"] = renderGeneric
	renderers["cloudevents"] = renderCloudEvents
}

// genericAlert is one alert of Alexus's generic format.
type genericAlert struct {
	Title       string            `json:"title"`
	Status      string            `json:"status,omitempty"`
	Severity    string            `json:"severity"`
	Description string            `json:"description,omitempty"`
	Resource    string            `json:"resource,omitempty"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Link        string            `json:"link,omitempty"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	StartsAt    string            `json:"starts_at"`
}

// renderGeneric writes one alert object carrying the sender's own
// fingerprint, as a script or in-house tool would.
func renderGeneric(a alert) payload {
	return jsonPayload(genericAlert{
		Title:       a.Summary,
		Status:      "firing",
		Severity:    a.Severity,
		Description: a.Summary + " for the last 5 minutes.",
		Resource:    a.Host,
		Labels:      a.Labels(),
		Annotations: map[string]string{"runbook_url": "https://runbooks.example.com/" + a.Name},
		Link:        "https://ops.example.com/alerts/" + a.ID,
		Fingerprint: a.Name + "/" + a.Pod,
		StartsAt:    a.Starts.UTC().Format(time.RFC3339),
	})
}

// renderCloudEvents writes one structured-mode event whose data is a
// generic alert without a fingerprint, so the recipe hashes source,
// subject and type. It is labelled application/json, as many senders of
// structured events do and as the gateway requires.
func renderCloudEvents(a alert) payload {
	data := genericAlert{
		Title:       a.Summary,
		Severity:    a.Severity,
		Description: a.Summary + " for the last 5 minutes.",
		Labels:      map[string]string{"alertname": a.Name, "env": a.Env, "service": a.Service},
		Link:        "https://ops.example.com/alerts/" + a.ID,
		StartsAt:    a.Starts.UTC().Format(time.RFC3339),
	}
	return jsonPayload(map[string]any{
		"specversion":     "1.0",
		"id":              a.UUID(),
		"source":          "//monitoring.example.com/" + a.Service,
		"type":            "com.example.monitoring." + a.Name + ".firing",
		"subject":         a.Pod,
		"time":            a.Starts.UTC().Format(time.RFC3339),
		"datacontenttype": "application/json",
		"data":            data,
	})
}
