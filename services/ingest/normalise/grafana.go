package normalise

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// GrafanaSource is the source name of Grafana alerting webhooks.
const GrafanaSource = "grafana"

// grafanaVersion is the payload version of Grafana's unified alerting
// webhook contact point. Legacy (dashboard) alerting sent no version and a
// different shape, so anything else is a format we do not know.
const grafanaVersion = "1"

// Grafana normalises notifications of Grafana alerting's webhook contact
// point (unified alerting, Grafana 8 and later, payload version "1"). The
// payload is Alertmanager's grouped shape plus Grafana's fields: orgId,
// state, title and message on the envelope, and silenceURL, dashboardURL,
// panelURL, imageURL, values and valueString on each alert. Each alert of
// the group becomes one signal, in payload order.
//
// Status: an alert's own status, "firing" → FIRING or "resolved" →
// RESOLVED; the envelope's status stands in when an alert leaves it out.
// Grafana has no acknowledgement, so it never yields ACKNOWLEDGED.
//
// Severity: the alert's `severity` label through SeverityWord (critical,
// page, emergency, fatal → CRITICAL; error, high, major → ERROR; warning,
// warn, medium, minor → WARNING; info, low, none, informational → INFO;
// missing or anything else → WARNING).
//
// Fields: the title is the `summary` annotation, else the `alertname`
// label; the description is the `description` annotation; the resource is
// the first of the labels instance, host, hostname, service, pod and job;
// labels are the alert's labels; annotations are the alert's annotations
// plus, where Grafana gives them and the rule did not already use the name,
// silenceURL, dashboardURL, panelURL, imageURL, valueString and values
// (each query's value as "refID=value", sorted by refID); the link is the
// first absolute http(s) URL of generatorURL (the alert rule), panelURL
// and dashboardURL; startsAt gives the start; endsAt gives the end of
// resolved alerts only, because on a firing alert it is a forecast, not an
// end.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a new recipe version):
//
//   - When the alert carries Grafana's own fingerprint (a hash of its label
//     set, 1-64 ASCII letters or digits), the signal's fingerprint is
//     "grafana:" followed by it unchanged, and it is also the external id.
//   - Otherwise (a hand-written payload, or a fingerprint that is not plain
//     alphanumerics), it is "grafanalabels:" followed by HashFields of the
//     alert's label set.
//
// Both are equal for every notification of the same alert instance (firing
// again, then resolved), which carries the same labels, and differ between
// alert instances, whose labels differ.
type Grafana struct{}

// grafanaMessage is the notification envelope. The group-level title and
// message summarise the whole group, so they are not copied onto any one
// alert; ruleId and evalMatches are decoded only to recognise legacy
// alerting's payloads and say so.
type grafanaMessage struct {
	Version     string            `json:"version"`
	Status      string            `json:"status"`
	Alerts      []json.RawMessage `json:"alerts"`
	RuleID      json.RawMessage   `json:"ruleId"`
	EvalMatches json.RawMessage   `json:"evalMatches"`
}

// grafanaAlert is one alert of a notification: Alertmanager's alert
// object plus Grafana's own fields.
type grafanaAlert struct {
	amAlert
	SilenceURL   string                     `json:"silenceURL"`
	DashboardURL string                     `json:"dashboardURL"`
	PanelURL     string                     `json:"panelURL"`
	ImageURL     string                     `json:"imageURL"`
	Values       map[string]json.RawMessage `json:"values"`
	ValueString  string                     `json:"valueString"`
}

// The two branches of the Grafana recipe (see Grafana).
var (
	grafanaOwnRecipe    = Recipe{Name: GrafanaSource, Prefix: "grafana", Version: 1}
	grafanaLabelsRecipe = Recipe{Name: GrafanaSource, Prefix: "grafanalabels", Version: 1}
)

