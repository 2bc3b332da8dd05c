package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/gen/alexus/ingest/v1/ingestv1connect"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// postTo posts a JSON payload to /v1/webhooks/<source> with a bearer token
// and returns the status, the results of a 202 and the error code of a
// refusal.
func (b *bundle) postTo(t *testing.T, token, source string, payload []byte) (int, webhookResponse, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.gatewayURL+"/v1/webhooks/"+source, bytes.NewReader(payload))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var (
		out  webhookResponse
		fail struct {
			Code string `json:"code"`
		}
	)
	if resp.StatusCode == http.StatusAccepted {
		require.NoError(t, json.Unmarshal(body, &out), string(body))
	} else {
		_ = json.Unmarshal(body, &fail)
	}
	return resp.StatusCode, out, fail.Code
}

// listSignals returns the tenant's stored signals of source, newest first.
func listSignals(t *testing.T, orch orchestratorv1connect.OrchestratorServiceClient, token, source string) []*signalv1.Signal {
	t.Helper()
	res, err := orch.ListSignals(context.Background(), authed(&orchestratorv1.ListSignalsRequest{Source: source}, token))
	require.NoError(t, err)
	return res.Msg.GetSignals()
}

// awaitSignals polls ListSignals until source has n stored signals and
// returns them, newest first.
func awaitSignals(t *testing.T, orch orchestratorv1connect.OrchestratorServiceClient, token, source string, n int) []*signalv1.Signal {
	t.Helper()
	var sigs []*signalv1.Signal
	require.Eventually(t, func() bool {
		sigs = listSignals(t, orch, token, source)
		return len(sigs) >= n
	}, deadline, 20*time.Millisecond, "%d stored signals of %s", n, source)
	require.Len(t, sigs, n, "signals of %s", source)
	return sigs
}

// buildkitePayload is what the made-up CI tool posts about one build.
func buildkitePayload(pipeline, branch, state string) []byte {
	b, _ := json.Marshal(map[string]any{
		"event": "build.finished",
		"build": map[string]any{
			"pipeline": pipeline, "branch": branch, "state": state, "number": 42,
			"web_url": "https://ci.example/" + pipeline + "/builds/42",
		},
	})
	return b
}

// buildkiteRule maps buildkitePayload; titlePrefix varies between versions.
func buildkiteRule(titlePrefix string) *ingestv1.MappingRule {
	return &ingestv1.MappingRule{
		Name:        "buildkite",
		Title:       `"` + titlePrefix + `" + payload.build.pipeline`,
		Status:      `payload.build.state == "passed" ? "resolved" : "firing"`,
		Severity:    `"error"`,
		Resource:    `payload.build.pipeline`,
		Link:        `payload.build.web_url`,
		Labels:      `{"branch": payload.build.branch}`,
		Fingerprint: `payload.build.pipeline + "/" + payload.build.branch`,
	}
}

