package normalise

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// GenericSource is the source name of Alexus's own generic JSON format.
const GenericSource = "generic"

// genericFingerprintMaxLen caps a sender's own fingerprint, in characters,
// so that a fingerprint stays a short identifier rather than a document.
const genericFingerprintMaxLen = 200

// Generic normalises Alexus's generic JSON format, for tools that have no
// native normaliser. The format is published API: senders write to it, so a
// change that alters how an existing payload is read needs a new format
// version, never an edit.
//
// # Format, version 1
//
// The body is either one alert object or an object {"alerts": [...]} holding
// a list of alert objects; any object with an "alerts" member is read as a
// list, and each alert becomes one signal, in list order. An alert object
// has these members, all optional except title:
//
//	title        string, required   one-line summary; surrounding space is trimmed
//	status       string             "firing" (the default), "resolved" or "acknowledged",
//	                                matched ignoring case and surrounding space
//	severity     string             a severity word, see below; WARNING when absent
//	description  string             longer free text
//	resource     string             the host, service or CI the alert is about
//	labels       {string: string}   identifying labels; values must be strings
//	annotations  {string: string}   descriptive, non-identifying text (runbook links, ...)
//	link         string             an absolute http or https URL back to the alert
//	fingerprint  string             the sender's own stable id for the alert: 1 to 200
//	                                printable characters, compared byte for byte
//	starts_at    string             RFC 3339 time the condition started
//	ends_at      string             RFC 3339 time it ended; kept on resolved alerts only
//
// Members not listed are ignored, so senders may add their own; in
// particular a "tenant" or "tenant_id" member never chooses the tenant,
// which comes only from the verified caller. A payload is refused whole,
// with the reason and the alert's index, when any alert lacks a title,
// carries an unknown status, a bad fingerprint, a link that is not an http
// or https URL, a time that is not RFC 3339, or a label or annotation value
// that is not a string.
//
// Severity words map as SeverityWord says: critical, page, emergency and
// fatal are CRITICAL; error, high and major are ERROR; warning, warn,
// medium and minor are WARNING; info, low, none and informational are INFO;
// anything else, or no severity, is WARNING.
//
// The signal's title, description, resource, labels, annotations and link
// are the alert's; starts_at gives StartsAt; ends_at gives EndsAt on
// resolved alerts only, because an end announced for a firing alert is a
// forecast. ExternalId is the sender's fingerprint, and RawPayload is the
// alert object itself.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both):
//
//   - When the alert carries a fingerprint, the signal's fingerprint is
//     "generic:" followed by it unchanged.
//   - Otherwise it is "generichash:" followed by HashFields over the field
//     set {"title": title, "resource": resource} plus, for every label,
//     "label:" + name → value. The title is the trimmed one, the resource
//     as sent (empty when absent). The "label:" prefix keeps a label named
//     "title" apart from the title.
//
// Both are equal for repeats of the same alert and its resolved
// notification, which carry the same fingerprint, or the same title,
// resource and labels; alerts differing in any of those differ.
type Generic struct{}

// genericAlert is one alert of the generic format. Times are decoded by
// hand so that an empty string reads as unset.
type genericAlert struct {
	Title       string            `json:"title"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Description string            `json:"description"`
	Resource    string            `json:"resource"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Link        string            `json:"link"`
	Fingerprint string            `json:"fingerprint"`
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at"`
}

// genericList is the list form of the format. Alerts stays raw so that a
// present-but-empty list can be told from an absent one, and so that each
// alert's own bytes become its raw payload.
type genericList struct {
	Alerts json.RawMessage `json:"alerts"`
}

// The two branches of the generic recipe (see Generic).
var (
	genericOwnRecipe  = Recipe{Name: GenericSource, Prefix: "generic", Version: 1}
	genericHashRecipe = Recipe{Name: GenericSource, Prefix: "generichash", Version: 1}
)

