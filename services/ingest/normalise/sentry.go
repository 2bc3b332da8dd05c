package normalise

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// SentrySource is the source name of Sentry integration-platform webhooks.
const SentrySource = "sentry"

// The Sentry-Hook-Resource values that carry alerts.
const (
	sentryResourceIssue       = "issue"
	sentryResourceEventAlert  = "event_alert"
	sentryResourceMetricAlert = "metric_alert"
)

// Sentry normalises the webhooks of a Sentry integration (an internal or
// public integration of Sentry's integration platform). Three resources
// carry alerts; each payload is one alert and becomes one signal:
//
//   - event_alert: an issue alert rule fired for an event (action
//     "triggered").
//   - metric_alert: a metric alert's incident changed state (action
//     "critical", "warning" or "resolved").
//   - issue: an issue was created or changed state (action "created",
//     "unresolved", "resolved", "assigned", "ignored" or "archived").
//
// The resource is read from the Sentry-Hook-Resource header, which Sentry
// sends with every webhook. Without it (a payload replayed by hand) it is
// inferred from the body: data.metric_alert, data.event or data.issue. Any
// other resource (installation, comment, error, ...) carries no alert and is
// refused, so that an integration subscribed to too much is noticed.
//
// Status:
//
//	event_alert triggered                   → FIRING
//	metric_alert critical, warning          → FIRING
//	metric_alert resolved                   → RESOLVED
//	issue created, unresolved               → FIRING (new, regressed or escalating)
//	issue resolved                          → RESOLVED
//	issue assigned                          → ACKNOWLEDGED
//	issue ignored, archived                 → ACKNOWLEDGED
//
// An archived (formerly "ignored") issue is one a human has looked at and
// chosen to silence; its errors have not stopped, so it is acknowledged
// rather than resolved. Sentry un-archives an issue that escalates and then
// sends "unresolved", which fires it again. An issue action Sentry adds
// later falls back on the issue's status (unresolved, resolved, ignored).
//
// Severity, for issues and issue alerts from the level of the issue or
// event (Sentry's levels, not Alexus's words, hence a table of its own):
//
//	fatal                 → CRITICAL
//	error, or no level    → ERROR (Sentry's default level for an event)
//	warning               → WARNING
//	info, debug, sample   → INFO
//	any other value       → WARNING
//
// and for metric alerts from the action: critical → CRITICAL, warning →
// WARNING, resolved → INFO (the payload does not say which threshold the
// incident had crossed, and nothing is wrong any more).
//
// Fields:
//
//   - Title: the event's or issue's title (e.g. "ReferenceError: x is not
//     defined"), else its metadata type and value; for metric alerts the
//     alert rule's name (data.description_title is kept as an annotation,
//     since it changes with the state: "Critical: ...", "Resolved: ...").
//   - Resource: the Sentry project's slug (the service concerned): the
//     issue's project.slug, the slug in an event's API URL
//     (/projects/{org}/{project}/events/...), else the project's numeric id;
//     for metric alerts the alert rule's projects.
//   - Labels: the event's tags, then project, project_id, level, platform,
//     issue_id, short_id, status and substatus, rule; for metric alerts
//     alert_rule, alert_rule_id, aggregate, dataset, query, environment and
//     projects.
//   - Annotations: culprit, the event id and its URL, the rule's label,
//     description_title, the incident's Sentry-made title.
//   - Link: the event's web_url, the issue's web_url or permalink, the
//     metric alert's data.web_url; absolute http(s) URLs only.
//   - StartsAt: the event's datetime (else its timestamp), the issue's
//     firstSeen, the incident's date_started (else date_detected).
//   - EndsAt: for a resolved metric alert its date_closed; for a resolved
//     issue the Sentry-Hook-Timestamp header (when Sentry sent the webhook),
//     else the time Alexus received it, because Sentry's issue payload
//     carries no resolution time.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both):
//
//   - Issues and issue alerts: "sentry-issue:" followed by the Sentry issue
//     id (data.issue.id, data.event.issue_id) unchanged. An issue alert and
//     the issue webhooks of the same issue therefore share a fingerprint, so
//     that "issue resolved" resolves the signal an issue alert opened.
//   - Metric alerts: "sentry-metric:" followed by the alert rule's id, ":"
//     and the incident's id (data.metric_alert.alert_rule.id and
//     data.metric_alert.id). An incident keeps its id from warning through
//     critical to resolved, so all of its notifications share it.
//
// Ids must be 1-128 ASCII letters, digits, '.', '_', '~' or '-' (Sentry's
// are decimal numbers sent as strings, sometimes as JSON numbers); any other
// id is refused rather than guessed at. ExternalId is the issue id, or for
// metric alerts the incident id.
type Sentry struct{}

