package normalise

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// splunkPayload is the webhook alert action's body for a scheduled search.
const splunkPayload = `{
  "result": {
    "_time": "1772365500.250",
    "_raw": "Mar  1 11:45:00 web-1 sshd[2211]: Failed password for invalid user admin from 203.0.113.9 port 52211 ssh2",
    "_cd": "12:4711",
    "host": "web-1",
    "source": "/var/log/secure",
    "sourcetype": "linux_secure",
    "count": "8",
    "src_ip": ["203.0.113.9", "203.0.113.10"],
    "severity": "high"
  },
  "sid": "scheduler__admin__search__RMD5e461de0b8c5ef1c3_at_1772365500_1234",
  "results_link": "https://splunk.example.com:8000/app/search/@go?sid=scheduler__admin__search__RMD5e461de0b8c5ef1c3_at_1772365500_1234",
  "search_name": "Failed SSH logins",
  "owner": "admin",
  "app": "search"
}`

func normaliseSplunk(t *testing.T, payload string) *signalv1.Signal {
	return mustNormaliseOne(t, Splunk{}, payload, nil)
}

// splunkVariant returns splunkPayload with top-level fields replaced and
// result fields replaced under "result.<name>"; a nil value removes.
func splunkVariant(t testing.TB, changes map[string]any) string {
	return jsonVariant(t, splunkPayload, changes)
}

func TestSplunkFiring(t *testing.T) {
	t.Parallel()
	s := normaliseSplunk(t, splunkPayload)
	require.Equal(t, "splunk", s.GetSource())
	require.Equal(t, "splunk", s.GetFingerprintRecipe())
	require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
	require.Equal(t, "scheduler__admin__search__RMD5e461de0b8c5ef1c3_at_1772365500_1234", s.GetExternalId())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, s.GetSeverity())
	require.Equal(t, "Failed SSH logins", s.GetTitle())
	require.Equal(t, "web-1", s.GetResource())
	require.Equal(t, map[string]string{
		"host": "web-1", "source": "/var/log/secure", "sourcetype": "linux_secure", "count": "8",
		"src_ip": "203.0.113.9,203.0.113.10", "severity": "high",
		"search_name": "Failed SSH logins", "app": "search", "owner": "admin",
	}, s.GetLabels(), "internal _fields are not labels")
	require.Contains(t, s.GetAnnotations()["_raw"], "Failed password for invalid user admin")
	require.Equal(t, "https://splunk.example.com:8000/app/search/@go?sid=scheduler__admin__search__RMD5e461de0b8c5ef1c3_at_1772365500_1234", s.GetLink())
	require.Equal(t, time.Date(2026, 3, 1, 11, 45, 0, 250e6, time.UTC), s.GetStartsAt().AsTime())
	require.Nil(t, s.GetEndsAt())
	require.Equal(t, received, s.GetReceivedAt().AsTime())
	require.Empty(t, s.GetId())
	require.Empty(t, s.GetTenantId())
	require.JSONEq(t, splunkPayload, string(s.GetRawPayload()))
}

// Splunk never says an alert is over: the next run of the same search is
// a repeat of the same firing alert, with its own sid.
func TestSplunkRepeatIsStillFiring(t *testing.T) {
	t.Parallel()
	first := normaliseSplunk(t, splunkPayload)
	next := normaliseSplunk(t, splunkVariant(t, map[string]any{
		"sid":           "scheduler__admin__search__RMD5e461de0b8c5ef1c3_at_1772365800_1301",
		"result._time":  "1772365800",
		"result.count":  "3",
		"result._raw":   nil,
		"result.src_ip": "198.51.100.4",
	}))
	require.Equal(t, signalv1.Status_STATUS_FIRING, next.GetStatus())
	require.Equal(t, first.GetFingerprint(), next.GetFingerprint())
	require.NotEqual(t, first.GetExternalId(), next.GetExternalId())
	require.Empty(t, next.GetAnnotations())
}

