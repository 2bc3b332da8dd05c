package normalise

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// The alarm state changes below are what CloudWatch publishes to SNS; the
// envelope carries each as a JSON string in Message.
const snsCPUAlarm = `{"AlarmName":"web-1 CPU high","AlarmDescription":"CPU above 80% for 10 minutes","AWSAccountId":"123456789012",` +
	`"AlarmConfigurationUpdatedTimestamp":"2026-02-20T09:00:00.000+0000","NewStateValue":"ALARM",` +
	`"NewStateReason":"Threshold Crossed: 2 out of the last 2 datapoints [93.1 (01/03/26 11:50:00)] were greater than the threshold (80.0).",` +
	`"StateChangeTime":"2026-03-01T11:55:00.123+0000","Region":"US East (N. Virginia)",` +
	`"AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1 CPU high","OldStateValue":"OK","OKActions":[],` +
	`"AlarmActions":["arn:aws:sns:us-east-1:123456789012:alexus"],"InsufficientDataActions":[],` +
	`"Trigger":{"MetricName":"CPUUtilization","Namespace":"AWS/EC2","StatisticType":"Statistic","Statistic":"AVERAGE","Unit":null,` +
	`"Dimensions":[{"value":"i-0abc123def4567890","name":"InstanceId"},{"value":"web","name":"Role"}],"Period":300,"EvaluationPeriods":2,` +
	`"DatapointsToAlarm":2,"ComparisonOperator":"GreaterThanThreshold","Threshold":80.0,"TreatMissingData":"missing","EvaluateLowSampleCountPercentile":""},` +
	`"tenant_id":"00000000-0000-0000-0000-000000000000"}`

var snsCPUAlarmOK = strings.NewReplacer(
	`"NewStateValue":"ALARM"`, `"NewStateValue":"OK"`,
	`"OldStateValue":"OK"`, `"OldStateValue":"ALARM"`,
	`"StateChangeTime":"2026-03-01T11:55:00.123+0000"`, `"StateChangeTime":"2026-03-01T12:25:00.000+0000"`,
	`Threshold Crossed: 2 out of the last 2 datapoints [93.1 (01/03/26 11:50:00)] were greater than`, `Threshold Crossed: 1 datapoint [41.0 (01/03/26 12:20:00)] was not greater than`,
).Replace(snsCPUAlarm)

// A metric-math alarm: its dimensions sit in the metrics it combines.
const snsMathAlarm = `{"AlarmName":"checkout 5xx ratio","AlarmDescription":null,"AWSAccountId":"123456789012","NewStateValue":"ALARM",` +
	`"NewStateReason":"Threshold Crossed: 1 datapoint [0.071] was greater than the threshold (0.05).","StateChangeTime":"2026-03-01T11:40:00.000+0000",` +
	`"Region":"EU (Ireland)","AlarmArn":"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout 5xx ratio","OldStateValue":"OK",` +
	`"Trigger":{"Period":60,"EvaluationPeriods":1,"ComparisonOperator":"GreaterThanThreshold","Threshold":0.05,"TreatMissingData":"missing",` +
	`"Metrics":[{"Expression":"m1/m2","Id":"e1","Label":"5xx ratio","ReturnData":true},` +
	`{"Id":"m1","MetricStat":{"Metric":{"Dimensions":[{"value":"app/checkout-alb/50dc6c495c0c9188","name":"LoadBalancer"}],"MetricName":"HTTPCode_Target_5XX_Count","Namespace":"AWS/ApplicationELB"},"Period":60,"Stat":"Sum"},"ReturnData":false},` +
	`{"Id":"m2","MetricStat":{"Metric":{"Dimensions":[{"value":"app/checkout-alb/50dc6c495c0c9188","name":"LoadBalancer"}],"MetricName":"RequestCount","Namespace":"AWS/ApplicationELB"},"Period":60,"Stat":"Sum"},"ReturnData":false}]}}`

// A composite alarm has a rule, not a metric.
const snsCompositeAlarm = `{"AlarmName":"prod degraded","AlarmDescription":"Several prod alarms at once","AWSAccountId":"123456789012",` +
	`"NewStateValue":"INSUFFICIENT_DATA","NewStateReason":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1 CPU high transitioned to INSUFFICIENT_DATA",` +
	`"StateChangeTime":"2026-03-01T11:00:00.000+0000","Region":"US East (N. Virginia)","AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod degraded",` +
	`"OldStateValue":"OK","AlarmRule":"ALARM(\"web-1 CPU high\") OR ALARM(\"checkout 5xx ratio\")"}`