// TestMappingRuleLifecycleThroughGateway teaches tenant A's ingest a tool it
// has no normaliser for, entirely through the public gateway: the rule is
// checked when saved, tried on a sample without storing anything, fed by
// the tool's own integration token, versioned on update and refused once
// deleted — while tenant B never sees the rule or what it made.
func TestMappingRuleLifecycleThroughGateway(t *testing.T) {
	t.Parallel()
	b := setup(t)
	db := b.db
	ctx := context.Background()
	tokA, tokB := b.token(t, "acme"), b.token(t, "globex")
	srcs := ingestv1connect.NewSourceServiceClient(http.DefaultClient, b.gatewayURL)
	orch := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, b.gatewayURL)

	// 1. A bad expression is refused, naming the field and the expression,
	// and nothing is saved.
	bad := buildkiteRule("Build failed: ")
	bad.Status = `payload.build.state ==`
	_, err := srcs.CreateMappingRule(ctx, authed(&ingestv1.CreateMappingRuleRequest{Rule: bad}, tokA))
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err), "%v", err)
	require.Contains(t, err.Error(), `field "status"`)
	require.Contains(t, err.Error(), `payload.build.state ==`)
	typed := buildkiteRule("Build failed: ")
	typed.Labels = `"branch=" + payload.build.branch`
	_, err = srcs.CreateMappingRule(ctx, authed(&ingestv1.CreateMappingRuleRequest{Rule: typed}, tokA))
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err), "%v", err)
	require.Contains(t, err.Error(), `field "labels"`)
	require.Contains(t, err.Error(), "want a map")
	rules, err := srcs.ListMappingRules(ctx, authed(&ingestv1.ListMappingRulesRequest{}, tokA))
	require.NoError(t, err)
	require.Empty(t, rules.Msg.GetRules(), "a refused rule is not saved")

	// A native source's name is taken.
	native := buildkiteRule("Build failed: ")
	native.Name = "alertmanager"
	_, err = srcs.CreateMappingRule(ctx, authed(&ingestv1.CreateMappingRuleRequest{Rule: native}, tokA))
	require.Equal(t, connect.CodeAlreadyExists, connect.CodeOf(err), "%v", err)

	// The good rule is saved at version 1.
	created, err := srcs.CreateMappingRule(ctx, authed(&ingestv1.CreateMappingRuleRequest{Rule: buildkiteRule("Build failed: ")}, tokA))
	require.NoError(t, err)
	require.Equal(t, "buildkite", created.Msg.GetRule().GetName())
	require.EqualValues(t, 1, created.Msg.GetRule().GetVersion())
	require.NotNil(t, created.Msg.GetRule().GetCreatedAt())
	rules, err = srcs.ListMappingRules(ctx, authed(&ingestv1.ListMappingRulesRequest{}, tokA))
	require.NoError(t, err)
	require.Len(t, rules.Msg.GetRules(), 1)
	require.Equal(t, "buildkite", rules.Msg.GetRules()[0].GetName())
	require.EqualValues(t, 1, rules.Msg.GetRules()[0].GetVersion())

	// TestMappingRule on a sample gives the signal as it would be stored,
	// and stores nothing.
	tried, err := srcs.TestMappingRule(ctx, authed(&ingestv1.TestMappingRuleRequest{
		RuleRef: &ingestv1.TestMappingRuleRequest_Name{Name: "buildkite"},
		Payload: buildkitePayload("deploy", "main", "failed"),
	}, tokA))
	require.NoError(t, err)
	require.Len(t, tried.Msg.GetSignals(), 1)
	sig := tried.Msg.GetSignals()[0]
	require.Empty(t, sig.GetId(), "nothing was stored")
	require.Equal(t, "buildkite", sig.GetSource())
	require.Equal(t, "map-buildkite:deploy/main", sig.GetFingerprint())
	require.Equal(t, "mapping:buildkite", sig.GetFingerprintRecipe())
	require.EqualValues(t, 1, sig.GetFingerprintRecipeVersion())
	require.Equal(t, "Build failed: deploy", sig.GetTitle())
	require.Equal(t, "deploy", sig.GetResource())
	require.Equal(t, signalv1.Status_STATUS_FIRING, sig.GetStatus())
	require.Equal(t, signalv1.Severity_SEVERITY_ERROR, sig.GetSeverity())
	require.Equal(t, map[string]string{"branch": "main"}, sig.GetLabels())
	require.Equal(t, "https://ci.example/deploy/builds/42", sig.GetLink())
	require.Equal(t, "deploy/main", sig.GetExternalId())
	// A rule given whole, unsaved, is tried the same way.
	whole, err := srcs.TestMappingRule(ctx, authed(&ingestv1.TestMappingRuleRequest{
		RuleRef: &ingestv1.TestMappingRuleRequest_Rule{Rule: buildkiteRule("Draft: ")},
		Payload: buildkitePayload("deploy", "main", "passed"),
	}, tokA))
	require.NoError(t, err)
	require.Len(t, whole.Msg.GetSignals(), 1)
	require.Equal(t, "Draft: deploy", whole.Msg.GetSignals()[0].GetTitle())
	require.Equal(t, signalv1.Status_STATUS_RESOLVED, whole.Msg.GetSignals()[0].GetStatus())
	require.Zero(t, b.streamLen(t, "acme"), "trying a rule appends nothing to the stream")
	require.Empty(t, listSignals(t, orch, tokA, ""), "trying a rule stores no signal")
	rules, err = srcs.ListMappingRules(ctx, authed(&ingestv1.ListMappingRulesRequest{}, tokA))
	require.NoError(t, err)
	require.Len(t, rules.Msg.GetRules(), 1, "trying a whole rule saves no rule")

	// 2. The tool gets an integration token for the rule's source (the
	// tenant exists: the gateway created it on A's first call).
	acme := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "e2e-operator"})
	_, integ, err := provision.CreateIntegration(acme, db, "buildkite", "ci")
	require.NoError(t, err)

	code, res, _ := b.postTo(t, integ, "buildkite", buildkitePayload("deploy", "main", "failed"))
	require.Equal(t, http.StatusAccepted, code)
	require.Len(t, res.Results, 1)
	require.Equal(t, "accepted", res.Results[0].Verdict)
	require.Equal(t, "map-buildkite:deploy/main", res.Results[0].Fingerprint)
	require.Equal(t, "Build failed: deploy", res.Results[0].Title)
	signalID := res.Results[0].SignalID
	require.NotEmpty(t, signalID)

	code, res, _ = b.postTo(t, integ, "buildkite", buildkitePayload("deploy", "main", "failed"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "duplicate", res.Results[0].Verdict)
	require.Equal(t, signalID, res.Results[0].SignalID)

	// The token is good for its own source only.
	code, _, errCode := b.postTo(t, integ, "alertmanager", alertmanagerPayload("firing", "e2e00000000000b1", "X"))
	require.Equal(t, http.StatusForbidden, code, errCode)

	// The orchestrator opened one incident for it.
	var inc *orchestratorv1.Incident
	require.Eventually(t, func() bool {
		list, err := orch.ListIncidents(ctx, authed(&orchestratorv1.ListIncidentsRequest{}, tokA))
		require.NoError(t, err)
		if len(list.Msg.GetIncidents()) == 1 && list.Msg.GetIncidents()[0].GetDecision() != 0 {
			inc = list.Msg.GetIncidents()[0]
			return true
		}
		return false
	}, deadline, 20*time.Millisecond, "the mapped alert opens an incident")
	require.Equal(t, signalID, inc.GetSignalId())
	require.Equal(t, "buildkite", inc.GetSource())
	require.Equal(t, "map-buildkite:deploy/main", inc.GetFingerprint())
	require.Equal(t, "Build failed: deploy", inc.GetTitle())

	code, res, _ = b.postTo(t, integ, "buildkite", buildkitePayload("deploy", "main", "passed"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "resolved", res.Results[0].Verdict)
	require.Equal(t, signalID, res.Results[0].SignalID)
	require.Eventually(t, func() bool {
		got, err := orch.GetIncident(ctx, authed(&orchestratorv1.GetIncidentRequest{Id: inc.GetId()}, tokA))
		require.NoError(t, err)
		return got.Msg.GetIncident().GetStatus() == orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED
	}, deadline, 20*time.Millisecond, "the resolved build resolves the incident")

	stored := awaitSignals(t, orch, tokA, "buildkite", 1)
	require.Equal(t, signalID, stored[0].GetId())
	require.Equal(t, "acme", stored[0].GetTenantId())
	require.Equal(t, "buildkite", stored[0].GetSource())
	require.Equal(t, "map-buildkite:deploy/main", stored[0].GetFingerprint())
	require.Equal(t, "mapping:buildkite", stored[0].GetFingerprintRecipe())
	require.EqualValues(t, 1, stored[0].GetFingerprintRecipeVersion())
	require.Empty(t, listSignals(t, orch, tokA, "alertmanager"), "the refused cross-source post stored nothing")

	// 3. Tenant B has no such rule, cannot post to it, and sees none of A's
	// signals or incidents.
	rulesB, err := srcs.ListMappingRules(ctx, authed(&ingestv1.ListMappingRulesRequest{}, tokB))
	require.NoError(t, err)
	require.Empty(t, rulesB.Msg.GetRules())
	code, _, errCode = b.postTo(t, tokB, "buildkite", buildkitePayload("deploy", "main", "failed"))
	require.Equal(t, http.StatusBadRequest, code, errCode)
	require.NotEmpty(t, errCode)
	_, err = srcs.TestMappingRule(ctx, authed(&ingestv1.TestMappingRuleRequest{
		RuleRef: &ingestv1.TestMappingRuleRequest_Name{Name: "buildkite"},
		Payload: buildkitePayload("deploy", "main", "failed"),
	}, tokB))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err), "%v", err)
	require.Empty(t, listSignals(t, orch, tokB, ""))
	require.Empty(t, listSignals(t, orch, tokB, "buildkite"))
	listB, err := orch.ListIncidents(ctx, authed(&orchestratorv1.ListIncidentsRequest{}, tokB))
	require.NoError(t, err)
	require.Empty(t, listB.Msg.GetIncidents())
	require.Zero(t, b.streamLen(t, "globex"))

	// 5. An update raises the version, which new signals carry.
	updated, err := srcs.UpdateMappingRule(ctx, authed(&ingestv1.UpdateMappingRuleRequest{Rule: buildkiteRule("Build broke: ")}, tokA))
	require.NoError(t, err)
	require.EqualValues(t, 2, updated.Msg.GetRule().GetVersion())
	code, res, _ = b.postTo(t, integ, "buildkite", buildkitePayload("release", "main", "failed"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "accepted", res.Results[0].Verdict)
	require.Equal(t, "map-buildkite:release/main", res.Results[0].Fingerprint)
	require.Equal(t, "Build broke: release", res.Results[0].Title)
	stored = awaitSignals(t, orch, tokA, "buildkite", 2)
	require.Equal(t, res.Results[0].SignalID, stored[0].GetId(), "newest first")
	require.Equal(t, "mapping:buildkite", stored[0].GetFingerprintRecipe())
	require.EqualValues(t, 2, stored[0].GetFingerprintRecipeVersion())
	require.Equal(t, signalID, stored[1].GetId())
	require.EqualValues(t, 1, stored[1].GetFingerprintRecipeVersion(), "stored signals keep the version that made them")

	// Deleting it refuses the tool's webhooks from then on.
	_, err = srcs.DeleteMappingRule(ctx, authed(&ingestv1.DeleteMappingRuleRequest{Name: "buildkite"}, tokA))
	require.NoError(t, err)
	rules, err = srcs.ListMappingRules(ctx, authed(&ingestv1.ListMappingRulesRequest{}, tokA))
	require.NoError(t, err)
	require.Empty(t, rules.Msg.GetRules())
	before := b.streamLen(t, "acme")
	code, _, errCode = b.postTo(t, integ, "buildkite", buildkitePayload("release", "main", "failed"))
	require.Equal(t, http.StatusBadRequest, code, errCode)
	require.Equal(t, before, b.streamLen(t, "acme"), "the refused webhook reached no stream")
	_, err = srcs.DeleteMappingRule(ctx, authed(&ingestv1.DeleteMappingRuleRequest{Name: "buildkite"}, tokA))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err), "%v", err)

	// A rule created again under the name continues the count.
	again, err := srcs.CreateMappingRule(ctx, authed(&ingestv1.CreateMappingRuleRequest{Rule: buildkiteRule("Build failed: ")}, tokA))
	require.NoError(t, err)
	require.EqualValues(t, 3, again.Msg.GetRule().GetVersion(), "a deleted rule's version is never reused")
}

