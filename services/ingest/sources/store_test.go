package sources_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/mapping"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
	"github.com/alexus-platform/alexus/services/ingest/sources"
)

type testBundle struct {
	bundle *storetest.Bundle
	db     *store.DB
	store  *sources.Store
	// ctx is tenant "acme"'s, other is tenant "globex"'s; both exist.
	ctx, other context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	b := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	other := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "globex", Subject: "someone-else"})
	for _, c := range []context.Context{ctx, other} {
		_, err := provision.EnsureTenant(c, b.DB, provision.TenantOptions{})
		require.NoError(t, err)
	}
	return &testBundle{bundle: b, db: b.DB, store: sources.NewStore(b.DB), ctx: ctx, other: other}
}

// fullRule sets every expression of a rule.
func fullRule(name string) mapping.Rule {
	return mapping.Rule{
		Name:        name,
		Alerts:      "payload.alerts",
		Title:       "alert.title",
		Status:      "alert.status",
		Severity:    "alert.severity",
		Description: "alert.description",
		Resource:    "alert.host",
		Link:        `"https://tool.example/a/" + string(alert.id)`,
		Labels:      "alert.labels",
		Fingerprint: "string(alert.id)",
		StartsAt:    "alert.started",
		EndsAt:      `alert.?ended.orValue("")`,
	}
}

func titleRule(name, title string) mapping.Rule {
	return mapping.Rule{Name: name, Title: title}
}

type auditRow struct {
	Event, Subject, Version, Actor string
}

// auditRows returns ctx's tenant's audit entries about sources, oldest
// first.
func (b *testBundle) auditRows(t *testing.T, ctx context.Context) []auditRow {
	t.Helper()
	var out []auditRow
	err := b.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT event, subject, coalesce(details->>'version', ''), actor FROM audit_log
			WHERE event LIKE 'mapping_rule.%' OR event LIKE 'fingerprint_override.%' ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[auditRow])
		return err
	})
	require.NoError(t, err)
	return out
}

func TestCreateRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	saved, err := b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	require.EqualValues(t, 1, saved.Version)
	require.False(t, saved.CreatedAt.IsZero())
	require.Equal(t, saved.CreatedAt, saved.UpdatedAt)
	want := fullRule("my-tool")
	want.Version = 1
	require.Equal(t, want, saved.Rule)

	got, err := b.store.Rule(b.ctx, "my-tool")
	require.NoError(t, err)
	require.Equal(t, want, got.Rule, "every expression survives the round trip")
	require.True(t, saved.CreatedAt.Equal(got.CreatedAt))
	require.True(t, saved.UpdatedAt.Equal(got.UpdatedAt))

	require.Equal(t, []auditRow{{sources.EventRuleCreated, "mapping_rule/my-tool", "1", "test"}}, b.auditRows(t, b.ctx))
}

// TestCreateRuleIgnoresGivenVersion checks that a caller cannot choose
// the version: it always counts from what is stored.
func TestCreateRuleIgnoresGivenVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := titleRule("my-tool", "payload.title")
	r.Version = 9
	saved, err := b.store.CreateRule(b.ctx, r)
	require.NoError(t, err)
	require.EqualValues(t, 1, saved.Version)
	r.Version = 1
	saved, err = b.store.UpdateRule(b.ctx, r)
	require.NoError(t, err)
	require.EqualValues(t, 2, saved.Version)
}

func TestCreateRuleRefusesInvalidRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name string
		rule mapping.Rule
	}{
		{"syntax error", titleRule("my-tool", "1 +")},
		{"title not a string", titleRule("my-tool", "1")},
		{"no title", titleRule("my-tool", "")},
		{"labels not a map", mapping.Rule{Name: "my-tool", Title: "payload.t", Labels: `"x"`}},
		{"bad name", titleRule("My Tool", "payload.title")},
		{"empty name", titleRule("", "payload.title")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.store.CreateRule(b.ctx, tc.rule)
			require.ErrorIs(t, err, mapping.ErrInvalidRule)
			_, err = b.store.UpdateRule(b.ctx, tc.rule)
			require.ErrorIs(t, err, mapping.ErrInvalidRule)
		})
	}
	rules, err := b.store.Rules(b.ctx)
	require.NoError(t, err)
	require.Empty(t, rules, "nothing stored")
	require.Empty(t, b.auditRows(t, b.ctx), "nothing audited")
}

