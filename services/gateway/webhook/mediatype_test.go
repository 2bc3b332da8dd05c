package webhook

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAcceptedMediaTypes(t *testing.T) {
	t.Parallel()
	ce := http.Header{}
	ce.Set("Ce-Specversion", "1.0")
	for _, tc := range []struct {
		source, mt string
		hdr        http.Header
		want       bool
	}{
		{"alertmanager", "application/json", nil, true},
		{"cloudevents", "application/cloudevents+json", nil, true},
		{"cloudevents", "application/cloudevents-batch+json", nil, true},
		{"sns", "text/plain", nil, true},
		{"cloudevents", "text/plain", ce, true},
		{"alertmanager", "text/plain", nil, false},
		{"cloudevents", "text/plain", nil, false},
		{"generic", "application/xml", nil, false},
		{"generic", "text/json+xml", nil, false},
	} {
		require.Equal(t, tc.want, acceptedMediaType(tc.source, tc.mt, tc.hdr), "%s %s", tc.source, tc.mt)
	}
}