// TestFingerprintOverridePreviewAndApply previews, sets and deletes a
// fingerprint override of Alertmanager through the gateway: the preview
// counts the merges among stored signals, the override then decides which
// alerts are duplicates, and deleting it restores Alertmanager's own
// fingerprints.
func TestFingerprintOverridePreviewAndApply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tokA := b.token(t, "acme")
	srcs := ingestv1connect.NewSourceServiceClient(http.DefaultClient, b.gatewayURL)
	orch := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, b.gatewayURL)

	// Four alerts, each its own Alertmanager fingerprint, of two alertnames.
	alerts := []struct{ fp, name string }{
		{"e2e00000000000a1", "ApiErrorRate"},
		{"e2e00000000000a2", "ApiErrorRate"},
		{"e2e00000000000a3", "DiskFull"},
		{"e2e00000000000a4", "DiskFull"},
	}
	firstID := map[string]string{}
	for _, a := range alerts {
		code, res := b.postWebhook(t, tokA, alertmanagerPayload("firing", a.fp, a.name))
		require.Equal(t, http.StatusAccepted, code)
		require.Equal(t, "accepted", res.Results[0].Verdict)
		require.Equal(t, "am:"+a.fp, res.Results[0].Fingerprint)
		firstID[a.fp] = res.Results[0].SignalID
	}
	awaitSignals(t, orch, tokA, "alertmanager", len(alerts))

	// The preview: four fingerprints become two, each joining two.
	byName := &ingestv1.FingerprintOverride{Source: "alertmanager", Fields: []string{"labels.alertname"}}
	ovr := func(alertname string) string {
		return "ovr-alertmanager:" + normalise.HashFields(map[string]string{"labels.alertname": alertname})
	}
	preview, err := srcs.PreviewFingerprintOverride(ctx, authed(&ingestv1.PreviewFingerprintOverrideRequest{Override: byName}, tokA))
	require.NoError(t, err)
	p := preview.Msg
	require.EqualValues(t, 4, p.GetSignalsExamined())
	require.False(t, p.GetTruncated())
	require.EqualValues(t, 4, p.GetCurrentFingerprints())
	require.EqualValues(t, 2, p.GetNewFingerprints())
	require.EqualValues(t, 2, p.GetMerges())
	require.EqualValues(t, 4, p.GetMergedFingerprints())
	require.EqualValues(t, 0, p.GetSplits())
	require.Empty(t, p.GetSplitExamples())
	merges := map[string][]string{}
	for _, m := range p.GetMergeExamples() {
		merges[m.GetFingerprint()] = m.GetInto()
	}
	require.Equal(t, map[string][]string{
		ovr("ApiErrorRate"): {"am:e2e00000000000a1", "am:e2e00000000000a2"},
		ovr("DiskFull"):     {"am:e2e00000000000a3", "am:e2e00000000000a4"},
	}, merges)
	// A field set that keeps every alert apart merges nothing.
	apart, err := srcs.PreviewFingerprintOverride(ctx, authed(&ingestv1.PreviewFingerprintOverrideRequest{
		Override: &ingestv1.FingerprintOverride{Source: "alertmanager", Fields: []string{"labels.alertname", "external_id"}},
	}, tokA))
	require.NoError(t, err)
	require.EqualValues(t, 4, apart.Msg.GetNewFingerprints())
	require.Zero(t, apart.Msg.GetMerges())
	// A preview saves nothing.
	listed, err := srcs.ListFingerprintOverrides(ctx, authed(&ingestv1.ListFingerprintOverridesRequest{}, tokA))
	require.NoError(t, err)
	require.Empty(t, listed.Msg.GetOverrides())
	code, res := b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e00000000000a5", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "accepted", res.Results[0].Verdict)
	require.Equal(t, "am:e2e00000000000a5", res.Results[0].Fingerprint, "a preview changes no fingerprint")

	// A bad field is refused.
	_, err = srcs.SetFingerprintOverride(ctx, authed(&ingestv1.SetFingerprintOverrideRequest{
		Override: &ingestv1.FingerprintOverride{Source: "alertmanager", Fields: []string{"hostname"}},
	}, tokA))
	require.Equal(t, connect.CodeInvalidArgument, connect.CodeOf(err), "%v", err)

	// Set: alerts of one alertname are now one alert, whatever Alertmanager's
	// fingerprint. The first under the new recipe opens a signal (history
	// of another recipe is never merged into); the next is its duplicate.
	set, err := srcs.SetFingerprintOverride(ctx, authed(&ingestv1.SetFingerprintOverrideRequest{Override: byName}, tokA))
	require.NoError(t, err)
	require.EqualValues(t, 1, set.Msg.GetOverride().GetVersion())
	require.Equal(t, []string{"labels.alertname"}, set.Msg.GetOverride().GetFields())
	listed, err = srcs.ListFingerprintOverrides(ctx, authed(&ingestv1.ListFingerprintOverridesRequest{}, tokA))
	require.NoError(t, err)
	require.Len(t, listed.Msg.GetOverrides(), 1)
	require.Equal(t, "alertmanager", listed.Msg.GetOverrides()[0].GetSource())

	code, res = b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e00000000000a6", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "accepted", res.Results[0].Verdict)
	require.Equal(t, ovr("ApiErrorRate"), res.Results[0].Fingerprint)
	overriddenID := res.Results[0].SignalID
	code, res = b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e00000000000a7", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "duplicate", res.Results[0].Verdict, "a new Alertmanager fingerprint of a known alertname")
	require.Equal(t, ovr("ApiErrorRate"), res.Results[0].Fingerprint)
	require.Equal(t, overriddenID, res.Results[0].SignalID)
	// The same holds for an alert Alertmanager already sent before the
	// override: it is now identified by its alertname.
	code, res = b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e00000000000a1", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "duplicate", res.Results[0].Verdict)
	require.Equal(t, overriddenID, res.Results[0].SignalID)
	code, res = b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e00000000000a8", "DiskFull"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "accepted", res.Results[0].Verdict)
	require.Equal(t, ovr("DiskFull"), res.Results[0].Fingerprint)
	require.NotEqual(t, overriddenID, res.Results[0].SignalID, "another alertname stays another alert")

	// Stored with the override's recipe: 4 + a5 + a6 + a8.
	stored := awaitSignals(t, orch, tokA, "alertmanager", 7)
	var found bool
	for _, s := range stored {
		if s.GetId() == overriddenID {
			found = true
			require.Equal(t, ovr("ApiErrorRate"), s.GetFingerprint())
			require.Equal(t, "override:alertmanager", s.GetFingerprintRecipe())
			require.EqualValues(t, 1, s.GetFingerprintRecipeVersion())
		}
	}
	require.True(t, found, "the overridden signal is stored")

	// Delete: Alertmanager's own fingerprints are back, and its open
	// signals from before the override take their repeats again.
	_, err = srcs.DeleteFingerprintOverride(ctx, authed(&ingestv1.DeleteFingerprintOverrideRequest{Source: "alertmanager"}, tokA))
	require.NoError(t, err)
	listed, err = srcs.ListFingerprintOverrides(ctx, authed(&ingestv1.ListFingerprintOverridesRequest{}, tokA))
	require.NoError(t, err)
	require.Empty(t, listed.Msg.GetOverrides())
	code, res = b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e00000000000a2", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "duplicate", res.Results[0].Verdict)
	require.Equal(t, "am:e2e00000000000a2", res.Results[0].Fingerprint)
	require.Equal(t, firstID["e2e00000000000a2"], res.Results[0].SignalID)
	code, res = b.postWebhook(t, tokA, alertmanagerPayload("firing", "e2e00000000000a9", "ApiErrorRate"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "accepted", res.Results[0].Verdict)
	require.Equal(t, "am:e2e00000000000a9", res.Results[0].Fingerprint)
	stored = awaitSignals(t, orch, tokA, "alertmanager", 8)
	require.Equal(t, res.Results[0].SignalID, stored[0].GetId())
	require.Equal(t, "alertmanager", stored[0].GetFingerprintRecipe())
	_, err = srcs.DeleteFingerprintOverride(ctx, authed(&ingestv1.DeleteFingerprintOverrideRequest{Source: "alertmanager"}, tokA))
	require.Equal(t, connect.CodeNotFound, connect.CodeOf(err), "%v", err)
}
