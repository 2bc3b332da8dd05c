package normalise

import (
	"crypto"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// SNSSource is the source name of AWS SNS HTTP(S) deliveries.
const SNSSource = "sns"

// SNS message types, as in the Type member and the x-amz-sns-message-type
// header.
const (
	SNSNotification             = "Notification"
	SNSSubscriptionConfirmation = "SubscriptionConfirmation"
	SNSUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// ErrSNSControl is matched (errors.Is) by the *SNSControlMessage that SNS
// returns for subscription and unsubscription confirmations.
var ErrSNSControl = errors.New("SNS control message")

// SNSMessage is the JSON envelope SNS POSTs to HTTP(S) subscribers, as
// documented for Notification, SubscriptionConfirmation and
// UnsubscribeConfirmation messages. Decoding is case-insensitive, so the
// SigningCertUrl spelling some AWS tools use reads too.
type SNSMessage struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token,omitempty"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`
}

// SNSControlMessage is the error SNS returns for a SubscriptionConfirmation
// or UnsubscribeConfirmation: such a message is not an alert, and what to
// do with it belongs to the ingest plane. It must first verify the
// message's signature (SNSStringToSign), check the SubscribeURL's host
// against the SNS endpoints it trusts, and only then visit SubscribeURL,
// and only for a SubscriptionConfirmation: visiting it for an
// UnsubscribeConfirmation would subscribe again.
type SNSControlMessage struct {
	SNSMessage
}

// Error names the message type only: the message is not an alert, not a
// fault, and its contents are for the caller to read from the fields.
func (m *SNSControlMessage) Error() string {
	return "SNS " + m.Type + " is a control message, not an alert"
}

// Is makes errors.Is(err, ErrSNSControl) true.
func (m *SNSControlMessage) Is(target error) bool {
	return target == ErrSNSControl
}

// SNSStringToSign returns the canonical string that SNS signs for m, for
// signature versions "1" and "2", which sign the same string and differ in
// hash (SNSSignatureHash): for each signed member in byte-wise order of
// name, the name, a newline, the value and a newline. A Notification signs
// Message, MessageId, Subject (only when the message has one), Timestamp,
// TopicArn and Type; a SubscriptionConfirmation or UnsubscribeConfirmation
// signs Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn and
// Type. Values are the decoded JSON strings, with escapes resolved.
func SNSStringToSign(m SNSMessage) (string, error) {
	if _, err := SNSSignatureHash(m.SignatureVersion); err != nil {
		return "", err
	}
	type member struct{ name, value string }
	var members []member
	switch m.Type {
	case SNSNotification:
		members = []member{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != "" {
			members = append(members, member{"Subject", m.Subject})
		}
		members = append(members, member{"Timestamp", m.Timestamp}, member{"TopicArn", m.TopicArn}, member{"Type", m.Type})
	case SNSSubscriptionConfirmation, SNSUnsubscribeConfirmation:
		members = []member{
			{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type},
		}
	default:
		return "", fmt.Errorf("SNS message type %.32q is not signed", m.Type)
	}
	var b strings.Builder
	for _, mem := range members {
		if mem.value == "" {
			return "", fmt.Errorf("SNS %s message has no %s to sign", m.Type, mem.name)
		}
		b.WriteString(mem.name)
		b.WriteByte('\n')
		b.WriteString(mem.value)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// SNSSignatureHash returns the hash of an SNS signature version: SHA1withRSA
// for "1", SHA256withRSA for "2".
func SNSSignatureHash(version string) (crypto.Hash, error) {
	switch version {
	case "1":
		return crypto.SHA1, nil
	case "2":
		return crypto.SHA256, nil
	default:
		return 0, fmt.Errorf("SNS SignatureVersion %.16q is not supported, want \"1\" or \"2\"", version)
	}
}

// SNS normalises AWS SNS HTTP(S) deliveries: the signed JSON envelope
// (SNSMessage), with raw message delivery off. The x-amz-sns-message-type
// header, when sent, must agree with the body's Type.
//
// A SubscriptionConfirmation or UnsubscribeConfirmation becomes no signal:
// Normalise returns a *SNSControlMessage error (errors.Is ErrSNSControl),
// after checking it has the MessageId, TopicArn, Token and https
// SubscribeURL that confirming and verifying it need. A Notification's
// Message is read as one of three kinds, in this order.
//
// # CloudWatch alarm state changes
//
// A Message that is a JSON object with AlarmName and NewStateValue is a
// CloudWatch alarm state change (metric, metric-math and composite alarms).
//
//	status       ALARM → firing; OK → resolved; INSUFFICIENT_DATA → firing
//	severity     WARNING; INFO for INSUFFICIENT_DATA
//	title        AlarmName
//	description  AlarmDescription and NewStateReason, a blank line apart
//	resource     the first dimension present of InstanceId,
//	             DBInstanceIdentifier, DBClusterIdentifier, CacheClusterId,
//	             LoadBalancer, LoadBalancerName, TargetGroup, FunctionName,
//	             QueueName, TopicName, TableName, ServiceName, ClusterName,
//	             AutoScalingGroupName, BucketName, ApiName, VolumeId,
//	             StateMachineArn; else the first dimension; else AlarmName
//	labels       every dimension under its own name (of the metric, or of
//	             every metric of a metric-math alarm), then alarm_name,
//	             aws_account_id, aws_region, metric_namespace, metric_name,
//	             statistic, comparison_operator, threshold, sns_topic_arn
//	annotations  alarm_description, state_reason, new_state, old_state,
//	             alarm_rule, region_name, sns_subject, sns_message_id
//	link         the alarm in the CloudWatch console, from AlarmArn
//	starts_at    StateChangeTime (else Timestamp), unless resolved
//	ends_at      StateChangeTime (else Timestamp), when resolved
//	external id  AlarmArn
//	raw payload  the alarm state change JSON (the Message)
//
// CloudWatch alarms carry no severity, so WARNING says "look at this"
// without claiming an outage. INSUFFICIENT_DATA means the alarm cannot tell
// whether its condition holds, often because the resource stopped
// reporting: it keeps an open alarm open (firing) rather than resolving it
// on no evidence, and opens an INFO signal when the alarm was OK, since
// SNS sends it only to those who asked for INSUFFICIENT_DATA actions.
//
// # Generic alerts
//
// A Message that is a JSON object with a "title" or "alerts" member is read
// in the generic format (see Generic), with its validation and mapping, as
// one signal per alert, each labelled sns_topic_arn unless it has that
// label, with annotation sns_message_id; the raw payload is the alert.
//
// # Other notifications
//
// Any other Message is a plain notification: title Subject (else the first
// line of Message, cut to 120 characters), description Message, status
// firing, severity WARNING, labels sns_topic_arn and every String or Number
// message attribute, starts_at Timestamp, external id MessageId, raw
// payload the SNS envelope.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both):
//
//   - CloudWatch alarm: "cwalarm:" followed by AlarmArn unchanged. The ARN
//     names one alarm in one account and region, and every state change of
//     that alarm, firing or resolved, carries it. Old notifications without
//     an AlarmArn get "cwalarmhash:" followed by HashFields over
//     {"account": AWSAccountId, "region": Region, "alarm": AlarmName}.
//   - Generic alert: "snsgeneric:" followed by its fingerprint when it has
//     one, else "snsgenerichash:" followed by the generic hash (see
//     Generic).
//   - Plain notification: "snstopic:" followed by HashFields over
//     {"topic_arn": TopicArn, "subject": Subject}, so that notifications of
//     one subject on one topic are one alert.
//
// A tenant or tenant_id member anywhere in the body or Message is ignored:
// the tenant comes only from the verified caller.
type SNS struct{}

// The branches of the SNS recipe (see SNS).
var (
	snsAlarmRecipe       = Recipe{Name: SNSSource, Prefix: "cwalarm", Version: 1}
	snsAlarmHashRecipe   = Recipe{Name: SNSSource, Prefix: "cwalarmhash", Version: 1}
	snsGenericRecipe     = Recipe{Name: SNSSource, Prefix: "snsgeneric", Version: 1}
	snsGenericHashRecipe = Recipe{Name: SNSSource, Prefix: "snsgenerichash", Version: 1}
	snsTopicRecipe       = Recipe{Name: SNSSource, Prefix: "snstopic", Version: 1}
)

// snsEnvelope adds the members read for plain notifications to the signed
// ones. Message attributes stay raw so that odd ones are skipped, not
// fatal.
type snsEnvelope struct {
	SNSMessage
	MessageAttributes map[string]json.RawMessage `json:"MessageAttributes"`
}

// snsMessageAttribute is one SNS message attribute as HTTP deliveries
// carry it.
type snsMessageAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// Normalise implements Normaliser. It reads the x-amz-sns-message-type
// header.
func (SNS) Normalise(payload []byte, headers map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	env, err := snsDecode(payload, headers["x-amz-sns-message-type"])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	if env.Type != SNSNotification {
		if err := snsCheckControl(env.SNSMessage); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
		}
		return nil, &SNSControlMessage{SNSMessage: env.SNSMessage}
	}
	sigs, err := snsNotificationSignals(env, payload, received)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return sigs, nil
}

// snsDecode reads the envelope and checks its type against the header's.
func snsDecode(payload []byte, headerType string) (snsEnvelope, error) {
	var env snsEnvelope
	if !jsonIsObject(payload) {
		return env, fmt.Errorf("not a JSON SNS message")
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		return env, fmt.Errorf("not a JSON SNS message: %v", err)
	}
	if env.Type == "" {
		return env, fmt.Errorf("SNS message has no Type; raw message delivery must be off, since only the envelope is signed")
	}
	if headerType != "" && headerType != env.Type {
		return env, fmt.Errorf("x-amz-sns-message-type header %.32q does not match the message Type %.32q", headerType, env.Type)
	}
	switch env.Type {
	case SNSNotification, SNSSubscriptionConfirmation, SNSUnsubscribeConfirmation:
		return env, nil
	}
	return env, fmt.Errorf("SNS message type %.32q is not %s, %s or %s", env.Type, SNSNotification, SNSSubscriptionConfirmation, SNSUnsubscribeConfirmation)
}

// snsCheckControl makes sure a confirmation holds what confirming and
// verifying it need, so that the caller can rely on the fields.
func snsCheckControl(m SNSMessage) error {
	switch {
	case m.MessageID == "":
		return fmt.Errorf("SNS %s has no MessageId", m.Type)
	case m.TopicArn == "":
		return fmt.Errorf("SNS %s has no TopicArn", m.Type)
	case m.Token == "":
		return fmt.Errorf("SNS %s has no Token", m.Type)
	}
	u, err := url.Parse(m.SubscribeURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("SNS %s has no https SubscribeURL", m.Type)
	}
	return nil
}

// snsNotificationSignals reads a Notification's Message as an alarm, as
// generic alerts or as a plain notification (see SNS).
func snsNotificationSignals(env snsEnvelope, payload []byte, received time.Time) ([]*signalv1.Signal, error) {
	switch {
	case env.MessageID == "":
		return nil, fmt.Errorf("SNS Notification has no MessageId")
	case env.TopicArn == "":
		return nil, fmt.Errorf("SNS Notification has no TopicArn")
	case strings.TrimSpace(env.Message) == "":
		return nil, fmt.Errorf("SNS Notification has no Message")
	}
	sent, err := rfc3339Time(env.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("Timestamp: %w", err)
	}
	message := []byte(env.Message)
	members := snsMessageMembers(message)
	switch {
	case members["AlarmName"] && members["NewStateValue"]:
		sig, err := snsAlarmSignal(env, message, sent, received)
		if err != nil {
			return nil, fmt.Errorf("CloudWatch alarm: %w", err)
		}
		return []*signalv1.Signal{sig}, nil
	case members["title"] || members["alerts"]:
		return snsGenericSignals(env, message, received)
	}
	return []*signalv1.Signal{snsPlainSignal(env, payload, sent, received)}, nil
}

// snsMessageMembers returns the member names of a Message that is a JSON
// object, and nothing for any other Message.
func snsMessageMembers(message []byte) map[string]bool {
	if !jsonIsObject(message) {
		return nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(message, &members) != nil {
		return nil
	}
	names := make(map[string]bool, len(members))
	for name := range members {
		names[name] = true
	}
	return names
}

// snsAlarm is a CloudWatch alarm state change as SNS carries it. Strings
// that CloudWatch sends as null read as empty.
type snsAlarm struct {
	AlarmName        string           `json:"AlarmName"`
	AlarmDescription string           `json:"AlarmDescription"`
	AWSAccountID     string           `json:"AWSAccountId"`
	NewStateValue    string           `json:"NewStateValue"`
	NewStateReason   string           `json:"NewStateReason"`
	StateChangeTime  string           `json:"StateChangeTime"`
	Region           string           `json:"Region"`
	AlarmArn         string           `json:"AlarmArn"`
	OldStateValue    string           `json:"OldStateValue"`
	AlarmRule        string           `json:"AlarmRule"`
	Trigger          *snsAlarmTrigger `json:"Trigger"`
}

// snsAlarmTrigger describes what a metric or metric-math alarm watches.
type snsAlarmTrigger struct {
	MetricName         string              `json:"MetricName"`
	Namespace          string              `json:"Namespace"`
	Statistic          string              `json:"Statistic"`
	ExtendedStatistic  string              `json:"ExtendedStatistic"`
	Dimensions         []snsAlarmDimension `json:"Dimensions"`
	ComparisonOperator string              `json:"ComparisonOperator"`
	Threshold          json.RawMessage     `json:"Threshold"`
	Metrics            []struct {
		MetricStat *struct {
			Metric struct {
				Dimensions []snsAlarmDimension `json:"Dimensions"`
			} `json:"Metric"`
		} `json:"MetricStat"`
	} `json:"Metrics"`
}

type snsAlarmDimension struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// snsAlarmResourceDimensions lists, most specific first, the dimensions
// that name the resource an alarm watches.
var snsAlarmResourceDimensions = []string{
	"InstanceId", "DBInstanceIdentifier", "DBClusterIdentifier", "CacheClusterId",
	"LoadBalancer", "LoadBalancerName", "TargetGroup", "FunctionName",
	"QueueName", "TopicName", "TableName", "ServiceName", "ClusterName",
	"AutoScalingGroupName", "BucketName", "ApiName", "VolumeId", "StateMachineArn",
}

// snsAlarmSignal maps a CloudWatch alarm state change (see SNS).
func snsAlarmSignal(env snsEnvelope, message []byte, sent *timestamppb.Timestamp, received time.Time) (*signalv1.Signal, error) {
	var a snsAlarm
	if err := json.Unmarshal(message, &a); err != nil {
		return nil, fmt.Errorf("not a CloudWatch alarm state change: %v", err)
	}
	if strings.TrimSpace(a.AlarmName) == "" {
		return nil, fmt.Errorf("AlarmName is empty")
	}
	status, severity, err := snsAlarmState(a.NewStateValue)
	if err != nil {
		return nil, err
	}
	changed, err := snsAlarmTime(a.StateChangeTime)
	if err != nil {
		return nil, fmt.Errorf("StateChangeTime: %w", err)
	}
	if changed == nil {
		changed = sent
	}
	dims := a.dimensions()
	sig := &signalv1.Signal{
		Source:      SNSSource,
		Status:      status,
		Severity:    severity,
		Title:       a.AlarmName,
		Description: snsJoinText(a.AlarmDescription, a.NewStateReason),
		Resource:    snsAlarmResource(dims, a.AlarmName),
		Labels:      a.labels(dims, env.TopicArn),
		Annotations: nonEmpty(map[string]string{
			"alarm_description": a.AlarmDescription, "state_reason": a.NewStateReason,
			"new_state": a.NewStateValue, "old_state": a.OldStateValue, "alarm_rule": a.AlarmRule,
			"region_name": a.Region, "sns_subject": env.Subject, "sns_message_id": env.MessageID,
		}),
		ReceivedAt: timestamppb.New(received),
		Link:       snsAlarmConsoleLink(a.AlarmArn, a.AlarmName),
		RawPayload: message,
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = changed
	} else {
		sig.StartsAt = changed
	}
	if snsIsAlarmArn(a.AlarmArn) {
		sig.ExternalId = a.AlarmArn
		snsAlarmRecipe.Apply(sig, a.AlarmArn)
	} else {
		snsAlarmHashRecipe.Apply(sig, HashFields(map[string]string{
			"account": a.AWSAccountID, "region": a.Region, "alarm": a.AlarmName,
		}))
	}
	return sig, nil
}

// snsAlarmState maps an alarm state (see SNS for why INSUFFICIENT_DATA is
// firing at INFO).
func snsAlarmState(state string) (signalv1.Status, signalv1.Severity, error) {
	switch state {
	case "ALARM":
		return signalv1.Status_STATUS_FIRING, signalv1.Severity_SEVERITY_WARNING, nil
	case "OK":
		return signalv1.Status_STATUS_RESOLVED, signalv1.Severity_SEVERITY_WARNING, nil
	case "INSUFFICIENT_DATA":
		return signalv1.Status_STATUS_FIRING, signalv1.Severity_SEVERITY_INFO, nil
	default:
		return 0, 0, fmt.Errorf("NewStateValue %.24q is not ALARM, OK or INSUFFICIENT_DATA", state)
	}
}

// snsAlarmTime parses StateChangeTime, which CloudWatch writes with a
// numeric zone without a colon (2026-03-01T11:55:00.123+0000), and also
// RFC 3339 in case it ever does.
func snsAlarmTime(s string) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02T15:04:05-0700", s)
	if err != nil {
		return rfc3339Time(s)
	}
	return checkedTimestamp(t)
}

// dimensions gathers the dimensions of the alarm's metric or metrics, the
// first value of a name winning, in payload order.
func (a snsAlarm) dimensions() []snsAlarmDimension {
	if a.Trigger == nil {
		return nil
	}
	all := a.Trigger.Dimensions
	for _, m := range a.Trigger.Metrics {
		if m.MetricStat != nil {
			all = append(all, m.MetricStat.Metric.Dimensions...)
		}
	}
	seen := make(map[string]bool, len(all))
	dims := make([]snsAlarmDimension, 0, len(all))
	for _, d := range all {
		if d.Name == "" || seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		dims = append(dims, d)
	}
	return dims
}

func snsAlarmResource(dims []snsAlarmDimension, alarmName string) string {
	for _, name := range snsAlarmResourceDimensions {
		for _, d := range dims {
			if d.Name == name && d.Value != "" {
				return d.Value
			}
		}
	}
	for _, d := range dims {
		if d.Value != "" {
			return d.Value
		}
	}
	return alarmName
}

// labels flattens the dimensions and adds the alarm's identity; Alexus's
// own names are set last, so that they mean the same on every alarm.
func (a snsAlarm) labels(dims []snsAlarmDimension, topicArn string) map[string]string {
	labels := make(map[string]string, len(dims)+9)
	for _, d := range dims {
		labels[d.Name] = d.Value
	}
	region := a.Region
	if r, ok := snsArnRegion(a.AlarmArn); ok {
		region = r
	}
	own := map[string]string{
		"alarm_name": a.AlarmName, "aws_account_id": a.AWSAccountID, "aws_region": region,
		"sns_topic_arn": topicArn,
	}
	if t := a.Trigger; t != nil {
		own["metric_namespace"] = t.Namespace
		own["metric_name"] = t.MetricName
		own["statistic"] = t.Statistic
		if own["statistic"] == "" {
			own["statistic"] = t.ExtendedStatistic
		}
		own["comparison_operator"] = t.ComparisonOperator
		own["threshold"], _ = scalarText(t.Threshold)
	}
	for name, value := range nonEmpty(own) {
		labels[name] = value
	}
	return labels
}

// snsArnPattern matches the alarm ARNs whose parts can be used in a link:
// arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>.
var snsArnPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):cloudwatch:([a-z0-9-]+):[0-9]{12}:alarm:(.+)$`)

// snsIsAlarmArn reports whether arn is usable as the alarm's identity: an
// ARN of any partition, short and printable enough for a fingerprint.
func snsIsAlarmArn(arn string) bool {
	if !strings.HasPrefix(arn, "arn:") || len(arn) > 2048 || !utf8.ValidString(arn) {
		return false
	}
	for _, r := range arn {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func snsArnRegion(arn string) (string, bool) {
	m := snsArnPattern.FindStringSubmatch(arn)
	if m == nil {
		return "", false
	}
	return m[2], true
}

// snsConsoleHosts are the CloudWatch console hosts of the partitions
// snsArnPattern accepts.
var snsConsoleHosts = map[string]string{
	"aws":        "console.aws.amazon.com",
	"aws-cn":     "console.amazonaws.cn",
	"aws-us-gov": "console.amazonaws-us-gov.com",
}

// snsAlarmConsoleLink links to the alarm in the CloudWatch console, when
// its ARN says where it lives.
func snsAlarmConsoleLink(arn, alarmName string) string {
	m := snsArnPattern.FindStringSubmatch(arn)
	if m == nil {
		return ""
	}
	return "https://" + snsConsoleHosts[m[1]] + "/cloudwatch/home?region=" + m[2] +
		"#alarmsV2:alarm/" + url.PathEscape(alarmName)
}

// snsGenericSignals reads a Message written in the generic format.
func snsGenericSignals(env snsEnvelope, message []byte, received time.Time) ([]*signalv1.Signal, error) {
	items, listed, err := genericItems(message)
	if err != nil {
		return nil, fmt.Errorf("Message: %w", err)
	}
	sigs := make([]*signalv1.Signal, 0, len(items))
	for i, raw := range items {
		sig, err := genericItemSignal(raw, SNSSource, snsGenericRecipe, snsGenericHashRecipe, received)
		if err != nil {
			if !listed {
				return nil, fmt.Errorf("Message: %w", err)
			}
			return nil, fmt.Errorf("Message: alert %d: %w", i, err)
		}
		if sig.Labels == nil {
			sig.Labels = make(map[string]string, 1)
		}
		if _, ok := sig.Labels["sns_topic_arn"]; !ok {
			sig.Labels["sns_topic_arn"] = env.TopicArn
		}
		if sig.Annotations == nil {
			sig.Annotations = make(map[string]string, 1)
		}
		sig.Annotations["sns_message_id"] = env.MessageID
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

// snsPlainSignal maps a notification that is neither an alarm nor generic.
func snsPlainSignal(env snsEnvelope, payload []byte, sent *timestamppb.Timestamp, received time.Time) *signalv1.Signal {
	title := strings.TrimSpace(env.Subject)
	if title == "" {
		title = snsFirstLine(env.Message, 120)
	}
	labels := map[string]string{"sns_topic_arn": env.TopicArn}
	for name, raw := range env.MessageAttributes {
		var attr snsMessageAttribute
		if json.Unmarshal(raw, &attr) != nil {
			continue
		}
		if attr.Type == "String" || attr.Type == "Number" {
			labels[name] = attr.Value
		}
	}
	sig := &signalv1.Signal{
		Source:      SNSSource,
		Status:      signalv1.Status_STATUS_FIRING,
		Severity:    signalv1.Severity_SEVERITY_WARNING,
		Title:       title,
		Description: env.Message,
		Labels:      labels,
		StartsAt:    sent,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  env.MessageID,
		RawPayload:  append([]byte(nil), payload...),
	}
	snsTopicRecipe.Apply(sig, HashFields(map[string]string{"topic_arn": env.TopicArn, "subject": env.Subject}))
	return sig
}

// snsFirstLine returns the first non-blank line of s, cut to max
// characters.
func snsFirstLine(s string, max int) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) > max {
			line = string([]rune(line)[:max]) + "…"
		}
		return line
	}
	return "SNS notification"
}

// snsJoinText joins the non-empty texts with a blank line.
func snsJoinText(texts ...string) string {
	kept := make([]string, 0, len(texts))
	for _, t := range texts {
		if t = strings.TrimSpace(t); t != "" {
			kept = append(kept, t)
		}
	}
	return strings.Join(kept, "\n\n")
}
