package normalise

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// SplunkSource is the source name of Splunk webhook alert actions.
const SplunkSource = "splunk"

// Splunk normalises the body of Splunk's built-in webhook alert action
// (Splunk Enterprise and Cloud), which Splunk fixes, not the user:
//
//	{
//	  "sid": "scheduler__admin__search__RMD5e461de0b8c5ef1c3_at_1709290500_1234",
//	  "search_name": "Failed logins",
//	  "app": "search",
//	  "owner": "admin",
//	  "results_link": "https://splunk.example:8000/app/search/@go?sid=...",
//	  "result": {"host": "web-1", "sourcetype": "linux_secure", "count": "8", ...}
//	}
//
// "result" is the first row of the search's results, its values strings
// or, for multivalue fields, lists of strings. search_name is null for a
// search that is not saved; any field may be missing.
//
// Status: Splunk notifies when a search's trigger condition is met and
// never when it stops being met, so every Splunk signal is firing. Repeats
// refresh the open signal (see the fingerprint); it resolves only by
// Alexus's own expiry or by hand.
//
// Severity, from result.severity, else result.urgency (Splunk Enterprise
// Security's notable events), matched without regard to case:
//
//	6 fatal, 5 severe, critical           → CRITICAL
//	4 error, high                         → ERROR
//	3 warn, warning, medium               → WARNING
//	2 info, 1 debug, low, informational   → INFO
//	missing                               → WARNING
//
// with other words read as a SeverityWord. The numbers are Splunk's own
// alert severity scale (1 debug ... 6 fatal), for searches that
// `eval severity=...` it.
//
// Title is search_name. Resource is result.host, else result.source.
// Labels are the result's fields, except Splunk's internal ones (named
// "_..."), with multivalue fields comma-joined; then search_name, app and
// owner, which win over result fields of the same name. Annotations hold
// result._raw, the event text, when the search kept it. Link is
// results_link when it is an absolute http(s) URL. StartsAt is
// result._time (epoch seconds, as Splunk sends it, or RFC 3339) and is
// left unset when it is neither, since searches may rewrite _time as they
// like. ExternalId is sid, the id of the search run.
// RawPayload is the whole body.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both): "splunk:" followed by HashFields
// of
//
//	search_name   the saved search's name, or when it is missing
//	sid_search    the sid without its run suffix ("_at_<time>_<n>...")
//	app           the search's app ("" when missing)
//	host, source, sourcetype   from the result row, each only when present
//
// so that repeated runs of one saved search that find the same host,
// source and sourcetype share a fingerprint, and another search, app or
// host does not. An ad hoc search's sid has no run suffix, so each of its
// runs is an alert of its own.
type Splunk struct{}

var splunkRecipe = Recipe{Name: SplunkSource, Prefix: "splunk", Version: 1}

// splunkRunSuffix matches what a scheduled search's sid adds to identify one
// run: "_at_", the scheduled time, a serial and sometimes a peer suffix.
var splunkRunSuffix = regexp.MustCompile(`_at_[0-9]+_[0-9]+(_[0-9A-Za-z]+)*$`)

// splunkIdentifying are the result fields that tell one alert of a search
// from another.
var splunkIdentifying = []string{"host", "source", "sourcetype"}

// Normalise implements Normaliser. Headers are not used: Splunk's webhook
// action sends none that describe the alert.
func (Splunk) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	f, err := decodeObjectFields(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: Splunk webhook: %v", ErrInvalidPayload, err)
	}
	sid, searchName := f.text("sid"), f.text("search_name")
	app, owner, link := f.text("app"), f.text("owner"), f.text("results_link")
	if f.err != nil {
		return nil, fmt.Errorf("%w: Splunk webhook: %v", ErrInvalidPayload, f.err)
	}
	result, err := splunkResult(f.raw["result"])
	if err != nil {
		return nil, fmt.Errorf("%w: Splunk webhook: result: %v", ErrInvalidPayload, err)
	}
	identity := map[string]string{"app": app}
	switch {
	case searchName != "":
		identity["search_name"] = searchName
	case sid != "":
		identity["sid_search"] = splunkRunSuffix.ReplaceAllString(sid, "")
	default:
		return nil, fmt.Errorf("%w: Splunk webhook has neither search_name nor sid", ErrInvalidPayload)
	}
	for _, name := range splunkIdentifying {
		setLabel(identity, name, result[name])
	}
	labels := splunkLabels(result)
	setLabel(labels, "search_name", searchName)
	setLabel(labels, "app", app)
	setLabel(labels, "owner", owner)
	annotations := map[string]string{}
	setLabel(annotations, "_raw", result["_raw"])
	sig := &signalv1.Signal{
		Source:      SplunkSource,
		Status:      signalv1.Status_STATUS_FIRING,
		Severity:    splunkSeverity(cmp.Or(result["severity"], result["urgency"])),
		Title:       cmp.Or(searchName, "Splunk search "+cmp.Or(identity["sid_search"], sid)),
		Resource:    cmp.Or(result["host"], result["source"]),
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    splunkTime(result["_time"]),
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  sid,
		Link:        httpLink(link),
		RawPayload:  bytes.Clone(payload),
	}
	splunkRecipe.Apply(sig, HashFields(identity))
	return []*signalv1.Signal{sig}, nil
}

// splunkResult reads the first result row as text: strings as themselves,
// multivalue fields (lists) comma-joined, numbers and booleans as JSON, and
// nested objects, which Splunk does not send, as compact JSON.
func splunkResult(raw json.RawMessage) (map[string]string, error) {
	if !jsonPresent(raw) {
		return map[string]string{}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errors.New("not a JSON object")
	}
	row := make(map[string]string, len(fields))
	for name, v := range fields {
		if text, ok := splunkValue(v); ok && name != "" {
			row[name] = text
		}
	}
	return row, nil
}

// splunkValue reads one field of the row (see splunkResult); ok is false
// when it holds nothing.
func splunkValue(v json.RawMessage) (string, bool) {
	if text, err := scalarText(v); err == nil {
		return text, text != ""
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) == nil {
		parts := make([]string, 0, len(list))
		for _, item := range list {
			if text, ok := splunkValue(item); ok {
				parts = append(parts, text)
			}
		}
		return strings.Join(parts, ","), len(parts) > 0
	}
	return compactJSON(v)
}

// splunkLabels keeps the result's own fields and drops Splunk's internal
// ones (_raw, _time, _cd, _bkt, ...), which are per event, not per alert.
func splunkLabels(result map[string]string) map[string]string {
	labels := make(map[string]string, len(result)+3)
	for name, value := range result {
		if !strings.HasPrefix(name, "_") {
			labels[name] = value
		}
	}
	return labels
}

// splunkSeverity maps result.severity or result.urgency; see Splunk.
func splunkSeverity(s string) signalv1.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "6", "5", "severe":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "4":
		return signalv1.Severity_SEVERITY_ERROR
	case "3":
		return signalv1.Severity_SEVERITY_WARNING
	case "2", "1", "debug":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return SeverityWord(s)
	}
}

// splunkTime reads _time as epoch seconds with an optional fraction, as
// Splunk's result rows carry it, or as RFC 3339. Anything else is unset.
func splunkTime(s string) *timestamppb.Timestamp {
	if s == "" {
		return nil
	}
	if ts, err := rfc3339Time(s); err == nil {
		return ts
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || sec <= 0 || math.IsInf(sec, 0) || math.IsNaN(sec) || sec > maxEpochSeconds {
		return nil
	}
	whole, frac := math.Modf(sec)
	return timestamppb.New(time.Unix(int64(whole), int64(math.Round(frac*1e3))*1e6))
}
