package normalise

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// zabbixProblemPayload is what Alexus's media type script posts for a
// problem: every parameter a string, as Zabbix expands them, the recovery
// macros left unexpanded and the tags from {EVENT.TAGSJSON} inside a
// string.
const zabbixProblemPayload = `{
  "event_id": "48213",
  "event_value": "1",
  "event_source": "0",
  "event_update_status": "0",
  "event_update_action": "",
  "event_update_message": "",
  "event_ack_status": "No",
  "event_name": "High CPU utilization (over 90% for 5m)",
  "event_severity": "High",
  "event_nseverity": "4",
  "event_date": "2026.03.01",
  "event_time": "11:55:07",
  "event_recovery_date": "{EVENT.RECOVERY.DATE}",
  "event_recovery_time": "{EVENT.RECOVERY.TIME}",
  "event_tags": "[{\"tag\":\"scope\",\"value\":\"performance\"},{\"tag\":\"component\",\"value\":\"cpu\"},{\"tag\":\"component\",\"value\":\"os\"}]",
  "event_opdata": "Current utilization: 97.3 %",
  "trigger_id": "23107",
  "trigger_name": "High CPU utilization on db-3",
  "trigger_description": "CPU utilization is too high. The system might be slow to respond.",
  "host_name": "db-3",
  "host_host": "db-3.prod",
  "host_ip": "10.0.4.17",
  "alert_subject": "Problem: High CPU utilization",
  "alert_message": "Problem started at 11:55:07 on 2026.03.01",
  "zabbix_url": "https://zabbix.example.com/"
}`

// zabbixRecoveryPayload is the recovery notification of the same problem:
// event_id stays the problem's, event_value becomes 0 and the recovery
// macros are expanded.
const zabbixRecoveryPayload = `{
  "event_id": "48213",
  "event_value": "0",
  "event_source": "0",
  "event_update_status": "0",
  "event_ack_status": "No",
  "event_name": "High CPU utilization (over 90% for 5m)",
  "event_severity": "High",
  "event_nseverity": "4",
  "event_date": "2026.03.01",
  "event_time": "11:55:07",
  "event_recovery_date": "2026.03.01",
  "event_recovery_time": "12:20:45",
  "event_tags": "[{\"tag\":\"scope\",\"value\":\"performance\"},{\"tag\":\"component\",\"value\":\"cpu\"},{\"tag\":\"component\",\"value\":\"os\"}]",
  "trigger_id": "23107",
  "trigger_name": "High CPU utilization on db-3",
  "host_name": "db-3",
  "host_ip": "10.0.4.17",
  "zabbix_url": "https://zabbix.example.com"
}`

// zabbixVariant returns zabbixProblemPayload with fields replaced; a nil
// value removes the field.
func zabbixVariant(t testing.TB, changes map[string]any) []byte {
	return []byte(jsonVariant(t, zabbixProblemPayload, changes))
}

func normaliseZabbix(t *testing.T, payload []byte) *signalv1.Signal {
	return mustNormaliseOne(t, Zabbix{}, string(payload), nil)
}

func TestZabbixProblem(t *testing.T) {
	t.Parallel()
	s := normaliseZabbix(t, []byte(zabbixProblemPayload))
	require.Equal(t, "zabbix", s.GetSource())
	require.Equal(t, "zbx:48213", s.GetFingerprint())
	require.Equal(t, "zabbix", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "48213", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "High CPU utilization on db-3", s.GetTitle())
	require.Equal(t, "CPU utilization is too high. The system might be slow to respond.", s.GetDescription())
	require.Equal(t, "db-3", s.GetResource())
	require.Equal(t, map[string]string{
		"scope": "performance", "component": "cpu,os",
		"host": "db-3", "host_ip": "10.0.4.17", "trigger_id": "23107", "severity": "High", "event_source": "0",
	}, s.GetLabels())
	require.Equal(t, "Current utilization: 97.3 %", s.GetAnnotations()["opdata"])
	require.Equal(t, "Problem: High CPU utilization", s.GetAnnotations()["alert_subject"])
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 7, 0, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt(), "the unexpanded recovery macros are no end time")
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId(), "normalisers never assign IDs")
	require.Empty(t, s.GetTenantId(), "normalisers never set the tenant")
	require.JSONEq(t, zabbixProblemPayload, string(s.GetRawPayload()))

	link, err := url.Parse(s.GetLink())
	require.NoError(t, err)
	require.Equal(t, "https://zabbix.example.com/tr_events.php", link.Scheme+"://"+link.Host+link.Path)
	require.Equal(t, url.Values{"triggerid": {"23107"}, "eventid": {"48213"}}, link.Query())
}