// An old notification, from before CloudWatch sent AlarmArn.
const snsOldQueueAlarm = `{"AlarmName":"orders backlog","AlarmDescription":null,"AWSAccountId":"123456789012","NewStateValue":"ALARM",` +
	`"OldStateValue":"INSUFFICIENT_DATA","NewStateReason":"Threshold Crossed: 1 datapoint (1200.0) was greater than or equal to the threshold (1000.0).",` +
	`"StateChangeTime":"2026-03-01T10:01:43.726+0000","Region":"US East (N. Virginia)","Trigger":{"MetricName":"ApproximateNumberOfMessagesVisible",` +
	`"Namespace":"AWS/SQS","Statistic":"AVERAGE","Unit":null,"Dimensions":[{"name":"QueueName","value":"orders"}],"Period":60,` +
	`"EvaluationPeriods":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold","Threshold":1000.0}}`

// snsEnvelopeOf wraps a message the way SNS delivers it to an HTTP(S)
// subscriber. Only Subject and Message need escaping; the rest is written
// out.
func snsEnvelopeOf(t testing.TB, subject, message string) string {
	t.Helper()
	quoted, err := json.Marshal(message)
	require.NoError(t, err)
	subjectMember := ""
	if subject != "" {
		quotedSubject, err := json.Marshal(subject)
		require.NoError(t, err)
		subjectMember = `"Subject": ` + string(quotedSubject) + `,`
	}
	return `{
  "Type": "Notification",
  "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn": "arn:aws:sns:us-east-1:123456789012:alexus",
  ` + subjectMember + `
  "Message": ` + string(quoted) + `,
  "Timestamp": "2026-03-01T11:55:01.204Z",
  "SignatureVersion": "2",
  "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
  "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
  "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:alexus:c9135db0-26c4-47ec-8998-413945fb5a96",
  "tenant_id": "00000000-0000-0000-0000-000000000000"
}`
}

const snsSubscriptionConfirmation = `{
  "Type": "SubscriptionConfirmation",
  "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
  "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
  "TopicArn": "arn:aws:sns:us-east-1:123456789012:alexus",
  "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:alexus.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
  "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:alexus&Token=2336412f37",
  "Timestamp": "2026-03-01T09:00:00.000Z",
  "SignatureVersion": "1",
  "Signature": "EXAMPLEpH+",
  "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
}`

var snsHeaders = map[string]string{"x-amz-sns-message-type": "Notification"}

func snsNormalise(t *testing.T, payload string) []*signalv1.Signal {
	return mustNormalise(t, SNS{}, payload, snsHeaders)
}

