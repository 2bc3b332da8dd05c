package normalise

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// ElasticSource is the source name of Kibana alerting webhook connector
// notifications.
const ElasticSource = "elastic"

// Elastic normalises notifications from Kibana alerting's webhook connector
// (Kibana 8.x). The connector's body is a Mustache template over the rule's
// action variables, so Alexus documents the bodies it expects. A rule
// action whose frequency is "for each alert" sends one alert:
//
//	{
//	  "status": "active",
//	  "severity": "high",
//	  "date": "{{date}}",
//	  "kibanaBaseUrl": "{{kibanaBaseUrl}}",
//	  "rule": {"id": "{{rule.id}}", "name": "{{rule.name}}", "spaceId": "{{rule.spaceId}}",
//	           "tags": {{{rule.tags.asJSON}}}, "url": "{{rule.url}}"},
//	  "alert": {"id": "{{alert.id}}", "uuid": "{{alert.uuid}}", "actionGroup": "{{alert.actionGroup}}",
//	            "actionGroupName": "{{alert.actionGroupName}}", "flapping": {{alert.flapping}}},
//	  "context": {{{context}}}
//	}
//
// with "status" set to "recovered" in the action that runs on the
// Recovered action group. "context" may instead list variables one by one
// ({"message": "{{context.message}}", "reason": ..., "value": ...}); rule
// tags may be the comma-joined {{rule.tags}}; "severity" is optional. An
// action whose frequency is "summary of alerts" sends several:
//
//	{
//	  "date": "{{date}}", "kibanaBaseUrl": ..., "rule": {...as above...},
//	  "alerts": {
//	    "new":       {"count": {{alerts.new.count}},       "data": {{{alerts.new.data.asJSON}}}},
//	    "ongoing":   {"count": {{alerts.ongoing.count}},   "data": {{{alerts.ongoing.data.asJSON}}}},
//	    "recovered": {"count": {{alerts.recovered.count}}, "data": {{{alerts.recovered.data.asJSON}}}}
//	  }
//	}
//
// and each element of each "data" array (an alert document, with fields
// such as kibana.alert.instance.id nested or dotted) becomes one signal.
// "all" ({{{alerts.all.data.asJSON}}}) is read only when none of the other
// three is present, so that no alert is counted twice.
//
// Status: for one alert, "status" "active" is firing and "recovered" (or
// "untracked", an alert Kibana stopped tracking and will never recover) is
// resolved; without "status", the Recovered action group
// (alert.actionGroup "recovered") is resolved and any other is firing. In a
// summary, "new" and "ongoing" alerts are firing and "recovered" ones
// resolved; in "all", each alert's kibana.alert.status decides the same
// way. A firing summary alert whose kibana.alert.workflow_status is
// "acknowledged" is acknowledged.
//
// Severity: Kibana has no common severity, so it is the template's
// "severity", else context.severity, else the alert's
// kibana.alert.severity (security rules), read as a SeverityWord
// (critical → CRITICAL, high → ERROR, medium → WARNING, low → INFO, ...;
// missing → WARNING).
//
// Title is context.title, else the rule name. Description is
// context.reason or kibana.alert.reason, else context.message. Resource is
// context.group when it is text, host.name or service.name in a summary,
// else the alert id (for threshold rules, the group the alert is about).
// Labels are rule_id, rule_name, space_id, alert_id, action_group,
// flapping, tags (the rule's tags, sorted and comma-joined) and each
// "key:value" rule tag as its own label. Annotations hold the context's
// values (objects as JSON text) and the alert's reason and evaluation.
// Link is context.alertDetailsUrl, else context.viewInAppUrl, else
// kibana.alert.url, else rule.url (absolute http(s) URLs only; a relative
// kibana.alert.url is joined to kibanaBaseUrl). For one alert, "date" (when
// Kibana scheduled the action) is StartsAt if it fires and EndsAt if it
// recovered; summary alerts carry kibana.alert.start and kibana.alert.end.
// RawPayload is the whole body for one alert and the alert's own document
// for a summary.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both): "es:" followed by HashFields of
// {"rule_id": rule.id, "alert_id": alert.id}. In a summary, alert.id is the
// document's kibana.alert.instance.id and rule.id falls back to its
// kibana.alert.rule.uuid. Kibana keeps an alert's id (the group or query it
// is about) for as long as its rule runs, active or recovered, so both
// notifications of one alert share the fingerprint, and alerts of different
// rules or groups differ. alert.uuid, which changes each time the alert
// becomes active again, is the ExternalId.
type Elastic struct{}

