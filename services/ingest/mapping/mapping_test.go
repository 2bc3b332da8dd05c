package mapping_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/mapping"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

var received = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)

// uptimeRule maps an uptime checker's webhook (a tool with no native
// normaliser) the way a tenant would.
var uptimeRule = mapping.Rule{
	Name:        "uptime",
	Version:     2,
	Title:       `payload.monitor.name + " is " + (payload.heartbeat.status == 1 ? "up" : "down")`,
	Status:      `payload.heartbeat.status == 1 ? "resolved" : "firing"`,
	Severity:    `payload.monitor.?tier.orValue("warning")`,
	Description: `payload.heartbeat.msg`,
	Resource:    `payload.monitor.url`,
	Link:        `"https://uptime.example/dashboard/" + string(int(payload.monitor.id))`,
	Labels:      `{"monitor": payload.monitor.name, "type": payload.monitor.type, "region": headers[?"x-region"].orValue("")}`,
	Fingerprint: `"monitor-" + string(int(payload.monitor.id))`,
	StartsAt:    `payload.heartbeat.time`,
}

const downPayload = `{"monitor": {"id": 42, "name": "checkout", "url": "https://shop.example/checkout", "type": "http", "tier": "critical"},
 "heartbeat": {"status": 0, "msg": "timeout after 30s", "time": "2026-11-29T05:58:00Z"}}`

const upPayload = `{"monitor": {"id": 42, "name": "checkout", "url": "https://shop.example/checkout", "type": "http"},
 "heartbeat": {"status": 1, "msg": "200 OK", "time": "2026-11-29T06:01:00Z"}}`

func TestRuleMapsFiringAndResolved(t *testing.T) {
	t.Parallel()
	c, err := mapping.Compile(uptimeRule)
	require.NoError(t, err)

	down, err := c.Normalise([]byte(downPayload), map[string]string{"x-region": "eu-west"}, received)
	require.NoError(t, err)
	require.Len(t, down, 1)
	s := down[0]
	require.Equal(t, "checkout is down", s.GetTitle())
	require.Equal(t, signalv1.Status_STATUS_FIRING, s.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_CRITICAL, s.GetSeverity())
	require.Equal(t, "timeout after 30s", s.GetDescription())
	require.Equal(t, "https://shop.example/checkout", s.GetResource())
	require.Equal(t, "https://uptime.example/dashboard/42", s.GetLink())
	require.Equal(t, map[string]string{"monitor": "checkout", "type": "http", "region": "eu-west"}, s.GetLabels())
	require.Equal(t, "map-uptime:monitor-42", s.GetFingerprint())
	require.Equal(t, "mapping:uptime", s.GetFingerprintRecipe())
	require.EqualValues(t, 2, s.GetFingerprintRecipeVersion())
	require.Equal(t, "monitor-42", s.GetExternalId())
	require.Equal(t, time.Date(2026, 11, 29, 5, 58, 0, 0, time.UTC), s.GetStartsAt().AsTime())
	require.Equal(t, "uptime", s.GetSource())
	require.Empty(t, s.GetTenantId(), "a mapping never sets the tenant")

	up, err := c.Normalise([]byte(upPayload), nil, received)
	require.NoError(t, err)
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, up[0].GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_WARNING, up[0].GetSeverity(), "a missing optional field falls back")
	require.Equal(t, s.GetFingerprint(), up[0].GetFingerprint(), "the resolution carries the same fingerprint")
}

func TestRuleWithAlertListAndHashedFingerprint(t *testing.T) {
	t.Parallel()
	c, err := mapping.Compile(mapping.Rule{
		Name:   "batchy",
		Alerts: `payload.events`,
		Title:  `alert.check`,
		Status: `alert.ok ? "resolved" : "firing"`,
		Labels: `{"host": alert.host, "attempts": alert.attempts}`,
	})
	require.NoError(t, err)
	sigs, err := c.Normalise([]byte(`{"events": [
		{"check": "disk", "host": "db-1", "ok": false, "attempts": 3},
		{"check": "disk", "host": "db-2", "ok": false, "attempts": 1},
		{"check": "disk", "host": "db-1", "ok": true, "attempts": 4}]}`), nil, received)
	require.NoError(t, err)
	require.Len(t, sigs, 3)
	require.Equal(t, "3", sigs[0].GetLabels()["attempts"], "numbers become their JSON text")
	require.NotEqual(t, sigs[0].GetFingerprint(), sigs[1].GetFingerprint(), "different hosts, different alerts")
	require.True(t, strings.HasPrefix(sigs[0].GetFingerprint(), "map-batchy:"))
	require.Empty(t, sigs[0].GetExternalId())
	// The attempts label changes between firing and resolved, so a rule
	// whose labels carry counters should set Fingerprint explicitly: the
	// hash covers every label.
	require.NotEqual(t, sigs[0].GetFingerprint(), sigs[2].GetFingerprint())
}