func TestSNSAlarmFiring(t *testing.T) {
	t.Parallel()
	sigs := snsNormalise(t, snsEnvelopeOf(t, `ALARM: "web-1 CPU high" in US East (N. Virginia)`, snsCPUAlarm))
	require.Len(t, sigs, 1)
	s := sigs[0]
	require.Equal(t, "sns", s.GetSource())
	require.Equal(t, "cwalarm:arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1 CPU high", s.GetFingerprint())
	require.Equal(t, "sns", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1 CPU high", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Equal(t, "web-1 CPU high", s.GetTitle())
	require.Equal(t, "CPU above 80% for 10 minutes\n\nThreshold Crossed: 2 out of the last 2 datapoints [93.1 (01/03/26 11:50:00)] were greater than the threshold (80.0).", s.GetDescription())
	require.Equal(t, "i-0abc123def4567890", s.GetResource())
	require.Equal(t, map[string]string{
		"InstanceId": "i-0abc123def4567890", "Role": "web",
		"alarm_name": "web-1 CPU high", "aws_account_id": "123456789012", "aws_region": "us-east-1",
		"metric_namespace": "AWS/EC2", "metric_name": "CPUUtilization", "statistic": "AVERAGE",
		"comparison_operator": "GreaterThanThreshold", "threshold": "80.0",
		"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:alexus",
	}, s.GetLabels())
	require.Equal(t, "ALARM", s.GetAnnotations()["new_state"])
	require.Equal(t, "OK", s.GetAnnotations()["old_state"])
	require.Equal(t, "US East (N. Virginia)", s.GetAnnotations()["region_name"])
	require.Equal(t, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", s.GetAnnotations()["sns_message_id"])
	require.Equal(t, `ALARM: "web-1 CPU high" in US East (N. Virginia)`, s.GetAnnotations()["sns_subject"])
	require.Equal(t, "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/web-1%20CPU%20high", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 0, 123e6, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId(), "neither the envelope nor the alarm chooses the tenant")
	require.JSONEq(t, snsCPUAlarm, string(s.GetRawPayload()), "the raw payload is the alarm state change")
}

func TestSNSAlarmResolved(t *testing.T) {
	t.Parallel()
	s := snsNormalise(t, snsEnvelopeOf(t, `OK: "web-1 CPU high" in US East (N. Virginia)`, snsCPUAlarmOK))[0]
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, time.Date(2026, 3, 1, 12, 25, 0, 0, time.UTC), s.GetEndsAt().AsTime())
	require.Nil(t, s.GetStartsAt())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
}

func TestSNSAlarmVariants(t *testing.T) {
	t.Parallel()
	math := snsNormalise(t, snsEnvelopeOf(t, "", snsMathAlarm))[0]
	require.Equal(t, "app/checkout-alb/50dc6c495c0c9188", math.GetResource(), "metric-math dimensions name the resource")
	require.Equal(t, "app/checkout-alb/50dc6c495c0c9188", math.GetLabels()["LoadBalancer"])
	require.Equal(t, "0.05", math.GetLabels()["threshold"])
	require.Equal(t, "eu-west-1", math.GetLabels()["aws_region"])
	require.NotContains(t, math.GetLabels(), "metric_name", "a metric-math alarm has no single metric")
	require.Equal(t, "Threshold Crossed: 1 datapoint [0.071] was greater than the threshold (0.05).", math.GetDescription(), "a null description is left out")
	require.NotContains(t, math.GetAnnotations(), "sns_subject")

	composite := snsNormalise(t, snsEnvelopeOf(t, "", snsCompositeAlarm))[0]
	require.Equal(t, signalv1.Status_STATUS_FIRING, composite.GetStatus(), "INSUFFICIENT_DATA keeps an alarm open")
	require.Equal(t, signalv1.Severity_SEVERITY_INFO, composite.GetSeverity())
	require.Equal(t, "prod degraded", composite.GetResource(), "without dimensions the alarm is the resource")
	require.Equal(t, `ALARM("web-1 CPU high") OR ALARM("checkout 5xx ratio")`, composite.GetAnnotations()["alarm_rule"])
	require.Equal(t, time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), composite.GetStartsAt().AsTime())

	old := snsNormalise(t, snsEnvelopeOf(t, "", snsOldQueueAlarm))[0]
	require.Equal(t, "cwalarmhash:"+HashFields(map[string]string{
		"account": "123456789012", "region": "US East (N. Virginia)", "alarm": "orders backlog",
	}), old.GetFingerprint())
	require.Empty(t, old.GetExternalId())
	require.Empty(t, old.GetLink())
	require.Equal(t, "orders", old.GetResource())
	require.Equal(t, "US East (N. Virginia)", old.GetLabels()["aws_region"])

	// Without StateChangeTime the SNS Timestamp stands in.
	noTime := strings.Replace(snsCPUAlarm, `"StateChangeTime":"2026-03-01T11:55:00.123+0000",`, "", 1)
	s := snsNormalise(t, snsEnvelopeOf(t, "", noTime))[0]
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 1, 204e6, time.UTC), s.GetStartsAt().AsTime())

	// The header may be absent; the body's Type decides.
	sigs, err := SNS{}.Normalise([]byte(snsEnvelopeOf(t, "", snsCPUAlarm)), nil, received)
	require.NoError(t, err)
	require.Len(t, sigs, 1)
}

