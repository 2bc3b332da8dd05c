package thresholds_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning/thresholds"
)

const (
	info     = signalv1.Severity_SEVERITY_INFO
	warning  = signalv1.Severity_SEVERITY_WARNING
	errorSev = signalv1.Severity_SEVERITY_ERROR
	critical = signalv1.Severity_SEVERITY_CRITICAL
	anySev   = signalv1.Severity_SEVERITY_UNSPECIFIED
)

var defaults = thresholds.Defaults{ExecuteAt: 0.8, ClarifyAt: 0.5}

// bundle is one test's store on its own database, with two tenants.
type bundle struct {
	s            *thresholds.Store
	acme, globex context.Context
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db := storetest.New(t).DB
	as := func(id tenant.ID) context.Context {
		return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "test"})
	}
	b := &bundle{s: thresholds.New(db, defaults), acme: as("acme"), globex: as("globex")}
	for _, ctx := range []context.Context{b.acme, b.globex} {
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	return b
}

// requireThresholds compares messages with proto.Equal, which ignores
// their internal state.
func requireThresholds(t *testing.T, want, got *reasoningv1.Thresholds, what string) {
	t.Helper()
	require.True(t, proto.Equal(want, got), "%s: want %v, got %v", what, want, got)
}

func rule(sev signalv1.Severity, kind string, executeAt, clarifyAt float64) *reasoningv1.ThresholdRule {
	return &reasoningv1.ThresholdRule{Severity: sev, ActionKind: kind, ExecuteAt: executeAt, ClarifyAt: clarifyAt}
}

func (b *bundle) set(t *testing.T, ctx context.Context, r *reasoningv1.ThresholdRule) *reasoningv1.ThresholdRule {
	t.Helper()
	got, err := b.s.Set(ctx, r)
	require.NoError(t, err)
	return got
}

// keys lists the tenant's rules as "severity/kind execute_at clarify_at".
func (b *bundle) keys(t *testing.T, ctx context.Context) []string {
	t.Helper()
	rules, err := b.s.List(ctx)
	require.NoError(t, err)
	out := []string{}
	for _, r := range rules {
		require.NotNil(t, r.GetUpdatedAt(), "a listed rule carries its update time")
		out = append(out, fmt.Sprintf("%s/%s %.2f %.2f", r.GetSeverity(), r.GetActionKind(), r.GetExecuteAt(), r.GetClarifyAt()))
	}
	return out
}

func TestSetListDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)

	require.Empty(t, b.keys(t, b.acme), "a new tenant has no rules")

	stored := b.set(t, b.acme, rule(critical, "webhook", 0.9, 0.6))
	require.Equal(t, critical, stored.GetSeverity())
	require.Equal(t, "webhook", stored.GetActionKind())
	require.InDelta(t, 0.9, stored.GetExecuteAt(), 0)
	require.InDelta(t, 0.6, stored.GetClarifyAt(), 0)
	require.NotZero(t, stored.GetUpdatedAt().AsTime(), "Set returns the update time")

	// Set in an order unlike the listing's.
	for _, r := range []*reasoningv1.ThresholdRule{
		rule(anySev, "", 0.7, 0.4),
		rule(info, "", 0.6, 0.3),
		rule(anySev, "webhook", 0.85, 0.5),
		rule(critical, "", 0.95, 0.7),
		rule(anySev, "page", 0.75, 0.5),
		rule(warning, "webhook", 0.8, 0.5),
		rule(critical, "page", 1, 0),
	} {
		b.set(t, b.acme, r)
	}
	require.Equal(t, []string{
		"SEVERITY_CRITICAL/page 1.00 0.00",
		"SEVERITY_CRITICAL/webhook 0.90 0.60",
		"SEVERITY_WARNING/webhook 0.80 0.50",
		"SEVERITY_CRITICAL/ 0.95 0.70",
		"SEVERITY_INFO/ 0.60 0.30",
		"SEVERITY_UNSPECIFIED/page 0.75 0.50",
		"SEVERITY_UNSPECIFIED/webhook 0.85 0.50",
		"SEVERITY_UNSPECIFIED/ 0.70 0.40",
	}, b.keys(t, b.acme), "most specific first, then severity highest first, then kind")

	deleted, err := b.s.Delete(b.acme, critical, "webhook")
	require.NoError(t, err)
	require.True(t, deleted)
	deleted, err = b.s.Delete(b.acme, critical, "webhook")
	require.NoError(t, err)
	require.False(t, deleted, "a second delete finds nothing")
	deleted, err = b.s.Delete(b.acme, anySev, "")
	require.NoError(t, err)
	require.True(t, deleted, "the any-severity, any-kind rule can be deleted")
	deleted, err = b.s.Delete(b.acme, errorSev, "")
	require.NoError(t, err)
	require.False(t, deleted, "a rule never set is not there to delete")

	require.Equal(t, []string{
		"SEVERITY_CRITICAL/page 1.00 0.00",
		"SEVERITY_WARNING/webhook 0.80 0.50",
		"SEVERITY_CRITICAL/ 0.95 0.70",
		"SEVERITY_INFO/ 0.60 0.30",
		"SEVERITY_UNSPECIFIED/page 0.75 0.50",
		"SEVERITY_UNSPECIFIED/webhook 0.85 0.50",
	}, b.keys(t, b.acme))
}