func TestCreateRuleRefusesNativeName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, name := range normalise.Builtin().Sources() {
		_, err := b.store.CreateRule(b.ctx, titleRule(name, "payload.title"))
		require.ErrorIs(t, err, sources.ErrExists, name)
		require.ErrorContains(t, err, "native source")
	}
	// The ticket integrations' inbound sources are taken too.
	for _, name := range []string{"jira", "servicenow"} {
		_, err := b.store.CreateRule(b.ctx, titleRule(name, "payload.title"))
		require.ErrorIs(t, err, sources.ErrExists, name)
		require.ErrorContains(t, err, "ticket integration")
	}
	rules, err := b.store.Rules(b.ctx)
	require.NoError(t, err)
	require.Empty(t, rules)
	require.Empty(t, b.auditRows(t, b.ctx))
}

func TestCreateRuleRefusesLiveName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, titleRule("my-tool", "payload.first"))
	require.NoError(t, err)
	_, err = b.store.CreateRule(b.ctx, titleRule("my-tool", "payload.second"))
	require.ErrorIs(t, err, sources.ErrExists)

	got, err := b.store.Rule(b.ctx, "my-tool")
	require.NoError(t, err)
	require.EqualValues(t, 1, got.Version, "the refused create did not count")
	require.Equal(t, "payload.first", got.Title, "the refused create did not overwrite")
	require.Len(t, b.auditRows(t, b.ctx), 1)
}

func TestUpdateRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created, err := b.store.CreateRule(b.ctx, titleRule("my-tool", "payload.title"))
	require.NoError(t, err)

	updated, err := b.store.UpdateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	require.EqualValues(t, 2, updated.Version)
	require.True(t, created.CreatedAt.Equal(updated.CreatedAt), "an update keeps the creation time")
	require.True(t, updated.UpdatedAt.After(created.UpdatedAt))

	again, err := b.store.UpdateRule(b.ctx, titleRule("my-tool", "payload.other"))
	require.NoError(t, err)
	require.EqualValues(t, 3, again.Version)

	got, err := b.store.Rule(b.ctx, "my-tool")
	require.NoError(t, err)
	require.Equal(t, mapping.Rule{Name: "my-tool", Version: 3, Title: "payload.other"}, got.Rule,
		"an update replaces the whole rule, clearing fields it does not set")

	require.Equal(t, []auditRow{
		{sources.EventRuleCreated, "mapping_rule/my-tool", "1", "test"},
		{sources.EventRuleUpdated, "mapping_rule/my-tool", "2", "test"},
		{sources.EventRuleUpdated, "mapping_rule/my-tool", "3", "test"},
	}, b.auditRows(t, b.ctx))
}

func TestUpdateRuleNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.UpdateRule(b.ctx, titleRule("missing", "payload.title"))
	require.ErrorIs(t, err, sources.ErrNotFound)

	_, err = b.store.CreateRule(b.ctx, titleRule("gone", "payload.title"))
	require.NoError(t, err)
	require.NoError(t, b.store.DeleteRule(b.ctx, "gone"))
	_, err = b.store.UpdateRule(b.ctx, titleRule("gone", "payload.title"))
	require.ErrorIs(t, err, sources.ErrNotFound, "a deleted rule cannot be updated back to life")

	_, err = b.store.Rule(b.ctx, "gone")
	require.ErrorIs(t, err, sources.ErrNotFound)
	rules, err := b.store.Rules(b.ctx)
	require.NoError(t, err)
	require.Empty(t, rules)
}

func TestDeleteRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, titleRule("keep", "payload.title"))
	require.NoError(t, err)
	_, err = b.store.CreateRule(b.ctx, titleRule("drop", "payload.title"))
	require.NoError(t, err)

	require.NoError(t, b.store.DeleteRule(b.ctx, "drop"))
	_, err = b.store.Rule(b.ctx, "drop")
	require.ErrorIs(t, err, sources.ErrNotFound)
	rules, err := b.store.Rules(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"keep"}, ruleNames(rules))

	require.ErrorIs(t, b.store.DeleteRule(b.ctx, "drop"), sources.ErrNotFound, "deleting twice")
	require.ErrorIs(t, b.store.DeleteRule(b.ctx, "never"), sources.ErrNotFound)

	// The row is a tombstone, not gone: the version is kept.
	var version int32
	var deleted bool
	err = b.db.WithTenant(b.ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(b.ctx, `SELECT version, deleted_at IS NOT NULL FROM mapping_rules WHERE name = 'drop'`).Scan(&version, &deleted)
	})
	require.NoError(t, err)
	require.EqualValues(t, 1, version)
	require.True(t, deleted)

	require.Equal(t, []auditRow{
		{sources.EventRuleCreated, "mapping_rule/keep", "1", "test"},
		{sources.EventRuleCreated, "mapping_rule/drop", "1", "test"},
		{sources.EventRuleDeleted, "mapping_rule/drop", "", "test"},
	}, b.auditRows(t, b.ctx), "refused deletes are not audited")
}

func TestRecreatedRuleContinuesVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, err := b.store.CreateRule(b.ctx, titleRule("my-tool", "payload.a"))
	require.NoError(t, err)
	_, err = b.store.UpdateRule(b.ctx, titleRule("my-tool", "payload.b"))
	require.NoError(t, err)
	require.NoError(t, b.store.DeleteRule(b.ctx, "my-tool"))

	again, err := b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	require.EqualValues(t, 3, again.Version, "a name used again continues its count")
	require.True(t, again.CreatedAt.After(first.CreatedAt), "a rule created again is new")

	got, err := b.store.Rule(b.ctx, "my-tool")
	require.NoError(t, err)
	want := fullRule("my-tool")
	want.Version = 3
	require.Equal(t, want, got.Rule)

	require.NoError(t, b.store.DeleteRule(b.ctx, "my-tool"))
	again, err = b.store.CreateRule(b.ctx, titleRule("my-tool", "payload.c"))
	require.NoError(t, err)
	require.EqualValues(t, 4, again.Version)

	events := b.auditRows(t, b.ctx)
	require.Equal(t, auditRow{sources.EventRuleCreated, "mapping_rule/my-tool", "3", "test"}, events[3])
	require.Equal(t, auditRow{sources.EventRuleCreated, "mapping_rule/my-tool", "4", "test"}, events[5])
}

func TestRulesListedByName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rules, err := b.store.Rules(b.ctx)
	require.NoError(t, err)
	require.Empty(t, rules)

	for _, name := range []string{"zeta", "alpha", "mid-1", "mid_0", "9lives"} {
		_, err := b.store.CreateRule(b.ctx, fullRule(name))
		require.NoError(t, err)
	}
	_, err = b.store.UpdateRule(b.ctx, titleRule("mid-1", "payload.x"))
	require.NoError(t, err)

	rules, err = b.store.Rules(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"9lives", "alpha", "mid-1", "mid_0", "zeta"}, ruleNames(rules))
	for _, r := range rules {
		if r.Name == "mid-1" {
			require.Equal(t, mapping.Rule{Name: "mid-1", Version: 2, Title: "payload.x"}, r.Rule)
			continue
		}
		want := fullRule(r.Name)
		want.Version = 1
		require.Equal(t, want, r.Rule)
		require.False(t, r.CreatedAt.IsZero())
	}
}

func TestRuleNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.Rule(b.ctx, "missing")
	require.ErrorIs(t, err, sources.ErrNotFound)
	require.ErrorContains(t, err, `"missing"`)
}

func TestSetOverride(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fields := []string{"title", "labels.app.kubernetes.io/name"}
	set, err := b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: fields, Version: 42})
	require.NoError(t, err)
	require.EqualValues(t, 1, set.Version, "the given version is ignored")
	require.Equal(t, fields, set.Fields)
	require.False(t, set.UpdatedAt.IsZero())

	replaced, err := b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"resource", "severity", "annotations.x"}})
	require.NoError(t, err)
	require.EqualValues(t, 2, replaced.Version)
	require.True(t, replaced.UpdatedAt.After(set.UpdatedAt))

	got, err := b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "alertmanager", got[0].Source)
	require.Equal(t, []string{"resource", "severity", "annotations.x"}, got[0].Fields, "fields in the order given")
	require.EqualValues(t, 2, got[0].Version)
	require.True(t, replaced.UpdatedAt.Equal(got[0].UpdatedAt))

	require.Equal(t, []auditRow{
		{sources.EventOverrideSet, "fingerprint_override/alertmanager", "1", "test"},
		{sources.EventOverrideSet, "fingerprint_override/alertmanager", "2", "test"},
	}, b.auditRows(t, b.ctx))

	var auditedFields string
	err = b.db.WithTenant(b.ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(b.ctx, `SELECT details->>'fields' FROM audit_log WHERE event = $1 ORDER BY id DESC LIMIT 1`,
			sources.EventOverrideSet).Scan(&auditedFields)
	})
	require.NoError(t, err)
	require.Equal(t, "resource,severity,annotations.x", auditedFields)
}

func TestSetOverrideDoesNotAliasFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fields := []string{"title", "resource"}
	set, err := b.store.SetOverride(b.ctx, sources.Override{Source: "grafana", Fields: fields})
	require.NoError(t, err)
	fields[0] = "severity"
	require.Equal(t, []string{"title", "resource"}, set.Fields)
}

func TestSetOverrideRefusesInvalid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, o := range []sources.Override{
		{Source: "grafana"},
		{Source: "Grafana", Fields: []string{"title"}},
		{Source: "grafana", Fields: []string{"title", "title"}},
		{Source: "grafana", Fields: []string{"labels.a b"}},
		{Source: "grafana", Fields: numberedLabels(17)},
	} {
		_, err := b.store.SetOverride(b.ctx, o)
		require.ErrorIs(t, err, sources.ErrInvalidOverride, "%+v", o)
	}
	got, err := b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Empty(t, got)
	require.Empty(t, b.auditRows(t, b.ctx))
}

func TestOverridesListedBySource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, src := range []string{"sentry", "alertmanager", "my-tool"} {
		_, err := b.store.SetOverride(b.ctx, sources.Override{Source: src, Fields: []string{"title"}})
		require.NoError(t, err)
	}
	got, err := b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"alertmanager", "my-tool", "sentry"}, overrideSources(got))
}

func TestDeleteOverride(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"title"}})
	require.NoError(t, err)
	_, err = b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"resource"}})
	require.NoError(t, err)
	_, err = b.store.SetOverride(b.ctx, sources.Override{Source: "grafana", Fields: []string{"resource"}})
	require.NoError(t, err)

	require.NoError(t, b.store.DeleteOverride(b.ctx, "alertmanager"))
	got, err := b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"grafana"}, overrideSources(got))
	require.ErrorIs(t, b.store.DeleteOverride(b.ctx, "alertmanager"), sources.ErrNotFound, "deleting twice")
	require.ErrorIs(t, b.store.DeleteOverride(b.ctx, "never"), sources.ErrNotFound)

	again, err := b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"external_id"}})
	require.NoError(t, err)
	require.EqualValues(t, 3, again.Version, "an override set again continues its count")
	got, err = b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"alertmanager", "grafana"}, overrideSources(got))
	require.Equal(t, []string{"external_id"}, got[0].Fields)

	require.Equal(t, []auditRow{
		{sources.EventOverrideSet, "fingerprint_override/alertmanager", "1", "test"},
		{sources.EventOverrideSet, "fingerprint_override/alertmanager", "2", "test"},
		{sources.EventOverrideSet, "fingerprint_override/grafana", "1", "test"},
		{sources.EventOverrideDeleted, "fingerprint_override/alertmanager", "", "test"},
		{sources.EventOverrideSet, "fingerprint_override/alertmanager", "3", "test"},
	}, b.auditRows(t, b.ctx))
}

