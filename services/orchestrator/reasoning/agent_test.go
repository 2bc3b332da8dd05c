package reasoning_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/embed"
	pggraph "github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/llm/llmtest"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/knowledge"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

// kgDimension is the embedding dimension of the test graphs: the local
// embedder's smallest, which keeps the vectors cheap.
const kgDimension = 64

// kgBundle is one test's database with three tenants: acme, whose graph
// the questions are about; globex, whose graph has a CI of the same name
// with another owner and an issue worded like acme's; and initech, which
// has no graph at all.
type kgBundle struct {
	db                    *store.DB
	knowledge             *knowledge.Handler
	catalogue             *reasoning.TargetCatalogue
	acme, globex, initech context.Context
}

func asTenant(id tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "test"})
}

// setupKG creates the tenants on a fresh database, seeds acme's and
// globex's graphs through the knowledge plane's own handler (so the nodes
// are embedded as in production) and registers one webhook target for
// each of them.
func setupKG(t *testing.T) *kgBundle {
	t.Helper()
	db := storetest.New(t).DB
	g, err := pggraph.New(db, pggraph.Config{Dimension: kgDimension, MaxCachedVectors: 10_000})
	require.NoError(t, err)
	emb, err := embed.NewLocal(kgDimension)
	require.NoError(t, err)
	kh, err := knowledge.NewHandler(g, emb, db, nil, zap.NewNop())
	require.NoError(t, err)
	b := &kgBundle{
		db: db, knowledge: kh, catalogue: reasoning.NewTargetCatalogue(db),
		acme: asTenant("acme"), globex: asTenant("globex"), initech: asTenant("initech"),
	}
	for _, ctx := range []context.Context{b.acme, b.globex, b.initech} {
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(t, err)
	}

	b.seed(t, b.acme, []*knowledgev1.Node{
		ciNode("checkout", "service", "Checkout service"),
		ciNode("payments-db", "database", "Payments database"),
		ciNode("host-7", "host", "host-7"),
		ciNode("db-host-3", "host", "db-host-3"),
		ciNode("team-payments", "team", "Payments team"),
		ciNode("api-gateway", "service", "API gateway"),
		ciNode("mobile-bff", "service", "Mobile backend"),
		ciNode("ledger", "service", "Ledger service"),
		{
			Id: "issue:INC-101", Kind: knowledgev1.NodeKind_NODE_KIND_ISSUE, Type: "incident",
			Title: "Checkout 5xx after deploy",
			Body:  "Checkout answered 5xx to a third of requests after the deploy of release 2.3.",
		},
		{
			Id: "res:rollback-101", Kind: knowledgev1.NodeKind_NODE_KIND_RESOLUTION, Type: "rollback",
			Title: "Rolled back checkout to previous release",
			Body:  "Release 2.2 went back out; errors stopped within five minutes.",
		},
		{
			Id: "runbook:checkout#restart", Kind: knowledgev1.NodeKind_NODE_KIND_DOCUMENT, Type: "runbook",
			Title: "Restart checkout pods",
			Body:  "kubectl rollout restart deployment/checkout, then watch the error rate.",
		},
		{
			Id: "change:CHG-311", Kind: knowledgev1.NodeKind_NODE_KIND_DOCUMENT, Type: "change",
			Title: "Checkout release 2.4 with the new payment client",
			Body:  "Rolled out on Tuesday by the payments team.",
		},
	}, []*knowledgev1.Edge{
		kgEdge("checkout", knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON, "payments-db"),
		kgEdge("checkout", knowledgev1.EdgeType_EDGE_TYPE_RUNS_ON, "host-7"),
		kgEdge("checkout", knowledgev1.EdgeType_EDGE_TYPE_OWNED_BY, "team-payments"),
		kgEdge("api-gateway", knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON, "checkout"),
		kgEdge("mobile-bff", knowledgev1.EdgeType_EDGE_TYPE_DEPENDS_ON, "api-gateway"),
		kgEdge("payments-db", knowledgev1.EdgeType_EDGE_TYPE_RUNS_ON, "db-host-3"),
		kgEdge("issue:INC-101", knowledgev1.EdgeType_EDGE_TYPE_AFFECTS, "checkout"),
		kgEdge("issue:INC-101", knowledgev1.EdgeType_EDGE_TYPE_RESOLVED_BY, "res:rollback-101"),
		kgEdge("runbook:checkout#restart", knowledgev1.EdgeType_EDGE_TYPE_AFFECTS, "checkout"),
		kgEdge("change:CHG-311", knowledgev1.EdgeType_EDGE_TYPE_AFFECTS, "checkout"),
	})
	// Globex's issue is worded like acme's, so a search that crossed
	// tenants would rank it at the top.
	b.seed(t, b.globex, []*knowledgev1.Node{
		ciNode("checkout", "service", "Checkout service"),
		ciNode("team-storefront", "team", "Storefront team"),
		{
			Id: "issue:INC-900", Kind: knowledgev1.NodeKind_NODE_KIND_ISSUE, Type: "incident",
			Title: "Checkout 5xx after deploy", Body: "Checkout answered 5xx after the deploy.",
		},
	}, []*knowledgev1.Edge{
		kgEdge("checkout", knowledgev1.EdgeType_EDGE_TYPE_OWNED_BY, "team-storefront"),
		kgEdge("issue:INC-900", knowledgev1.EdgeType_EDGE_TYPE_AFFECTS, "checkout"),
	})

	require.NoError(t, provision.SetWebhookTarget(b.acme, db, "restart-checkout", "https://hooks.acme.example/restart"))
	require.NoError(t, provision.SetWebhookTarget(b.globex, db, "flush-cache", "https://hooks.globex.example/flush"))
	return b
}

