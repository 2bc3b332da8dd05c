package normalise

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

var (
	ceStructuredHeaders = map[string]string{"content-type": "application/cloudevents+json; charset=UTF-8"}
	ceBatchHeaders      = map[string]string{"content-type": "application/cloudevents-batch+json"}
)

// A monitoring agent's event in structured mode, its data in the generic
// format, with extension attributes of each scalar type, one of which
// claims a tenant.
const ceFiringEvent = `{
  "specversion": "1.0",
  "id": "7f3c2b9e-1d4a-4c55-9a0e-2b1f6c8d9e01",
  "source": "https://monitor.example/agents/7",
  "type": "com.example.monitor.disk.firing",
  "subject": "db-3:/var",
  "time": "2026-03-01T11:58:00Z",
  "datacontenttype": "application/json",
  "region": "eu-west-1",
  "priority": 2,
  "sampled": true,
  "tenant": "someone-else",
  "data": {
    "title": "Disk /var above 90%",
    "severity": "critical",
    "description": "/var is 93% full and growing 1%/h",
    "labels": {"mount": "/var", "host": "db-3"},
    "annotations": {"runbook": "https://runbooks.example/disk"},
    "link": "https://monitor.example/alerts/disk/db-3",
    "tenant_id": "00000000-0000-0000-0000-000000000000"
  }
}`

// The same alert's resolution: a new id and time, and a type whose status
// suffix says resolved; the data says nothing of status.
const ceResolvedEvent = `{
  "specversion": "1.0",
  "id": "0b4e8f21-9c3d-4e7a-8f10-5d2c6b7a8e99",
  "source": "https://monitor.example/agents/7",
  "type": "com.example.monitor.disk.resolved",
  "subject": "db-3:/var",
  "time": "2026-03-01T12:40:00Z",
  "data": {"title": "Disk /var above 90%", "severity": "critical", "labels": {"mount": "/var", "host": "db-3"}}
}`

// A deploy pipeline's failure in binary mode: attributes in headers (one
// percent-encoded, one double-quoted as older senders do), data in the body.
func ceBinaryHeaders() map[string]string {
	return map[string]string{
		"content-type":   "application/json",
		"ce-specversion": "1.0",
		"ce-id":          "deploy-5521-failed",
		"ce-source":      "/ci/pipelines/checkout",
		"ce-type":        "dev.ci.deploy.failed",
		"ce-subject":     "checkout-service",
		"ce-time":        "2026-03-01T11:30:00.5Z",
		"ce-stage":       "canary%20%E2%82%AC",
		"ce-team":        `"payments"`,
		"ce-tenantid":    "someone-else",
		"x-request-id":   "not-an-attribute",
	}
}

const ceBinaryBody = `{"title":"Deploy of checkout failed at canary","status":"firing","severity":"error","fingerprint":"deploy/checkout","resource":"checkout-service","labels":{"pipeline":"checkout"}}`

func ceNormalise(t *testing.T, payload string, headers map[string]string) []*signalv1.Signal {
	return mustNormalise(t, CloudEvents{}, payload, headers)
}

func TestCloudEventsStructuredFiring(t *testing.T) {
	t.Parallel()
	sigs := ceNormalise(t, ceFiringEvent, ceStructuredHeaders)
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, "cloudevents", s.GetSource())
	require.Equal(t, "cloudevents", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.True(t, strings.HasPrefix(s.GetFingerprint(), "cehash:"), s.GetFingerprint())
	require.Equal(t, "7f3c2b9e-1d4a-4c55-9a0e-2b1f6c8d9e01", s.GetExternalId(), "the event id is the external id")
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "Disk /var above 90%", s.GetTitle())
	require.Equal(t, "/var is 93% full and growing 1%/h", s.GetDescription())
	require.Equal(t, "db-3:/var", s.GetResource(), "resource falls back to the subject")
	require.Equal(t, map[string]string{
		"mount": "/var", "host": "db-3",
		"ce_type": "com.example.monitor.disk.firing", "ce_source": "https://monitor.example/agents/7", "ce_subject": "db-3:/var",
		"ce_region": "eu-west-1", "ce_priority": "2", "ce_sampled": "true", "ce_tenant": "someone-else",
	}, s.GetLabels())
	require.Equal(t, "https://runbooks.example/disk", s.GetAnnotations()["runbook"])
	require.Equal(t, "https://monitor.example/alerts/disk/db-3", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 58, 0, 0, time.UTC), s.GetStartsAt().AsTime(), "the event time starts a firing alert")
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId(), "neither an extension nor data chooses the tenant")
	require.JSONEq(t, ceFiringEvent, string(s.GetRawPayload()))
}

