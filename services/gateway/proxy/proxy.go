package proxy

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/gen/alexus/actions/v1/actionsv1connect"
	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/gen/alexus/ingest/v1/ingestv1connect"
	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/gen/alexus/knowledge/v1/knowledgev1connect"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/gen/alexus/reasoning/v1/reasoningv1connect"
)

// Clients are the planes' gRPC clients, dialled with rpc.Dial so that each
// call carries an internal token signed from the context's identity.
type Clients struct {
	Ingest       ingestv1.IngestServiceClient
	Sources      ingestv1.SourceServiceClient
	Orchestrator orchestratorv1.OrchestratorServiceClient
	Reasoning    reasoningv1.ReasoningServiceClient
	Actions      actionsv1.ActionServiceClient
	Knowledge    knowledgev1.KnowledgeServiceClient
}

// Validate names the first missing client.
func (c Clients) Validate() error {
	switch {
	case c.Ingest == nil:
		return errors.New("ingest client is required")
	case c.Sources == nil:
		return errors.New("sources client is required")
	case c.Orchestrator == nil:
		return errors.New("orchestrator client is required")
	case c.Reasoning == nil:
		return errors.New("reasoning client is required")
	case c.Actions == nil:
		return errors.New("actions client is required")
	case c.Knowledge == nil:
		return errors.New("knowledge client is required")
	}
	return nil
}

// Proxy implements the public Connect services by forwarding to the
// planes. Method names do not collide across the services, so one type
// serves them all.
type Proxy struct {
	c    Clients
	stop context.Context
}

var (
	_ ingestv1connect.IngestServiceHandler             = (*Proxy)(nil)
	_ ingestv1connect.SourceServiceHandler             = (*Proxy)(nil)
	_ orchestratorv1connect.OrchestratorServiceHandler = (*Proxy)(nil)
	_ reasoningv1connect.ReasoningServiceHandler       = (*Proxy)(nil)
	_ actionsv1connect.ActionServiceHandler            = (*Proxy)(nil)
	_ knowledgev1connect.KnowledgeServiceHandler       = (*Proxy)(nil)
)

// New returns a Proxy over c. stop is the gateway's lifetime, not a call's:
// server streams end with UNAVAILABLE when it is done, so a shutting-down
// gateway does not wait on watchers forever.
func New(stop context.Context, c Clients) (*Proxy, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if stop == nil {
		stop = context.Background()
	}
	return &Proxy{c: c, stop: stop}, nil
}

// Ingest forwards IngestService.Ingest.
func (p *Proxy) Ingest(ctx context.Context, req *connect.Request[ingestv1.IngestRequest]) (*connect.Response[ingestv1.IngestResponse], error) {
	return unary(ctx, req, p.c.Ingest.Ingest)
}

// IngestBatch forwards the IngestService.IngestBatch client stream.
func (p *Proxy) IngestBatch(ctx context.Context, in *connect.ClientStream[ingestv1.IngestBatchRequest]) (*connect.Response[ingestv1.IngestBatchResponse], error) {
	return clientStream(ctx, in, p.c.Ingest.IngestBatch)
}

// GetIncident forwards OrchestratorService.GetIncident.
func (p *Proxy) GetIncident(ctx context.Context, req *connect.Request[orchestratorv1.GetIncidentRequest]) (*connect.Response[orchestratorv1.GetIncidentResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.GetIncident)
}

// ListIncidents forwards OrchestratorService.ListIncidents.
func (p *Proxy) ListIncidents(ctx context.Context, req *connect.Request[orchestratorv1.ListIncidentsRequest]) (*connect.Response[orchestratorv1.ListIncidentsResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.ListIncidents)
}

// WatchIncidents forwards the OrchestratorService.WatchIncidents server
// stream.
func (p *Proxy) WatchIncidents(ctx context.Context, req *connect.Request[orchestratorv1.WatchIncidentsRequest], out *connect.ServerStream[orchestratorv1.WatchIncidentsResponse]) error {
	return serverStream(ctx, p.stop, req, out, p.c.Orchestrator.WatchIncidents)
}