func (b *kgBundle) seed(t *testing.T, ctx context.Context, nodes []*knowledgev1.Node, edges []*knowledgev1.Edge) {
	t.Helper()
	_, err := b.knowledge.UpsertNodes(ctx, &knowledgev1.UpsertNodesRequest{Nodes: nodes})
	require.NoError(t, err)
	_, err = b.knowledge.UpsertEdges(ctx, &knowledgev1.UpsertEdgesRequest{Edges: edges})
	require.NoError(t, err)
}

func ciNode(id, typ, title string) *knowledgev1.Node {
	return &knowledgev1.Node{Id: id, Kind: knowledgev1.NodeKind_NODE_KIND_CI, Type: typ, Title: title}
}

func kgEdge(from string, typ knowledgev1.EdgeType, to string) *knowledgev1.Edge {
	return &knowledgev1.Edge{From: from, To: to, Type: typ}
}

// handler returns a Handler over the bundle's graph and catalogue, with
// srv as its model, or none when srv is nil.
func (b *kgBundle) handler(t *testing.T, srv *llmtest.Server) *reasoning.Handler {
	t.Helper()
	o := reasoning.Options{
		Rules:     reasoning.FixedThresholds{ExecuteAt: 0.8, ClarifyAt: 0.5},
		Knowledge: b.knowledge,
		Catalogue: b.catalogue,
	}
	if srv != nil {
		m, err := llm.New(llm.Config{
			BaseURL: srv.BaseURL(), Model: "agent-model", APIKey: "sk-test",
			Timeout: 5 * time.Second, MaxRetries: 1,
			InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRetryAfter: time.Millisecond,
		})
		require.NoError(t, err)
		o.Model, o.StageBudget = m, 10*time.Second
	}
	h, err := reasoning.NewHandler(o)
	require.NoError(t, err)
	return h
}

// checkoutAlert is a firing 5xx alert on acme's (or globex's) checkout.
func checkoutAlert() *signalv1.Signal {
	return &signalv1.Signal{
		Id: "3f6a2b1c-0d4e-4f5a-8b9c-1d2e3f4a5b6c", Source: "alertmanager",
		Status: signalv1.Status_STATUS_FIRING, Severity: signalv1.Severity_SEVERITY_ERROR,
		Title:       "Checkout 5xx rate above 5%",
		Description: "checkout answers 5xx since the last deploy",
		Resource:    "checkout",
		Labels:      map[string]string{"alertname": "CheckoutHighErrorRate"},
	}
}

var incidentClass = &reasoningv1.Classification{Intent: reasoningv1.Intent_INTENT_INCIDENT, Severity: signalv1.Severity_SEVERITY_ERROR, Confidence: 0.9}

// agentDiagnosis is a model's answer to the incident agent citing
// evidence, following runbook and recommending the webhook target (none
// when target is empty).
func agentDiagnosis(evidence []string, runbook, target string) llmtest.Reply {
	cites := make([]any, len(evidence))
	for i, id := range evidence {
		cites[i] = map[string]any{"document_id": id, "summary": "what " + id + " says"}
	}
	var action any
	if target != "" {
		action = map[string]any{"kind": reasoning.ActionKindWebhook, "target": target, "summary": "restart checkout"}
	}
	return llmtest.JSON(map[string]any{
		"probable_cause": "Release 2.3 of checkout fails its payment calls",
		"evidence":       cites,
		"action":         action,
		"runbook":        runbook,
		"confidence":     0.88,
	})
}