// Normalise implements Normaliser. Headers are not used: a Grafana payload
// means the same whatever headers came with it.
func (Grafana) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var msg grafanaMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Grafana alerting notification: %v", ErrInvalidPayload, err)
	}
	if err := checkGrafanaVersion(msg); err != nil {
		return nil, err
	}
	if len(msg.Alerts) == 0 {
		return nil, fmt.Errorf("%w: Grafana notification has no alerts", ErrInvalidPayload)
	}
	sigs := make([]*signalv1.Signal, 0, len(msg.Alerts))
	for i, raw := range msg.Alerts {
		sig, err := normaliseGrafanaAlert(raw, msg.Status, received)
		if err != nil {
			return nil, fmt.Errorf("%w: alert %d: %v", ErrInvalidPayload, i, err)
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

// checkGrafanaVersion refuses payloads of other versions, naming legacy
// alerting when the payload looks like it, since that is the likeliest
// mistake (an old notification channel still pointed at Alexus).
func checkGrafanaVersion(msg grafanaMessage) error {
	if msg.Version == grafanaVersion {
		return nil
	}
	if msg.Version == "" {
		if len(msg.RuleID) > 0 || len(msg.EvalMatches) > 0 {
			return fmt.Errorf("%w: legacy Grafana alerting notifications are not supported, use a unified alerting webhook contact point", ErrInvalidPayload)
		}
		return fmt.Errorf("%w: Grafana notification has no version, want %q", ErrInvalidPayload, grafanaVersion)
	}
	return fmt.Errorf("%w: Grafana notification version %.16q is not supported, want %q", ErrInvalidPayload, msg.Version, grafanaVersion)
}

func normaliseGrafanaAlert(raw json.RawMessage, groupStatus string, received time.Time) (*signalv1.Signal, error) {
	var a grafanaAlert
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("not a JSON alert object: %v", err)
	}
	if len(a.Labels) == 0 {
		return nil, fmt.Errorf("alert has no labels")
	}
	status, err := grafanaStatus(cmp.Or(a.Status, groupStatus))
	if err != nil {
		return nil, err
	}
	startsAt, err := rfc3339Time(a.StartsAt)
	if err != nil {
		return nil, fmt.Errorf("startsAt: %w", err)
	}
	endsAt, err := rfc3339Time(a.EndsAt)
	if err != nil {
		return nil, fmt.Errorf("endsAt: %w", err)
	}
	sig := &signalv1.Signal{
		Source:      GrafanaSource,
		Status:      status,
		Severity:    SeverityWord(a.Labels["severity"]),
		Title:       cmp.Or(strings.TrimSpace(a.Annotations["summary"]), strings.TrimSpace(a.Labels["alertname"])),
		Description: a.Annotations["description"],
		Resource:    cmp.Or(a.Labels["instance"], a.Labels["host"], a.Labels["hostname"], a.Labels["service"], a.Labels["pod"], a.Labels["job"]),
		Labels:      a.Labels,
		Annotations: grafanaAnnotations(a),
		StartsAt:    startsAt,
		ReceivedAt:  timestamppb.New(received),
		Link:        cmp.Or(httpLink(a.GeneratorURL), httpLink(a.PanelURL), httpLink(a.DashboardURL)),
		RawPayload:  raw,
	}
	if ownFingerprintPattern.MatchString(a.Fingerprint) {
		grafanaOwnRecipe.Apply(sig, a.Fingerprint)
		sig.ExternalId = a.Fingerprint
	} else {
		grafanaLabelsRecipe.Apply(sig, HashFields(a.Labels))
	}
	if sig.Title == "" {
		sig.Title = "Grafana alert " + sig.Fingerprint
	}
	// Like Alertmanager, Grafana puts a forecast end on firing alerts; only
	// a resolved alert's endsAt is the time it ended.
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = endsAt
	}
	return sig, nil
}

// grafanaStatus maps an alert's status, naming the notification too when
// neither has one.
func grafanaStatus(s string) (signalv1.Status, error) {
	if s == "" {
		return 0, fmt.Errorf("alert has no status and the notification none either")
	}
	return firingOrResolved(s)
}

// grafanaAnnotations returns the rule's annotations with Grafana's
// per-alert links and values added under Grafana's own field names. A
// rule's annotation of the same name wins, since the rule's author chose it.
func grafanaAnnotations(a grafanaAlert) map[string]string {
	out := make(map[string]string, len(a.Annotations)+6)
	maps.Copy(out, a.Annotations)
	extra := map[string]string{
		"silenceURL":   a.SilenceURL,
		"dashboardURL": a.DashboardURL,
		"panelURL":     a.PanelURL,
		"imageURL":     a.ImageURL,
		"valueString":  a.ValueString,
		"values":       grafanaValues(a.Values),
	}
	for name, value := range extra {
		if _, taken := out[name]; !taken && value != "" {
			out[name] = value
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// grafanaValues writes the evaluated query values as "B=44.2 C=1" in
// refID order, so equal values always read the same. Values are numbers in
// Grafana's payloads; anything else is kept as compact JSON, made valid
// UTF-8 because a raw JSON string may hold bytes a proto string may not.
func grafanaValues(values map[string]json.RawMessage) string {
	refs := slices.Sorted(maps.Keys(values))
	parts := make([]string, 0, len(refs))
	for _, ref := range refs {
		if value, ok := compactJSON(values[ref]); ok {
			parts = append(parts, ref+"="+strings.ToValidUTF8(value, "\uFFFD"))
		}
	}
	return strings.Join(parts, " ")
}