// ListSignals forwards OrchestratorService.ListSignals.
func (p *Proxy) ListSignals(ctx context.Context, req *connect.Request[orchestratorv1.ListSignalsRequest]) (*connect.Response[orchestratorv1.ListSignalsResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.ListSignals)
}

// ClassifyIncident forwards ReasoningService.ClassifyIncident.
func (p *Proxy) ClassifyIncident(ctx context.Context, req *connect.Request[reasoningv1.ClassifyIncidentRequest]) (*connect.Response[reasoningv1.ClassifyIncidentResponse], error) {
	return unary(ctx, req, p.c.Reasoning.ClassifyIncident)
}

// Diagnose forwards ReasoningService.Diagnose.
func (p *Proxy) Diagnose(ctx context.Context, req *connect.Request[reasoningv1.DiagnoseRequest]) (*connect.Response[reasoningv1.DiagnoseResponse], error) {
	return unary(ctx, req, p.c.Reasoning.Diagnose)
}

// CheckConfidence forwards ReasoningService.CheckConfidence.
func (p *Proxy) CheckConfidence(ctx context.Context, req *connect.Request[reasoningv1.CheckConfidenceRequest]) (*connect.Response[reasoningv1.CheckConfidenceResponse], error) {
	return unary(ctx, req, p.c.Reasoning.CheckConfidence)
}

// SetThresholdRule forwards ReasoningService.SetThresholdRule.
func (p *Proxy) SetThresholdRule(ctx context.Context, req *connect.Request[reasoningv1.SetThresholdRuleRequest]) (*connect.Response[reasoningv1.SetThresholdRuleResponse], error) {
	return unary(ctx, req, p.c.Reasoning.SetThresholdRule)
}

// ListThresholdRules forwards ReasoningService.ListThresholdRules.
func (p *Proxy) ListThresholdRules(ctx context.Context, req *connect.Request[reasoningv1.ListThresholdRulesRequest]) (*connect.Response[reasoningv1.ListThresholdRulesResponse], error) {
	return unary(ctx, req, p.c.Reasoning.ListThresholdRules)
}

// DeleteThresholdRule forwards ReasoningService.DeleteThresholdRule.
func (p *Proxy) DeleteThresholdRule(ctx context.Context, req *connect.Request[reasoningv1.DeleteThresholdRuleRequest]) (*connect.Response[reasoningv1.DeleteThresholdRuleResponse], error) {
	return unary(ctx, req, p.c.Reasoning.DeleteThresholdRule)
}

// GetModelSettings forwards ReasoningService.GetModelSettings.
func (p *Proxy) GetModelSettings(ctx context.Context, req *connect.Request[reasoningv1.GetModelSettingsRequest]) (*connect.Response[reasoningv1.GetModelSettingsResponse], error) {
	return unary(ctx, req, p.c.Reasoning.GetModelSettings)
}

// SetModelSettings forwards ReasoningService.SetModelSettings.
func (p *Proxy) SetModelSettings(ctx context.Context, req *connect.Request[reasoningv1.SetModelSettingsRequest]) (*connect.Response[reasoningv1.SetModelSettingsResponse], error) {
	return unary(ctx, req, p.c.Reasoning.SetModelSettings)
}

// ListTriageItems forwards OrchestratorService.ListTriageItems.
func (p *Proxy) ListTriageItems(ctx context.Context, req *connect.Request[orchestratorv1.ListTriageItemsRequest]) (*connect.Response[orchestratorv1.ListTriageItemsResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.ListTriageItems)
}

// AnswerTriageItem forwards OrchestratorService.AnswerTriageItem.
func (p *Proxy) AnswerTriageItem(ctx context.Context, req *connect.Request[orchestratorv1.AnswerTriageItemRequest]) (*connect.Response[orchestratorv1.AnswerTriageItemResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.AnswerTriageItem)
}