var elasticRecipe = Recipe{Name: ElasticSource, Prefix: "es", Version: 1}

// elasticMessage is the body of either template. Alert is set for the
// per-alert form and Alerts for the summary.
type elasticMessage struct {
	Status        string                     `json:"status"`
	Severity      string                     `json:"severity"`
	Date          string                     `json:"date"`
	KibanaBaseURL string                     `json:"kibanaBaseUrl"`
	Rule          elasticRule                `json:"rule"`
	Alert         *elasticAlert              `json:"alert"`
	Context       map[string]json.RawMessage `json:"context"`
	Alerts        *elasticSummary            `json:"alerts"`
}

type elasticRule struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	SpaceID string          `json:"spaceId"`
	URL     string          `json:"url"`
	Tags    json.RawMessage `json:"tags"`
}

type elasticAlert struct {
	ID              string          `json:"id"`
	UUID            string          `json:"uuid"`
	ActionGroup     string          `json:"actionGroup"`
	ActionGroupName string          `json:"actionGroupName"`
	Flapping        json.RawMessage `json:"flapping"`
}

type elasticSummary struct {
	New       *elasticBucket `json:"new"`
	Ongoing   *elasticBucket `json:"ongoing"`
	Recovered *elasticBucket `json:"recovered"`
	All       *elasticBucket `json:"all"`
}

type elasticBucket struct {
	Data []json.RawMessage `json:"data"`
}

// elasticFields is what both forms reduce to before becoming a signal.
type elasticFields struct {
	status                       signalv1.Status
	ruleID, ruleName, spaceID    string
	alertID, uuid                string
	actionGroup, flapping        string
	severity, title, description string
	resource, link               string
	tags                         []string
	annotations                  map[string]string
	startsAt, endsAt             *timestamppb.Timestamp
	raw                          []byte
}

// Normalise implements Normaliser. Headers are not used: the connector's
// headers are whatever the user configured, and say nothing of the alert.
func (Elastic) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var msg elasticMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Kibana webhook body: %v", ErrInvalidPayload, err)
	}
	tags, err := elasticTags(msg.Rule.Tags)
	if err != nil {
		return nil, fmt.Errorf("%w: Kibana webhook body: rule.tags: %v", ErrInvalidPayload, err)
	}
	var all []elasticFields
	switch {
	case msg.Alerts != nil:
		all, err = elasticSummaryFields(msg, tags)
	case msg.Alert != nil:
		var f elasticFields
		f, err = elasticAlertFields(msg, tags, payload)
		all = []elasticFields{f}
	default:
		err = errors.New(`has neither "alert" (one alert) nor "alerts" (a summary)`)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: Kibana webhook body: %v", ErrInvalidPayload, err)
	}
	sigs := make([]*signalv1.Signal, 0, len(all))
	for _, f := range all {
		sigs = append(sigs, elasticSignal(f, received))
	}
	return sigs, nil
}

