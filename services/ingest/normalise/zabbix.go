package normalise

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// ZabbixSource is the source name of Zabbix webhook media type notifications.
const ZabbixSource = "zabbix"

// Zabbix normalises notifications from a Zabbix webhook media type (Zabbix
// 5.0 and later). Zabbix has no fixed webhook body: a media type's script
// builds one from the parameters it is given, each parameter a macro that
// Zabbix expands. Alexus expects the script to POST its parameters as one
// flat JSON object, less the ones that say where and how to send it, so
// that the token is never stored with the alert:
//
//	var p = JSON.parse(value), url = p.alexus_url, token = p.alexus_token;
//	delete p.alexus_url; delete p.alexus_token;
//	var req = new HttpRequest();
//	req.addHeader('Content-Type: application/json');
//	req.addHeader('Authorization: Bearer ' + token);
//	req.post(url, JSON.stringify(p));
//
// The parameters are named as in Zabbix's own webhook integrations:
//
//	event_id              {EVENT.ID}          required; digits
//	event_value           {EVENT.VALUE}       required; 1 problem, 0 recovery
//	event_update_status   {EVENT.UPDATE.STATUS}  1 for a problem update
//	event_update_action   {EVENT.UPDATE.ACTION}  e.g. "acknowledged", "closed"
//	event_update_message  {EVENT.UPDATE.MESSAGE}
//	event_ack_status      {EVENT.ACK.STATUS}  Yes | No
//	event_name            {EVENT.NAME}
//	event_severity        {EVENT.SEVERITY}    Not classified ... Disaster
//	event_nseverity       {EVENT.NSEVERITY}   0 ... 5
//	event_timestamp       {EVENT.TIMESTAMP}   Unix seconds
//	event_date            {EVENT.DATE}        yyyy.mm.dd
//	event_time            {EVENT.TIME}        hh:mm:ss
//	event_recovery_timestamp {EVENT.RECOVERY.TIMESTAMP}
//	event_recovery_date   {EVENT.RECOVERY.DATE}
//	event_recovery_time   {EVENT.RECOVERY.TIME}
//	event_tags            {EVENT.TAGSJSON}    [{"tag":..,"value":..}], or {EVENT.TAGS}
//	event_opdata          {EVENT.OPDATA}
//	event_source          {EVENT.SOURCE}
//	trigger_id            {TRIGGER.ID}
//	trigger_name          {TRIGGER.NAME}
//	trigger_description   {TRIGGER.DESCRIPTION}
//	host_name             {HOST.NAME}
//	host_host             {HOST.HOST}
//	host_ip               {HOST.IP}
//	alert_subject         {ALERT.SUBJECT}
//	alert_message         {ALERT.MESSAGE}
//	zabbix_url            {$ZABBIX.URL}
//
// Names are matched exactly. Every value may be a JSON string (what Zabbix
// sends), a number or null; event_tags may also be the JSON array itself. A
// value that is still an unexpanded macro ("{EVENT.RECOVERY.DATE}", which
// Zabbix leaves in place in a problem notification) or one of Zabbix's
// placeholders for an unknown value ("*UNKNOWN*", and "UNKNOWN" for a host
// without interfaces) reads as absent.
//
// Status: event_value 0 (the recovery notification) is resolved. A problem
// update (event_update_status 1) whose event_update_action says "closed" is
// resolved too, since the problem was closed by hand. One whose action says
// "acknowledged", or any problem notification with event_ack_status "Yes",
// is acknowledged. Everything else with event_value 1 is firing.
//
// Severity: event_nseverity when present, since severity names can be
// renamed in Zabbix's settings and the number cannot; otherwise the
// event_severity name:
//
//	5 Disaster                        → CRITICAL
//	4 High                            → ERROR
//	3 Average, 2 Warning              → WARNING
//	1 Information, 0 Not classified   → INFO
//	missing or anything else          → WARNING
//
// Title is trigger_name, else event_name, else alert_subject. Resource is
// host_name, else host_host, else host_ip. Description is
// trigger_description, else alert_message. Labels are the event tags (a
// tag given twice keeps its values sorted and comma-joined), then host,
// host_ip, trigger_id, severity and event_source, which win over tags of
// the same name. Annotations hold the descriptive text (opdata, messages,
// the update action). Link is Zabbix's event page, built from zabbix_url, trigger_id
// and event_id. StartsAt comes from event_timestamp, else event_date and
// event_time; EndsAt, on resolved signals only, from the recovery
// equivalents. Zabbix renders dates in the Zabbix server's time zone
// without saying which, so dates are read as UTC: send the timestamps when
// the server runs in another zone. RawPayload is the whole body.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both): "zbx:" followed by event_id as sent.
// {EVENT.ID} is the id of the problem event, and Zabbix keeps it in the
// recovery and update notifications of that problem, so every notification
// of one problem shares the fingerprint and no two problems of one Zabbix
// server do. Event ids are unique only within a server: two servers of one
// tenant can reuse an id, which this version of the recipe does not tell
// apart.
type Zabbix struct{}

