package dedup

import (
	"testing"

	"google.golang.org/protobuf/proto"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// BenchmarkMarshalEvent compares marshalEvent with proto.Marshal of the
// same event, for a signal with typical label and annotation sets.
func BenchmarkMarshalEvent(b *testing.B) {
	sig := &signalv1.Signal{
		Source: "alertmanager", Fingerprint: "am:0123456789abcdef", Title: "p99 above 2s", Status: signalv1.Status_STATUS_FIRING,
		Labels:      map[string]string{"alertname": "HighLatency", "severity": "warning", "instance": "api-1:8080", "job": "api", "namespace": "prod", "team": "core"},
		Annotations: map[string]string{"summary": "p99 above 2s", "description": "the API's p99 latency is above 2s", "runbook_url": "https://runbooks.example.com/latency"},
		RawPayload:  make([]byte, 1200),
	}
	b.Run("marshalEvent", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := marshalEvent(sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := proto.Marshal(&signalv1.SignalEvent{Signal: sig}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