func TestZabbixRecovery(t *testing.T) {
	t.Parallel()
	s := normaliseZabbix(t, []byte(zabbixRecoveryPayload))
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, "zbx:48213", s.GetFingerprint())
	require.Equal(t, time.Date(2026, 3, 1, 11, 55, 7, 0, time.UTC), s.GetStartsAt().AsTime())
	require.Equal(t, time.Date(2026, 3, 1, 12, 20, 45, 0, time.UTC), s.GetEndsAt().AsTime())
	require.Equal(t, "High CPU utilization on db-3", s.GetTitle())
	require.Contains(t, s.GetLink(), "https://zabbix.example.com/tr_events.php?")
}

func TestZabbixUpdates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		update map[string]any
		want   signalv1.Status
	}{
		{"acknowledged", map[string]any{"event_update_status": "1", "event_update_action": "acknowledged", "event_ack_status": "Yes"}, signalv1.Status_STATUS_ACKNOWLEDGED},
		{"acknowledged with a comment", map[string]any{"event_update_status": "1", "event_update_action": "acknowledged and commented", "event_update_message": "looking"}, signalv1.Status_STATUS_ACKNOWLEDGED},
		{"unacknowledged", map[string]any{"event_update_status": "1", "event_update_action": "unacknowledged", "event_ack_status": "No"}, signalv1.Status_STATUS_FIRING},
		{"comment on an acknowledged problem", map[string]any{"event_update_status": "1", "event_update_action": "commented", "event_ack_status": "Yes"}, signalv1.Status_STATUS_ACKNOWLEDGED},
		{"severity changed", map[string]any{"event_update_status": "1", "event_update_action": "changed severity from Average to High"}, signalv1.Status_STATUS_FIRING},
		{"closed by hand", map[string]any{"event_update_status": "1", "event_update_action": "closed"}, signalv1.Status_STATUS_RESOLVED},
		{"action text without an update", map[string]any{"event_update_status": "0", "event_update_action": "acknowledged"}, signalv1.Status_STATUS_FIRING},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := normaliseZabbix(t, zabbixVariant(t, tc.update))
			require.Equal(t, tc.want, s.GetStatus())
			require.Equal(t, "zbx:48213", s.GetFingerprint(), "an update keeps the problem's fingerprint")
		})
	}
}