// GetTriageSettings forwards OrchestratorService.GetTriageSettings.
func (p *Proxy) GetTriageSettings(ctx context.Context, req *connect.Request[orchestratorv1.GetTriageSettingsRequest]) (*connect.Response[orchestratorv1.GetTriageSettingsResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.GetTriageSettings)
}

// SetTriageSettings forwards OrchestratorService.SetTriageSettings.
func (p *Proxy) SetTriageSettings(ctx context.Context, req *connect.Request[orchestratorv1.SetTriageSettingsRequest]) (*connect.Response[orchestratorv1.SetTriageSettingsResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.SetTriageSettings)
}

// SetIncidentStatus forwards OrchestratorService.SetIncidentStatus.
func (p *Proxy) SetIncidentStatus(ctx context.Context, req *connect.Request[orchestratorv1.SetIncidentStatusRequest]) (*connect.Response[orchestratorv1.SetIncidentStatusResponse], error) {
	return unary(ctx, req, p.c.Orchestrator.SetIncidentStatus)
}

// ExecuteAction forwards ActionService.ExecuteAction.
func (p *Proxy) ExecuteAction(ctx context.Context, req *connect.Request[actionsv1.ExecuteActionRequest]) (*connect.Response[actionsv1.ExecuteActionResponse], error) {
	return unary(ctx, req, p.c.Actions.ExecuteAction)
}

// ListAuditLog forwards ActionService.ListAuditLog.
func (p *Proxy) ListAuditLog(ctx context.Context, req *connect.Request[actionsv1.ListAuditLogRequest]) (*connect.Response[actionsv1.ListAuditLogResponse], error) {
	return unary(ctx, req, p.c.Actions.ListAuditLog)
}

// GetAction forwards ActionService.GetAction.
func (p *Proxy) GetAction(ctx context.Context, req *connect.Request[actionsv1.GetActionRequest]) (*connect.Response[actionsv1.GetActionResponse], error) {
	return unary(ctx, req, p.c.Actions.GetAction)
}

// ListActions forwards ActionService.ListActions.
func (p *Proxy) ListActions(ctx context.Context, req *connect.Request[actionsv1.ListActionsRequest]) (*connect.Response[actionsv1.ListActionsResponse], error) {
	return unary(ctx, req, p.c.Actions.ListActions)
}

// ReceiveTicketEvent forwards ActionService.ReceiveTicketEvent.
func (p *Proxy) ReceiveTicketEvent(ctx context.Context, req *connect.Request[actionsv1.ReceiveTicketEventRequest]) (*connect.Response[actionsv1.ReceiveTicketEventResponse], error) {
	return unary(ctx, req, p.c.Actions.ReceiveTicketEvent)
}

// ListTickets forwards ActionService.ListTickets.
func (p *Proxy) ListTickets(ctx context.Context, req *connect.Request[actionsv1.ListTicketsRequest]) (*connect.Response[actionsv1.ListTicketsResponse], error) {
	return unary(ctx, req, p.c.Actions.ListTickets)
}

// CreateMappingRule forwards SourceService.CreateMappingRule.
func (p *Proxy) CreateMappingRule(ctx context.Context, req *connect.Request[ingestv1.CreateMappingRuleRequest]) (*connect.Response[ingestv1.CreateMappingRuleResponse], error) {
	return unary(ctx, req, p.c.Sources.CreateMappingRule)
}

// UpdateMappingRule forwards SourceService.UpdateMappingRule.
func (p *Proxy) UpdateMappingRule(ctx context.Context, req *connect.Request[ingestv1.UpdateMappingRuleRequest]) (*connect.Response[ingestv1.UpdateMappingRuleResponse], error) {
	return unary(ctx, req, p.c.Sources.UpdateMappingRule)
}