// promptDoc is one document of a diagnosis prompt as the model reads it.
type promptDoc struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Type string `json:"type"`
	Why  string `json:"why"`
}

// diagnosisPrompt reads the documents and the action catalogue out of the
// user message of a diagnosis request.
func diagnosisPrompt(t *testing.T, req llmtest.Request) (map[string]promptDoc, []reasoning.CatalogueAction) {
	t.Helper()
	require.Len(t, req.Messages, 2)
	const marker = "Retrieved knowledge and action catalogue:\n"
	user := req.Messages[1].Content
	i := strings.Index(user, marker)
	require.GreaterOrEqual(t, i, 0, "the prompt carries the retrieved knowledge: %s", user)
	var data struct {
		Documents []promptDoc                 `json:"documents"`
		Catalogue []reasoning.CatalogueAction `json:"action_catalogue"`
	}
	require.NoError(t, json.Unmarshal([]byte(user[i+len(marker):]), &data))
	docs := make(map[string]promptDoc, len(data.Documents))
	for _, d := range data.Documents {
		require.NotContains(t, docs, d.ID, "document %s is in the prompt once", d.ID)
		docs[d.ID] = d
	}
	return docs, data.Catalogue
}

func evidenceIDs(d *reasoningv1.Diagnosis) []string {
	ids := make([]string, 0, len(d.GetEvidence()))
	for _, e := range d.GetEvidence() {
		ids = append(ids, e.GetDocumentId())
	}
	return ids
}