// elasticAlertFields reads the per-alert form.
func elasticAlertFields(msg elasticMessage, tags []string, payload []byte) (elasticFields, error) {
	a := msg.Alert
	if msg.Rule.ID == "" {
		return elasticFields{}, errors.New("rule.id is missing")
	}
	if a.ID == "" {
		return elasticFields{}, errors.New("alert.id is missing")
	}
	status, err := elasticStatus(msg.Status, a.ActionGroup)
	if err != nil {
		return elasticFields{}, err
	}
	date, err := rfc3339Time(msg.Date)
	if err != nil {
		return elasticFields{}, fmt.Errorf("date: %w", err)
	}
	flapping, err := scalarText(a.Flapping)
	if err != nil {
		return elasticFields{}, fmt.Errorf("alert.flapping: %w", err)
	}
	ctx := elasticContext(msg.Context)
	f := elasticFields{
		status: status, ruleID: msg.Rule.ID, ruleName: msg.Rule.Name, spaceID: msg.Rule.SpaceID,
		alertID: a.ID, uuid: a.UUID, actionGroup: a.ActionGroup, flapping: flapping,
		severity:    cmp.Or(msg.Severity, ctx["severity"]),
		title:       cmp.Or(ctx["title"], msg.Rule.Name),
		description: cmp.Or(ctx["reason"], ctx["message"]),
		resource:    cmp.Or(elasticContextText(msg.Context["group"]), a.ID),
		link: cmp.Or(httpLink(ctx["alertDetailsUrl"]), httpLink(ctx["viewInAppUrl"]),
			httpLink(msg.Rule.URL)),
		tags:        tags,
		annotations: ctx,
		raw:         bytes.Clone(payload),
	}
	setLabel(f.annotations, "action_group_name", a.ActionGroupName)
	if status == signalv1.Status_STATUS_RESOLVED {
		f.endsAt = date
	} else {
		f.startsAt = date
	}
	return f, nil
}

// elasticStatus reads the per-alert form's status; see Elastic.
func elasticStatus(status, actionGroup string) (signalv1.Status, error) {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "active":
		return signalv1.Status_STATUS_FIRING, nil
	case "recovered", "untracked":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "":
		if actionGroup == "recovered" {
			return signalv1.Status_STATUS_RESOLVED, nil
		}
		return signalv1.Status_STATUS_FIRING, nil
	default:
		return 0, errors.New(`status is neither "active" nor "recovered"`)
	}
}

// elasticBucketStatus is one "alerts" bucket of a summary and the status
// its alerts have; UNSPECIFIED leaves it to each alert's document.
type elasticBucketStatus struct {
	name   string
	bucket *elasticBucket
	status signalv1.Status
}

// elasticSummaryFields reads the summary form, bucket by bucket.
func elasticSummaryFields(msg elasticMessage, tags []string) ([]elasticFields, error) {
	s := msg.Alerts
	buckets := []elasticBucketStatus{
		{"new", s.New, signalv1.Status_STATUS_FIRING},
		{"ongoing", s.Ongoing, signalv1.Status_STATUS_FIRING},
		{"recovered", s.Recovered, signalv1.Status_STATUS_RESOLVED},
	}
	if s.New == nil && s.Ongoing == nil && s.Recovered == nil {
		buckets = []elasticBucketStatus{{"all", s.All, signalv1.Status_STATUS_UNSPECIFIED}}
	}
	var all []elasticFields
	for _, b := range buckets {
		if b.bucket == nil {
			continue
		}
		for i, raw := range b.bucket.Data {
			f, err := elasticDocumentFields(msg, tags, raw, b.status)
			if err != nil {
				return nil, fmt.Errorf("alerts.%s.data[%d]: %v", b.name, i, err)
			}
			all = append(all, f)
		}
	}
	if len(all) == 0 {
		return nil, errors.New("summary has no alerts")
	}
	return all, nil
}

