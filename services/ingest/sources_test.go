package ingest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// buildkite is a mapping rule for a CI tool without a native normaliser.
func buildkite() *ingestv1.MappingRule {
	return &ingestv1.MappingRule{
		Name:        "buildkite",
		Title:       `"Build failed: " + payload.build.pipeline`,
		Status:      `payload.build.state == "passed" ? "resolved" : "firing"`,
		Severity:    `"high"`,
		Resource:    `payload.build.pipeline`,
		Labels:      `{"branch": payload.build.branch}`,
		Fingerprint: `payload.build.pipeline + "/" + payload.build.branch`,
	}
}

func buildPayload(pipeline, branch, state string) []byte {
	return fmt.Appendf(nil, `{"build":{"pipeline":%q,"branch":%q,"state":%q}}`, pipeline, branch, state)
}

func (b *bundle) tenants(t *testing.T, ids ...tenant.ID) {
	t.Helper()
	for _, id := range ids {
		_, err := provision.EnsureTenant(as(id), b.db, provision.TenantOptions{})
		require.NoError(t, err)
	}
}

func TestMappingRuleLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenants(t, "acme", "globex")
	ctx := as("acme")

	// A bad expression is refused with the field and the expression named.
	bad := buildkite()
	bad.Severity = `payload.build.(`
	_, err := b.sources.CreateMappingRule(ctx, &ingestv1.CreateMappingRuleRequest{Rule: bad})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), `field "severity"`)
	require.Contains(t, status.Convert(err).Message(), "payload.build.(")

	// A native source's name is taken.
	native := buildkite()
	native.Name = "alertmanager"
	_, err = b.sources.CreateMappingRule(ctx, &ingestv1.CreateMappingRuleRequest{Rule: native})
	require.Equal(t, codes.AlreadyExists, status.Code(err))

	created, err := b.sources.CreateMappingRule(ctx, &ingestv1.CreateMappingRuleRequest{Rule: buildkite()})
	require.NoError(t, err)
	require.EqualValues(t, 1, created.GetRule().GetVersion())
	_, err = b.sources.CreateMappingRule(ctx, &ingestv1.CreateMappingRuleRequest{Rule: buildkite()})
	require.Equal(t, codes.AlreadyExists, status.Code(err))

	// Webhooks to the rule's name are normalised by it.
	resp, err := b.client.Ingest(ctx, &ingestv1.IngestRequest{Source: "buildkite", Payload: buildPayload("deploy", "main", "failed")})
	require.NoError(t, err)
	require.Len(t, resp.GetResults(), 1)
	first := resp.GetResults()[0]
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, first.GetVerdict())
	require.Equal(t, "map-buildkite:deploy/main", first.GetFingerprint())
	require.Equal(t, "Build failed: deploy", first.GetTitle())
	resp, err = b.client.Ingest(ctx, &ingestv1.IngestRequest{Source: "buildkite", Payload: buildPayload("deploy", "main", "passed")})
	require.NoError(t, err)
	require.Equal(t, ingestv1.Verdict_VERDICT_RESOLVED, resp.GetResults()[0].GetVerdict())
	require.Equal(t, first.GetSignalId(), resp.GetResults()[0].GetSignalId())

	// Another tenant has no such source.
	_, err = b.client.Ingest(as("globex"), &ingestv1.IngestRequest{Source: "buildkite", Payload: buildPayload("deploy", "main", "failed")})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), "unknown source")
	list, err := b.sources.ListMappingRules(as("globex"), &ingestv1.ListMappingRulesRequest{})
	require.NoError(t, err)
	require.Empty(t, list.GetRules())

	// Dry runs: a saved rule by name, and an unsaved one whole. Nothing is
	// stored, and an evaluation error names the field.
	tested, err := b.sources.TestMappingRule(ctx, &ingestv1.TestMappingRuleRequest{
		RuleRef: &ingestv1.TestMappingRuleRequest_Name{Name: "buildkite"}, Payload: buildPayload("api", "dev", "failed"),
	})
	require.NoError(t, err)
	require.Len(t, tested.GetSignals(), 1)
	sig := tested.GetSignals()[0]
	require.Equal(t, "map-buildkite:api/dev", sig.GetFingerprint())
	require.Equal(t, "mapping:buildkite", sig.GetFingerprintRecipe())
	require.EqualValues(t, 1, sig.GetFingerprintRecipeVersion())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, sig.GetSeverity())
	require.Equal(t, map[string]string{"branch": "dev"}, sig.GetLabels())
	require.Empty(t, sig.GetId())
	_, err = b.sources.TestMappingRule(ctx, &ingestv1.TestMappingRuleRequest{
		RuleRef: &ingestv1.TestMappingRuleRequest_Rule{Rule: buildkite()}, Payload: []byte(`{"build":{}}`),
	})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), `field "title"`)
	resp, err = b.client.Ingest(ctx, &ingestv1.IngestRequest{Source: "buildkite", Payload: buildPayload("api", "dev", "failed")})
	require.NoError(t, err)
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, resp.GetResults()[0].GetVerdict(), "the dry run stored nothing")

	// An update raises the version, which goes with every signal.
	upd := buildkite()
	upd.Title = `"CI: " + payload.build.pipeline`
	updated, err := b.sources.UpdateMappingRule(ctx, &ingestv1.UpdateMappingRuleRequest{Rule: upd})
	require.NoError(t, err)
	require.EqualValues(t, 2, updated.GetRule().GetVersion())
	missing := buildkite()
	missing.Name = "nope"
	_, err = b.sources.UpdateMappingRule(ctx, &ingestv1.UpdateMappingRuleRequest{Rule: missing})
	require.Equal(t, codes.NotFound, status.Code(err))
	resp, err = b.client.Ingest(ctx, &ingestv1.IngestRequest{Source: "buildkite", Payload: buildPayload("web", "main", "failed")})
	require.NoError(t, err)
	require.Equal(t, "CI: web", resp.GetResults()[0].GetTitle(), "this replica sees its own change at once")

	list, err = b.sources.ListMappingRules(ctx, &ingestv1.ListMappingRulesRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetRules(), 1)
	require.Equal(t, upd.GetTitle(), list.GetRules()[0].GetTitle())

	// Deleted, the name is unknown again; created again, it continues the
	// version count, so no two recipes share a version.
	_, err = b.sources.DeleteMappingRule(ctx, &ingestv1.DeleteMappingRuleRequest{Name: "buildkite"})
	require.NoError(t, err)
	_, err = b.sources.DeleteMappingRule(ctx, &ingestv1.DeleteMappingRuleRequest{Name: "buildkite"})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = b.client.Ingest(ctx, &ingestv1.IngestRequest{Source: "buildkite", Payload: buildPayload("deploy", "main", "failed")})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	again, err := b.sources.CreateMappingRule(ctx, &ingestv1.CreateMappingRuleRequest{Rule: buildkite()})
	require.NoError(t, err)
	require.EqualValues(t, 3, again.GetRule().GetVersion())

	// Bad requests are refused by validation before any work.
	_, err = b.sources.CreateMappingRule(ctx, &ingestv1.CreateMappingRuleRequest{Rule: &ingestv1.MappingRule{Name: "Bad Name", Title: `"x"`}})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestFingerprintOverrideAppliesToIntake(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenants(t, "acme", "globex")
	ctx := as("acme")

	// Two alerts Alertmanager tells apart by fingerprint, with the same
	// alertname: under an override on alertname alone they are one.
	one, two := firing("aaa111"), firing("bbb222")
	before := b.ingest(t, "acme", payload(t, one, two))
	require.NotEqual(t, before[0].GetSignalId(), before[1].GetSignalId())

	for _, bad := range []*ingestv1.FingerprintOverride{
		{Source: "alertmanager", Fields: []string{"labels.bad name"}},
		{Source: "alertmanager", Fields: []string{"payload.x"}},
		{Source: "no-such-source", Fields: []string{"title"}},
		{Source: "alertmanager"},
	} {
		_, err := b.sources.SetFingerprintOverride(ctx, &ingestv1.SetFingerprintOverrideRequest{Override: bad})
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", bad)
	}

	set, err := b.sources.SetFingerprintOverride(ctx, &ingestv1.SetFingerprintOverrideRequest{Override: &ingestv1.FingerprintOverride{
		Source: "alertmanager", Fields: []string{"labels.alertname"},
	}})
	require.NoError(t, err)
	require.EqualValues(t, 1, set.GetOverride().GetVersion())

	three, four := firing("ccc333"), firing("ddd444")
	after := b.ingest(t, "acme", payload(t, three, four))
	require.Equal(t, ingestv1.Verdict_VERDICT_ACCEPTED, after[0].GetVerdict())
	require.Equal(t, ingestv1.Verdict_VERDICT_DUPLICATE, after[1].GetVerdict())
	require.Equal(t, after[0].GetSignalId(), after[1].GetSignalId())
	require.True(t, strings.HasPrefix(after[0].GetFingerprint(), "ovr-alertmanager:"), after[0].GetFingerprint())

	// The override is the tenant's alone.
	other := b.ingest(t, "globex", payload(t, three, four))
	require.NotEqual(t, other[0].GetSignalId(), other[1].GetSignalId())

	list, err := b.sources.ListFingerprintOverrides(ctx, &ingestv1.ListFingerprintOverridesRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetOverrides(), 1)
	require.Equal(t, []string{"labels.alertname"}, list.GetOverrides()[0].GetFields())

	_, err = b.sources.DeleteFingerprintOverride(ctx, &ingestv1.DeleteFingerprintOverrideRequest{Source: "alertmanager"})
	require.NoError(t, err)
	back := b.ingest(t, "acme", payload(t, firing("eee555")))
	require.Equal(t, "am:eee555", back[0].GetFingerprint())
	set, err = b.sources.SetFingerprintOverride(ctx, &ingestv1.SetFingerprintOverrideRequest{Override: &ingestv1.FingerprintOverride{
		Source: "alertmanager", Fields: []string{"labels.alertname", "labels.instance"},
	}})
	require.NoError(t, err)
	require.EqualValues(t, 2, set.GetOverride().GetVersion(), "a deleted override's version is not reused")
}