var zabbixRecipe = Recipe{Name: ZabbixSource, Prefix: "zbx", Version: 1}

// zabbixIDPattern matches Zabbix object ids, which are unsigned 64-bit
// integers.
var zabbixIDPattern = regexp.MustCompile(`^[0-9]{1,20}$`)

// zabbixMacroPattern matches a macro Zabbix could not expand and left as
// written, such as {EVENT.RECOVERY.DATE} or {$ZABBIX.URL}.
var zabbixMacroPattern = regexp.MustCompile(`^\{[$#]?[A-Z][A-Z0-9_.]*\}$`)

// The update actions that change an alert's status. \b keeps
// "unacknowledged" from matching "acknowledged".
var (
	zabbixClosedPattern       = regexp.MustCompile(`(?i)\bclosed\b`)
	zabbixAcknowledgedPattern = regexp.MustCompile(`(?i)\backnowledged\b`)
)

// zabbixEvent is the media type's parameter object after reading.
type zabbixEvent struct {
	id, value, source                     string
	updateStatus, updateAction, updateMsg string
	ackStatus, name, severity, nseverity  string
	timestamp, date, clock                string
	recTimestamp, recDate, recClock       string
	opdata                                string
	triggerID, triggerName, triggerDesc   string
	hostName, hostHost, hostIP            string
	alertSubject, alertMessage, zabbixURL string
	tags                                  map[string]string
}

// Normalise implements Normaliser. Headers are not used: the body is what
// the media type's script chose to send, and nothing else identifies it.
func (Zabbix) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	ev, err := readZabbixEvent(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: Zabbix notification: %v", ErrInvalidPayload, err)
	}
	sig, err := zabbixSignal(ev, received)
	if err != nil {
		return nil, fmt.Errorf("%w: Zabbix notification: %v", ErrInvalidPayload, err)
	}
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

func readZabbixEvent(payload []byte) (zabbixEvent, error) {
	f, err := decodeObjectFields(payload)
	if err != nil {
		return zabbixEvent{}, err
	}
	text := func(name string) string { return zabbixExpanded(f.text(name)) }
	ev := zabbixEvent{
		id: text("event_id"), value: text("event_value"), source: text("event_source"),
		updateStatus: text("event_update_status"), updateAction: text("event_update_action"),
		updateMsg: text("event_update_message"), ackStatus: text("event_ack_status"),
		name: text("event_name"), severity: text("event_severity"), nseverity: text("event_nseverity"),
		timestamp: text("event_timestamp"), date: text("event_date"), clock: text("event_time"),
		recTimestamp: text("event_recovery_timestamp"), recDate: text("event_recovery_date"),
		recClock: text("event_recovery_time"), opdata: text("event_opdata"),
		triggerID: text("trigger_id"), triggerName: text("trigger_name"),
		triggerDesc: text("trigger_description"), hostName: text("host_name"),
		hostHost: text("host_host"), hostIP: text("host_ip"), alertSubject: text("alert_subject"),
		alertMessage: text("alert_message"), zabbixURL: text("zabbix_url"),
	}
	if f.err != nil {
		return zabbixEvent{}, f.err
	}
	if ev.tags, err = zabbixTags(f.raw["event_tags"]); err != nil {
		return zabbixEvent{}, fmt.Errorf("event_tags: %w", err)
	}
	if ev.id == "" {
		return zabbixEvent{}, errors.New("event_id is missing")
	}
	if !zabbixIDPattern.MatchString(ev.id) {
		return zabbixEvent{}, errors.New("event_id is not a Zabbix id (digits)")
	}
	return ev, nil
}