// The two branches of the Sentry recipe (see Sentry).
var (
	sentryIssueRecipe  = Recipe{Name: SentrySource, Prefix: "sentry-issue", Version: 1}
	sentryMetricRecipe = Recipe{Name: SentrySource, Prefix: "sentry-metric", Version: 1}
)

// sentryHook is the envelope every integration-platform webhook shares.
// Only the fields we use are decoded; actor and installation say who
// caused the change and which installation sent it, neither of which
// identifies the alert.
type sentryHook struct {
	Action jsonText   `json:"action"`
	Data   sentryData `json:"data"`
}

// sentryData holds the resource; exactly one of Event, Issue and
// MetricAlert is set by Sentry.
type sentryData struct {
	Event         *sentryEvent `json:"event"`
	TriggeredRule string       `json:"triggered_rule"`
	IssueAlert    *struct {
		Title string `json:"title"`
	} `json:"issue_alert"`
	Issue            *sentryIssue    `json:"issue"`
	MetricAlert      *sentryIncident `json:"metric_alert"`
	DescriptionText  string          `json:"description_text"`
	DescriptionTitle string          `json:"description_title"`
	WebURL           string          `json:"web_url"`
}

// sentryEvent is the event that made an issue alert rule fire. Its tags are
// a list of [key, value] pairs, decoded by hand.
type sentryEvent struct {
	EventID   jsonText          `json:"event_id"`
	IssueID   jsonText          `json:"issue_id"`
	IssueURL  string            `json:"issue_url"`
	URL       string            `json:"url"`
	WebURL    string            `json:"web_url"`
	Title     string            `json:"title"`
	Message   string            `json:"message"`
	Culprit   string            `json:"culprit"`
	Level     string            `json:"level"`
	Platform  string            `json:"platform"`
	Project   jsonText          `json:"project"`
	Datetime  string            `json:"datetime"`
	Timestamp jsonEpoch         `json:"timestamp"`
	Metadata  sentryMetadata    `json:"metadata"`
	Tags      []json.RawMessage `json:"tags"`
}

// sentryMetadata is the part of an event or issue that names the error.
type sentryMetadata struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Title string `json:"title"`
}

// sentryIssue is an issue as the issue resource serialises it.
type sentryIssue struct {
	ID        jsonText       `json:"id"`
	ShortID   string         `json:"shortId"`
	Title     string         `json:"title"`
	Culprit   string         `json:"culprit"`
	Level     string         `json:"level"`
	Status    string         `json:"status"`
	Substatus string         `json:"substatus"`
	Platform  string         `json:"platform"`
	FirstSeen string         `json:"firstSeen"`
	Permalink string         `json:"permalink"`
	WebURL    string         `json:"web_url"`
	Metadata  sentryMetadata `json:"metadata"`
	Project   struct {
		ID   jsonText `json:"id"`
		Slug string   `json:"slug"`
	} `json:"project"`
}

// sentryIncident is a metric alert's incident and the rule that opened it.
type sentryIncident struct {
	ID           jsonText `json:"id"`
	Title        string   `json:"title"`
	DateStarted  string   `json:"date_started"`
	DateDetected string   `json:"date_detected"`
	DateClosed   string   `json:"date_closed"`
	Projects     []string `json:"projects"`
	AlertRule    struct {
		ID          jsonText `json:"id"`
		Name        string   `json:"name"`
		Aggregate   string   `json:"aggregate"`
		Dataset     string   `json:"dataset"`
		Query       string   `json:"query"`
		Environment string   `json:"environment"`
		Projects    []string `json:"projects"`
	} `json:"alert_rule"`
}