func TestDiagnoseIsGroundedInTheTenantGraph(t *testing.T) {
	t.Parallel()
	b := setupKG(t)
	alert := checkoutAlert()

	t.Run("the prompt carries the issue, its resolution, the runbook and the CI's neighbourhood", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply {
			return agentDiagnosis([]string{"issue:INC-101", "res:rollback-101", "checkout"}, "runbook:checkout#restart", "restart-checkout")
		})
		resp, err := b.handler(t, srv).Diagnose(b.acme, &reasoningv1.DiagnoseRequest{Signal: alert, Classification: incidentClass})
		require.NoError(t, err)
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		docs, cat := diagnosisPrompt(t, reqs[0])

		require.Equal(t, "signal", docs["signal:"+alert.GetId()].Kind, "the alert itself is citable")
		require.Equal(t, "issue", docs["issue:INC-101"].Kind, "the similar past issue is retrieved")
		require.Equal(t, "validated resolution of issue issue:INC-101", docs["res:rollback-101"].Why,
			"the issue's resolution is reached along RESOLVED_BY: %+v", docs["res:rollback-101"])
		require.Equal(t, "runbook", docs["runbook:checkout#restart"].Type, "the runbook section is retrieved")
		require.Equal(t, "the affected CI", docs["checkout"].Why)
		for id, why := range map[string]string{
			"payments-db":   "checkout DEPENDS_ON payments-db",
			"host-7":        "checkout RUNS_ON host-7",
			"team-payments": "checkout OWNED_BY team-payments",
			"api-gateway":   "api-gateway DEPENDS_ON checkout",
		} {
			require.Contains(t, docs, id, "neighbour %s of checkout is in the prompt; documents: %v", id, docs)
			require.Equal(t, why, docs[id].Why)
		}
		for _, id := range []string{"db-host-3", "mobile-bff", "ledger", "issue:INC-900", "team-storefront"} {
			require.NotContains(t, docs, id, "%s is neither similar to the alert nor next to checkout in acme's graph", id)
		}
		require.NotContains(t, reqs[0].Messages[1].Content, "INC-900", "nothing of globex's graph reaches acme's prompt")
		require.Equal(t, []reasoning.CatalogueAction{{Kind: reasoning.ActionKindWebhook, Target: "restart-checkout"}}, cat,
			"the catalogue is acme's registered targets only")

		d := resp.GetDiagnosis()
		require.Equal(t, reasoningv1.Path_PATH_MODEL, d.GetPath(), "fallback: %s", d.GetFallbackReason())
		require.Empty(t, d.GetFallbackReason())
		require.Equal(t, reasoningv1.Branch_BRANCH_INCIDENT, d.GetBranch())
		require.Equal(t, []string{"issue:INC-101", "res:rollback-101", "checkout"}, evidenceIDs(d))
		require.Equal(t, "runbook:checkout#restart", d.GetRunbook())
		require.Equal(t, reasoning.ActionKindWebhook, d.GetRecommendedAction().GetKind())
		require.Equal(t, "restart-checkout", d.GetRecommendedAction().GetTarget())
		require.InDelta(t, 0.88, d.GetConfidence(), 1e-9)
		require.Equal(t, "agent-model", d.GetModelCall().GetModel())
	})

	refused := []struct {
		name   string
		reply  llmtest.Reply
		reason string
	}{
		{
			"cites a CI two hops from the affected one",
			agentDiagnosis([]string{"issue:INC-101", "db-host-3"}, "", "restart-checkout"),
			`cited document "db-host-3", which was not retrieved`,
		},
		{
			"cites an unrelated CI of the tenant",
			agentDiagnosis([]string{"ledger"}, "", ""),
			`cited document "ledger", which was not retrieved`,
		},
		{
			"cites another tenant's issue",
			agentDiagnosis([]string{"issue:INC-900"}, "", "restart-checkout"),
			`cited document "issue:INC-900", which was not retrieved`,
		},
		{
			"names a retrieved CI as its runbook",
			agentDiagnosis([]string{"issue:INC-101"}, "payments-db", "restart-checkout"),
			`runbook "payments-db", which is not a retrieved document`,
		},
		{
			"recommends a target registered only for another tenant",
			agentDiagnosis([]string{"issue:INC-101"}, "runbook:checkout#restart", "flush-cache"),
			`"flush-cache", which is not in the tenant's action catalogue`,
		},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply { return tc.reply })
			resp, err := b.handler(t, srv).Diagnose(b.acme, &reasoningv1.DiagnoseRequest{Signal: alert, Classification: incidentClass})
			require.NoError(t, err, "an ungrounded answer is never the caller's failure")
			d := resp.GetDiagnosis()
			require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, d.GetPath())
			require.Contains(t, d.GetFallbackReason(), tc.reason)
			require.Equal(t, reasoningv1.Branch_BRANCH_INCIDENT, d.GetBranch())
			require.NotNil(t, d.GetModelCall(), "the model answered, so its call is recorded")
			require.NotEqual(t, "flush-cache", d.GetRecommendedAction().GetTarget())
		})
	}

	t.Run("another tenant's target is grounded for that tenant", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply {
			return agentDiagnosis([]string{"issue:INC-900", "checkout"}, "", "flush-cache")
		})
		resp, err := b.handler(t, srv).Diagnose(b.globex, &reasoningv1.DiagnoseRequest{Signal: alert, Classification: incidentClass})
		require.NoError(t, err)
		d := resp.GetDiagnosis()
		require.Equal(t, reasoningv1.Path_PATH_MODEL, d.GetPath(), "fallback: %s", d.GetFallbackReason())
		require.Equal(t, "flush-cache", d.GetRecommendedAction().GetTarget())

		docs, cat := diagnosisPrompt(t, srv.Requests()[0])
		require.Contains(t, docs, "issue:INC-900")
		require.Contains(t, docs, "team-storefront")
		for _, id := range []string{"issue:INC-101", "res:rollback-101", "runbook:checkout#restart", "team-payments", "payments-db"} {
			require.NotContains(t, docs, id, "globex's prompt holds nothing of acme's graph")
		}
		require.Equal(t, []reasoning.CatalogueAction{{Kind: reasoning.ActionKindWebhook, Target: "flush-cache"}}, cat)
	})
}

// cmdbQuestion is a CMDB question as the classifier hands it on.
func cmdbQuestion(q string) *reasoningv1.DiagnoseRequest {
	return &reasoningv1.DiagnoseRequest{
		Signal: &signalv1.Signal{Id: "b7c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e", Source: "chat", Title: q, Description: q},
		Classification: &reasoningv1.Classification{
			Intent: reasoningv1.Intent_INTENT_CMDB_QUESTION, Severity: signalv1.Severity_SEVERITY_INFO, Confidence: 0.6,
		},
	}
}