func TestCloudEventsStructuredResolved(t *testing.T) {
	t.Parallel()
	s := ceNormalise(t, ceResolvedEvent, ceStructuredHeaders)[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus(), "the type's .resolved suffix resolves")
	require.Equal(t, time.Date(2026, 3, 1, 12, 40, 0, 0, time.UTC), s.GetEndsAt().AsTime(), "the event time ends a resolved alert")
	require.Nil(t, s.GetStartsAt())
	require.Equal(t, "0b4e8f21-9c3d-4e7a-8f10-5d2c6b7a8e99", s.GetExternalId())
}

func TestCloudEventsBinary(t *testing.T) {
	t.Parallel()
	sigs := ceNormalise(t, ceBinaryBody, ceBinaryHeaders())
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, "ce:deploy/checkout", s.GetFingerprint(), "the data's fingerprint wins")
	require.Equal(t, "deploy-5521-failed", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "Deploy of checkout failed at canary", s.GetTitle())
	require.Equal(t, "checkout-service", s.GetResource())
	require.Equal(t, "canary €", s.GetLabels()["ce_stage"], "header values are percent-decoded")
	require.Equal(t, "payments", s.GetLabels()["ce_team"], "quoted header values are unquoted")
	require.Equal(t, "checkout", s.GetLabels()["pipeline"])
	require.NotContains(t, s.GetLabels(), "ce_request-id")
	require.Empty(t, s.GetTenantId())
	require.Equal(t, time.Date(2026, 3, 1, 11, 30, 0, 5e8, time.UTC), s.GetStartsAt().AsTime())

	// The raw payload is the event in the JSON format, data included.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(s.GetRawPayload(), &raw))
	require.Equal(t, "1.0", raw["specversion"])
	require.Equal(t, "deploy-5521-failed", raw["id"])
	require.Equal(t, "application/json", raw["datacontenttype"])
	require.Equal(t, "canary €", raw["stage"])
	require.Equal(t, "deploy/checkout", raw["data"].(map[string]any)["fingerprint"])
}

func TestCloudEventsBinaryText(t *testing.T) {
	t.Parallel()
	h := ceBinaryHeaders()
	h["content-type"] = "text/plain; charset=utf-8"
	h["ce-type"] = "dev.ci.deploy.recovered"
	s := ceNormalise(t, "canary healthy again after rollback", h)[0]
	require.Equal(t, "checkout-service", s.GetTitle(), "without alert data the subject is the title")
	require.Equal(t, "canary healthy again after rollback", s.GetDescription())
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Equal(t, time.Date(2026, 3, 1, 11, 30, 0, 5e8, time.UTC), s.GetEndsAt().AsTime())
	require.Equal(t, "cehash:"+HashFields(map[string]string{
		"source": "/ci/pipelines/checkout", "subject": "checkout-service", "type": "dev.ci.deploy",
	}), s.GetFingerprint())

	var raw map[string]any
	require.NoError(t, json.Unmarshal(s.GetRawPayload(), &raw))
	require.Equal(t, "canary healthy again after rollback", raw["data"])

	// Binary data of no text type is kept, encoded, but not described.
	h["content-type"] = "application/octet-stream"
	s = ceNormalise(t, "\x00\xff\x10", h)[0]
	require.Empty(t, s.GetDescription())
	require.NoError(t, json.Unmarshal(s.GetRawPayload(), &raw))
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte("\x00\xff\x10")), raw["data_base64"])
}

