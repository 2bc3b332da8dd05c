package orchestrator_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// unsure makes tn's critical webhook incidents clarify: no confidence the
// heuristics reach executes them.
func (b *bundle) unsure(t *testing.T, tn tenant.ID) {
	t.Helper()
	_, err := b.reasoning.SetThresholdRule(as(tn), &reasoningv1.SetThresholdRuleRequest{Rule: &reasoningv1.ThresholdRule{
		Severity: signalv1.Severity_SEVERITY_CRITICAL, ActionKind: "webhook", ExecuteAt: 1, ClarifyAt: 0.1,
	}})
	require.NoError(t, err)
}

// openItem returns tn's only open triage item of kind.
func (b *bundle) openItem(t *testing.T, tn tenant.ID, kind orchestratorv1.TriageKind) *orchestratorv1.TriageItem {
	t.Helper()
	list, err := b.client.ListTriageItems(as(tn), &orchestratorv1.ListTriageItemsRequest{Kind: kind, State: orchestratorv1.TriageState_TRIAGE_STATE_OPEN})
	require.NoError(t, err)
	require.Len(t, list.GetItems(), 1)
	return list.GetItems()[0]
}

// item is tn's triage item id, as the queue lists it.
func (b *bundle) item(t *testing.T, tn tenant.ID, id string) *orchestratorv1.TriageItem {
	t.Helper()
	list, err := b.client.ListTriageItems(as(tn), &orchestratorv1.ListTriageItemsRequest{PageSize: 500})
	require.NoError(t, err)
	for _, it := range list.GetItems() {
		if it.GetId() == id {
			return it
		}
	}
	t.Fatalf("triage item %s is not in the queue", id)
	return nil
}

// A clarify question goes to the triage queue; answering yes resumes the
// pipeline at the confidence check, which executes the action once, even
// when the answer is delivered twice.
func TestClarifyAnsweredYesExecutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.unsure(t, acme)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_CLARIFY)
	incID := resp.GetIncident().GetId()

	item := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY)
	require.Equal(t, incID, item.GetIncidentId())
	require.Contains(t, item.GetQuestion(), "Run it?")
	require.Equal(t, "default", item.GetRecommendedAction().GetTarget())
	require.NotEmpty(t, item.GetDiagnosis().GetProbableCause(), "the diagnosis is attached")
	require.Equal(t, "High error rate on checkout", item.GetTitle())
	require.Equal(t, item.GetId(), resp.GetTransitions()[4].GetDetails()["triage_item_id"])
	require.Empty(t, b.actions.recorded(), "nothing runs before the answer")

	ans, err := b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "Yes, go ahead"})
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.TriageState_TRIAGE_STATE_ANSWERED, ans.GetItem().GetState())
	require.Equal(t, "user:test", ans.GetItem().GetAnsweredBy())

	resp = b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Equal(t, []orchestratorv1.Stage{
		orchestratorv1.Stage_STAGE_RECEIVED, orchestratorv1.Stage_STAGE_CLASSIFY, orchestratorv1.Stage_STAGE_BRANCH,
		orchestratorv1.Stage_STAGE_CONFIDENCE, orchestratorv1.Stage_STAGE_CLARIFY, orchestratorv1.Stage_STAGE_ANSWERED,
		orchestratorv1.Stage_STAGE_EXECUTE,
	}, stages(resp.GetTransitions()))
	answered := resp.GetTransitions()[5].GetDetails()
	require.Equal(t, "execute", answered["decision"])
	require.Equal(t, "Yes, go ahead", answered["answer"])
	require.Equal(t, "user:test", answered["answered_by"])
	require.Equal(t, reasoningv1.Decision_DECISION_EXECUTE, resp.GetIncident().GetDecision())
	require.Contains(t, b.audited(t, acme), "user:test triage_item.answered triage_item/"+item.GetId())

	// The same answer again is a no-op that queues the resumption again;
	// the pipeline finds every stage stored and runs none twice.
	_, err = b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "Yes, go ahead"})
	require.NoError(t, err)
	_, err = b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "no"})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	last, err := b.rdb.XRevRangeN(context.Background(), b.space.Tenant(acme, rediskey.SignalStream), "+", "-", 1).Result()
	require.NoError(t, err)
	require.Len(t, last, 1)
	b.waitSettled(t, acme, last[0].ID)
	require.Len(t, b.actions.recorded(), 1, "the action ran once")
	resp, err = b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: incID})
	require.NoError(t, err)
	require.Len(t, resp.GetTransitions(), 7)

	// Another tenant can neither see nor answer the item.
	list, err := b.client.ListTriageItems(as(globex), &orchestratorv1.ListTriageItemsRequest{})
	require.NoError(t, err)
	require.Empty(t, list.GetItems())
	_, err = b.client.AnswerTriageItem(as(globex), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "yes"})
	require.Equal(t, codes.NotFound, status.Code(err))
}