func TestCompileNamesTheBadExpression(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		rule mapping.Rule
		want []string
	}{
		"syntax error":   {mapping.Rule{Name: "x", Title: `payload.a +`}, []string{`field "title"`, `payload.a +`, "Syntax error"}},
		"unknown var":    {mapping.Rule{Name: "x", Title: `"t"`, Resource: `pyload.host`}, []string{`field "resource"`, "undeclared reference"}},
		"wrong type":     {mapping.Rule{Name: "x", Title: `1 + 2`}, []string{`field "title"`, "want a string"}},
		"labels no map":  {mapping.Rule{Name: "x", Title: `"t"`, Labels: `"a"`}, []string{`field "labels"`, "want a map"}},
		"missing title":  {mapping.Rule{Name: "x"}, []string{`"title" needs an expression`}},
		"bad name":       {mapping.Rule{Name: "Bad Name", Title: `"t"`}, []string{"name"}},
		"too long":       {mapping.Rule{Name: "x", Title: `"` + strings.Repeat("a", 5000) + `"`}, []string{"longer than"}},
		"alerts no list": {mapping.Rule{Name: "x", Title: `"t"`, Alerts: `"a"`}, []string{`field "alerts"`, "want a list"}},
	} {
		_, err := mapping.Compile(tc.rule)
		require.ErrorIs(t, err, mapping.ErrInvalidRule, name)
		for _, w := range tc.want {
			require.Contains(t, err.Error(), w, name)
		}
	}
}

func TestBadPayloadsAndRuntimeErrors(t *testing.T) {
	t.Parallel()
	c, err := mapping.Compile(uptimeRule)
	require.NoError(t, err)
	for name, body := range map[string]string{
		"not json":        `{"monitor":`,
		"missing field":   `{"heartbeat": {"status": 0}}`,
		"bad status":      `{"monitor": {"id": 1, "name": "a", "url": "u", "type": "t"}, "heartbeat": {"status": 0, "msg": "m", "time": "yesterday"}}`,
		"wrong json type": `[1, 2, 3]`,
	} {
		_, err := c.Normalise([]byte(body), nil, received)
		require.ErrorIs(t, err, normalise.ErrInvalidPayload, name)
	}

	weird, err := mapping.Compile(mapping.Rule{Name: "w", Title: `"t"`, Status: `"exploded"`})
	require.NoError(t, err)
	_, err = weird.Normalise([]byte(`{}`), nil, received)
	require.ErrorIs(t, err, normalise.ErrInvalidPayload)
	require.Contains(t, err.Error(), "not firing, resolved or acknowledged")
}

// A rule that does too much work per payload is stopped by the cost limit
// instead of stalling intake.
func TestCostLimitStopsHostileRules(t *testing.T) {
	t.Parallel()
	c, err := mapping.Compile(mapping.Rule{
		Name:  "heavy",
		Title: `string(payload.xs.map(a, payload.xs.map(b, payload.xs.map(c, a + b + c))).size())`,
	})
	require.NoError(t, err)
	xs := make([]string, 200)
	for i := range xs {
		xs[i] = "1"
	}
	_, err = c.Normalise([]byte(`{"xs": [`+strings.Join(xs, ",")+`]}`), nil, received)
	require.ErrorIs(t, err, normalise.ErrInvalidPayload)
	// Whichever bound trips first (the cost limit, or the wall-time bound on
	// a slow, loaded or race-instrumented machine), the rule is stopped.
	require.True(t, strings.Contains(err.Error(), "cost") || strings.Contains(err.Error(), "deadline"), err.Error())
}

func FuzzRule(f *testing.F) {
	c, err := mapping.Compile(uptimeRule)
	require.NoError(f, err)
	for _, s := range []string{downPayload, upPayload, `{}`, `null`, `{"monitor": {"id": "x"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sigs, err := c.Normalise(body, nil, received)
		if err != nil {
			require.ErrorIs(t, err, normalise.ErrInvalidPayload)
			return
		}
		for _, s := range sigs {
			require.NotEmpty(t, s.GetFingerprint())
			require.NotEmpty(t, s.GetTitle())
		}
	})
}