func TestPreviewFingerprintOverride(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenants(t, "acme", "globex")
	ctx := as("acme")

	// Stored history: four fingerprints of two alertnames; one fingerprint
	// was seen on two pods (stored twice, a dedup window apart).
	store := func(fp, alertname, pod string, at time.Time) {
		t.Helper()
		_, err := b.signals.Open(ctx, &signalv1.Signal{
			Id: uuid.NewString(), Source: "alertmanager", Fingerprint: fp, Title: alertname,
			Status: signalv1.Status_STATUS_FIRING, Labels: map[string]string{"alertname": alertname, "pod": pod},
			ReceivedAt: timestamppb.New(at), FingerprintRecipe: "alertmanager", FingerprintRecipeVersion: 1,
		})
		require.NoError(t, err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	store("am:1", "HighLatency", "a", t0)
	store("am:2", "HighLatency", "b", t0.Add(time.Minute))
	store("am:3", "DiskFull", "c", t0.Add(2*time.Minute))
	store("am:4", "DiskFull", "d", t0.Add(3*time.Minute))
	store("am:4", "DiskFull", "e", t0.Add(4*time.Minute))
	_, err := b.signals.Open(as("globex"), &signalv1.Signal{
		Id: uuid.NewString(), Source: "alertmanager", Fingerprint: "am:9", Title: "Other",
		Status: signalv1.Status_STATUS_FIRING, Labels: map[string]string{"alertname": "HighLatency"}, ReceivedAt: timestamppb.New(t0),
	})
	require.NoError(t, err)

	preview := func(maxSignals int32, fields ...string) *ingestv1.PreviewFingerprintOverrideResponse {
		t.Helper()
		resp, err := b.sources.PreviewFingerprintOverride(ctx, &ingestv1.PreviewFingerprintOverrideRequest{
			Override: &ingestv1.FingerprintOverride{Source: "alertmanager", Fields: fields}, MaxSignals: maxSignals,
		})
		require.NoError(t, err)
		return resp
	}

	// By alertname: 1+2 merge, 3+4 merge; globex's signal is not counted.
	byName := preview(0, "labels.alertname")
	require.EqualValues(t, 5, byName.GetSignalsExamined())
	require.False(t, byName.GetTruncated())
	require.EqualValues(t, 4, byName.GetCurrentFingerprints())
	require.EqualValues(t, 2, byName.GetNewFingerprints())
	require.EqualValues(t, 2, byName.GetMerges())
	require.EqualValues(t, 4, byName.GetMergedFingerprints())
	require.EqualValues(t, 0, byName.GetSplits())
	require.Len(t, byName.GetMergeExamples(), 2)

	// By pod: nothing merges, am:4 splits in two.
	byPod := preview(0, "labels.pod")
	require.EqualValues(t, 5, byPod.GetNewFingerprints())
	require.EqualValues(t, 0, byPod.GetMerges())
	require.EqualValues(t, 1, byPod.GetSplits())
	require.Equal(t, "am:4", byPod.GetSplitExamples()[0].GetFingerprint())
	require.Len(t, byPod.GetSplitExamples()[0].GetInto(), 2)

	// A cap below the history says so.
	capped := preview(2, "labels.alertname")
	require.EqualValues(t, 2, capped.GetSignalsExamined())
	require.True(t, capped.GetTruncated())

	// Nothing was saved.
	list, err := b.sources.ListFingerprintOverrides(ctx, &ingestv1.ListFingerprintOverridesRequest{})
	require.NoError(t, err)
	require.Empty(t, list.GetOverrides())

	_, err = b.sources.PreviewFingerprintOverride(ctx, &ingestv1.PreviewFingerprintOverrideRequest{
		Override: &ingestv1.FingerprintOverride{Source: "alertmanager", Fields: []string{"raw"}},
	})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}
