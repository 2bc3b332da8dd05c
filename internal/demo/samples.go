package demo

import (
	"encoding/json"
	"time"
)

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

// Samples returns Alertmanager (webhook version 4) notifications for a small
// fictional shop: two firing alerts, a repeat of the first, a noisy
// watchdog, and the first one's resolution.
func Samples(now time.Time) [][]byte {
	checkout := amAlert{
		Status:       "firing",
		Labels:       map[string]string{"alertname": "CheckoutHighErrorRate", "severity": "critical", "service": "checkout", "instance": "checkout-7f9c:8080"},
		Annotations:  map[string]string{"summary": "Checkout 5xx rate above 5% for 5 minutes", "description": "HTTP 5xx responses from checkout are 7.2% of requests.", "runbook_url": "https://runbooks.demo/checkout-5xx"},
		StartsAt:     now.Add(-5 * time.Minute).UTC(),
		GeneratorURL: "http://prometheus.demo:9090/graph?g0.expr=rate(http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D)",
		Fingerprint:  "c0ffee0000000001",
	}
	disk := amAlert{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "NodeDiskAlmostFull", "severity": "warning", "instance": "db-2:9100"},
		Annotations: map[string]string{"summary": "Disk on db-2 is 91% full", "description": "/var/lib/postgresql will be full in about 6 hours."},
		StartsAt:    now.Add(-20 * time.Minute).UTC(),
		Fingerprint: "c0ffee0000000002",
	}
	watchdog := amAlert{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "Watchdog", "severity": "none"},
		Annotations: map[string]string{"summary": "Alerting pipeline heartbeat"},
		StartsAt:    now.Add(-time.Hour).UTC(),
		Fingerprint: "c0ffee0000000003",
	}
	resolved := checkout
	resolved.Status = "resolved"
	resolved.EndsAt = now.UTC()

	group := func(status string, alerts ...amAlert) []byte {
		p := amPayload{
			Version: "4", GroupKey: `{}:{alertname="` + alerts[0].Labels["alertname"] + `"}`, Status: status,
			Receiver: "alexus", GroupLabels: map[string]string{"alertname": alerts[0].Labels["alertname"]},
			CommonLabels: alerts[0].Labels, CommonAnnotations: alerts[0].Annotations,
			ExternalURL: "http://alertmanager.demo:9093", Alerts: alerts,
		}
		b, _ := json.Marshal(p)
		return b
	}
	return [][]byte{
		group("firing", checkout),
		group("firing", disk),
		group("firing", checkout),
		group("firing", watchdog),
		group("resolved", resolved),
	}
}