func TestCloudEventsBatch(t *testing.T) {
	t.Parallel()
	batch := "[" + ceFiringEvent + "," + ceResolvedEvent + "]"
	sigs := ceNormalise(t, batch, ceBatchHeaders)
	require.Len(t, sigs, 2)
	require.Equal(t, signalv1.Status_STATUS_FIRING, sigs[0].GetStatus())
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, sigs[1].GetStatus())
	require.JSONEq(t, ceResolvedEvent, string(sigs[1].GetRawPayload()), "each signal keeps its own event")
}

// Unusual but valid: data as data_base64, a type without a status suffix,
// no subject, no time, no datacontenttype, null optional attributes, and a
// structured event sent as plain application/json.
func TestCloudEventsUnusual(t *testing.T) {
	t.Parallel()
	data := base64.StdEncoding.EncodeToString([]byte(`{"title":"Replica lag 40s","status":"acknowledged","severity":"warning"}`))
	event := `{"specversion":"1.0","id":"1","source":"urn:pg:cluster-2","type":"org.example.pg.replicalag","subject":null,"datacontenttype":"application/json","data_base64":"` + data + `"}`
	s := ceNormalise(t, event, ceStructuredHeaders)[0]
	require.Equal(t, "Replica lag 40s", s.GetTitle())
	require.Equal(t, signalv1.Status_STATUS_ACKNOWLEDGED, s.GetStatus(), "the data's status wins")
	require.Nil(t, s.GetStartsAt())
	require.NotContains(t, s.GetLabels(), "ce_subject")

	plain := `{"specversion":"1.0","id":"2","source":"urn:pg:cluster-2","type":"org.example.pg.replicalag"}`
	for _, headers := range []map[string]string{{"content-type": "application/json"}, nil} {
		s = ceNormalise(t, plain, headers)[0]
		require.Equal(t, "org.example.pg.replicalag", s.GetTitle(), "without subject or data the type is the title")
		require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	}
	blankSubject := `{"specversion":"1.0","id":"2","source":"urn:pg:cluster-2","type":"org.example.pg.replicalag","subject":"  "}`
	require.Equal(t, "org.example.pg.replicalag", ceNormalise(t, blankSubject, ceStructuredHeaders)[0].GetTitle(), "a blank subject is no title")
	sigs := ceNormalise(t, "["+plain+"]", map[string]string{"content-type": "application/json"})
	require.Len(t, sigs, 1, "a bare JSON array is a batch")

	// The data's string is text for the description.
	s = ceNormalise(t, `{"specversion":"1.0","id":"3","source":"s","type":"t","datacontenttype":"text/plain","data":"replica is catching up"}`, ceStructuredHeaders)[0]
	require.Equal(t, "replica is catching up", s.GetDescription())
}

func TestCloudEventsFingerprintStability(t *testing.T) {
	t.Parallel()
	firing := ceNormalise(t, ceFiringEvent, ceStructuredHeaders)[0]
	resolved := ceNormalise(t, ceResolvedEvent, ceStructuredHeaders)[0]
	require.Equal(t, firing.GetFingerprint(), resolved.GetFingerprint(), "ids differ, the alert does not")
	require.Equal(t, "cehash:"+HashFields(map[string]string{
		"source": "https://monitor.example/agents/7", "subject": "db-3:/var", "type": "com.example.monitor.disk",
	}), firing.GetFingerprint())

	otherSubject := ceNormalise(t, strings.ReplaceAll(ceFiringEvent, "db-3:/var", "db-4:/var"), ceStructuredHeaders)[0]
	otherSource := ceNormalise(t, strings.Replace(ceFiringEvent, "agents/7", "agents/8", 1), ceStructuredHeaders)[0]
	otherType := ceNormalise(t, strings.Replace(ceFiringEvent, "disk.firing", "inode.firing", 1), ceStructuredHeaders)[0]
	for _, other := range []*signalv1.Signal{otherSubject, otherSource, otherType} {
		require.NotEqual(t, firing.GetFingerprint(), other.GetFingerprint())
	}

	// Binary events sharing a data fingerprint are one alert, whatever
	// their id; a different data fingerprint is another.
	h := ceBinaryHeaders()
	a := ceNormalise(t, ceBinaryBody, h)[0]
	h["ce-id"] = "deploy-5521-recovered"
	b := ceNormalise(t, strings.Replace(ceBinaryBody, `"firing"`, `"resolved"`, 1), h)[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, b.GetStatus())
	require.Equal(t, a.GetFingerprint(), b.GetFingerprint())
	c := ceNormalise(t, strings.Replace(ceBinaryBody, "deploy/checkout", "deploy/cart", 1), h)[0]
	require.NotEqual(t, a.GetFingerprint(), c.GetFingerprint())
}

