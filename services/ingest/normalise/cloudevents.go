package normalise

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// CloudEventsSource is the source name of CloudEvents delivered over HTTP.
const CloudEventsSource = "cloudevents"

// cloudEventsSpecVersion is the only CloudEvents version understood; 1.0.x
// revisions of the specification all send "1.0".
const cloudEventsSpecVersion = "1.0"

// CloudEvents normalises CloudEvents 1.0 delivered with the HTTP protocol
// binding, in each of its three content modes, told apart by Content-Type:
//
//   - structured: "application/cloudevents+json"; the body is one event in
//     the JSON event format (specversion, id, source, type, subject, time,
//     datacontenttype, dataschema, extensions, and data or data_base64);
//   - batched: "application/cloudevents-batch+json"; the body is a JSON
//     array of such events, each of which becomes one signal (an empty
//     batch is refused, since it holds nothing to ingest);
//   - binary: any other Content-Type, with the attributes in ce-* headers
//     (ce-specversion, ce-id, ce-source, ce-type, ce-subject, ce-time,
//     ce-dataschema, and ce-<extension>), percent-decoded as the binding
//     says; the body is the data and Content-Type its datacontenttype.
//
// Without a ce-specversion header and a CloudEvents Content-Type, a body
// that is a JSON object is read as a structured event, and a JSON array as
// a batch, because many senders label structured events application/json.
// Other CloudEvents formats (application/cloudevents+avro, ...) are refused.
// specversion must be "1.0"; id, source and type are required.
//
// # Mapping
//
// When the data is a JSON object (JSON data, or data_base64 or a binary
// body whose content type is JSON) it is read as one alert of the generic
// format (see Generic), with the same validation, and its members win;
// the attributes fill what it leaves out:
//
//	title        data.title, else subject, else type
//	status       data.status, else the type's status suffix, else firing
//	severity     data.severity, mapped by SeverityWord; WARNING when absent
//	description  data.description, else data that is text (a JSON string,
//	             or a text/* body)
//	resource     data.resource, else subject
//	labels       data.labels, plus ce_type, ce_source, ce_subject and
//	             ce_<name> for every extension attribute of string, number
//	             or boolean value (these win over data labels of that name)
//	annotations  data.annotations
//	link         data.link
//	starts_at    data.starts_at, else the event time unless the alert is
//	             resolved
//	ends_at      resolved alerts only: data.ends_at, else the event time
//
// The type's status suffix is its last dot-separated segment, compared
// ignoring case: firing, triggered, opened and raised mean firing;
// resolved, recovered, cleared and closed mean resolved; acknowledged and
// acked mean acknowledged. So "com.example.disk.resolved" resolves what
// "com.example.disk.firing" opened. Any other last segment is part of the
// type, not a status.
//
// ExternalId is the event id. RawPayload is the event in the JSON event
// format: the event object itself in structured and batched mode, and in
// binary mode one built from the headers and the body (data as JSON when
// it is JSON, as a string when it is UTF-8 text, else data_base64).
// Attributes and data never choose the tenant: an extension or data member
// named tenant or tenant_id is only a label, or ignored.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both):
//
//   - When the data carries a generic fingerprint, the signal's fingerprint
//     is "ce:" followed by it unchanged.
//   - Otherwise it is "cehash:" followed by HashFields over {"source":
//     source, "subject": subject (empty when absent), "type": the type
//     without its status suffix}.
//
// The event id is not part of it: CloudEvents requires a new id for every
// event, so repeats and the resolution of one alert all differ in id. The
// hash branch gives the firing and resolved events of one alert the same
// fingerprint when they differ only in the type's status suffix, and
// different ones to events of different source, subject or type.
type CloudEvents struct{}

// The two branches of the CloudEvents recipe (see CloudEvents).
var (
	ceOwnRecipe  = Recipe{Name: CloudEventsSource, Prefix: "ce", Version: 1}
	ceHashRecipe = Recipe{Name: CloudEventsSource, Prefix: "cehash", Version: 1}
)

// Media types that choose the structured and batched content modes.
const (
	ceStructuredType = "application/cloudevents+json"
	ceBatchType      = "application/cloudevents-batch+json"
	ceMediaPrefix    = "application/cloudevents"
)

// ceExtensionName is the shape the specification gives extension attribute
// names (lower-case ASCII letters and digits), with a cap on length so that
// label names stay short. Other names are not attributes and are ignored.
var ceExtensionName = regexp.MustCompile(`^[a-z0-9]{1,64}$`)

// ceEvent is one event, whatever content mode it came in.
type ceEvent struct {
	specVersion     string
	id              string
	source          string
	eventType       string
	subject         string
	time            string
	dataContentType string
	dataSchema      string
	extensions      map[string]string
	// data holds the event data: JSON text when dataIsJSON, else the
	// decoded bytes (text or binary).
	data       []byte
	dataIsJSON bool
	// raw is the event in the JSON event format, kept as the raw payload.
	raw []byte
}