func TestCMDBQuestionsAreAnsweredFromTheGraph(t *testing.T) {
	t.Parallel()
	b := setupKG(t)
	h := b.handler(t, nil)

	cases := []struct {
		question string
		names    []string // in the answer
		evidence []string // cited, in any order; the CI comes first
		absent   []string // not cited
	}{
		{
			"What depends on checkout?",
			[]string{"API gateway", "Mobile backend"},
			[]string{"checkout", "api-gateway", "mobile-bff"},
			[]string{"payments-db", "host-7", "team-payments"},
		},
		{
			"Who owns checkout?",
			[]string{"Payments team"},
			[]string{"checkout", "team-payments"},
			[]string{"team-storefront", "api-gateway"},
		},
		{
			"What does checkout depend on?",
			[]string{"Payments database", "host-7", "db-host-3"},
			[]string{"checkout", "payments-db", "host-7", "db-host-3"},
			[]string{"api-gateway", "mobile-bff", "team-payments"},
		},
		{
			"What changed near checkout?",
			[]string{"Checkout release 2.4 with the new payment client", "Checkout 5xx after deploy"},
			[]string{"checkout", "change:CHG-311", "issue:INC-101"},
			[]string{"payments-db", "api-gateway", "res:rollback-101"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.question, func(t *testing.T) {
			t.Parallel()
			resp, err := h.Diagnose(b.acme, cmdbQuestion(tc.question))
			require.NoError(t, err)
			d := resp.GetDiagnosis()
			require.Equal(t, reasoningv1.Branch_BRANCH_CMDB, d.GetBranch())
			require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, d.GetPath())
			require.Equal(t, reasoning.NoModel, d.GetFallbackReason())
			require.Nil(t, d.GetModelCall())
			require.GreaterOrEqual(t, d.GetConfidence(), 0.9, "a CI found and traversed is a firm answer")
			require.True(t, strings.HasPrefix(d.GetAnswer(), "Checkout service "), "the answer is about checkout: %q", d.GetAnswer())
			for _, n := range tc.names {
				require.Contains(t, d.GetAnswer(), n)
			}
			ids := evidenceIDs(d)
			require.NotEmpty(t, ids)
			require.Equal(t, "checkout", ids[0], "the CI the question is about is cited first")
			require.Subset(t, ids, tc.evidence)
			for _, id := range tc.absent {
				require.NotContains(t, ids, id)
			}
		})
	}

	t.Run("a question naming no CI", func(t *testing.T) {
		t.Parallel()
		resp, err := h.Diagnose(b.acme, cmdbQuestion("Who owns the quantum flux capacitor?"))
		require.NoError(t, err)
		d := resp.GetDiagnosis()
		require.Equal(t, reasoningv1.Branch_BRANCH_CMDB, d.GetBranch())
		require.Equal(t, reasoning.NoModel, d.GetFallbackReason())
		require.Contains(t, d.GetAnswer(), "No configuration item")
		require.Less(t, d.GetConfidence(), 0.5, "nothing found is not a firm answer")
		require.Empty(t, d.GetEvidence())
	})

	t.Run("the model rewords the graph's answer", func(t *testing.T) {
		t.Parallel()
		const worded = "Two services depend on checkout: the API gateway and, through it, the mobile backend."
		srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply { return llmtest.JSON(map[string]any{"answer": worded}) })
		resp, err := b.handler(t, srv).Diagnose(b.acme, cmdbQuestion("What depends on checkout?"))
		require.NoError(t, err)
		d := resp.GetDiagnosis()
		require.Equal(t, reasoningv1.Path_PATH_MODEL, d.GetPath(), "fallback: %s", d.GetFallbackReason())
		require.Empty(t, d.GetFallbackReason())
		require.Equal(t, worded, d.GetAnswer())
		require.Equal(t, "agent-model", d.GetModelCall().GetModel())
		require.ElementsMatch(t, []string{"checkout", "api-gateway", "mobile-bff"}, evidenceIDs(d), "the evidence stays the graph's")

		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		prompt := reqs[0].Messages[1].Content
		require.Contains(t, prompt, "What depends on checkout?")
		require.Contains(t, prompt, "(api-gateway)", "the model words the graph's facts")
		require.Contains(t, prompt, "(mobile-bff)")
	})

	t.Run("a failing model leaves the graph's answer", func(t *testing.T) {
		t.Parallel()
		want, err := h.Diagnose(b.acme, cmdbQuestion("Who owns checkout?"))
		require.NoError(t, err)
		srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: http.StatusInternalServerError} })
		resp, err := b.handler(t, srv).Diagnose(b.acme, cmdbQuestion("Who owns checkout?"))
		require.NoError(t, err)
		d := resp.GetDiagnosis()
		require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, d.GetPath())
		require.Contains(t, d.GetFallbackReason(), "answered 500")
		require.Equal(t, want.GetDiagnosis().GetAnswer(), d.GetAnswer())
		require.Contains(t, d.GetAnswer(), "Payments team")
		require.Equal(t, []string{"checkout", "team-payments"}, evidenceIDs(d))
		require.NotEmpty(t, srv.Requests(), "the model was asked")
	})

	t.Run("the model is not asked to word nothing", func(t *testing.T) {
		t.Parallel()
		srv := llmtest.New(t, func(int, llmtest.Request) llmtest.Reply {
			return llmtest.JSON(map[string]any{"answer": "the flux team"})
		})
		resp, err := b.handler(t, srv).Diagnose(b.acme, cmdbQuestion("Who owns the quantum flux capacitor?"))
		require.NoError(t, err)
		d := resp.GetDiagnosis()
		require.Equal(t, reasoningv1.Path_PATH_HEURISTIC, d.GetPath())
		require.Equal(t, "the graph found no facts to word", d.GetFallbackReason())
		require.NotContains(t, d.GetAnswer(), "flux team")
		require.Empty(t, srv.Requests())
	})
}