func TestCloudEventsTypeStatus(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Status{
		"x.alert.firing": signalv1.Status_STATUS_FIRING, "x.alert.Triggered": signalv1.Status_STATUS_FIRING,
		"x.alert.opened": signalv1.Status_STATUS_FIRING, "x.alert.raised": signalv1.Status_STATUS_FIRING,
		"x.alert.resolved": signalv1.Status_STATUS_RESOLVED, "x.alert.RECOVERED": signalv1.Status_STATUS_RESOLVED,
		"x.alert.cleared": signalv1.Status_STATUS_RESOLVED, "x.alert.closed": signalv1.Status_STATUS_RESOLVED,
		"x.alert.acknowledged": signalv1.Status_STATUS_ACKNOWLEDGED, "x.alert.acked": signalv1.Status_STATUS_ACKNOWLEDGED,
		"x.alert.created": signalv1.Status_STATUS_FIRING, "resolved": signalv1.Status_STATUS_FIRING,
	}
	for eventType, want := range cases {
		event := `{"specversion":"1.0","id":"1","source":"s","type":"` + eventType + `"}`
		require.Equal(t, want, ceNormalise(t, event, ceStructuredHeaders)[0].GetStatus(), "type %q", eventType)
	}
	base, _ := ceSplitType("x.alert.created")
	require.Equal(t, "x.alert.created", base, "an unknown last segment is part of the type")
}

func TestCloudEventsSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"critical": signalv1.Severity_SEVERITY_CRITICAL, "error": signalv1.Severity_SEVERITY_ERROR,
		"warning": signalv1.Severity_SEVERITY_WARNING, "info": signalv1.Severity_SEVERITY_INFO,
		"": signalv1.Severity_SEVERITY_WARNING, "whatever": signalv1.Severity_SEVERITY_WARNING,
	}
	for word, want := range cases {
		event := `{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"severity":"` + word + `"}}`
		require.Equal(t, want, ceNormalise(t, event, ceStructuredHeaders)[0].GetSeverity(), "severity %q", word)
	}
	// Data that is not an alert object leaves the severity at WARNING.
	event := `{"specversion":"1.0","id":"1","source":"s","type":"t","data":[1,2]}`
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, ceNormalise(t, event, ceStructuredHeaders)[0].GetSeverity())
}