// answeredNotResumed makes an acme incident ask a clarify question and
// stores answer to it through the store alone, as a process that died
// before queueing the resume would have left it.
func (b *bundle) answeredNotResumed(t *testing.T, st *incident.Store, answer string) (*signalv1.Signal, *orchestratorv1.TriageItem) {
	t.Helper()
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_CLARIFY)
	item := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY)
	_, changed, err := st.Answer(as(acme), item.GetId(), answer)
	require.NoError(t, err)
	require.True(t, changed)
	return sig, item
}

// An answer stored by a process that died before it queued the resume (the
// store's Answer without the handler's Resume) is found by the replica's
// resume sweep, and the incident resumes and executes once; once it has,
// the sweep finds nothing more to queue.
func TestResumeSweepResumesAnAnswerNeverQueued(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *orchestrator.Config) {
		// The sweep's grace is the larger of its interval and the
		// consumer's redelivery (claim idle times deliveries).
		c.ResumeSweepInterval, c.ClaimMinIdle, c.MaxDeliveries = 100*time.Millisecond, 5*time.Second, 1
	})
	b.unsure(t, acme)
	st := incident.NewStore(b.db)
	sig, _ := b.answeredNotResumed(t, st, "Yes, go ahead")

	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Equal(t, orchestratorv1.Stage_STAGE_ANSWERED, resp.GetTransitions()[5].GetStage())
	require.Equal(t, "Yes, go ahead", resp.GetTransitions()[5].GetDetails()["answer"])
	require.Len(t, b.actions.recorded(), 1, "the action ran once")

	tenants, err := st.UnresumedTenants(context.Background(), 0)
	require.NoError(t, err)
	require.NotContains(t, tenants, acme, "a resumed incident is not swept again")
	n, err := incident.SweepUnresumed(context.Background(), st, incident.NewFeed(b.rdb, b.space), 0, zap.NewNop())
	require.NoError(t, err)
	require.Zero(t, n)
}

// The sweep claims only the tenant's own answers, older than its grace;
// a claimed answer is not claimed again within the grace, nor more than
// MaxResumeSweeps times; a resolved incident's answer is left alone.
func TestClaimUnresumedAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.unsure(t, acme)
	st := incident.NewStore(b.db)
	sig, item := b.answeredNotResumed(t, st, "yes")
	want := []incident.Unresumed{{SignalID: sig.GetId(), ItemID: item.GetId()}}

	got, err := st.ClaimUnresumed(as(globex), 0, 10)
	require.NoError(t, err)
	require.Empty(t, got, "another tenant's answer")
	got, err = st.ClaimUnresumed(as(acme), time.Hour, 10)
	require.NoError(t, err)
	require.Empty(t, got, "answered moments ago, not an hour")
	tenants, err := st.UnresumedTenants(context.Background(), 0)
	require.NoError(t, err)
	require.Contains(t, tenants, acme)
	require.NotContains(t, tenants, globex)

	got, err = st.ClaimUnresumed(as(acme), 0, 10)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = st.ClaimUnresumed(as(acme), time.Hour, 10)
	require.NoError(t, err)
	require.Empty(t, got, "swept moments ago, within the grace")
	for range incident.MaxResumeSweeps - 1 {
		got, err = st.ClaimUnresumed(as(acme), 0, 10)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	got, err = st.ClaimUnresumed(as(acme), 0, 10)
	require.NoError(t, err)
	require.Empty(t, got, "swept MaxResumeSweeps times")
	tenants, err = st.UnresumedTenants(context.Background(), 0)
	require.NoError(t, err)
	require.NotContains(t, tenants, acme)

	// A second question, on an incident resolved since, is never claimed.
	_, item2 := b.answeredNotResumed(t, st, "yes")
	_, err = b.client.SetIncidentStatus(as(acme), &orchestratorv1.SetIncidentStatusRequest{IncidentId: item2.GetIncidentId(), Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, Reason: "fixed by hand"})
	require.NoError(t, err)
	got, err = st.ClaimUnresumed(as(acme), 0, 10)
	require.NoError(t, err)
	require.Empty(t, got, "the incident was resolved")
}