func TestSNSFingerprintStability(t *testing.T) {
	t.Parallel()
	firing := snsNormalise(t, snsEnvelopeOf(t, "ALARM", snsCPUAlarm))[0]
	resolved := snsNormalise(t, snsEnvelopeOf(t, "OK", snsCPUAlarmOK))[0]
	require.Equal(t, firing.GetFingerprint(), resolved.GetFingerprint())
	other := snsNormalise(t, snsEnvelopeOf(t, "ALARM", strings.ReplaceAll(snsCPUAlarm, "web-1 CPU high", "web-2 CPU high")))[0]
	require.NotEqual(t, firing.GetFingerprint(), other.GetFingerprint())
	otherAccount := snsNormalise(t, snsEnvelopeOf(t, "ALARM", strings.ReplaceAll(snsCPUAlarm, "123456789012:alarm", "210987654321:alarm")))[0]
	require.NotEqual(t, firing.GetFingerprint(), otherAccount.GetFingerprint())

	oldFiring := snsNormalise(t, snsEnvelopeOf(t, "", snsOldQueueAlarm))[0]
	oldResolved := snsNormalise(t, snsEnvelopeOf(t, "", strings.Replace(snsOldQueueAlarm, `"NewStateValue":"ALARM"`, `"NewStateValue":"OK"`, 1)))[0]
	require.Equal(t, oldFiring.GetFingerprint(), oldResolved.GetFingerprint())
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, oldResolved.GetStatus())

	plainA := snsNormalise(t, snsEnvelopeOf(t, "Backup failed", "backup of vol-1 failed"))[0]
	plainB := snsNormalise(t, snsEnvelopeOf(t, "Backup failed", "backup of vol-1 failed again"))[0]
	plainC := snsNormalise(t, snsEnvelopeOf(t, "Backup late", "backup of vol-1 late"))[0]
	require.Equal(t, plainA.GetFingerprint(), plainB.GetFingerprint(), "one subject on one topic is one alert")
	require.NotEqual(t, plainA.GetFingerprint(), plainC.GetFingerprint())
}

func TestSNSSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		status   signalv1.Status
		severity signalv1.Severity
	}{
		"ALARM":             {signalv1.Status_STATUS_FIRING, signalv1.Severity_SEVERITY_WARNING},
		"OK":                {signalv1.Status_STATUS_RESOLVED, signalv1.Severity_SEVERITY_WARNING},
		"INSUFFICIENT_DATA": {signalv1.Status_STATUS_FIRING, signalv1.Severity_SEVERITY_INFO},
	}
	for state, want := range cases {
		alarm := strings.Replace(snsCPUAlarm, `"NewStateValue":"ALARM"`, `"NewStateValue":"`+state+`"`, 1)
		s := snsNormalise(t, snsEnvelopeOf(t, "", alarm))[0]
		require.Equal(t, want.status, s.GetStatus(), state)
		require.Equal(t, want.severity, s.GetSeverity(), state)
	}
	// Generic messages keep the generic severity words.
	s := snsNormalise(t, snsEnvelopeOf(t, "", `{"title":"x","severity":"critical"}`))[0]
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
}

func TestSNSGenericMessage(t *testing.T) {
	t.Parallel()
	msg := `{"alerts":[{"title":"Batch import stalled","status":"firing","severity":"error","resource":"importer","fingerprint":"import/stalled","tenant_id":"x"},` +
		`{"title":"Batch import slow","labels":{"sns_topic_arn":"mine"}}]}`
	sigs := snsNormalise(t, snsEnvelopeOf(t, "importer", msg))
	require.Len(t, sigs, 2)
	require.Equal(t, "snsgeneric:import/stalled", sigs[0].GetFingerprint())
	require.Equal(t, "import/stalled", sigs[0].GetExternalId())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, sigs[0].GetSeverity())
	require.Equal(t, "arn:aws:sns:us-east-1:123456789012:alexus", sigs[0].GetLabels()["sns_topic_arn"])
	require.Equal(t, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", sigs[0].GetAnnotations()["sns_message_id"])
	require.Empty(t, sigs[0].GetTenantId())
	require.Equal(t, "snsgenerichash:"+genericHash("Batch import slow", "", map[string]string{"sns_topic_arn": "mine"}), sigs[1].GetFingerprint())
	require.Equal(t, "mine", sigs[1].GetLabels()["sns_topic_arn"], "the alert's own label wins")
	require.JSONEq(t, `{"title":"Batch import slow","labels":{"sns_topic_arn":"mine"}}`, string(sigs[1].GetRawPayload()))
}