// Normalise implements Normaliser. It reads the content-type header and,
// in binary mode, the ce-* headers.
func (CloudEvents) Normalise(payload []byte, headers map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	events, batched, err := ceEvents(payload, headers)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	sigs := make([]*signalv1.Signal, 0, len(events))
	for i, raw := range events {
		sig, err := ceSignalOf(raw, received)
		if err != nil {
			if !batched {
				return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
			}
			return nil, fmt.Errorf("%w: event %d: %v", ErrInvalidPayload, i, err)
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

// ceEvents decodes the events of a request in the content mode its headers
// choose.
func ceEvents(payload []byte, headers map[string]string) (events []ceEvent, batched bool, err error) {
	media := ceMediaType(headers["content-type"])
	switch {
	case media == ceBatchType:
		events, err := ceBatch(payload)
		return events, true, err
	case media == ceStructuredType:
		ev, err := ceStructured(payload)
		return []ceEvent{ev}, false, err
	case strings.HasPrefix(media, ceMediaPrefix):
		return nil, false, fmt.Errorf("CloudEvents format %.64q is not supported, only %s and %s", media, ceStructuredType, ceBatchType)
	case headers["ce-specversion"] != "":
		ev, err := ceBinary(payload, headers)
		return []ceEvent{ev}, false, err
	}
	// No CloudEvents Content-Type and no binary-mode headers: accept a
	// structured event or a batch sent as plain JSON.
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		events, err := ceBatch(payload)
		return events, true, err
	case len(trimmed) > 0 && trimmed[0] == '{':
		ev, err := ceStructured(payload)
		return []ceEvent{ev}, false, err
	}
	return nil, false, fmt.Errorf("neither a CloudEvents JSON body nor ce-specversion and the other binary-mode headers")
}

// ceMediaType returns the media type of a Content-Type value, lower-cased
// and without parameters.
func ceMediaType(contentType string) string {
	media, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(media))
}

// ceBatch decodes a JSON batch of structured events.
func ceBatch(payload []byte) ([]ceEvent, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(payload, &items); err != nil {
		return nil, fmt.Errorf("not a JSON array of CloudEvents: %v", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("batch holds no events")
	}
	events := make([]ceEvent, 0, len(items))
	for i, item := range items {
		ev, err := ceStructured(item)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

// ceStructured decodes one event in the JSON event format.
func ceStructured(raw []byte) (ceEvent, error) {
	ev := ceEvent{raw: bytes.Clone(raw)}
	if !jsonIsObject(raw) {
		return ev, fmt.Errorf("CloudEvent is not a JSON object")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return ev, fmt.Errorf("CloudEvent is not a JSON object: %v", err)
	}
	// In a fixed order, so that of several bad attributes the same one is
	// named every time.
	attrs := []struct {
		name string
		dst  *string
	}{
		{"specversion", &ev.specVersion}, {"id", &ev.id}, {"source", &ev.source}, {"type", &ev.eventType},
		{"subject", &ev.subject}, {"time", &ev.time}, {"datacontenttype", &ev.dataContentType}, {"dataschema", &ev.dataSchema},
	}
	for _, attr := range attrs {
		v, err := optionalString(members[attr.name])
		if err != nil {
			return ev, fmt.Errorf("attribute %s: %w", attr.name, err)
		}
		*attr.dst = v
	}
	if err := ev.check(); err != nil {
		return ev, err
	}
	if err := ev.readStructuredData(members["data"], members["data_base64"]); err != nil {
		return ev, err
	}
	for name, value := range members {
		if ceStructuredMembers[name] || !ceExtensionName.MatchString(name) {
			continue
		}
		if v, ok := presentScalarText(value); ok {
			ev.setExtension(name, v)
		}
	}
	return ev, nil
}

// ceStructuredMembers are the members of a structured event that are not
// extension attributes.
var ceStructuredMembers = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true, "time": true,
	"datacontenttype": true, "dataschema": true, "data": true, "data_base64": true,
}

// readStructuredData takes the event data from the data or data_base64
// member, which the JSON format forbids together.
func (ev *ceEvent) readStructuredData(data, data64 json.RawMessage) error {
	hasData, has64 := jsonPresent(data), jsonPresent(data64)
	switch {
	case hasData && has64:
		return fmt.Errorf("CloudEvent has both data and data_base64")
	case has64:
		s, err := optionalString(data64)
		if err != nil {
			return fmt.Errorf("data_base64: %w", err)
		}
		decoded, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("data_base64 is not base64")
		}
		return ev.setBodyData(decoded)
	case hasData:
		// JSON data is the value itself; data of another content type is
		// carried as a JSON string holding its text.
		if !ceIsJSONType(ev.dataContentType) && data[0] == '"' {
			var text string
			if err := json.Unmarshal(data, &text); err != nil {
				return fmt.Errorf("data: %v", err)
			}
			ev.data = []byte(text)
			return nil
		}
		ev.data, ev.dataIsJSON = data, true
	}
	return nil
}

// ceBinary decodes a binary-mode event: attributes from ce-* headers, the
// data from the body.
func ceBinary(body []byte, headers map[string]string) (ceEvent, error) {
	ev := ceEvent{dataContentType: strings.TrimSpace(headers["content-type"])}
	attrs := map[string]*string{
		"specversion": &ev.specVersion, "id": &ev.id, "source": &ev.source, "type": &ev.eventType,
		"subject": &ev.subject, "time": &ev.time, "dataschema": &ev.dataSchema,
	}
	// Sorted, so that of several bad headers the same one is named every
	// time.
	for _, header := range slices.Sorted(maps.Keys(headers)) {
		name, ok := strings.CutPrefix(header, "ce-")
		if !ok {
			continue
		}
		v, err := ceHeaderValue(headers[header])
		if err != nil {
			return ev, fmt.Errorf("header ce-%.64s: %w", name, err)
		}
		if dst, known := attrs[name]; known {
			*dst = v
			continue
		}
		// ce-datacontenttype must not be sent in binary mode, where
		// Content-Type says it; it is ignored rather than let it disagree.
		if name == "datacontenttype" || name == "data" || !ceExtensionName.MatchString(name) {
			continue
		}
		ev.setExtension(name, v)
	}
	if err := ev.setBodyData(bytes.Clone(body)); err != nil {
		return ev, err
	}
	if err := ev.check(); err != nil {
		return ev, err
	}
	raw, err := ev.structuredJSON()
	if err != nil {
		return ev, err
	}
	ev.raw = raw
	return ev, nil
}

// setBodyData takes data that arrived as bytes (a binary-mode body or
// data_base64) and, when its content type is JSON, checks that it is.
func (ev *ceEvent) setBodyData(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	ev.data = data
	switch media := ceMediaType(ev.dataContentType); {
	case media == "":
		// Data of no stated type is JSON when it parses as JSON.
		ev.dataIsJSON = json.Valid(data)
	case ceIsJSONType(media):
		if !json.Valid(data) {
			return fmt.Errorf("data is not valid JSON though its content type says JSON")
		}
		ev.dataIsJSON = true
	}
	return nil
}

// check enforces the required attributes and the version.
func (ev *ceEvent) check() error {
	switch {
	case ev.specVersion == "":
		return fmt.Errorf("CloudEvent has no specversion")
	case ev.specVersion != cloudEventsSpecVersion:
		return fmt.Errorf("CloudEvents specversion %.16q is not supported, want %q", ev.specVersion, cloudEventsSpecVersion)
	case strings.TrimSpace(ev.id) == "":
		return fmt.Errorf("CloudEvent has no id")
	case strings.TrimSpace(ev.source) == "":
		return fmt.Errorf("CloudEvent has no source")
	case strings.TrimSpace(ev.eventType) == "":
		return fmt.Errorf("CloudEvent has no type")
	}
	return nil
}

func (ev *ceEvent) setExtension(name, value string) {
	if ev.extensions == nil {
		ev.extensions = make(map[string]string)
	}
	ev.extensions[name] = value
}

// structuredJSON renders a binary-mode event in the JSON event format, so
// that every CloudEvent's raw payload reads the same way.
func (ev *ceEvent) structuredJSON() ([]byte, error) {
	m := make(map[string]any, len(ev.extensions)+10)
	for name, value := range ev.extensions {
		m[name] = value
	}
	m["specversion"], m["id"], m["source"], m["type"] = ev.specVersion, ev.id, ev.source, ev.eventType
	for name, value := range map[string]string{
		"subject": ev.subject, "time": ev.time, "datacontenttype": ev.dataContentType, "dataschema": ev.dataSchema,
	} {
		if value != "" {
			m[name] = value
		}
	}
	switch {
	case len(ev.data) == 0:
	case ev.dataIsJSON:
		m["data"] = json.RawMessage(ev.data)
	case utf8.Valid(ev.data):
		m["data"] = string(ev.data)
	default:
		m["data_base64"] = base64.StdEncoding.EncodeToString(ev.data)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cannot render the event as JSON: %v", err)
	}
	return raw, nil
}

// ceSignalOf maps one event onto a signal (see CloudEvents).
func ceSignalOf(ev ceEvent, received time.Time) (*signalv1.Signal, error) {
	eventTime, err := rfc3339Time(ev.time)
	if err != nil {
		return nil, fmt.Errorf("attribute time: %w", err)
	}
	var a genericAlert
	if ev.dataIsJSON && jsonIsObject(ev.data) {
		if a, err = decodeGenericAlert(ev.data); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	typeBase, typeStatus := ceSplitType(ev.eventType)
	sig, err := a.signal(CloudEventsSource, genericDefaults{
		title:    cmp.Or(strings.TrimSpace(ev.subject), strings.TrimSpace(ev.eventType)),
		status:   typeStatus,
		resource: ev.subject,
	}, received)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	// The event time is when the reported state began: the start of a
	// firing alert, the end of a resolved one.
	if sig.Status == signalv1.Status_STATUS_RESOLVED {
		if sig.EndsAt == nil {
			sig.EndsAt = eventTime
		}
	} else if sig.StartsAt == nil {
		sig.StartsAt = eventTime
	}
	if sig.Description == "" {
		sig.Description = ev.text()
	}
	sig.Labels = ev.labels(sig.Labels)
	sig.ExternalId = ev.id
	sig.RawPayload = ev.raw
	if a.Fingerprint != "" {
		ceOwnRecipe.Apply(sig, a.Fingerprint)
	} else {
		ceHashRecipe.Apply(sig, HashFields(map[string]string{
			"source": ev.source, "subject": ev.subject, "type": typeBase,
		}))
	}
	return sig, nil
}

// labels adds the event's attributes to the data's labels.
func (ev *ceEvent) labels(labels map[string]string) map[string]string {
	if labels == nil {
		labels = make(map[string]string, len(ev.extensions)+3)
	}
	for name, value := range ev.extensions {
		labels["ce_"+name] = value
	}
	labels["ce_type"] = ev.eventType
	labels["ce_source"] = ev.source
	if ev.subject != "" {
		labels["ce_subject"] = ev.subject
	}
	return labels
}

// text returns the data when it is text, to describe the alert.
func (ev *ceEvent) text() string {
	if ev.dataIsJSON {
		var s string
		if json.Unmarshal(ev.data, &s) == nil {
			return s
		}
		return ""
	}
	media := ceMediaType(ev.dataContentType)
	if (media == "" || strings.HasPrefix(media, "text/")) && utf8.Valid(ev.data) {
		return string(ev.data)
	}
	return ""
}

// ceTypeStatus lists the last type segments that name a status.
var ceTypeStatus = map[string]signalv1.Status{
	"firing": signalv1.Status_STATUS_FIRING, "triggered": signalv1.Status_STATUS_FIRING,
	"opened": signalv1.Status_STATUS_FIRING, "raised": signalv1.Status_STATUS_FIRING,
	"resolved": signalv1.Status_STATUS_RESOLVED, "recovered": signalv1.Status_STATUS_RESOLVED,
	"cleared": signalv1.Status_STATUS_RESOLVED, "closed": signalv1.Status_STATUS_RESOLVED,
	"acknowledged": signalv1.Status_STATUS_ACKNOWLEDGED, "acked": signalv1.Status_STATUS_ACKNOWLEDGED,
}

// ceSplitType splits a type into the part that names the alert and the
// status its last segment gives, if any.
func ceSplitType(eventType string) (base string, status signalv1.Status) {
	i := strings.LastIndexByte(eventType, '.')
	if i < 0 {
		return eventType, signalv1.Status_STATUS_UNSPECIFIED
	}
	status, ok := ceTypeStatus[strings.ToLower(eventType[i+1:])]
	if !ok {
		return eventType, signalv1.Status_STATUS_UNSPECIFIED
	}
	return eventType[:i], status
}

// ceIsJSONType reports whether a datacontenttype says JSON. No type means
// JSON too, as the JSON event format says.
func ceIsJSONType(contentType string) bool {
	media := ceMediaType(contentType)
	return media == "" || media == "application/json" || media == "text/json" || strings.HasSuffix(media, "+json")
}

// ceHeaderValue decodes a binary-mode header value: a double-quoted string
// is unquoted (older senders quote), then one round of percent-decoding
// is done, and the result must be UTF-8, as the HTTP binding requires.
func ceHeaderValue(v string) (string, error) {
	v = strings.Trim(v, " \t")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var b strings.Builder
		escaped := false
		for i := 1; i < len(v)-1; i++ {
			if v[i] == '\\' && !escaped {
				escaped = true
				continue
			}
			escaped = false
			b.WriteByte(v[i])
		}
		v = b.String()
	}
	decoded, err := url.PathUnescape(v)
	if err != nil {
		return "", fmt.Errorf("bad percent-encoding")
	}
	if !utf8.ValidString(decoded) {
		return "", fmt.Errorf("not UTF-8 after percent-decoding")
	}
	return decoded, nil
}