// The example in Splunk's own documentation: an unsaved search (null
// search_name), no host, a short result; and a result with odd values.
func TestSplunkUnusualButValid(t *testing.T) {
	t.Parallel()
	doc := `{
	  "result": {"sourcetype": "mongod", "count": "8"},
	  "sid": "scheduler_admin_search_W2_at_14232356_132",
	  "results_link": "http://web.example.local:8000/app/search/@go?sid=scheduler_admin_search_W2_at_14232356_132",
	  "search_name": null,
	  "owner": "admin",
	  "app": "search"
	}`
	s := normaliseSplunk(t, doc)
	require.Equal(t, "Splunk search scheduler_admin_search_W2", s.GetTitle())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, s.GetSeverity(), "no severity or urgency")
	require.Empty(t, s.GetResource(), "no host or source")
	require.Nil(t, s.GetStartsAt())
	require.Equal(t, "splunk:"+HashFields(map[string]string{
		"sid_search": "scheduler_admin_search_W2", "app": "search", "sourcetype": "mongod",
	}), s.GetFingerprint())

	odd := normaliseSplunk(t, `{"search_name": "Disk usage", "sid": "1772365500.77",
	  "result": {"source": "df", "pct": 97, "ok": false, "empty": [], "none": null, "nested": {"a": 1},
	             "_time": "2026-03-01T11:45:00+01:00", "urgency": "critical"}}`)
	require.Equal(t, "df", odd.GetResource(), "source stands in for a missing host")
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, odd.GetSeverity(), "urgency stands in for severity")
	require.Equal(t, "97", odd.GetLabels()["pct"])
	require.Equal(t, "false", odd.GetLabels()["ok"])
	require.Equal(t, `{"a":1}`, odd.GetLabels()["nested"])
	require.NotContains(t, odd.GetLabels(), "empty")
	require.NotContains(t, odd.GetLabels(), "none")
	require.Equal(t, "", odd.GetLabels()["app"], "app is absent, not invented")
	require.Equal(t, time.Date(2026, 3, 1, 10, 45, 0, 0, time.UTC), odd.GetStartsAt().AsTime())
	require.Empty(t, odd.GetLink())

	noResult := normaliseSplunk(t, `{"search_name": "Heartbeat missing", "app": "ops", "sid": "x", "result": null, "results_link": "ftp://x"}`)
	require.Equal(t, "Heartbeat missing", noResult.GetTitle())
	require.Empty(t, noResult.GetLink(), "only http(s) links are kept")

	badTime := normaliseSplunk(t, splunkVariant(t, map[string]any{"result._time": "yesterday"}))
	require.Nil(t, badTime.GetStartsAt(), "a _time the search rewrote is left unset, not refused")
}

func TestSplunkFingerprint(t *testing.T) {
	t.Parallel()
	base := normaliseSplunk(t, splunkPayload)
	cases := []struct {
		name    string
		changes map[string]any
		same    bool
	}{
		{"another run", map[string]any{"sid": "scheduler__admin__search__RMD5e461de0b8c5ef1c3_at_1772366100_9", "result._time": "1772366100"}, true},
		{"other counts and fields", map[string]any{"result.count": "99", "result.severity": "low", "owner": "bob"}, true},
		{"another host", map[string]any{"result.host": "web-2"}, false},
		{"another source", map[string]any{"result.source": "/var/log/auth.log"}, false},
		{"another sourcetype", map[string]any{"result.sourcetype": "syslog"}, false},
		{"no host", map[string]any{"result.host": nil}, false},
		{"another search", map[string]any{"search_name": "Failed RDP logins"}, false},
		{"another app", map[string]any{"app": "security"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := normaliseSplunk(t, splunkVariant(t, tc.changes))
			if tc.same {
				require.Equal(t, base.GetFingerprint(), s.GetFingerprint())
			} else {
				require.NotEqual(t, base.GetFingerprint(), s.GetFingerprint())
			}
		})
	}
	// The contract, spelled out, and pinned (sha256 of
	// "app\0search\0host\0web-1\0search_name\0Failed SSH logins\0source\0/var/log/secure\0sourcetype\0linux_secure\0",
	// computed outside Go).
	require.Equal(t, "splunk:"+HashFields(map[string]string{
		"search_name": "Failed SSH logins", "app": "search",
		"host": "web-1", "source": "/var/log/secure", "sourcetype": "linux_secure",
	}), base.GetFingerprint())
	require.Equal(t, "splunk:8ee78e9a334245b33875f531e6ba899336ba73ec9957ae48a4cb69e6deb522d7", base.GetFingerprint())
}

func TestSplunkSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]signalv1.Severity{
		"6":             signalv1.Severity_SEVERITY_CRITICAL,
		"5":             signalv1.Severity_SEVERITY_CRITICAL,
		"fatal":         signalv1.Severity_SEVERITY_CRITICAL,
		"Severe":        signalv1.Severity_SEVERITY_CRITICAL,
		"critical":      signalv1.Severity_SEVERITY_CRITICAL,
		"4":             signalv1.Severity_SEVERITY_ERROR,
		"error":         signalv1.Severity_SEVERITY_ERROR,
		"high":          signalv1.Severity_SEVERITY_ERROR,
		"3":             signalv1.Severity_SEVERITY_WARNING,
		"warn":          signalv1.Severity_SEVERITY_WARNING,
		"warning":       signalv1.Severity_SEVERITY_WARNING,
		"medium":        signalv1.Severity_SEVERITY_WARNING,
		"2":             signalv1.Severity_SEVERITY_INFO,
		"1":             signalv1.Severity_SEVERITY_INFO,
		"info":          signalv1.Severity_SEVERITY_INFO,
		"debug":         signalv1.Severity_SEVERITY_INFO,
		"low":           signalv1.Severity_SEVERITY_INFO,
		"informational": signalv1.Severity_SEVERITY_INFO,
		"":              signalv1.Severity_SEVERITY_WARNING,
		"7":             signalv1.Severity_SEVERITY_WARNING,
		"unknown":       signalv1.Severity_SEVERITY_WARNING,
	}
	for severity, want := range cases {
		require.Equal(t, want, splunkSeverity(severity), "severity %q", severity)
	}
	// severity wins over urgency, and a number is read as Splunk's scale.
	s := normaliseSplunk(t, splunkVariant(t, map[string]any{"result.severity": 6, "result.urgency": "low"}))
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	u := normaliseSplunk(t, splunkVariant(t, map[string]any{"result.severity": nil, "result.urgency": "informational"}))
	require.Equal(t, signalv1.Severity_SEVERITY_INFO, u.GetSeverity())
	none := normaliseSplunk(t, splunkVariant(t, map[string]any{"result.severity": nil}))
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, none.GetSeverity())
}

func TestSplunkRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"not json", `sid=1&search_name=x`, "not a JSON object"},
		{"json array", `[{"sid":"1"}]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"empty object", `{}`, "has neither search_name nor sid"},
		{"null names", `{"search_name": null, "sid": null, "result": {"host": "a"}}`, "has neither search_name nor sid"},
		{"search name an object", `{"search_name": {"name": "x"}, "sid": "1"}`, "search_name: want a string or a number"},
		{"sid a list", `{"search_name": "x", "sid": ["1"]}`, "sid: want a string or a number"},
		{"result a list", `{"search_name": "x", "result": [{"host": "a"}]}`, "result: not a JSON object"},
		{"result a string", `{"search_name": "x", "result": "host=a"}`, "result: not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := Splunk{}.Normalise([]byte(tc.payload), nil, received)
			require.ErrorIs(t, err, ErrInvalidPayload)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sigs)
		})
	}
}

func FuzzSplunk(f *testing.F) {
	for _, seed := range []string{
		splunkPayload,
		`{"result":{"sourcetype":"mongod","count":"8"},"sid":"scheduler_admin_search_W2_at_14232356_132","search_name":null,"owner":"admin","app":"search"}`,
		`{"search_name":"x","result":{"_time":"1e308"}}`,
		`{"search_name":"x","result":{"_time":"253402300799.9999"}}`,
		`{"search_name":"x","result":{"_time":"-1","severity":5,"host":["a",["b"],{"c":1}]}}`,
		`{"sid":"_at_1_2","result":{}}`,
		"{\"search_name\":\"\xff\",\"result\":{\"\xfe\":\"\xfd\"}}",
		`{}`, `null`, `[]`, `{"result":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sigs, err := Splunk{}.Normalise(payload, nil, received)
		if !requireStorableSignals(t, SplunkSource, sigs, err) {
			return
		}
		require.Len(t, sigs, 1)
		require.Equal(t, signalv1.Status_STATUS_FIRING, sigs[0].GetStatus())
	})
}
