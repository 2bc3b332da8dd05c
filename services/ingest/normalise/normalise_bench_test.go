package normalise

import (
	"testing"
)

// BenchmarkNormalise measures each source's normaliser on a firing payload
// of the kind its tests use: decoding is most of what the ingestion plane
// spends per alert besides the RPC and Redis.
func BenchmarkNormalise(b *testing.B) {
	reg := Builtin()
	for _, c := range []struct{ source, payload string }{
		{"alertmanager", firingPayload},
		{"grafana", grafanaFiring},
		{"datadog", datadogTriggered},
		{"opsgenie", opsgenieCreate},
		{"sentry", sentryEventAlertPayload},
		{"azure-monitor", azmonLogPayload},
		{"dynatrace", dynatraceOpenPayload},
		{"elastic", elasticActivePayload},
		{"zabbix", zabbixProblemPayload},
		{"splunk", splunkPayload},
		{"cloudevents", ceFiringEvent},
		{"generic", genericFiringPayload},
	} {
		n, err := reg.Lookup(c.source)
		if err != nil {
			b.Fatal(err)
		}
		payload := []byte(c.payload)
		if _, err := n.Normalise(payload, nil, received); err != nil {
			b.Fatalf("%s: %v", c.source, err)
		}
		b.Run(c.source, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := n.Normalise(payload, nil, received); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