func zabbixSignal(ev zabbixEvent, received time.Time) (*signalv1.Signal, error) {
	status, err := zabbixStatus(ev)
	if err != nil {
		return nil, err
	}
	startsAt, err := zabbixTime(ev.timestamp, ev.date, ev.clock)
	if err != nil {
		return nil, fmt.Errorf("event time: %w", err)
	}
	sig := &signalv1.Signal{
		Source:      ZabbixSource,
		Status:      status,
		Severity:    zabbixSeverity(ev.nseverity, ev.severity),
		Title:       cmp.Or(strings.TrimSpace(ev.triggerName), strings.TrimSpace(ev.name), strings.TrimSpace(ev.alertSubject), "Zabbix event "+ev.id),
		Description: cmp.Or(ev.triggerDesc, ev.alertMessage),
		Resource:    cmp.Or(ev.hostName, ev.hostHost, ev.hostIP),
		Labels:      zabbixLabels(ev),
		Annotations: zabbixAnnotations(ev),
		StartsAt:    startsAt,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  ev.id,
		Link:        zabbixLink(ev),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		if sig.EndsAt, err = zabbixTime(ev.recTimestamp, ev.recDate, ev.recClock); err != nil {
			return nil, fmt.Errorf("recovery time: %w", err)
		}
	}
	zabbixRecipe.Apply(sig, ev.id)
	return sig, nil
}

func zabbixStatus(ev zabbixEvent) (signalv1.Status, error) {
	switch ev.updateStatus {
	case "", "0", "1":
	default:
		return 0, errors.New(`event_update_status is neither "0" nor "1"`)
	}
	switch ev.value {
	case "0":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "1":
	case "":
		return 0, errors.New("event_value is missing")
	default:
		return 0, errors.New(`event_value is neither "1" (problem) nor "0" (recovery)`)
	}
	if ev.updateStatus == "1" {
		if zabbixClosedPattern.MatchString(ev.updateAction) {
			return signalv1.Status_STATUS_RESOLVED, nil
		}
		if zabbixAcknowledgedPattern.MatchString(ev.updateAction) {
			return signalv1.Status_STATUS_ACKNOWLEDGED, nil
		}
	}
	if strings.EqualFold(strings.TrimSpace(ev.ackStatus), "yes") {
		return signalv1.Status_STATUS_ACKNOWLEDGED, nil
	}
	return signalv1.Status_STATUS_FIRING, nil
}