// Normalise implements Normaliser. Headers are not used: a generic payload
// means the same whatever headers came with it.
func (Generic) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	items, listed, err := genericItems(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	sigs := make([]*signalv1.Signal, 0, len(items))
	for i, raw := range items {
		sig, err := genericItemSignal(raw, GenericSource, genericOwnRecipe, genericHashRecipe, received)
		if err != nil {
			if !listed {
				return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
			}
			return nil, fmt.Errorf("%w: alert %d: %v", ErrInvalidPayload, i, err)
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

// genericItems splits a generic payload into its alert objects: the
// payload itself, or the members of its "alerts" list, in which case listed
// is true so that errors can name the alert's index.
func genericItems(payload []byte) (items []json.RawMessage, listed bool, err error) {
	if !jsonIsObject(payload) {
		return nil, false, fmt.Errorf("not a JSON object in the generic alert format")
	}
	var list genericList
	if err := json.Unmarshal(payload, &list); err != nil {
		return nil, false, fmt.Errorf("not a JSON object in the generic alert format: %v", err)
	}
	if !jsonPresent(list.Alerts) {
		// A copy, so that the signal does not hold on to a buffer the
		// caller may reuse.
		return []json.RawMessage{bytes.Clone(payload)}, false, nil
	}
	if err := json.Unmarshal(list.Alerts, &items); err != nil {
		return nil, true, fmt.Errorf("alerts is not a JSON array")
	}
	if len(items) == 0 {
		return nil, true, fmt.Errorf("alerts list is empty")
	}
	return items, true, nil
}

// genericItemSignal reads one alert object of the generic format and
// fingerprints it with the given recipes. SNS shares it, with recipes of
// its own, for messages written in the generic format.
func genericItemSignal(raw json.RawMessage, source string, own, hash Recipe, received time.Time) (*signalv1.Signal, error) {
	a, err := decodeGenericAlert(raw)
	if err != nil {
		return nil, err
	}
	sig, err := a.signal(source, genericDefaults{}, received)
	if err != nil {
		return nil, err
	}
	sig.RawPayload = raw
	a.fingerprint(sig, own, hash)
	return sig, nil
}

// decodeGenericAlert decodes one alert object. Only an object is an alert:
// JSON would otherwise read null as an alert with every field empty.
func decodeGenericAlert(raw []byte) (genericAlert, error) {
	var a genericAlert
	if !jsonIsObject(raw) {
		return a, fmt.Errorf("alert is not a JSON object")
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("alert does not fit the generic format: %v", err)
	}
	return a, nil
}

// genericDefaults holds what a carrier format (a CloudEvent's attributes)
// knows when the generic members are silent. The zero value means no
// defaults: the title is required and the status is firing.
type genericDefaults struct {
	title    string
	status   signalv1.Status
	resource string
	startsAt *timestamppb.Timestamp
	endsAt   *timestamppb.Timestamp
}

// signal maps the alert onto a new signal of source, validating every
// member. It leaves the fingerprint, whose recipe depends on the carrier,
// and the raw payload to the caller.
func (a genericAlert) signal(source string, d genericDefaults, received time.Time) (*signalv1.Signal, error) {
	title := strings.TrimSpace(a.Title)
	if title == "" {
		title = d.title
	}
	if title == "" {
		return nil, fmt.Errorf("title is missing")
	}
	status, err := genericStatus(a.Status, d.status)
	if err != nil {
		return nil, err
	}
	if err := genericCheckFingerprint(a.Fingerprint); err != nil {
		return nil, err
	}
	// A bad link is refused, not dropped: the format promises http(s) links.
	if a.Link != "" && !isHTTPLink(a.Link) {
		return nil, fmt.Errorf("link is not an absolute http or https URL")
	}
	startsAt, err := rfc3339Time(a.StartsAt)
	if err != nil {
		return nil, fmt.Errorf("starts_at: %w", err)
	}
	endsAt, err := rfc3339Time(a.EndsAt)
	if err != nil {
		return nil, fmt.Errorf("ends_at: %w", err)
	}
	if startsAt == nil {
		startsAt = d.startsAt
	}
	if endsAt == nil {
		endsAt = d.endsAt
	}
	resource := a.Resource
	if resource == "" {
		resource = d.resource
	}
	sig := &signalv1.Signal{
		Source:      source,
		Status:      status,
		Severity:    SeverityWord(a.Severity),
		Title:       title,
		Description: a.Description,
		Resource:    resource,
		Labels:      a.Labels,
		Annotations: a.Annotations,
		StartsAt:    startsAt,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  a.Fingerprint,
		Link:        a.Link,
	}
	// As for Alertmanager, an end announced while the alert still fires
	// is a forecast, not an end.
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = endsAt
	}
	return sig, nil
}

// fingerprint applies the generic contract (see Generic) with the given
// recipes, so that a carrier of the format keeps the rule but not the
// prefix of direct generic alerts.
func (a genericAlert) fingerprint(sig *signalv1.Signal, own, hash Recipe) {
	if a.Fingerprint != "" {
		own.Apply(sig, a.Fingerprint)
		return
	}
	hash.Apply(sig, genericHash(strings.TrimSpace(a.Title), a.Resource, a.Labels))
}

// genericHash is the hash branch of the generic contract.
func genericHash(title, resource string, labels map[string]string) string {
	fields := make(map[string]string, len(labels)+2)
	for name, value := range labels {
		fields["label:"+name] = value
	}
	fields["title"] = title
	fields["resource"] = resource
	return HashFields(fields)
}

// genericStatus reads the status member; empty means the default, which is
// firing unless the carrier knows better.
func genericStatus(s string, fallback signalv1.Status) (signalv1.Status, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		if fallback != signalv1.Status_STATUS_UNSPECIFIED {
			return fallback, nil
		}
		return signalv1.Status_STATUS_FIRING, nil
	case "firing":
		return signalv1.Status_STATUS_FIRING, nil
	case "resolved":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "acknowledged":
		return signalv1.Status_STATUS_ACKNOWLEDGED, nil
	default:
		return signalv1.Status_STATUS_UNSPECIFIED, fmt.Errorf("status %.16q is not firing, resolved or acknowledged", s)
	}
}

// genericCheckFingerprint enforces the fingerprint's documented shape. A
// bad one is refused rather than replaced by the hash, because the sender
// asked for its own identity and silently getting another would split its
// alerts' history.
func genericCheckFingerprint(fp string) error {
	if fp == "" {
		return nil
	}
	if n := utf8.RuneCountInString(fp); n > genericFingerprintMaxLen {
		return fmt.Errorf("fingerprint is %d characters long, at most %d are allowed", n, genericFingerprintMaxLen)
	}
	for _, r := range fp {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("fingerprint holds a character that is not printable")
		}
	}
	return nil
}