// elasticDocumentFields reads one alert document of a summary. status is
// the bucket's, or UNSPECIFIED for "all".
func elasticDocumentFields(msg elasticMessage, tags []string, raw json.RawMessage, status signalv1.Status) (elasticFields, error) {
	var doc map[string]any
	if err := decodeJSONNumbers(raw, &doc); err != nil || doc == nil {
		return elasticFields{}, errors.New("not a JSON alert document")
	}
	text := func(path string) string { return elasticDocText(doc, path) }
	ruleID := cmp.Or(msg.Rule.ID, text("kibana.alert.rule.uuid"))
	if ruleID == "" {
		return elasticFields{}, errors.New("neither rule.id nor kibana.alert.rule.uuid is set")
	}
	alertID := text("kibana.alert.instance.id")
	if alertID == "" {
		return elasticFields{}, errors.New("kibana.alert.instance.id is missing")
	}
	status, err := elasticDocumentStatus(status, text("kibana.alert.status"), text("kibana.alert.workflow_status"))
	if err != nil {
		return elasticFields{}, err
	}
	startsAt, err := rfc3339Time(text("kibana.alert.start"))
	if err != nil {
		return elasticFields{}, fmt.Errorf("kibana.alert.start: %w", err)
	}
	endsAt, err := rfc3339Time(text("kibana.alert.end"))
	if err != nil {
		return elasticFields{}, fmt.Errorf("kibana.alert.end: %w", err)
	}
	if status != signalv1.Status_STATUS_RESOLVED {
		endsAt = nil
	}
	if len(tags) == 0 {
		tags = elasticDocTags(doc)
	}
	annotations := map[string]string{}
	setLabel(annotations, "reason", text("kibana.alert.reason"))
	setLabel(annotations, "evaluation_value", text("kibana.alert.evaluation.value"))
	setLabel(annotations, "evaluation_threshold", text("kibana.alert.evaluation.threshold"))
	ruleName := cmp.Or(msg.Rule.Name, text("kibana.alert.rule.name"))
	return elasticFields{
		status: status, ruleID: ruleID, ruleName: ruleName,
		spaceID: cmp.Or(msg.Rule.SpaceID, text("kibana.space_ids")),
		alertID: alertID, uuid: text("kibana.alert.uuid"),
		actionGroup: text("kibana.alert.action_group"), flapping: text("kibana.alert.flapping"),
		severity:    cmp.Or(msg.Severity, text("kibana.alert.severity")),
		title:       ruleName,
		description: text("kibana.alert.reason"),
		resource:    cmp.Or(text("host.name"), text("service.name"), alertID),
		link:        cmp.Or(elasticAlertURL(text("kibana.alert.url"), msg.KibanaBaseURL), httpLink(msg.Rule.URL)),
		tags:        tags,
		annotations: annotations,
		startsAt:    startsAt,
		endsAt:      endsAt,
		raw:         raw,
	}, nil
}

// elasticDocumentStatus decides a summary alert's status: the bucket's
// when it has one, else the document's kibana.alert.status; a firing alert
// that a user acknowledged in Kibana is acknowledged.
func elasticDocumentStatus(bucket signalv1.Status, docStatus, workflow string) (signalv1.Status, error) {
	status := bucket
	if status == signalv1.Status_STATUS_UNSPECIFIED {
		var err error
		if docStatus == "" {
			return 0, errors.New("kibana.alert.status is missing")
		}
		if status, err = elasticStatus(docStatus, ""); err != nil {
			return 0, fmt.Errorf("kibana.alert.status: %w", err)
		}
	}
	if status == signalv1.Status_STATUS_FIRING && strings.EqualFold(workflow, "acknowledged") {
		return signalv1.Status_STATUS_ACKNOWLEDGED, nil
	}
	return status, nil
}