func TestCMDBAnswersStayInTheTenantGraph(t *testing.T) {
	t.Parallel()
	b := setupKG(t)
	h := b.handler(t, nil)

	resp, err := h.Diagnose(b.globex, cmdbQuestion("Who owns checkout?"))
	require.NoError(t, err)
	d := resp.GetDiagnosis()
	require.Contains(t, d.GetAnswer(), "Storefront team", "globex's own checkout has its own owner")
	require.NotContains(t, d.GetAnswer(), "Payments team")
	require.Equal(t, []string{"checkout", "team-storefront"}, evidenceIDs(d))

	resp, err = h.Diagnose(b.globex, cmdbQuestion("What depends on checkout?"))
	require.NoError(t, err)
	d = resp.GetDiagnosis()
	require.Equal(t, []string{"checkout"}, evidenceIDs(d), "acme's dependents of its checkout are not globex's")
	require.Contains(t, d.GetAnswer(), "records nothing")
	require.NotContains(t, d.GetAnswer(), "API gateway")

	resp, err = h.Diagnose(b.initech, cmdbQuestion("Who owns checkout?"))
	require.NoError(t, err)
	d = resp.GetDiagnosis()
	require.Empty(t, d.GetEvidence(), "a tenant without a graph finds nothing, not another tenant's CI")
	require.Contains(t, d.GetAnswer(), "No configuration item")
	require.NotContains(t, d.GetAnswer(), "Payments team")
	require.NotContains(t, d.GetAnswer(), "Storefront team")
	require.Less(t, d.GetConfidence(), 0.5)
}

func TestTargetCatalogueListsTheTenantTargets(t *testing.T) {
	t.Parallel()
	b := setupKG(t)
	require.NoError(t, provision.SetWebhookTarget(b.acme, b.db, "page-oncall", "https://hooks.acme.example/page"))
	// Repointing a target keeps one entry.
	require.NoError(t, provision.SetWebhookTarget(b.acme, b.db, "restart-checkout", "https://hooks.acme.example/restart-v2"))
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)
	require.NoError(t, provision.SetRunbook(b.globex, b.db, keys, provision.Runbook{
		Name: "restart-pods", Kind: provision.RunbookAWX, URL: "https://awx.globex.example", Job: "12",
		Credential: []byte("token"), Schema: json.RawMessage(`{"type": "object"}`),
	}))

	webhook := func(names ...string) []reasoning.CatalogueAction {
		out := make([]reasoning.CatalogueAction, len(names))
		for i, n := range names {
			out[i] = reasoning.CatalogueAction{Kind: reasoning.ActionKindWebhook, Target: n}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want []reasoning.CatalogueAction
	}{
		{"acme", b.acme, webhook("page-oncall", "restart-checkout")},
		{"globex", b.globex, append(webhook("flush-cache"), reasoning.CatalogueAction{Kind: reasoning.ActionKindRunbook, Target: "restart-pods"})},
		{"initech", b.initech, nil},
	} {
		got, err := b.catalogue.Actions(tc.ctx)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}

	_, err = b.catalogue.Actions(context.Background())
	require.Error(t, err, "a context without a tenant reads no catalogue")
}