// ListMappingRules forwards SourceService.ListMappingRules.
func (p *Proxy) ListMappingRules(ctx context.Context, req *connect.Request[ingestv1.ListMappingRulesRequest]) (*connect.Response[ingestv1.ListMappingRulesResponse], error) {
	return unary(ctx, req, p.c.Sources.ListMappingRules)
}

// TestMappingRule forwards SourceService.TestMappingRule.
func (p *Proxy) TestMappingRule(ctx context.Context, req *connect.Request[ingestv1.TestMappingRuleRequest]) (*connect.Response[ingestv1.TestMappingRuleResponse], error) {
	return unary(ctx, req, p.c.Sources.TestMappingRule)
}

// DeleteMappingRule forwards SourceService.DeleteMappingRule.
func (p *Proxy) DeleteMappingRule(ctx context.Context, req *connect.Request[ingestv1.DeleteMappingRuleRequest]) (*connect.Response[ingestv1.DeleteMappingRuleResponse], error) {
	return unary(ctx, req, p.c.Sources.DeleteMappingRule)
}

// SetFingerprintOverride forwards SourceService.SetFingerprintOverride.
func (p *Proxy) SetFingerprintOverride(ctx context.Context, req *connect.Request[ingestv1.SetFingerprintOverrideRequest]) (*connect.Response[ingestv1.SetFingerprintOverrideResponse], error) {
	return unary(ctx, req, p.c.Sources.SetFingerprintOverride)
}

// ListFingerprintOverrides forwards SourceService.ListFingerprintOverrides.
func (p *Proxy) ListFingerprintOverrides(ctx context.Context, req *connect.Request[ingestv1.ListFingerprintOverridesRequest]) (*connect.Response[ingestv1.ListFingerprintOverridesResponse], error) {
	return unary(ctx, req, p.c.Sources.ListFingerprintOverrides)
}

// DeleteFingerprintOverride forwards SourceService.DeleteFingerprintOverride.
func (p *Proxy) DeleteFingerprintOverride(ctx context.Context, req *connect.Request[ingestv1.DeleteFingerprintOverrideRequest]) (*connect.Response[ingestv1.DeleteFingerprintOverrideResponse], error) {
	return unary(ctx, req, p.c.Sources.DeleteFingerprintOverride)
}

// PreviewFingerprintOverride forwards SourceService.PreviewFingerprintOverride.
func (p *Proxy) PreviewFingerprintOverride(ctx context.Context, req *connect.Request[ingestv1.PreviewFingerprintOverrideRequest]) (*connect.Response[ingestv1.PreviewFingerprintOverrideResponse], error) {
	return unary(ctx, req, p.c.Sources.PreviewFingerprintOverride)
}

// UpsertNodes forwards KnowledgeService.UpsertNodes.
func (p *Proxy) UpsertNodes(ctx context.Context, req *connect.Request[knowledgev1.UpsertNodesRequest]) (*connect.Response[knowledgev1.UpsertNodesResponse], error) {
	return unary(ctx, req, p.c.Knowledge.UpsertNodes)
}

// GetNode forwards KnowledgeService.GetNode.
func (p *Proxy) GetNode(ctx context.Context, req *connect.Request[knowledgev1.GetNodeRequest]) (*connect.Response[knowledgev1.GetNodeResponse], error) {
	return unary(ctx, req, p.c.Knowledge.GetNode)
}

// DeleteNodes forwards KnowledgeService.DeleteNodes.
func (p *Proxy) DeleteNodes(ctx context.Context, req *connect.Request[knowledgev1.DeleteNodesRequest]) (*connect.Response[knowledgev1.DeleteNodesResponse], error) {
	return unary(ctx, req, p.c.Knowledge.DeleteNodes)
}

// UpsertEdges forwards KnowledgeService.UpsertEdges.
func (p *Proxy) UpsertEdges(ctx context.Context, req *connect.Request[knowledgev1.UpsertEdgesRequest]) (*connect.Response[knowledgev1.UpsertEdgesResponse], error) {
	return unary(ctx, req, p.c.Knowledge.UpsertEdges)
}