func TestSNSPlainMessage(t *testing.T) {
	t.Parallel()
	env := strings.Replace(snsEnvelopeOf(t, "RDS event: failover started", "Multi-AZ instance failover started for db-prod-1."),
		`"Timestamp"`, `"MessageAttributes": {"env": {"Type": "String", "Value": "prod"}, "retries": {"Type": "Number", "Value": "3"}, "blob": {"Type": "Binary", "Value": "AAEC"}, "odd": 7},
  "Timestamp"`, 1)
	s := snsNormalise(t, env)[0]
	require.Equal(t, "RDS event: failover started", s.GetTitle())
	require.Equal(t, "Multi-AZ instance failover started for db-prod-1.", s.GetDescription())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity())
	require.Equal(t, map[string]string{"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:alexus", "env": "prod", "retries": "3"}, s.GetLabels())
	require.Equal(t, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", s.GetExternalId())
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 1, 204e6, time.UTC), s.GetStartsAt().AsTime())
	require.Equal(t, "snstopic:"+HashFields(map[string]string{
		"topic_arn": "arn:aws:sns:us-east-1:123456789012:alexus", "subject": "RDS event: failover started",
	}), s.GetFingerprint())
	require.JSONEq(t, env, string(s.GetRawPayload()), "a plain notification keeps its envelope")

	// Without a subject the message's first line is the title. A JSON
	// message that is neither an alarm nor generic is plain too.
	s = snsNormalise(t, snsEnvelopeOf(t, "", "\n  Disk quota exceeded on share-3  \nused 1.2 TiB of 1 TiB"))[0]
	require.Equal(t, "Disk quota exceeded on share-3", s.GetTitle())
	s = snsNormalise(t, snsEnvelopeOf(t, "", `{"detail-type":"EC2 Instance State-change Notification","AlarmName":"no state"}`))[0]
	require.Equal(t, `{"detail-type":"EC2 Instance State-change Notification","AlarmName":"no state"}`, s.GetTitle())
	s = snsNormalise(t, snsEnvelopeOf(t, "", strings.Repeat("x", 130)))[0]
	require.Equal(t, strings.Repeat("x", 120)+"…", s.GetTitle())
}

func TestSNSControlMessages(t *testing.T) {
	t.Parallel()
	sigs, err := SNS{}.Normalise([]byte(snsSubscriptionConfirmation), map[string]string{"x-amz-sns-message-type": "SubscriptionConfirmation"}, received)
	require.Nil(t, sigs, "a confirmation is never a signal")
	require.ErrorIs(t, err, ErrSNSControl)
	require.False(t, errors.Is(err, ErrInvalidPayload), "a confirmation is not a bad payload")
	var control *SNSControlMessage
	require.ErrorAs(t, err, &control)
	require.Equal(t, SNSSubscriptionConfirmation, control.Type)
	require.Equal(t, "arn:aws:sns:us-east-1:123456789012:alexus", control.TopicArn)
	require.Equal(t, "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", control.MessageID)
	require.Equal(t, "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:alexus&Token=2336412f37", control.SubscribeURL)
	require.Equal(t, "SNS SubscriptionConfirmation is a control message, not an alert", err.Error())
	toSign, err := SNSStringToSign(control.SNSMessage)
	require.NoError(t, err, "the control message carries what verifying it needs")
	require.Contains(t, toSign, "Token\n2336412f37fb")

	unsubscribe := strings.Replace(snsSubscriptionConfirmation, `"SubscriptionConfirmation"`, `"UnsubscribeConfirmation"`, 1)
	_, err = SNS{}.Normalise([]byte(unsubscribe), nil, received)
	require.ErrorAs(t, err, &control)
	require.Equal(t, SNSUnsubscribeConfirmation, control.Type)

	// A confirmation without what confirming needs is a bad payload.
	for name, body := range map[string]string{
		"no SubscribeURL":   strings.Replace(snsSubscriptionConfirmation, `"SubscribeURL"`, `"Other"`, 1),
		"http SubscribeURL": strings.Replace(snsSubscriptionConfirmation, `"https://sns.`, `"http://sns.`, 1),
		"no Token":          strings.Replace(snsSubscriptionConfirmation, `"Token"`, `"Other"`, 1),
		"no TopicArn":       strings.Replace(snsSubscriptionConfirmation, `"TopicArn"`, `"Other"`, 1),
	} {
		_, err := SNS{}.Normalise([]byte(body), nil, received)
		require.ErrorIs(t, err, ErrInvalidPayload, name)
		require.False(t, errors.Is(err, ErrSNSControl), name)
	}
}