func TestCloudEventsRejects(t *testing.T) {
	t.Parallel()
	ev := func(members string) string {
		return `{"specversion":"1.0","id":"1","source":"s","type":"t"` + members + `}`
	}
	binary := func(change map[string]string) map[string]string {
		h := ceBinaryHeaders()
		for k, v := range change {
			if v == "" {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return h
	}
	cases := []struct {
		name, payload string
		headers       map[string]string
		want          string
	}{
		{"not json", `<event/>`, ceStructuredHeaders, "CloudEvent is not a JSON object"},
		{"truncated", `{"specversion":"1.0"`, ceStructuredHeaders, "CloudEvent is not a JSON object"},
		{"no specversion", `{"id":"1","source":"s","type":"t"}`, ceStructuredHeaders, "has no specversion"},
		{"old specversion", `{"specversion":"0.3","id":"1","source":"s","type":"t"}`, ceStructuredHeaders, `specversion "0.3" is not supported`},
		{"no id", `{"specversion":"1.0","source":"s","type":"t"}`, ceStructuredHeaders, "has no id"},
		{"no source", `{"specversion":"1.0","id":"1","type":"t"}`, ceStructuredHeaders, "has no source"},
		{"no type", `{"specversion":"1.0","id":"1","source":"s"}`, ceStructuredHeaders, "has no type"},
		{"blank type", `{"specversion":"1.0","id":"1","source":"s","type":" "}`, ceStructuredHeaders, "has no type"},
		{"id not string", `{"specversion":"1.0","id":1,"source":"s","type":"t"}`, ceStructuredHeaders, "attribute id: not a JSON string"},
		{"bad time", ev(`,"time":"noon"`), ceStructuredHeaders, "attribute time: not an RFC 3339 time"},
		{"data twice", ev(`,"data":{},"data_base64":"e30="`), ceStructuredHeaders, "both data and data_base64"},
		{"bad base64", ev(`,"data_base64":"%%%"`), ceStructuredHeaders, "data_base64 is not base64"},
		{"bad data status", ev(`,"data":{"status":"maybe"}`), ceStructuredHeaders, `data: status "maybe"`},
		{"bad data labels", ev(`,"data":{"labels":{"a":1}}`), ceStructuredHeaders, "data: alert does not fit the generic format"},
		{"avro", ev(``), map[string]string{"content-type": "application/cloudevents+avro"}, "is not supported"},
		{"empty batch", `[]`, ceBatchHeaders, "batch holds no events"},
		{"batch of objects", ev(``), ceBatchHeaders, "not a JSON array of CloudEvents"},
		{"bad batch item", "[" + ev(``) + `,{"specversion":"1.0"}]`, ceBatchHeaders, "event 1: CloudEvent has no id"},
		{"null batch item", `[null]`, ceBatchHeaders, "event 0: CloudEvent is not a JSON object"},
		{"binary without id", ceBinaryBody, binary(map[string]string{"ce-id": ""}), "has no id"},
		{"binary old version", ceBinaryBody, binary(map[string]string{"ce-specversion": "0.3"}), "is not supported"},
		{"binary bad escape", ceBinaryBody, binary(map[string]string{"ce-subject": "50%zz"}), "header ce-subject: bad percent-encoding"},
		{"binary overlong", ceBinaryBody, binary(map[string]string{"ce-subject": "%C0%A0"}), "not UTF-8 after percent-decoding"},
		{"binary bad json", `{"title":`, ceBinaryHeaders(), "data is not valid JSON"},
		{"plain text, no headers", `disk full`, nil, "neither a CloudEvents JSON body nor ce-specversion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := CloudEvents{}.Normalise([]byte(tc.payload), tc.headers, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzCloudEvents(f *testing.F) {
	bh := ceBinaryHeaders()
	seeds := []struct{ body, contentType, specVersion, id, source, eventType, subject string }{
		{ceFiringEvent, ceStructuredHeaders["content-type"], "", "", "", "", ""},
		{ceResolvedEvent, "", "", "", "", "", ""},
		{"[" + ceFiringEvent + "," + ceResolvedEvent + "]", ceBatchHeaders["content-type"], "", "", "", "", ""},
		{ceBinaryBody, "application/json", bh["ce-specversion"], bh["ce-id"], bh["ce-source"], bh["ce-type"], bh["ce-subject"]},
		{"text", "text/plain", "1.0", "1", "s", "a.resolved", "%E2%82%AC"},
		{"\xff\xfe", "", "1.0", "1", "s", "t", `"q\"`},
		{`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"eyJ0aXRsZSI6IngifQ=="}`, "", "", "", "", "", ""},
		{`{"specversion":"1.0","id":"1","source":"s","type":".","data":null,"x":{}}`, "application/cloudevents+json", "", "", "", "", ""},
		{`[null]`, "application/cloudevents-batch+json", "", "", "", "", ""},
		{``, "", "1.0", "", "", "", ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.contentType, s.specVersion, s.id, s.source, s.eventType, s.subject)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, specVersion, id, source, eventType, subject string) {
		headers := map[string]string{"content-type": contentType}
		for name, value := range map[string]string{
			"ce-specversion": specVersion, "ce-id": id, "ce-source": source, "ce-type": eventType, "ce-subject": subject,
		} {
			if value != "" {
				headers[name] = value
			}
		}
		sigs, err := CloudEvents{}.Normalise(body, headers, received)
		if !requireStorableSignals(t, CloudEventsSource, sigs, err) {
			return
		}
		for _, s := range sigs {
			require.NotEmpty(t, strings.TrimSpace(s.GetTitle()))
			require.True(t, json.Valid(s.GetRawPayload()), "the raw payload is the event in the JSON format")
		}
	})
}