// DeleteEdges forwards KnowledgeService.DeleteEdges.
func (p *Proxy) DeleteEdges(ctx context.Context, req *connect.Request[knowledgev1.DeleteEdgesRequest]) (*connect.Response[knowledgev1.DeleteEdgesResponse], error) {
	return unary(ctx, req, p.c.Knowledge.DeleteEdges)
}

// Traverse forwards KnowledgeService.Traverse.
func (p *Proxy) Traverse(ctx context.Context, req *connect.Request[knowledgev1.TraverseRequest]) (*connect.Response[knowledgev1.TraverseResponse], error) {
	return unary(ctx, req, p.c.Knowledge.Traverse)
}

// GetOwners forwards KnowledgeService.GetOwners.
func (p *Proxy) GetOwners(ctx context.Context, req *connect.Request[knowledgev1.GetOwnersRequest]) (*connect.Response[knowledgev1.GetOwnersResponse], error) {
	return unary(ctx, req, p.c.Knowledge.GetOwners)
}

// Search forwards KnowledgeService.Search.
func (p *Proxy) Search(ctx context.Context, req *connect.Request[knowledgev1.SearchRequest]) (*connect.Response[knowledgev1.SearchResponse], error) {
	return unary(ctx, req, p.c.Knowledge.Search)
}

// ImportCMDB forwards the KnowledgeService.ImportCMDB client stream.
func (p *Proxy) ImportCMDB(ctx context.Context, in *connect.ClientStream[knowledgev1.ImportCMDBRequest]) (*connect.Response[knowledgev1.ImportCMDBResponse], error) {
	return clientStream(ctx, in, p.c.Knowledge.ImportCMDB)
}

// AddKnowledgeFile forwards KnowledgeService.AddKnowledgeFile.
func (p *Proxy) AddKnowledgeFile(ctx context.Context, req *connect.Request[knowledgev1.AddKnowledgeFileRequest]) (*connect.Response[knowledgev1.AddKnowledgeFileResponse], error) {
	return unary(ctx, req, p.c.Knowledge.AddKnowledgeFile)
}

// ListKnowledgeFiles forwards KnowledgeService.ListKnowledgeFiles.
func (p *Proxy) ListKnowledgeFiles(ctx context.Context, req *connect.Request[knowledgev1.ListKnowledgeFilesRequest]) (*connect.Response[knowledgev1.ListKnowledgeFilesResponse], error) {
	return unary(ctx, req, p.c.Knowledge.ListKnowledgeFiles)
}

// RemoveKnowledgeFile forwards KnowledgeService.RemoveKnowledgeFile.
func (p *Proxy) RemoveKnowledgeFile(ctx context.Context, req *connect.Request[knowledgev1.RemoveKnowledgeFileRequest]) (*connect.Response[knowledgev1.RemoveKnowledgeFileResponse], error) {
	return unary(ctx, req, p.c.Knowledge.RemoveKnowledgeFile)
}

// GetEmbeddingSettings forwards KnowledgeService.GetEmbeddingSettings.
func (p *Proxy) GetEmbeddingSettings(ctx context.Context, req *connect.Request[knowledgev1.GetEmbeddingSettingsRequest]) (*connect.Response[knowledgev1.GetEmbeddingSettingsResponse], error) {
	return unary(ctx, req, p.c.Knowledge.GetEmbeddingSettings)
}

// SetEmbeddingSettings forwards KnowledgeService.SetEmbeddingSettings.
func (p *Proxy) SetEmbeddingSettings(ctx context.Context, req *connect.Request[knowledgev1.SetEmbeddingSettingsRequest]) (*connect.Response[knowledgev1.SetEmbeddingSettingsResponse], error) {
	return unary(ctx, req, p.c.Knowledge.SetEmbeddingSettings)
}