func TestSNSRejects(t *testing.T) {
	t.Parallel()
	alarm := func(old, new string) string {
		return snsEnvelopeOf(t, "", strings.Replace(snsCPUAlarm, old, new, 1))
	}
	cases := []struct {
		name, payload string
		headers       map[string]string
		want          string
	}{
		{"not json", `Type=Notification`, snsHeaders, "not a JSON SNS message"},
		{"raw delivery", snsCPUAlarm, snsHeaders, "SNS message has no Type; raw message delivery must be off"},
		{"unknown type", `{"Type":"Greeting"}`, nil, `SNS message type "Greeting" is not Notification`},
		{"header mismatch", snsSubscriptionConfirmation, snsHeaders, `x-amz-sns-message-type header "Notification" does not match the message Type "SubscriptionConfirmation"`},
		{"no topic", strings.Replace(snsEnvelopeOf(t, "", "hi"), `"TopicArn"`, `"Other"`, 1), snsHeaders, "SNS Notification has no TopicArn"},
		{"no message id", strings.Replace(snsEnvelopeOf(t, "", "hi"), `"MessageId"`, `"Other"`, 1), snsHeaders, "SNS Notification has no MessageId"},
		{"empty message", snsEnvelopeOf(t, "", "  "), snsHeaders, "SNS Notification has no Message"},
		{"bad timestamp", strings.Replace(snsEnvelopeOf(t, "", "hi"), "2026-03-01T11:55:01.204Z", "Sunday", 1), snsHeaders, "Timestamp: not an RFC 3339 time"},
		{"message not string", `{"Type":"Notification","MessageId":"1","TopicArn":"t","Message":{"AlarmName":"x"}}`, snsHeaders, "not a JSON SNS message"},
		{"bad state", alarm(`"NewStateValue":"ALARM"`, `"NewStateValue":"PANIC"`), snsHeaders, `CloudWatch alarm: NewStateValue "PANIC" is not ALARM, OK or INSUFFICIENT_DATA`},
		{"bad state time", alarm(`2026-03-01T11:55:00.123+0000`, `yesterday`), snsHeaders, "CloudWatch alarm: StateChangeTime: not an RFC 3339 time"},
		{"bad dimensions", alarm(`"Dimensions":[{"value":"i-0abc123def4567890","name":"InstanceId"},{"value":"web","name":"Role"}]`, `"Dimensions":"InstanceId"`), snsHeaders, "CloudWatch alarm: not a CloudWatch alarm state change"},
		{"empty alarm name", alarm(`"AlarmName":"web-1 CPU high"`, `"AlarmName":""`), snsHeaders, "CloudWatch alarm: AlarmName is empty"},
		{"blank alarm name", alarm(`"AlarmName":"web-1 CPU high"`, `"AlarmName":"  "`), snsHeaders, "CloudWatch alarm: AlarmName is empty"},
		{"bad generic", snsEnvelopeOf(t, "", `{"title":"x","status":"burning"}`), snsHeaders, `Message: status "burning"`},
		{"bad generic item", snsEnvelopeOf(t, "", `{"alerts":[{"title":"x"},{}]}`), snsHeaders, "Message: alert 1: title is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := SNS{}.Normalise([]byte(tc.payload), tc.headers, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func TestSNSStringToSign(t *testing.T) {
	t.Parallel()
	n := SNSMessage{
		Type: "Notification", MessageID: "4d4dc071-ddbf-465d-bba8-08f81c89da64",
		TopicArn: "arn:aws:sns:us-east-2:123456789012:MyTopic", Subject: "My subject",
		Message: "line one\nline \"two\"", Timestamp: "2026-03-01T04:37:04.321Z", SignatureVersion: "1",
	}
	got, err := SNSStringToSign(n)
	require.NoError(t, err)
	require.Equal(t, "Message\nline one\nline \"two\"\n"+
		"MessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\n"+
		"Subject\nMy subject\n"+
		"Timestamp\n2026-03-01T04:37:04.321Z\n"+
		"TopicArn\narn:aws:sns:us-east-2:123456789012:MyTopic\n"+
		"Type\nNotification\n", got)

	// Version 2 signs the same string; a message without a subject leaves
	// the Subject pair out.
	n.SignatureVersion, n.Subject = "2", ""
	got, err = SNSStringToSign(n)
	require.NoError(t, err)
	require.Equal(t, "Message\nline one\nline \"two\"\n"+
		"MessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\n"+
		"Timestamp\n2026-03-01T04:37:04.321Z\n"+
		"TopicArn\narn:aws:sns:us-east-2:123456789012:MyTopic\n"+
		"Type\nNotification\n", got)

	var c SNSMessage
	require.NoError(t, json.Unmarshal([]byte(snsSubscriptionConfirmation), &c))
	got, err = SNSStringToSign(c)
	require.NoError(t, err)
	require.Equal(t, "Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:alexus.\nTo confirm the subscription, visit the SubscribeURL included in this message.\n"+
		"MessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n"+
		"SubscribeURL\nhttps://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:alexus&Token=2336412f37\n"+
		"Timestamp\n2026-03-01T09:00:00.000Z\n"+
		"Token\n"+c.Token+"\n"+
		"TopicArn\narn:aws:sns:us-east-1:123456789012:alexus\n"+
		"Type\nSubscriptionConfirmation\n", got)

	_, err = SNSStringToSign(SNSMessage{Type: "Notification", SignatureVersion: "3"})
	require.ErrorContains(t, err, `SignatureVersion "3" is not supported`)
	_, err = SNSStringToSign(SNSMessage{Type: "Notification", SignatureVersion: "2", Message: "m", MessageID: "1", Timestamp: "t"})
	require.ErrorContains(t, err, "has no TopicArn to sign")
	_, err = SNSStringToSign(SNSMessage{Type: "Other", SignatureVersion: "2"})
	require.ErrorContains(t, err, "is not signed")
}

// TestSNSStringToSignVerifies shows the string in use: signed with
// SHA1withRSA or SHA256withRSA as SNS does, it verifies with the hash
// SNSSignatureHash names.
func TestSNSStringToSignVerifies(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	var m SNSMessage
	require.NoError(t, json.Unmarshal([]byte(snsEnvelopeOf(t, "ALARM", snsCPUAlarm)), &m))
	for _, version := range []string{"1", "2"} {
		m.SignatureVersion = version
		toSign, err := SNSStringToSign(m)
		require.NoError(t, err)
		hash, err := SNSSignatureHash(version)
		require.NoError(t, err)
		var digest []byte
		if hash == crypto.SHA1 {
			sum := sha1.Sum([]byte(toSign))
			digest = sum[:]
		} else {
			sum := sha256.Sum256([]byte(toSign))
			digest = sum[:]
		}
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, hash, digest)
		require.NoError(t, err)
		require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, hash, digest, sig), "version %s", version)
	}
	require.Equal(t, crypto.SHA1, func() crypto.Hash { h, _ := SNSSignatureHash("1"); return h }())
	require.Equal(t, crypto.SHA256, func() crypto.Hash { h, _ := SNSSignatureHash("2"); return h }())
}

