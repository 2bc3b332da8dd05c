package signature

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSNSStringToSign pins the canonical strings, starting from the
// example Notification in the AWS documentation, so that a change to the
// field order or selection cannot pass unnoticed (the signing tests build
// their own string, and would agree with a wrong one only by accident).
func TestSNSStringToSign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		want    string
		wantErr string
	}{
		{
			name: "Notification with Subject",
			json: `{"Type":"Notification","MessageId":"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
				"TopicArn":"arn:aws:sns:us-west-2:123456789012:MyTopic","Subject":"My First Message",
				"Message":"Hello world!","Timestamp":"2012-05-02T00:54:06.655Z","SignatureVersion":"1",
				"UnsubscribeURL":"https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe"}`,
			want: "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n" +
				"Subject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\n" +
				"TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n",
		},
		{
			name: "Notification without Subject, escapes resolved",
			json: `{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:1:t",
				"Message":"{\"a\":1}\nline \u00e9","Timestamp":"2026-11-29T08:00:00.000Z"}`,
			want: "Message\n{\"a\":1}\nline é\nMessageId\nm-1\n" +
				"Timestamp\n2026-11-29T08:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n",
		},
		{
			name: "SubscriptionConfirmation",
			json: `{"Type":"SubscriptionConfirmation","MessageId":"m-2","Token":"tok",
				"TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"confirm","SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
				"Timestamp":"2026-11-29T08:00:00.000Z","Subject":"ignored"}`,
			want: "Message\nconfirm\nMessageId\nm-2\nSubscribeURL\nhttps://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription\n" +
				"Timestamp\n2026-11-29T08:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nSubscriptionConfirmation\n",
		},
		{
			name: "UnsubscribeConfirmation",
			json: `{"Type":"UnsubscribeConfirmation","MessageId":"m-3","Token":"tok",
				"TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"bye","SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
				"Timestamp":"2026-11-29T08:00:00.000Z"}`,
			want: "Message\nbye\nMessageId\nm-3\nSubscribeURL\nhttps://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription\n" +
				"Timestamp\n2026-11-29T08:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nUnsubscribeConfirmation\n",
		},
		{
			name:    "SubscriptionConfirmation without Token",
			json:    `{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"a","Message":"m","SubscribeURL":"https://x","Timestamp":"t"}`,
			wantErr: "no Token",
		},
		{
			name:    "no Type",
			json:    `{"Message":"raw delivery"}`,
			wantErr: "no Type",
		},
		{
			name:    "unknown Type",
			json:    `{"Type":"Other"}`,
			wantErr: "is not Notification",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m SNSMessage
			require.NoError(t, json.Unmarshal([]byte(tt.json), &m))
			got, err := snsStringToSign(&m)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