// Resolving an incident closes its open question: the queue stops asking,
// an answer is refused (FAILED_PRECONDITION) and nothing runs; reopening the
// incident opens the question again.
func TestResolvingClosesTheQuestionAndReopeningOpensIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.unsure(t, acme)
	sig := alert(acme)
	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_CLARIFY)
	item := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY)
	setStatus := func(st orchestratorv1.IncidentStatus) {
		t.Helper()
		_, err := b.client.SetIncidentStatus(as(acme), &orchestratorv1.SetIncidentStatusRequest{IncidentId: item.GetIncidentId(), Status: st, Reason: "by hand"})
		require.NoError(t, err)
	}
	setStatus(orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED)

	got := b.item(t, acme, item.GetId())
	require.Equal(t, orchestratorv1.TriageState_TRIAGE_STATE_CLOSED, got.GetState())
	require.NotNil(t, got.GetClosedAt())
	open, err := b.client.ListTriageItems(as(acme), &orchestratorv1.ListTriageItemsRequest{State: orchestratorv1.TriageState_TRIAGE_STATE_OPEN})
	require.NoError(t, err)
	require.Empty(t, open.GetItems(), "the queue no longer asks")
	closed, err := b.client.ListTriageItems(as(acme), &orchestratorv1.ListTriageItemsRequest{State: orchestratorv1.TriageState_TRIAGE_STATE_CLOSED})
	require.NoError(t, err)
	require.Len(t, closed.GetItems(), 1)

	_, err = b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "Yes, go ahead"})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "resolved")
	require.Empty(t, b.item(t, acme, item.GetId()).GetAnswer(), "the refused answer is not stored")

	setStatus(orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN)
	reopened := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY)
	require.Equal(t, item.GetId(), reopened.GetId())
	require.Nil(t, reopened.GetClosedAt())
	_, err = b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "Yes, go ahead"})
	require.NoError(t, err)
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_EXECUTE)
	require.Len(t, b.actions.recorded(), 1, "answered after reopening, it ran once")
}

// An answer stored before its incident was resolved, but whose resume event
// is processed after, resumes nothing: nothing runs on a closed incident.
// The answered item stays answered.
func TestAnswerResumedAfterTheIncidentWasResolvedActsOnNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.unsure(t, acme)
	st := incident.NewStore(b.db)
	sig, item := b.answeredNotResumed(t, st, "Yes, go ahead")
	_, err := b.client.SetIncidentStatus(as(acme), &orchestratorv1.SetIncidentStatusRequest{IncidentId: item.GetIncidentId(), Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, Reason: "fixed by hand"})
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.TriageState_TRIAGE_STATE_ANSWERED, b.item(t, acme, item.GetId()).GetState(), "resolving closes only open items")

	id := b.publish(t, acme, &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_ANSWERED, SignalId: sig.GetId(), TriageItemId: item.GetId()})
	b.waitSettled(t, acme, id)

	require.Empty(t, b.actions.recorded(), "nothing ran")
	resp, err := b.client.GetIncident(as(acme), &orchestratorv1.GetIncidentRequest{Id: item.GetIncidentId()})
	require.NoError(t, err)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, resp.GetIncident().GetStatus())
	for _, tr := range resp.GetTransitions() {
		require.NotEqual(t, orchestratorv1.Stage_STAGE_ANSWERED, tr.GetStage())
		require.NotEqual(t, orchestratorv1.Stage_STAGE_EXECUTE, tr.GetStage())
	}

	// Reopened, the incident is a new episode: the old answer neither
	// resumes it through the sweep nor through its event delivered again.
	_, err = b.client.SetIncidentStatus(as(acme), &orchestratorv1.SetIncidentStatusRequest{IncidentId: item.GetIncidentId(), Status: orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN, Reason: "it is back"})
	require.NoError(t, err)
	tenants, err := st.UnresumedTenants(context.Background(), 0)
	require.NoError(t, err)
	require.NotContains(t, tenants, acme)
	claimed, err := st.ClaimUnresumed(as(acme), 0, 10)
	require.NoError(t, err)
	require.Empty(t, claimed, "an answer from before the resolution is void")
	id = b.publish(t, acme, &signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_ANSWERED, SignalId: sig.GetId(), TriageItemId: item.GetId()})
	b.waitSettled(t, acme, id)
	require.Empty(t, b.actions.recorded(), "nothing ran after the reopening either")
}