func FuzzSNS(f *testing.F) {
	for _, seed := range []struct{ body, messageType string }{
		{snsEnvelopeOf(f, "ALARM", snsCPUAlarm), "Notification"},
		{snsEnvelopeOf(f, "OK", snsCPUAlarmOK), ""},
		{snsEnvelopeOf(f, "", snsMathAlarm), "Notification"},
		{snsEnvelopeOf(f, "", snsCompositeAlarm), "Notification"},
		{snsEnvelopeOf(f, "", snsOldQueueAlarm), "Notification"},
		{snsEnvelopeOf(f, "", `{"alerts":[{"title":"x"}]}`), "Notification"},
		{snsEnvelopeOf(f, "s", "plain \xff text"), "Notification"},
		{snsEnvelopeOf(f, "", `{"AlarmName":"a","NewStateValue":"OK","StateChangeTime":"0000-01-01T00:00:00+2400","AlarmArn":"arn:\u0000"}`), ""},
		{snsSubscriptionConfirmation, "SubscriptionConfirmation"},
		{`{"Type":"Notification"}`, ""}, {`{}`, ""}, {`null`, ""}, {`[]`, "Notification"},
	} {
		f.Add([]byte(seed.body), seed.messageType)
	}
	f.Fuzz(func(t *testing.T, payload []byte, messageType string) {
		sigs, err := SNS{}.Normalise(payload, map[string]string{"x-amz-sns-message-type": messageType}, received)
		if errors.Is(err, ErrSNSControl) {
			require.Nil(t, sigs)
			var control *SNSControlMessage
			require.ErrorAs(t, err, &control)
			_, _ = SNSStringToSign(control.SNSMessage)
			return
		}
		if !requireStorableSignals(t, SNSSource, sigs, err) {
			return
		}
		for _, s := range sigs {
			require.NotEmpty(t, strings.TrimSpace(s.GetTitle()))
		}
	})
}
