package normalise

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Helpers shared by the normalisers for reading payload fields: loosely
// typed JSON, times, ids, links and the severity and status words several
// vendors use. Helpers that build labels and annotations are in labels.go.
// A vendor-specific mapping stays in its own file.

// Reading JSON values.

// scalarText reads a JSON scalar as text: a string as itself, a number or
// boolean as its JSON text, and null (or nothing) as "". Objects and lists
// are errors. Vendors and templates send one field quoted in one payload
// and bare in the next, and both mean the same.
func scalarText(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case !jsonPresent(v):
		return "", nil
	case v[0] == '"':
		if s, ok := plainJSONString(v); ok {
			return s, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", errors.New("not a JSON string")
		}
		return s, nil
	case bytes.Equal(v, []byte("true")), bytes.Equal(v, []byte("false")):
		return string(v), nil
	case (v[0] == '-' || '0' <= v[0] && v[0] <= '9') && json.Valid(v):
		// A JSON value starting so is a number, whose json.Number is its
		// text.
		return string(v), nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", errors.New("want a string or a number, not an object or a list")
	}
	return n.String(), nil
}

// presentScalarText is scalarText for a value whose absence matters: ok is
// false when v is absent, null, an object or a list, so that "" means an
// empty string that was sent.
func presentScalarText(v json.RawMessage) (s string, ok bool) {
	if !jsonPresent(v) {
		return "", false
	}
	s, err := scalarText(v)
	return s, err == nil
}

// optionalString decodes an optional JSON string: absent and null read as
// "", anything but a string is an error.
func optionalString(v json.RawMessage) (string, error) {
	if !jsonPresent(v) {
		return "", nil
	}
	if s, ok := plainJSONString(v); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errors.New("not a JSON string")
	}
	return s, nil
}

// plainJSONString decodes v when it is a JSON string with nothing to
// unescape or replace: no backslash, no control character, no quote inside,
// valid UTF-8. json.Unmarshal would return the same text, after a second
// scan of v and an allocation of its decoder state; these fields are read
// once or more per alert. ok is false for anything else, which the caller
// decodes in full.
func plainJSONString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c < 0x20 || c == '\\' || c == '"' {
			return "", false
		}
	}
	if !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

// decodedScalarText is scalarText for a value already decoded into an any
// (with or without UseNumber); ok is false for objects and lists.
func decodedScalarText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	default:
		return "", false
	}
}

// jsonPresent reports whether a JSON member is present and not null; most
// vendors, like the CloudEvents JSON format, mean the same by both.
func jsonPresent(v json.RawMessage) bool {
	return len(v) > 0 && !bytes.Equal(v, []byte("null"))
}

// jsonIsObject reports whether b, ignoring surrounding space, starts like a
// JSON object. It lets a normaliser say "not an object" before decoding,
// since decoding null or a bare value into a struct succeeds.
func jsonIsObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// compactJSON returns v as compact JSON text; ok is false when v is not
// valid JSON.
func compactJSON(v json.RawMessage) (string, bool) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return "", false
	}
	return buf.String(), true
}

// decodeJSONNumbers decodes one JSON value into v like json.Unmarshal,
// except that numbers in untyped fields (map[string]any) keep their text,
// so that a label of 12345678901234567890 is not rounded.
func decodeJSONNumbers(data []byte, v any) error {
	rest, err := json.Parse(data, v, json.UseNumber)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("data after the JSON value")
	}
	return nil
}

// jsonText is a struct field that decodes any JSON scalar with scalarText
// (Sentry's ids, New Relic's counts and flags, ...): null reads as "", and
// an object or a list fails the decoding.
type jsonText string

// UnmarshalJSON implements json.Unmarshaler.
func (t *jsonText) UnmarshalJSON(b []byte) error {
	s, err := scalarText(b)
	if err != nil {
		return err
	}
	*t = jsonText(s)
	return nil
}