func elasticSignal(f elasticFields, received time.Time) *signalv1.Signal {
	labels := map[string]string{}
	for _, tag := range f.tags {
		if key, value, ok := strings.Cut(tag, ":"); ok && key != "" {
			labels[key] = value
		}
	}
	if len(f.tags) > 0 {
		labels["tags"] = strings.Join(f.tags, ",")
	}
	setLabel(labels, "rule_id", f.ruleID)
	setLabel(labels, "rule_name", f.ruleName)
	setLabel(labels, "space_id", f.spaceID)
	setLabel(labels, "alert_id", f.alertID)
	setLabel(labels, "action_group", f.actionGroup)
	setLabel(labels, "flapping", f.flapping)
	sig := &signalv1.Signal{
		Source:      ElasticSource,
		Status:      f.status,
		Severity:    SeverityWord(f.severity),
		Title:       cmp.Or(f.title, "Kibana alert "+f.alertID),
		Description: f.description,
		Resource:    f.resource,
		Labels:      labels,
		Annotations: f.annotations,
		StartsAt:    f.startsAt,
		EndsAt:      f.endsAt,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  f.uuid,
		Link:        f.link,
		RawPayload:  f.raw,
	}
	elasticRecipe.Apply(sig, HashFields(map[string]string{"rule_id": f.ruleID, "alert_id": f.alertID}))
	return sig
}

// elasticTags reads rule tags as {{{rule.tags.asJSON}}} renders them (a
// JSON array) or as {{rule.tags}} does (one comma-joined string), sorted.
func elasticTags(raw json.RawMessage) ([]string, error) {
	if !jsonPresent(raw) {
		return nil, nil
	}
	var tags []string
	if raw[0] == '"' {
		joined, err := optionalString(raw)
		if err != nil {
			return nil, err
		}
		tags = strings.Split(joined, ",")
	} else if err := json.Unmarshal(raw, &tags); err != nil {
		return nil, errors.New("neither an array of strings nor a comma-joined string")
	}
	return sortedTags(tags), nil
}

// elasticDocTags reads a summary alert's own tags, for templates that
// leave rule.tags out.
func elasticDocTags(doc map[string]any) []string {
	list, _ := elasticDocValue(doc, "kibana.alert.rule.tags").([]any)
	if list == nil {
		list, _ = elasticDocValue(doc, "tags").([]any)
	}
	var tags []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			tags = append(tags, s)
		}
	}
	return sortedTags(tags)
}

// elasticContext renders the rule's context variables as annotations:
// text as itself, anything else as its JSON.
func elasticContext(ctx map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(ctx))
	for key, raw := range ctx {
		if text, err := scalarText(raw); err == nil {
			if text != "" {
				out[key] = text
			}
			continue
		}
		if text, ok := compactJSON(raw); ok {
			out[key] = text
		}
	}
	return out
}

// elasticContextText returns a context variable only when it is a JSON
// string: some rule types send structured values under the same name.
func elasticContextText(v json.RawMessage) string {
	s, _ := optionalString(v)
	return s
}

// elasticAlertURL makes kibana.alert.url absolute: Kibana stores it as a
// path when it knows no public base URL.
func elasticAlertURL(u, base string) string {
	if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
		u = strings.TrimRight(base, "/") + u
	}
	return httpLink(u)
}

// elasticDocText returns the value at a dotted path of an alert document
// as text: strings as themselves, numbers and booleans as JSON, and a
// one-element list (kibana.space_ids) as its element. Anything else is "".
func elasticDocText(doc map[string]any, path string) string {
	v := elasticDocValue(doc, path)
	if list, ok := v.([]any); ok && len(list) == 1 {
		s, _ := list[0].(string)
		return s
	}
	s, _ := decodedScalarText(v)
	return s
}

// elasticDocValue finds a dotted path in an alert document whose fields may
// be nested ({"kibana":{"alert":{...}}}, as Kibana expands them for
// actions), flattened ({"kibana.alert.uuid": ...}, as they are stored) or
// a mix of both.
func elasticDocValue(doc map[string]any, path string) any {
	if v, ok := doc[path]; ok {
		return v
	}
	for i := strings.IndexByte(path, '.'); i >= 0; {
		if inner, ok := doc[path[:i]].(map[string]any); ok {
			if v := elasticDocValue(inner, path[i+1:]); v != nil {
				return v
			}
		}
		next := strings.IndexByte(path[i+1:], '.')
		if next < 0 {
			break
		}
		i += next + 1
	}
	return nil
}