// TestRuleAndOverrideNamespacesAreSeparate checks that a rule and an
// override of the same name are independent rows.
func TestRuleAndOverrideNamespacesAreSeparate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, titleRule("my-tool", "payload.title"))
	require.NoError(t, err)
	o, err := b.store.SetOverride(b.ctx, sources.Override{Source: "my-tool", Fields: []string{"title"}})
	require.NoError(t, err)
	require.EqualValues(t, 1, o.Version)
	require.NoError(t, b.store.DeleteRule(b.ctx, "my-tool"))
	got, err := b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"my-tool"}, overrideSources(got), "deleting the rule leaves its override")
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, fullRule("shared"))
	require.NoError(t, err)
	_, err = b.store.UpdateRule(b.ctx, fullRule("shared"))
	require.NoError(t, err)
	_, err = b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"title"}})
	require.NoError(t, err)

	// Tenant B sees nothing of A's.
	rules, err := b.store.Rules(b.other)
	require.NoError(t, err)
	require.Empty(t, rules)
	_, err = b.store.Rule(b.other, "shared")
	require.ErrorIs(t, err, sources.ErrNotFound)
	overrides, err := b.store.Overrides(b.other)
	require.NoError(t, err)
	require.Empty(t, overrides)

	// ... cannot change or delete it ...
	_, err = b.store.UpdateRule(b.other, titleRule("shared", "payload.hijack"))
	require.ErrorIs(t, err, sources.ErrNotFound)
	require.ErrorIs(t, b.store.DeleteRule(b.other, "shared"), sources.ErrNotFound)
	require.ErrorIs(t, b.store.DeleteOverride(b.other, "alertmanager"), sources.ErrNotFound)

	// ... and its own rule and override of the same names count apart.
	mine, err := b.store.CreateRule(b.other, titleRule("shared", "payload.mine"))
	require.NoError(t, err)
	require.EqualValues(t, 1, mine.Version)
	o, err := b.store.SetOverride(b.other, sources.Override{Source: "alertmanager", Fields: []string{"resource"}})
	require.NoError(t, err)
	require.EqualValues(t, 1, o.Version)

	// A's are untouched.
	got, err := b.store.Rule(b.ctx, "shared")
	require.NoError(t, err)
	want := fullRule("shared")
	want.Version = 2
	require.Equal(t, want, got.Rule)
	overrides, err = b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Len(t, overrides, 1)
	require.Equal(t, []string{"title"}, overrides[0].Fields)
	require.EqualValues(t, 1, overrides[0].Version)

	// B deleting its own leaves A's.
	require.NoError(t, b.store.DeleteRule(b.other, "shared"))
	require.NoError(t, b.store.DeleteOverride(b.other, "alertmanager"))
	_, err = b.store.Rule(b.ctx, "shared")
	require.NoError(t, err)
	overrides, err = b.store.Overrides(b.ctx)
	require.NoError(t, err)
	require.Len(t, overrides, 1)

	// Each tenant's audit log holds its own changes only.
	require.Equal(t, []auditRow{
		{sources.EventRuleCreated, "mapping_rule/shared", "1", "test"},
		{sources.EventRuleUpdated, "mapping_rule/shared", "2", "test"},
		{sources.EventOverrideSet, "fingerprint_override/alertmanager", "1", "test"},
	}, b.auditRows(t, b.ctx))
	require.Equal(t, []auditRow{
		{sources.EventRuleCreated, "mapping_rule/shared", "1", "someone-else"},
		{sources.EventOverrideSet, "fingerprint_override/alertmanager", "1", "someone-else"},
		{sources.EventRuleDeleted, "mapping_rule/shared", "", "someone-else"},
		{sources.EventOverrideDeleted, "fingerprint_override/alertmanager", "", "someone-else"},
	}, b.auditRows(t, b.other))
}

func TestStoreRequiresTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	unauthenticated := func(err error) {
		t.Helper()
		require.Error(t, err)
		require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	}
	_, err := b.store.CreateRule(ctx, titleRule("my-tool", "payload.title"))
	unauthenticated(err)
	_, err = b.store.UpdateRule(ctx, titleRule("my-tool", "payload.title"))
	unauthenticated(err)
	unauthenticated(b.store.DeleteRule(ctx, "my-tool"))
	_, err = b.store.Rule(ctx, "my-tool")
	unauthenticated(err)
	_, err = b.store.Rules(ctx)
	unauthenticated(err)
	_, err = b.store.SetOverride(ctx, sources.Override{Source: "grafana", Fields: []string{"title"}})
	unauthenticated(err)
	_, err = b.store.Overrides(ctx)
	unauthenticated(err)
	unauthenticated(b.store.DeleteOverride(ctx, "grafana"))
	_, err = sources.NewCache(b.store, 0).Snapshot(ctx)
	unauthenticated(err)
}

// TestStoreNeedsTheTenantRow checks that writes for a tenant that was never
// provisioned fail rather than create orphan rows.
func TestStoreNeedsTheTenantRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ghost := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "ghost", Subject: "test"})
	_, err := b.store.CreateRule(ghost, titleRule("my-tool", "payload.title"))
	require.Error(t, err)
	_, err = b.store.SetOverride(ghost, sources.Override{Source: "grafana", Fields: []string{"title"}})
	require.Error(t, err)
}

func ruleNames(rules []sources.SavedRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Name
	}
	return out
}

func overrideSources(list []sources.Override) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.Source
	}
	return out
}