// Answering no escalates to the owner of the affected CI in the tenant's
// knowledge graph, with the diagnosis attached.
func TestClarifyAnsweredNoEscalatesToTheOwner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.unsure(t, acme)
	sig := alert(acme)
	_, err := b.knowledge.UpsertNodes(as(acme), &knowledgev1.UpsertNodesRequest{Nodes: []*knowledgev1.Node{
		{Id: sig.GetResource(), Kind: knowledgev1.NodeKind_NODE_KIND_CI, Type: "service", Title: "checkout"},
		{Id: "team-payments", Kind: knowledgev1.NodeKind_NODE_KIND_CI, Type: "team", Title: "Payments team"},
	}})
	require.NoError(t, err)
	_, err = b.knowledge.UpsertEdges(as(acme), &knowledgev1.UpsertEdgesRequest{Edges: []*knowledgev1.Edge{
		{From: sig.GetResource(), To: "team-payments", Type: knowledgev1.EdgeType_EDGE_TYPE_OWNED_BY},
	}})
	require.NoError(t, err)

	b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
	b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_CLARIFY)
	item := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_CLARIFY)
	_, err = b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: item.GetId(), Answer: "No - this is a planned load test"})
	require.NoError(t, err)

	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_ESCALATE)
	esc := resp.GetTransitions()[len(resp.GetTransitions())-1].GetDetails()
	require.Equal(t, "team-payments", esc["route"])
	require.Equal(t, "owner of "+sig.GetResource()+" (Payments team)", esc["route_reason"])
	require.Contains(t, esc["reason"], "a person declined")
	require.Empty(t, b.actions.recorded())

	escalation := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_ESCALATE)
	require.Equal(t, "team-payments", escalation.GetRoute())
	require.NotEmpty(t, escalation.GetDiagnosis().GetProbableCause())
	// Acknowledging an escalation does not resume anything.
	_, err = b.client.AnswerTriageItem(as(acme), &orchestratorv1.AnswerTriageItemRequest{Id: escalation.GetId(), Answer: "on it"})
	require.NoError(t, err)
}

// An escalation on a CI without an owner goes to the tenant's default
// route; with none configured it is still queued, routed nowhere.
func TestEscalationTakesTheDefaultRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.client.SetTriageSettings(as(globex), &orchestratorv1.SetTriageSettingsRequest{Settings: &orchestratorv1.TriageSettings{DefaultRoute: "oncall-platform"}})
	require.NoError(t, err)
	got, err := b.client.GetTriageSettings(as(globex), &orchestratorv1.GetTriageSettingsRequest{})
	require.NoError(t, err)
	require.Equal(t, "oncall-platform", got.GetSettings().GetDefaultRoute())

	for tn, want := range map[tenant.ID][2]string{globex: {"oncall-platform", "default route"}, acme: {"", "none"}} {
		sig := alert(tn)
		delete(sig.Annotations, "runbook_url") // critical without a runbook: always escalated
		b.publish(t, tn, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))
		resp := b.waitStage(t, tn, sig.GetId(), orchestratorv1.Stage_STAGE_ESCALATE)
		esc := resp.GetTransitions()[4].GetDetails()
		require.Equal(t, want[0], esc["route"], "tenant %s", tn)
		require.Equal(t, want[1], esc["route_reason"], "tenant %s", tn)
		item := b.openItem(t, tn, orchestratorv1.TriageKind_TRIAGE_KIND_ESCALATE)
		require.Equal(t, want[0], item.GetRoute())
		require.Equal(t, incident.IDFor(tn, sig.GetId()), item.GetIncidentId())
	}

	_, err = b.client.SetTriageSettings(as(acme), &orchestratorv1.SetTriageSettingsRequest{Settings: &orchestratorv1.TriageSettings{DefaultRoute: "bad\nroute"}})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

// When the action plane stays down past every retry, the consumer gives up
// on the entry and the incident, already decided "execute", is escalated
// to a person with the cause, instead of waiting at the confidence check.
func TestGivingUpEscalates(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *orchestrator.Config) {
		c.MaxDeliveries, c.ClaimMinIdle, c.EntryTimeout = 2, 2100*time.Millisecond, time.Second
	})
	b.actions.failures.Store(1000)
	sig := alert(acme)
	entry := b.publish(t, acme, event(signalv1.EventKind_EVENT_KIND_OPENED, sig))

	resp := b.waitStage(t, acme, sig.GetId(), orchestratorv1.Stage_STAGE_ESCALATE)
	trs := resp.GetTransitions()
	esc := trs[len(trs)-1].GetDetails()
	require.Contains(t, esc["reason"], "the pipeline gave up on this incident")
	require.Contains(t, esc["reason"], "action plane briefly down")
	require.Equal(t, orchestratorv1.Stage_STAGE_CONFIDENCE, trs[len(trs)-2].GetStage())
	item := b.openItem(t, acme, orchestratorv1.TriageKind_TRIAGE_KIND_ESCALATE)
	require.Equal(t, incident.IDFor(acme, sig.GetId()), item.GetIncidentId())

	b.waitSettled(t, acme, entry)
	dead, err := b.rdb.XRange(context.Background(), b.space.Tenant(acme, rediskey.DeadLetters), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, 1, "the entry is still dead-lettered, with its cause")
}