func TestSetReplacesTheRuleForItsKey(t *testing.T) {
	t.Parallel()
	b := setup(t)

	first := b.set(t, b.acme, rule(errorSev, "webhook", 0.9, 0.6))
	second := b.set(t, b.acme, &reasoningv1.ThresholdRule{
		Severity: errorSev, ActionKind: "webhook", ExecuteAt: 0.7, ClarifyAt: 0.7,
		UpdatedAt: first.GetUpdatedAt(), // Ignored on input.
	})
	require.False(t, second.GetUpdatedAt().AsTime().Before(first.GetUpdatedAt().AsTime()))

	require.Equal(t, []string{"SEVERITY_ERROR/webhook 0.70 0.70"}, b.keys(t, b.acme), "one rule, with the new values")
	th, err := b.s.Resolve(b.acme, errorSev, "webhook")
	require.NoError(t, err)
	require.InDelta(t, 0.7, th.GetExecuteAt(), 0)
	require.InDelta(t, 0.7, th.GetClarifyAt(), 0)
}

func TestResolvePicksTheMostSpecificRule(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// Defaults before any rule.
	th, err := b.s.Resolve(b.acme, critical, "webhook")
	require.NoError(t, err)
	requireThresholds(t, &reasoningv1.Thresholds{ExecuteAt: 0.8, ClarifyAt: 0.5}, th, "no rules")
	requireThresholds(t, b.s.Defaults(), th, "no rules")

	// Each level has its own execute_at, so the answer says which applied.
	b.set(t, b.acme, rule(critical, "webhook", 0.91, 0.5))
	b.set(t, b.acme, rule(critical, "", 0.92, 0.5))
	b.set(t, b.acme, rule(anySev, "webhook", 0.93, 0.5))
	b.set(t, b.acme, rule(anySev, "", 0.94, 0.5))
	want := func(executeAt float64, sev signalv1.Severity, kind string) *reasoningv1.Thresholds {
		return &reasoningv1.Thresholds{ExecuteAt: executeAt, ClarifyAt: 0.5, Severity: sev, ActionKind: kind, TenantRule: true}
	}

	for _, tc := range []struct {
		sev  signalv1.Severity
		kind string
		want *reasoningv1.Thresholds
	}{
		{critical, "webhook", want(0.91, critical, "webhook")},
		{critical, "page", want(0.92, critical, "")},
		{critical, "", want(0.92, critical, "")},
		{warning, "webhook", want(0.93, anySev, "webhook")},
		{anySev, "webhook", want(0.93, anySev, "webhook")},
		{warning, "page", want(0.94, anySev, "")},
		{info, "", want(0.94, anySev, "")},
		{anySev, "", want(0.94, anySev, "")},
		// Nothing a rule could name: only the rules for any apply.
		{signalv1.Severity(99), "Not A Kind", want(0.94, anySev, "")},
	} {
		got, err := b.s.Resolve(b.acme, tc.sev, tc.kind)
		require.NoError(t, err)
		requireThresholds(t, tc.want, got, fmt.Sprintf("resolving %s/%q", tc.sev, tc.kind))
	}

	// Peel the levels off one at a time, most specific first.
	for _, step := range []struct {
		delSev  signalv1.Severity
		delKind string
		want    *reasoningv1.Thresholds
	}{
		{critical, "webhook", want(0.92, critical, "")},
		{critical, "", want(0.93, anySev, "webhook")},
		{anySev, "webhook", want(0.94, anySev, "")},
		{anySev, "", b.s.Defaults()},
	} {
		deleted, err := b.s.Delete(b.acme, step.delSev, step.delKind)
		require.NoError(t, err)
		require.True(t, deleted)
		got, err := b.s.Resolve(b.acme, critical, "webhook")
		require.NoError(t, err)
		requireThresholds(t, step.want, got, fmt.Sprintf("after deleting %s/%q", step.delSev, step.delKind))
	}
}

func TestInvalidRulesStoreNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for _, tc := range []struct {
		name string
		rule *reasoningv1.ThresholdRule
		says string
	}{
		{"no rule", nil, "no rule"},
		{"clarify above execute", rule(errorSev, "", 0.5, 0.6), "clarify_at 0.6 must not exceed execute_at 0.5"},
		{"execute above 1", rule(errorSev, "", 1.01, 0.5), "execute_at 1.01"},
		{"negative clarify", rule(errorSev, "", 0.5, -0.1), "clarify_at -0.1"},
		{"NaN execute", rule(errorSev, "", math.NaN(), 0.5), "execute_at NaN"},
		{"NaN clarify", rule(errorSev, "", 0.8, math.NaN()), "clarify_at NaN"},
		{"infinite execute", rule(errorSev, "", math.Inf(1), 0.5), "execute_at +Inf"},
		{"kind with capitals", rule(errorSev, "Webhook", 0.8, 0.5), `action_kind "Webhook"`},
		{"kind starting with a digit", rule(errorSev, "1webhook", 0.8, 0.5), `action_kind "1webhook"`},
		{"kind over 32 characters", rule(errorSev, "a23456789012345678901234567890123", 0.8, 0.5), "action_kind"},
		{"kind with a trailing newline", rule(errorSev, "webhook\n", 0.8, 0.5), "action_kind"},
		{"undefined severity", rule(signalv1.Severity(5), "", 0.8, 0.5), "severity 5"},
	} {
		_, err := b.s.Set(b.acme, tc.rule)
		require.ErrorIs(t, err, thresholds.ErrInvalid, tc.name)
		require.ErrorContains(t, err, tc.says, tc.name)
	}
	require.Empty(t, b.keys(t, b.acme), "nothing was stored")

	_, err := b.s.Delete(b.acme, signalv1.Severity(-1), "")
	require.ErrorIs(t, err, thresholds.ErrInvalid)
	_, err = b.s.Delete(b.acme, errorSev, "web-hook")
	require.ErrorIs(t, err, thresholds.ErrInvalid)

	// The bounds themselves are valid.
	b.set(t, b.acme, rule(errorSev, "a2345678901234567890123456789012", 1, 1))
	b.set(t, b.acme, rule(warning, "", 0, 0))
	require.Len(t, b.keys(t, b.acme), 2)
}

func TestTenantsSeeOnlyTheirOwnRules(t *testing.T) {
	t.Parallel()
	b := setup(t)

	b.set(t, b.acme, rule(critical, "webhook", 0.9, 0.6))
	b.set(t, b.acme, rule(anySev, "", 0.7, 0.4))

	require.Empty(t, b.keys(t, b.globex), "globex lists none of acme's rules")
	th, err := b.s.Resolve(b.globex, critical, "webhook")
	require.NoError(t, err)
	requireThresholds(t, b.s.Defaults(), th, "globex resolves to the defaults, not acme's rules")
	deleted, err := b.s.Delete(b.globex, critical, "webhook")
	require.NoError(t, err)
	require.False(t, deleted, "globex cannot delete acme's rule")

	// The same key is a separate rule per tenant.
	b.set(t, b.globex, rule(critical, "webhook", 0.99, 0.1))
	th, err = b.s.Resolve(b.acme, critical, "webhook")
	require.NoError(t, err)
	require.InDelta(t, 0.9, th.GetExecuteAt(), 0, "acme's rule is unchanged")
	require.Equal(t, []string{"SEVERITY_CRITICAL/webhook 0.99 0.10"}, b.keys(t, b.globex))

	// Without a verified tenant nothing is read or written.
	_, err = b.s.Resolve(context.Background(), critical, "webhook")
	require.Error(t, err)
	_, err = b.s.Set(context.Background(), rule(critical, "webhook", 0.9, 0.6))
	require.Error(t, err)
}