// Normalise implements Normaliser. It reads the sentry-hook-resource and
// sentry-hook-timestamp headers, in any letter case.
func (Sentry) Normalise(payload []byte, headers map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var hook sentryHook
	if err := decodeJSONNumbers(payload, &hook); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Sentry webhook: %v", ErrInvalidPayload, err)
	}
	resource, err := sentryResource(headers, &hook.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	var sig *signalv1.Signal
	switch resource {
	case sentryResourceEventAlert:
		sig, err = sentryEventAlert(&hook)
	case sentryResourceMetricAlert:
		sig, err = sentryMetricAlert(&hook)
	default:
		sig, err = sentryIssueChange(&hook, sentryHookTime(headers, received))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: Sentry %s webhook: %v", ErrInvalidPayload, resource, err)
	}
	sig.Source = SentrySource
	sig.ReceivedAt = timestamppb.New(received)
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

// sentryResource names the resource a webhook is about: the header's word
// when Sentry sent one, else the part of data the body carries.
func sentryResource(headers map[string]string, data *sentryData) (string, error) {
	if h, _ := sentryHeader(headers, "sentry-hook-resource"); h != "" {
		switch r := strings.ToLower(strings.TrimSpace(h)); r {
		case sentryResourceIssue, sentryResourceEventAlert, sentryResourceMetricAlert:
			return r, nil
		default:
			return "", fmt.Errorf("Sentry-Hook-Resource %.32q carries no alert; subscribe the integration to issue, event_alert or metric_alert", h)
		}
	}
	switch {
	case data.MetricAlert != nil:
		return sentryResourceMetricAlert, nil
	case data.Event != nil:
		return sentryResourceEventAlert, nil
	case data.Issue != nil:
		return sentryResourceIssue, nil
	default:
		return "", errors.New("Sentry webhook has no Sentry-Hook-Resource header and none of data.event, data.issue or data.metric_alert")
	}
}

// sentryHeader finds a header whatever its letter case: the gateway
// forwards lower-case names, but a direct caller may not.
func sentryHeader(headers map[string]string, name string) (string, bool) {
	if v, ok := headers[name]; ok {
		return v, true
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// sentryHookTime is when Sentry sent the webhook (Sentry-Hook-Timestamp, in
// seconds since the epoch), else received. A malformed header is not the
// payload's fault and is passed over.
func sentryHookTime(headers map[string]string, received time.Time) *timestamppb.Timestamp {
	if h, ok := sentryHeader(headers, "sentry-hook-timestamp"); ok {
		if sec, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64); err == nil {
			if ts, err := epochTime(sec, time.Second); err == nil && ts != nil {
				return ts
			}
		}
	}
	return timestamppb.New(received)
}

func sentryEventAlert(hook *sentryHook) (*signalv1.Signal, error) {
	ev := hook.Data.Event
	if ev == nil {
		return nil, errors.New("data.event is missing")
	}
	if a := string(hook.Action); a != "" && a != "triggered" {
		return nil, fmt.Errorf("action %.16q is not \"triggered\"", a)
	}
	issueID, err := ownAlertID("data.event.issue_id", string(ev.IssueID))
	if err != nil {
		return nil, err
	}
	startsAt, err := sentryEventTime(ev)
	if err != nil {
		return nil, err
	}
	rule := hook.Data.TriggeredRule
	if rule == "" && hook.Data.IssueAlert != nil {
		rule = hook.Data.IssueAlert.Title
	}
	project := cmp.Or(sentryProjectSlug(ev.URL), string(ev.Project))
	labels := sentryTags(ev.Tags)
	setLabel(labels, "project", project)
	setLabel(labels, "project_id", string(ev.Project))
	setLabel(labels, "level", ev.Level)
	setLabel(labels, "platform", ev.Platform)
	setLabel(labels, "issue_id", issueID)
	setLabel(labels, "rule", rule)
	annotations := map[string]string{}
	setLabel(annotations, "culprit", ev.Culprit)
	setLabel(annotations, "event_id", string(ev.EventID))
	setLabel(annotations, "event_url", ev.WebURL)
	setLabel(annotations, "issue_url", ev.IssueURL)
	setLabel(annotations, "rule", rule)
	title := cmp.Or(ev.Title, sentryMetadataTitle(ev.Metadata), ev.Message, rule, "Sentry issue "+issueID)
	sig := &signalv1.Signal{
		Status:      signalv1.Status_STATUS_FIRING,
		Severity:    sentryLevel(ev.Level),
		Title:       title,
		Description: sentryDescription(title, ev.Metadata.Value, ev.Message),
		Resource:    project,
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    startsAt,
		ExternalId:  issueID,
		Link:        httpLink(ev.WebURL),
	}
	sentryIssueRecipe.Apply(sig, issueID)
	return sig, nil
}

// sentryEventTime prefers the event's RFC 3339 datetime and falls back on
// its timestamp, a float of seconds.
func sentryEventTime(ev *sentryEvent) (*timestamppb.Timestamp, error) {
	if ev.Datetime != "" {
		ts, err := rfc3339Time(ev.Datetime)
		if err != nil {
			return nil, fmt.Errorf("data.event.datetime: %w", err)
		}
		return ts, nil
	}
	ts, err := ev.Timestamp.timestamp(time.Second)
	if err != nil {
		return nil, fmt.Errorf("data.event.timestamp: %w", err)
	}
	return ts, nil
}

func sentryIssueChange(hook *sentryHook, sentAt *timestamppb.Timestamp) (*signalv1.Signal, error) {
	is := hook.Data.Issue
	if is == nil {
		return nil, errors.New("data.issue is missing")
	}
	status, err := sentryIssueStatus(string(hook.Action), is.Status)
	if err != nil {
		return nil, err
	}
	issueID, err := ownAlertID("data.issue.id", string(is.ID))
	if err != nil {
		return nil, err
	}
	startsAt, err := rfc3339Time(is.FirstSeen)
	if err != nil {
		return nil, fmt.Errorf("data.issue.firstSeen: %w", err)
	}
	project := cmp.Or(is.Project.Slug, string(is.Project.ID))
	labels := map[string]string{}
	setLabel(labels, "project", project)
	setLabel(labels, "project_id", string(is.Project.ID))
	setLabel(labels, "level", is.Level)
	setLabel(labels, "platform", is.Platform)
	setLabel(labels, "issue_id", issueID)
	setLabel(labels, "short_id", is.ShortID)
	setLabel(labels, "status", is.Status)
	setLabel(labels, "substatus", is.Substatus)
	annotations := map[string]string{}
	setLabel(annotations, "culprit", is.Culprit)
	setLabel(annotations, "action", string(hook.Action))
	title := cmp.Or(is.Title, sentryMetadataTitle(is.Metadata), is.ShortID, "Sentry issue "+issueID)
	sig := &signalv1.Signal{
		Status:      status,
		Severity:    sentryLevel(is.Level),
		Title:       title,
		Description: sentryDescription(title, is.Metadata.Value, ""),
		Resource:    project,
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    startsAt,
		ExternalId:  issueID,
		Link:        cmp.Or(httpLink(is.WebURL), httpLink(is.Permalink)),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = sentAt
	}
	sentryIssueRecipe.Apply(sig, issueID)
	return sig, nil
}

// sentryIssueStatus maps an issue webhook's action, falling back on the
// issue's own status for actions Sentry may add later.
func sentryIssueStatus(action, issueStatus string) (signalv1.Status, error) {
	switch action {
	case "created", "unresolved":
		return signalv1.Status_STATUS_FIRING, nil
	case "resolved":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "assigned", "ignored", "archived":
		return signalv1.Status_STATUS_ACKNOWLEDGED, nil
	}
	switch issueStatus {
	case "unresolved":
		return signalv1.Status_STATUS_FIRING, nil
	case "resolved":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "ignored":
		return signalv1.Status_STATUS_ACKNOWLEDGED, nil
	}
	return signalv1.Status_STATUS_UNSPECIFIED, fmt.Errorf("action %.16q and issue status %.16q say neither firing, resolved nor acknowledged", action, issueStatus)
}

func sentryMetricAlert(hook *sentryHook) (*signalv1.Signal, error) {
	inc := hook.Data.MetricAlert
	if inc == nil {
		return nil, errors.New("data.metric_alert is missing")
	}
	var status signalv1.Status
	var severity signalv1.Severity
	switch a := string(hook.Action); a {
	case "critical":
		status, severity = signalv1.Status_STATUS_FIRING, signalv1.Severity_SEVERITY_CRITICAL
	case "warning":
		status, severity = signalv1.Status_STATUS_FIRING, signalv1.Severity_SEVERITY_WARNING
	case "resolved":
		status, severity = signalv1.Status_STATUS_RESOLVED, signalv1.Severity_SEVERITY_INFO
	default:
		return nil, fmt.Errorf("action %.16q is none of \"critical\", \"warning\" and \"resolved\"", a)
	}
	ruleID, err := ownAlertID("data.metric_alert.alert_rule.id", string(inc.AlertRule.ID))
	if err != nil {
		return nil, err
	}
	incidentID, err := ownAlertID("data.metric_alert.id", string(inc.ID))
	if err != nil {
		return nil, err
	}
	startsAt, err := rfc3339Time(cmp.Or(inc.DateStarted, inc.DateDetected))
	if err != nil {
		return nil, fmt.Errorf("data.metric_alert.date_started: %w", err)
	}
	endsAt, err := rfc3339Time(inc.DateClosed)
	if err != nil {
		return nil, fmt.Errorf("data.metric_alert.date_closed: %w", err)
	}
	rule := inc.AlertRule
	projects := strings.Join(rule.Projects, ",")
	if projects == "" {
		projects = strings.Join(inc.Projects, ",")
	}
	labels := map[string]string{}
	setLabel(labels, "alert_rule", rule.Name)
	setLabel(labels, "alert_rule_id", ruleID)
	setLabel(labels, "aggregate", rule.Aggregate)
	setLabel(labels, "dataset", rule.Dataset)
	setLabel(labels, "query", rule.Query)
	setLabel(labels, "environment", rule.Environment)
	setLabel(labels, "projects", projects)
	annotations := map[string]string{}
	setLabel(annotations, "description_title", hook.Data.DescriptionTitle)
	setLabel(annotations, "incident_title", inc.Title)
	sig := &signalv1.Signal{
		Status:      status,
		Severity:    severity,
		Title:       cmp.Or(rule.Name, hook.Data.DescriptionTitle, "Sentry metric alert "+ruleID),
		Description: hook.Data.DescriptionText,
		Resource:    projects,
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    startsAt,
		ExternalId:  incidentID,
		Link:        httpLink(hook.Data.WebURL),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = endsAt
	}
	sentryMetricRecipe.Apply(sig, ruleID+":"+incidentID)
	return sig, nil
}

// sentryLevel maps Sentry's event levels (see Sentry for the table).
func sentryLevel(level string) signalv1.Severity {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "fatal":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "error", "":
		return signalv1.Severity_SEVERITY_ERROR
	case "info", "debug", "sample":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}

// sentryTags reads an event's tags. Sentry serialises them as [key, value]
// pairs; older and API serialisations use {"key": ..., "value": ...}
// objects. Anything else in the list is passed over: tags describe, they
// do not identify.
func sentryTags(raw []json.RawMessage) map[string]string {
	tags := make(map[string]string, len(raw))
	for _, r := range raw {
		var pair []jsonText
		if err := json.Unmarshal(r, &pair); err == nil {
			if len(pair) == 2 {
				setLabel(tags, string(pair[0]), string(pair[1]))
			}
			continue
		}
		var kv struct {
			Key   jsonText `json:"key"`
			Value jsonText `json:"value"`
		}
		if err := json.Unmarshal(r, &kv); err == nil {
			setLabel(tags, string(kv.Key), string(kv.Value))
		}
	}
	return tags
}

// sentryProjectSlug takes the project slug out of an event's API URL,
// https://sentry.io/api/0/projects/{org}/{project}/events/{id}/, since the
// event itself names its project only by number.
func sentryProjectSlug(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+3 < len(parts); i++ {
		if parts[i] == "projects" && parts[i+3] == "events" {
			return parts[i+2]
		}
	}
	return ""
}

// sentryMetadataTitle builds "Type: value" from an error's metadata, as
// Sentry does for its own titles.
func sentryMetadataTitle(m sentryMetadata) string {
	switch {
	case m.Title != "":
		return m.Title
	case m.Type != "" && m.Value != "":
		return m.Type + ": " + m.Value
	default:
		return cmp.Or(m.Type, m.Value)
	}
}

// sentryDescription returns the first of the candidates that says more than
// the title already does.
func sentryDescription(title string, candidates ...string) string {
	for _, c := range candidates {
		if c != "" && !strings.Contains(title, c) {
			return c
		}
	}
	return ""
}