// stringOrNumber is jsonText for ids and epoch times that must be a string
// or a number (a Datadog template author may leave "$ALERT_ID" unquoted):
// unlike jsonText it refuses true and false as well as objects and lists.
type stringOrNumber string

// UnmarshalJSON implements json.Unmarshaler.
func (t *stringOrNumber) UnmarshalJSON(b []byte) error {
	isNumber := len(b) > 0 && (b[0] == '-' || ('0' <= b[0] && b[0] <= '9'))
	isString := len(b) > 0 && b[0] == '"'
	if !isNumber && !isString && !bytes.Equal(b, []byte("null")) {
		return errors.New("an id or time field is neither a string nor a number")
	}
	return (*jsonText)(t).UnmarshalJSON(b)
}

// objectFields reads the top-level fields of a JSON object one by one, so
// that an error can name the field it is about; template-built bodies
// (Zabbix, Dynatrace, Splunk) are read this way. The first error is kept
// in err; reading on after it is harmless.
type objectFields struct {
	raw map[string]json.RawMessage
	err error
}

// decodeObjectFields decodes payload as a JSON object.
func decodeObjectFields(payload []byte) (*objectFields, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if raw == nil {
		return nil, errors.New("not a JSON object: null")
	}
	return &objectFields{raw: raw}, nil
}

// text returns the field as text (see scalarText), "" when absent.
func (f *objectFields) text(name string) string {
	v, ok := f.raw[name]
	if !ok {
		return ""
	}
	s, err := scalarText(v)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("%s: %w", name, err)
	}
	return s
}

// Reading times.

// errTimeOutOfRange refuses a time a protobuf Timestamp cannot hold.
var errTimeOutOfRange = errors.New("time out of range")

// maxEpochSeconds is 9999-12-31T23:59:59Z, the last second a protobuf
// Timestamp can hold.
const maxEpochSeconds = 253402300799

// checkedTimestamp converts t, refusing a time outside the years 1 to 9999
// rather than storing an invalid timestamp.
func checkedTimestamp(t time.Time) (*timestamppb.Timestamp, error) {
	ts := timestamppb.New(t)
	if ts.CheckValid() != nil {
		return nil, errTimeOutOfRange
	}
	return ts, nil
}

// rfc3339Time parses an RFC 3339 time, as most vendors send. Empty and the
// zero time "0001-01-01T00:00:00Z" (Alertmanager's "unset") both yield nil.
func rfc3339Time(s string) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("not an RFC 3339 time")
	}
	if t.IsZero() {
		return nil, nil
	}
	return checkedTimestamp(t)
}

// epochTime converts a whole count of units (time.Second, time.Millisecond
// or time.Nanosecond) since the epoch. Zero or less means unset and yields
// nil; a time past the year 9999 is an error.
func epochTime(n int64, unit time.Duration) (*timestamppb.Timestamp, error) {
	if n <= 0 {
		return nil, nil
	}
	perSecond := int64(time.Second / unit)
	return checkedTimestamp(time.Unix(n/perSecond, n%perSecond*int64(unit)))
}

// jsonEpoch decodes a time sent as a count since the Unix epoch: a JSON
// number, a string holding one, or null (and 0) for unset. The unit is the
// field's; see timestamp.
type jsonEpoch float64

// UnmarshalJSON implements json.Unmarshaler.
func (e *jsonEpoch) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	if t == "" {
		*e = 0
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("not a number of seconds or milliseconds since the epoch")
	}
	*e = jsonEpoch(f)
	return nil
}

// timestamp converts the count in unit (time.Second, keeping a fraction of
// a second, or time.Millisecond, dropping a fraction of a millisecond).
// Zero or less means unset and yields nil; a time past the year 9999 is an
// error.
func (e jsonEpoch) timestamp(unit time.Duration) (*timestamppb.Timestamp, error) {
	v := float64(e)
	if v <= 0 {
		return nil, nil
	}
	sec := v * unit.Seconds()
	if sec > maxEpochSeconds {
		return nil, errTimeOutOfRange
	}
	if unit == time.Millisecond {
		return epochTime(int64(v), time.Millisecond)
	}
	whole, frac := math.Modf(sec)
	return timestamppb.New(time.Unix(int64(whole), int64(frac*1e9))), nil
}