// A hand-built body: numbers instead of strings, the tag array itself,
// Unix timestamps, {EVENT.TAGS} text, "*UNKNOWN*" and no trigger name.
func TestZabbixUnusualButValid(t *testing.T) {
	t.Parallel()
	s := normaliseZabbix(t, []byte(`{
	  "event_id": 1099511627776, "event_value": 0, "event_nseverity": 5,
	  "event_timestamp": 1772365500, "event_recovery_timestamp": "1772366400",
	  "event_name": "Interface eth0: Link down",
	  "event_tags": [{"tag": "interface", "value": "eth0"}, {"tag": "class", "value": null}],
	  "host_host": "sw-core-1", "host_ip": "*UNKNOWN*", "trigger_id": "{TRIGGER.ID}",
	  "zabbix_url": "https://zabbix.example.com"
	}`))
	require.Equal(t, "zbx:1099511627776", s.GetFingerprint())
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "Interface eth0: Link down", s.GetTitle(), "title falls back to event_name")
	require.Equal(t, "sw-core-1", s.GetResource(), "resource falls back to host_host")
	require.Equal(t, map[string]string{"interface": "eth0", "class": "", "host": "sw-core-1"}, s.GetLabels())
	require.Equal(t, time.Unix(1772365500, 0).UTC(), s.GetStartsAt().AsTime())
	require.Equal(t, time.Unix(1772366400, 0).UTC(), s.GetEndsAt().AsTime())
	require.Empty(t, s.GetLink(), "no link without a trigger id")

	list := normaliseZabbix(t, zabbixVariant(t, map[string]any{"event_tags": "Service:MySQL, component:db, component:storage, nodeRole"}))
	require.Equal(t, "MySQL", list.GetLabels()["Service"])
	require.Equal(t, "db,storage", list.GetLabels()["component"])
	require.Contains(t, list.GetLabels(), "nodeRole")

	minimal := normaliseZabbix(t, []byte(`{"event_id":"7","event_value":"1"}`))
	require.Equal(t, "Zabbix event 7", minimal.GetTitle())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, minimal.GetSeverity())
	require.Nil(t, minimal.GetStartsAt())
	require.NotNil(t, minimal.GetLabels())

	dateOnly := normaliseZabbix(t, zabbixVariant(t, map[string]any{"event_time": nil}))
	require.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), dateOnly.GetStartsAt().AsTime())

	noInterface := normaliseZabbix(t, zabbixVariant(t, map[string]any{"host_ip": "UNKNOWN"}))
	require.NotContains(t, noInterface.GetLabels(), "host_ip", "Zabbix's UNKNOWN is no address")

	unsafe := normaliseZabbix(t, zabbixVariant(t, map[string]any{"zabbix_url": "javascript:alert(1)//"}))
	require.Empty(t, unsafe.GetLink(), "only http(s) links are kept")
}

func TestZabbixFingerprint(t *testing.T) {
	t.Parallel()
	problem := normaliseZabbix(t, []byte(zabbixProblemPayload))
	recovery := normaliseZabbix(t, []byte(zabbixRecoveryPayload))
	repeat := normaliseZabbix(t, zabbixVariant(t, map[string]any{"event_time": "12:05:07", "event_opdata": "98 %"}))
	other := normaliseZabbix(t, zabbixVariant(t, map[string]any{"event_id": "48214"}))
	sameTriggerOtherHost := normaliseZabbix(t, zabbixVariant(t, map[string]any{"event_id": "48215", "host_name": "db-4"}))

	require.Equal(t, problem.GetFingerprint(), recovery.GetFingerprint())
	require.Equal(t, problem.GetFingerprint(), repeat.GetFingerprint())
	require.NotEqual(t, problem.GetFingerprint(), other.GetFingerprint())
	require.NotEqual(t, other.GetFingerprint(), sameTriggerOtherHost.GetFingerprint())
	// Pinned, so that a change to the contract fails here first.
	require.Equal(t, "zbx:48213", problem.GetFingerprint())
}

func TestZabbixSeverity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		nseverity, name string
		want            signalv1.Severity
	}{
		{"5", "", signalv1.Severity_SEVERITY_CRITICAL},
		{"4", "", signalv1.Severity_SEVERITY_ERROR},
		{"3", "", signalv1.Severity_SEVERITY_WARNING},
		{"2", "", signalv1.Severity_SEVERITY_WARNING},
		{"1", "", signalv1.Severity_SEVERITY_INFO},
		{"0", "", signalv1.Severity_SEVERITY_INFO},
		{"", "Disaster", signalv1.Severity_SEVERITY_CRITICAL},
		{"", "High", signalv1.Severity_SEVERITY_ERROR},
		{"", "Average", signalv1.Severity_SEVERITY_WARNING},
		{"", "Warning", signalv1.Severity_SEVERITY_WARNING},
		{"", "Information", signalv1.Severity_SEVERITY_INFO},
		{"", " not classified ", signalv1.Severity_SEVERITY_INFO},
		{"", "", signalv1.Severity_SEVERITY_WARNING},
		{"", "Katastrophe", signalv1.Severity_SEVERITY_WARNING},
		{"9", "", signalv1.Severity_SEVERITY_WARNING},
		// The number wins: severity names can be renamed in Zabbix.
		{"5", "Sev-1", signalv1.Severity_SEVERITY_CRITICAL},
		{"1", "High", signalv1.Severity_SEVERITY_INFO},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, zabbixSeverity(tc.nseverity, tc.name), "nseverity %q, name %q", tc.nseverity, tc.name)
	}
	s := normaliseZabbix(t, zabbixVariant(t, map[string]any{"event_nseverity": nil, "event_severity": "Disaster"}))
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
}

func TestZabbixRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"not json", []byte(`<xml/>`), "not a JSON object"},
		{"json array", []byte(`[{"event_id":"1"}]`), "not a JSON object"},
		{"null", []byte(`null`), "not a JSON object"},
		{"empty object", []byte(`{}`), "event_id is missing"},
		{"unexpanded event id", zabbixVariant(t, map[string]any{"event_id": "{EVENT.ID}"}), "event_id is missing"},
		{"event id not digits", zabbixVariant(t, map[string]any{"event_id": "48213; DROP"}), "event_id is not a Zabbix id"},
		{"event id an object", zabbixVariant(t, map[string]any{"event_id": map[string]any{"id": 1}}), "event_id: want a string or a number"},
		{"missing event value", zabbixVariant(t, map[string]any{"event_value": nil}), "event_value is missing"},
		{"discovery event value", zabbixVariant(t, map[string]any{"event_value": "2"}), `event_value is neither "1"`},
		{"bad update status", zabbixVariant(t, map[string]any{"event_update_status": "yes"}), "event_update_status is neither"},
		{"bad timestamp", zabbixVariant(t, map[string]any{"event_timestamp": "soon"}), "event time: timestamp is not Unix seconds"},
		{"timestamp out of range", zabbixVariant(t, map[string]any{"event_timestamp": "99999999999999"}), "event time: time out of range"},
		{"bad date", zabbixVariant(t, map[string]any{"event_date": "01/03/2026"}), "event time: date and time are not"},
		{"bad recovery time", []byte(`{"event_id":"1","event_value":"0","event_recovery_date":"2026.03.01","event_recovery_time":"25:00:00"}`), "recovery time: date and time are not"},
		{"tags an object", zabbixVariant(t, map[string]any{"event_tags": map[string]any{"a": "b"}}), "event_tags: not an array"},
		{"tags string not json", zabbixVariant(t, map[string]any{"event_tags": "[{\"tag\":"}), "event_tags: not an array"},
		{"tag value an object", zabbixVariant(t, map[string]any{"event_tags": []any{map[string]any{"tag": "a", "value": map[string]any{}}}}), "event_tags: tag value: want a string or a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Zabbix{}.Normalise(tc.payload, nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzZabbix(f *testing.F) {
	for _, seed := range []string{
		zabbixProblemPayload, zabbixRecoveryPayload,
		`{"event_id":"7","event_value":"1"}`,
		`{"event_id":7,"event_value":0,"event_recovery_timestamp":-1}`,
		`{"event_id":"7","event_value":"1","event_update_status":"1","event_update_action":"acknowledged"}`,
		`{"event_id":"7","event_value":"1","event_tags":"a:b, c"}`,
		`{"event_id":"7","event_value":"1","event_tags":[{"tag":"a","value":"b"}]}`,
		`{"event_id":"7","event_value":"1","event_date":"9999.12.31","event_time":"23:59:59"}`,
		`{"event_id":"7","event_value":"1","zabbix_url":"http://[::1]:80","trigger_id":"1"}`,
		"{\"event_id\":\"7\",\"event_value\":\"1\",\"trigger_name\":\"\xff\"}",
		`{}`, `null`, `[]`, `"x"`, `{"event_id":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Zabbix{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, ZabbixSource, sigs, err) {
			return
		}
		require.Len(t, sigs, 1)
	})
}