// zabbixSeverity maps Zabbix's six severities; see Zabbix for the table.
func zabbixSeverity(nseverity, name string) signalv1.Severity {
	switch strings.TrimSpace(nseverity) {
	case "5":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "4":
		return signalv1.Severity_SEVERITY_ERROR
	case "3", "2":
		return signalv1.Severity_SEVERITY_WARNING
	case "1", "0":
		return signalv1.Severity_SEVERITY_INFO
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "disaster":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "high":
		return signalv1.Severity_SEVERITY_ERROR
	case "information", "not classified":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}

// zabbixTime reads a Unix timestamp, or failing that a date and time in
// Zabbix's "yyyy.mm.dd" and "hh:mm:ss" forms, read as UTC. All empty means
// unset.
func zabbixTime(timestamp, date, clock string) (*timestamppb.Timestamp, error) {
	switch {
	case timestamp != "":
		sec, err := strconv.ParseInt(timestamp, 10, 64)
		if err != nil {
			return nil, errors.New("timestamp is not Unix seconds")
		}
		return epochTime(sec, time.Second)
	case date != "":
		var t time.Time
		var err error
		if clock == "" {
			t, err = time.Parse("2006.01.02", date)
		} else {
			t, err = time.Parse("2006.01.02 15:04:05", date+" "+clock)
		}
		if err != nil {
			return nil, errors.New(`date and time are not "yyyy.mm.dd" and "hh:mm:ss"`)
		}
		return checkedTimestamp(t)
	default:
		return nil, nil
	}
}

// zabbixTags reads event_tags as sent by {EVENT.TAGSJSON} (a JSON array of
// {"tag","value"} objects, usually inside a string since webhook parameters
// are strings) or by {EVENT.TAGS} ("name:value, name2:value2").
func zabbixTags(raw json.RawMessage) (map[string]string, error) {
	raw = bytes.TrimSpace(raw)
	if !jsonPresent(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := optionalString(raw)
		if err != nil {
			return nil, err
		}
		s = strings.TrimSpace(zabbixExpanded(s))
		if !strings.HasPrefix(s, "[") {
			return zabbixTagList(s), nil
		}
		raw = []byte(s)
	}
	var items []struct {
		Tag   json.RawMessage `json:"tag"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New(`not an array of {"tag","value"} objects`)
	}
	tags := tagValues{}
	for _, item := range items {
		name, err := scalarText(item.Tag)
		if err != nil {
			return nil, fmt.Errorf("tag name: %w", err)
		}
		value, err := scalarText(item.Value)
		if err != nil {
			return nil, fmt.Errorf("tag value: %w", err)
		}
		tags.add(name, value)
	}
	return tags.labels(), nil
}

// zabbixTagList reads the {EVENT.TAGS} form, "name:value, name2:value2".
// Zabbix writes no space around the colon, so none is trimmed there.
func zabbixTagList(s string) map[string]string {
	tags := tagValues{}
	for part := range strings.SplitSeq(s, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), ":")
		tags.add(name, value)
	}
	return tags.labels()
}

func zabbixLabels(ev zabbixEvent) map[string]string {
	labels := make(map[string]string, len(ev.tags)+4)
	for name, value := range ev.tags {
		labels[name] = value
	}
	setLabel(labels, "host", cmp.Or(ev.hostName, ev.hostHost))
	setLabel(labels, "host_ip", ev.hostIP)
	setLabel(labels, "trigger_id", ev.triggerID)
	setLabel(labels, "severity", ev.severity)
	setLabel(labels, "event_source", ev.source)
	return labels
}

func zabbixAnnotations(ev zabbixEvent) map[string]string {
	annotations := map[string]string{}
	setLabel(annotations, "trigger_description", ev.triggerDesc)
	setLabel(annotations, "opdata", ev.opdata)
	setLabel(annotations, "alert_subject", ev.alertSubject)
	setLabel(annotations, "alert_message", ev.alertMessage)
	setLabel(annotations, "update_action", ev.updateAction)
	setLabel(annotations, "update_message", ev.updateMsg)
	setLabel(annotations, "event_name", ev.name)
	return annotations
}

// zabbixLink builds the event page Zabbix's own integrations link to.
func zabbixLink(ev zabbixEvent) string {
	base := httpLink(ev.zabbixURL)
	if base == "" || !zabbixIDPattern.MatchString(ev.triggerID) {
		return ""
	}
	q := url.Values{"triggerid": {ev.triggerID}, "eventid": {ev.id}}
	return strings.TrimRight(base, "/") + "/tr_events.php?" + q.Encode()
}

// zabbixExpanded returns s, or "" when s is a macro Zabbix left unexpanded
// or one of its placeholders for an unknown value, so that neither is
// mistaken for a value.
func zabbixExpanded(s string) string {
	if s == "*UNKNOWN*" || s == "UNKNOWN" || zabbixMacroPattern.MatchString(s) {
		return ""
	}
	return s
}
