package normalise

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// AlertmanagerSource is the source name of Prometheus Alertmanager webhooks.
const AlertmanagerSource = "alertmanager"

// alertmanagerVersion is the only webhook payload version Alertmanager has
// sent since 0.7; a different one means a format we do not know.
const alertmanagerVersion = "4"

// Alertmanager normalises Prometheus Alertmanager webhook notifications
// (webhook_config, payload version "4"). A notification groups several
// alerts; each becomes one signal.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both):
//
//   - When the alert carries Alertmanager's own fingerprint (a hash of its
//     label set, 1-64 ASCII letters or digits), the signal's fingerprint is
//     "am:" followed by it unchanged.
//   - Otherwise (an older Alertmanager, or a fingerprint that is not plain
//     alphanumerics), it is "amlabels:" followed by the lower-case hex
//     SHA-256 of the label set: for every label in byte-wise order of name,
//     the name, a 0x00 byte, the value and a 0x00 byte.
//
// Both are equal for repeats of the same alert, which carry the same labels,
// and differ for alerts whose labels differ.
//
// The link is generatorURL when that is an absolute http(s) URL, and none
// otherwise.
type Alertmanager struct{}

// amMessage is the notification envelope. Only the fields we use are
// decoded; groupKey, receiver and the common/group label sets are
// derivable from the alerts themselves.
type amMessage struct {
	Version string            `json:"version"`
	Status  string            `json:"status"`
	Alerts  []json.RawMessage `json:"alerts"`
}

// amAlert is one alert of a notification. Times are decoded by hand so that
// an empty string reads as unset instead of failing the payload.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Normalise implements Normaliser. Headers are not used: an Alertmanager
// payload means the same whatever headers came with it.
func (Alertmanager) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var msg amMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Alertmanager notification: %v", ErrInvalidPayload, err)
	}
	if msg.Version != alertmanagerVersion {
		if msg.Version == "" {
			return nil, fmt.Errorf("%w: Alertmanager notification has no version, want %q", ErrInvalidPayload, alertmanagerVersion)
		}
		return nil, fmt.Errorf("%w: Alertmanager notification version %.16q is not supported, want %q", ErrInvalidPayload, msg.Version, alertmanagerVersion)
	}
	if len(msg.Alerts) == 0 {
		return nil, fmt.Errorf("%w: Alertmanager notification has no alerts", ErrInvalidPayload)
	}
	sigs := make([]*signalv1.Signal, 0, len(msg.Alerts))
	for i, raw := range msg.Alerts {
		sig, err := normaliseAlert(raw, msg.Status, received)
		if err != nil {
			return nil, fmt.Errorf("%w: alert %d: %v", ErrInvalidPayload, i, err)
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

func normaliseAlert(raw json.RawMessage, groupStatus string, received time.Time) (*signalv1.Signal, error) {
	var a amAlert
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("not a JSON alert object: %v", err)
	}
	if len(a.Labels) == 0 {
		return nil, fmt.Errorf("alert has no labels")
	}
	// An alert's own status wins; the group's stands in for alerts from
	// hand-written payloads that leave it out.
	status, err := firingOrResolved(cmp.Or(a.Status, groupStatus))
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
		Source:      AlertmanagerSource,
		Status:      status,
		Severity:    SeverityWord(a.Labels["severity"]),
		Title:       cmp.Or(strings.TrimSpace(a.Annotations["summary"]), strings.TrimSpace(a.Labels["alertname"])),
		Description: a.Annotations["description"],
		Resource:    cmp.Or(a.Labels["instance"], a.Labels["service"], a.Labels["pod"], a.Labels["host"], a.Labels["job"]),
		Labels:      a.Labels,
		Annotations: a.Annotations,
		StartsAt:    startsAt,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  amExternalID(a.Fingerprint),
		Link:        httpLink(a.GeneratorURL),
		RawPayload:  raw,
	}
	amFingerprint(sig, a.Fingerprint, a.Labels)
	if sig.Title == "" {
		sig.Title = "alert " + sig.Fingerprint
	}
	// Alertmanager also sends an endsAt on firing alerts: the time it will
	// consider the alert resolved if Prometheus stops re-sending it. That is
	// a forecast, not an end, so only resolved alerts carry one.
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = endsAt
	}
	return sig, nil
}

// The two branches of the Alertmanager recipe (see Alertmanager).
var (
	amOwnRecipe    = Recipe{Name: AlertmanagerSource, Prefix: "am", Version: 1}
	amLabelsRecipe = Recipe{Name: AlertmanagerSource, Prefix: "amlabels", Version: 1}
)

func amFingerprint(sig *signalv1.Signal, own string, labels map[string]string) {
	if ownFingerprintPattern.MatchString(own) {
		amOwnRecipe.Apply(sig, own)
		return
	}
	amLabelsRecipe.Apply(sig, HashFields(labels))
}

func amExternalID(own string) string {
	if ownFingerprintPattern.MatchString(own) {
		return own
	}
	return ""
}