// Checking ids and links.

// ownFingerprintPattern accepts a vendor's own hash of an alert's label set
// (Alertmanager's and Grafana's fingerprints, 16 hex digits today) while
// keeping anything that could smuggle separators or unbounded text into a
// fingerprint on the label-hash branch.
var ownFingerprintPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)

// ownAlertIDPattern is what a vendor's own alert id must look like to be
// used in a fingerprint unchanged: short, and free of the separators and
// spaces that could make two different ids read alike.
var ownAlertIDPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._~-]{0,127}$`)

// ownAlertID checks a vendor's id for use in a fingerprint; field names it
// in the error.
func ownAlertID(field, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%s is missing", field)
	}
	if !ownAlertIDPattern.MatchString(id) {
		return "", fmt.Errorf("%s is not 1-128 ASCII letters, digits, '.', '_', '~' or '-'", field)
	}
	return id, nil
}

// isHTTPLink reports whether link, as it is, is an absolute http or https
// URL with a host. The link is shown to people as something to click, and
// other schemes (javascript:, data:, file:) are a way to attack them.
func isHTTPLink(link string) bool {
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// httpLink returns s trimmed of surrounding space when that is an http or
// https link (see isHTTPLink), and "" otherwise. Every normaliser that
// takes a signal's link from payload text passes it through here.
func httpLink(s string) string {
	s = strings.TrimSpace(s)
	if !isHTTPLink(s) {
		return ""
	}
	return s
}

// Mapping statuses and severities.

// firingOrResolved maps the "firing" and "resolved" statuses of
// Alertmanager-shaped payloads (Alertmanager's, Grafana's).
func firingOrResolved(status string) (signalv1.Status, error) {
	switch status {
	case "firing":
		return signalv1.Status_STATUS_FIRING, nil
	case "resolved":
		return signalv1.Status_STATUS_RESOLVED, nil
	default:
		return signalv1.Status_STATUS_UNSPECIFIED, fmt.Errorf("status %.16q is neither \"firing\" nor \"resolved\"", status)
	}
}

// SeverityWord maps the severity words vendors and label conventions use
// (Alertmanager's `severity` label, Grafana's, generic JSON's, ...) onto
// Alexus's scale. Matching ignores case and surrounding space.
//
//	critical, page, emergency, fatal     → CRITICAL
//	error, high, major                   → ERROR
//	warning, warn, medium, minor         → WARNING
//	info, low, none, informational       → INFO
//	missing, or any other value          → WARNING
//
// Unknown values map to WARNING rather than INFO so that an alert with an
// unusual label still gets looked at.
func SeverityWord(label string) signalv1.Severity {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "critical", "page", "emergency", "fatal":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "error", "high", "major":
		return signalv1.Severity_SEVERITY_ERROR
	case "info", "low", "none", "informational":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}

// priorityLevelSeverity maps the P1..P5 priority levels that Opsgenie
// defines (P1 Critical, P2 High, P3 Moderate, P4 Low, P5 Informational),
// and that PagerDuty's default priorities and Datadog's monitor priorities
// share, onto Alexus's scale. Case and surrounding space are ignored; ok
// is false for anything that is not a P-level.
//
//	P1 → CRITICAL, P2 → ERROR, P3 → WARNING, P4 and P5 → INFO
func priorityLevelSeverity(priority string) (sev signalv1.Severity, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(priority)) {
	case "P1":
		return signalv1.Severity_SEVERITY_CRITICAL, true
	case "P2":
		return signalv1.Severity_SEVERITY_ERROR, true
	case "P3":
		return signalv1.Severity_SEVERITY_WARNING, true
	case "P4", "P5":
		return signalv1.Severity_SEVERITY_INFO, true
	default:
		return signalv1.Severity_SEVERITY_UNSPECIFIED, false
	}
}
