package actions

import (
	"context"
	"errors"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/enumpair"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/audit"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
	"github.com/alexus-platform/alexus/services/actions/ticketsync"
)

// handler adapts ActionService to the action, audit, ticketstore and
// ticketsync packages: it converts proto values to domain values and
// domain errors to gRPC codes, and does nothing else.
type handler struct {
	actionsv1.UnimplementedActionServiceServer

	log     *zap.Logger
	actions *action.Store
	audit   *audit.Log
	tickets *ticketstore.Store
	sync    *ticketsync.Syncer
}

// ExecuteAction records and enqueues one action, or returns the one already
// recorded under the same idempotency key.
func (h *handler) ExecuteAction(ctx context.Context, req *actionsv1.ExecuteActionRequest) (*actionsv1.ExecuteActionResponse, error) {
	dreq := action.Request{
		IdempotencyKey: req.GetIdempotencyKey(),
		IncidentID:     req.GetIncidentId(),
		Kind:           kindFromProto(req.GetKind()),
		Reason:         req.GetReason(),
	}
	if wh := req.GetWebhook(); wh != nil {
		dreq.Webhook = &action.WebhookParams{Target: wh.GetTarget(), Details: wh.GetDetails()}
	}
	if n := req.GetNotify(); n != nil {
		dreq.Notify = &action.NotifyParams{
			Target:      n.GetTarget(),
			Title:       n.GetTitle(),
			Text:        n.GetText(),
			Severity:    severityFromProto(n.GetSeverity()),
			IncidentURL: n.GetIncidentUrl(),
			Fields:      n.GetFields(),
		}
	}
	if rb := req.GetRunbook(); rb != nil {
		params, err := protojson.Marshal(rb.GetParams())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "runbook params: %v", err)
		}
		dreq.Runbook = &action.RunbookParams{Target: rb.GetTarget(), Params: params}
	}
	if tk := req.GetTicket(); tk != nil {
		dreq.Ticket = &action.TicketParams{
			Operation:   ticketOperationFromProto(tk.GetOperation()),
			Title:       tk.GetTitle(),
			Description: tk.GetDescription(),
			NoteID:      tk.GetNoteId(),
			Text:        tk.GetText(),
			State:       ticketStateFromProto(tk.GetState()),
		}
	}
	a, replayed, err := h.actions.Execute(ctx, dreq)
	if err != nil {
		return nil, h.toStatus(ctx, "execute action", err)
	}
	return &actionsv1.ExecuteActionResponse{Action: actionToProto(a), Replayed: replayed}, nil
}

// GetAction returns one of the tenant's actions.
func (h *handler) GetAction(ctx context.Context, req *actionsv1.GetActionRequest) (*actionsv1.GetActionResponse, error) {
	a, err := h.actions.Get(ctx, req.GetId())
	if err != nil {
		return nil, h.toStatus(ctx, "get action", err)
	}
	return &actionsv1.GetActionResponse{Action: actionToProto(a)}, nil
}

// ListActions returns one page of the tenant's actions, newest first.
func (h *handler) ListActions(ctx context.Context, req *actionsv1.ListActionsRequest) (*actionsv1.ListActionsResponse, error) {
	q := action.Query{
		PageSize:   int(req.GetPageSize()),
		PageToken:  req.GetPageToken(),
		IncidentID: req.GetIncidentId(),
	}
	if k := req.GetKind(); k != actionsv1.ActionKind_ACTION_KIND_UNSPECIFIED {
		q.Kind = kindFromProto(k)
	}
	for _, st := range req.GetStatuses() {
		q.Statuses = append(q.Statuses, statusFromProto(st))
	}
	page, err := h.actions.List(ctx, q)
	if err != nil {
		return nil, h.toStatus(ctx, "list actions", err)
	}
	resp := &actionsv1.ListActionsResponse{
		Actions:       make([]*actionsv1.Action, 0, len(page.Actions)),
		NextPageToken: page.NextPageToken,
	}
	for _, a := range page.Actions {
		resp.Actions = append(resp.Actions, actionToProto(a))
	}
	return resp, nil
}

// ListAuditLog returns one page of the tenant's audit log.
func (h *handler) ListAuditLog(ctx context.Context, req *actionsv1.ListAuditLogRequest) (*actionsv1.ListAuditLogResponse, error) {
	q := audit.Query{
		PageSize:    int(req.GetPageSize()),
		PageToken:   req.GetPageToken(),
		Subject:     req.GetSubject(),
		Actor:       req.GetActor(),
		Event:       req.GetEvent(),
		EventPrefix: req.GetEventPrefix(),
	}
	if req.GetSince() != nil {
		q.Since = req.GetSince().AsTime()
	}
	if req.GetUntil() != nil {
		q.Until = req.GetUntil().AsTime()
	}
	page, err := h.audit.List(ctx, q)
	if err != nil {
		return nil, h.toStatus(ctx, "list audit log", err)
	}
	resp := &actionsv1.ListAuditLogResponse{
		Entries:       make([]*actionsv1.AuditEntry, 0, len(page.Entries)),
		NextPageToken: page.NextPageToken,
	}
	for _, e := range page.Entries {
		resp.Entries = append(resp.Entries, &actionsv1.AuditEntry{
			Id:       e.ID,
			At:       timestamppb.New(e.At),
			Actor:    e.Actor,
			Event:    e.Event,
			Subject:  e.Subject,
			Details:  e.Details,
			Seq:      e.Seq,
			Hash:     e.Hash,
			PrevHash: e.PrevHash,
		})
	}
	return resp, nil
}

// ReceiveTicketEvent settles one inbound change from the tenant's Jira or
// ServiceNow.
func (h *handler) ReceiveTicketEvent(ctx context.Context, req *actionsv1.ReceiveTicketEventRequest) (*actionsv1.ReceiveTicketEventResponse, error) {
	system, ok := ticketSystems.Word(req.GetSystem())
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "unknown ticket system %s", req.GetSystem())
	}
	res, err := h.sync.Receive(ctx, system, req.GetPayload())
	if err != nil {
		return nil, h.toStatus(ctx, "receive ticket event", err)
	}
	return &actionsv1.ReceiveTicketEventResponse{
		Outcome:    syncOutcomeToProto(res.Outcome),
		IncidentId: res.IncidentID,
		TicketKey:  res.Key,
		Reason:     res.Reason,
	}, nil
}

// ListTickets returns one page of the tenant's tickets, newest first.
func (h *handler) ListTickets(ctx context.Context, req *actionsv1.ListTicketsRequest) (*actionsv1.ListTicketsResponse, error) {
	page, err := h.tickets.List(ctx, ticketstore.Query{
		PageSize:   int(req.GetPageSize()),
		PageToken:  req.GetPageToken(),
		IncidentID: req.GetIncidentId(),
	})
	if err != nil {
		return nil, h.toStatus(ctx, "list tickets", err)
	}
	resp := &actionsv1.ListTicketsResponse{
		Tickets:       make([]*actionsv1.Ticket, 0, len(page.Tickets)),
		NextPageToken: page.NextPageToken,
	}
	for _, t := range page.Tickets {
		resp.Tickets = append(resp.Tickets, ticketToProto(t))
	}
	return resp, nil
}

// toStatus maps the action plane's own errors to the gRPC codes a caller
// can act on and leaves everything else (store failures, cancellation,
// errors already carrying a status) to rpc.StatusOf, which logs what is the
// store's fault and answers without internals.
func (h *handler) toStatus(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, action.ErrInvalid), errors.Is(err, action.ErrKeyReused), errors.Is(err, action.ErrBadPageToken),
		errors.Is(err, audit.ErrBadPageToken), errors.Is(err, audit.ErrBadPageSize), errors.Is(err, audit.ErrBadFilter),
		errors.Is(err, ticketstore.ErrBadQuery), errors.Is(err, ticketstore.ErrBadPageToken), errors.Is(err, ticketsync.ErrBadPayload):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ticketsync.ErrNoIntegration):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, ticketsync.ErrNoOrchestrator):
		return status.Error(codes.Unavailable, "the incident cannot be moved now: "+err.Error()+"; retry")
	case errors.Is(err, action.ErrUnknownTenant):
		return status.Error(codes.FailedPrecondition, "tenant is not provisioned")
	case errors.Is(err, action.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	}
	return rpc.StatusOf(ctx, h.log, op, err)
}

func ticketOperationFromProto(op actionsv1.TicketOperation) action.TicketOperation {
	switch op {
	case actionsv1.TicketOperation_TICKET_OPERATION_OPEN:
		return action.TicketOpen
	case actionsv1.TicketOperation_TICKET_OPERATION_COMMENT:
		return action.TicketComment
	case actionsv1.TicketOperation_TICKET_OPERATION_SET_STATE:
		return action.TicketSetState
	default:
		return action.TicketOperation(op.String())
	}
}

// The API's enums and the words the plane stores for them, each pair in one
// table for both directions. A value with no word converts to its enum
// name, so that validation refuses it by name.
var (
	kinds = enumpair.New(map[actionsv1.ActionKind]action.Kind{
		actionsv1.ActionKind_ACTION_KIND_WEBHOOK:    action.KindWebhook,
		actionsv1.ActionKind_ACTION_KIND_NOTIFY:     action.KindNotify,
		actionsv1.ActionKind_ACTION_KIND_RUNBOOK:    action.KindRunbook,
		actionsv1.ActionKind_ACTION_KIND_JIRA:       action.KindJira,
		actionsv1.ActionKind_ACTION_KIND_SERVICENOW: action.KindServiceNow,
	})
	ticketStates = enumpair.New(map[actionsv1.TicketState]ticket.State{
		actionsv1.TicketState_TICKET_STATE_OPEN:         ticket.Open,
		actionsv1.TicketState_TICKET_STATE_ACKNOWLEDGED: ticket.Acknowledged,
		actionsv1.TicketState_TICKET_STATE_RESOLVED:     ticket.Resolved,
	})
	ticketSystems = enumpair.New(map[actionsv1.TicketSystem]provision.TicketSystem{
		actionsv1.TicketSystem_TICKET_SYSTEM_JIRA:       provision.TicketJira,
		actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW: provision.TicketServiceNow,
	})
	statuses = enumpair.New(map[actionsv1.ActionStatus]action.Status{
		actionsv1.ActionStatus_ACTION_STATUS_PENDING:   action.StatusPending,
		actionsv1.ActionStatus_ACTION_STATUS_SUCCEEDED: action.StatusSucceeded,
		actionsv1.ActionStatus_ACTION_STATUS_FAILED:    action.StatusFailed,
	})
)

func kindFromProto(k actionsv1.ActionKind) action.Kind {
	if w, ok := kinds.Word(k); ok {
		return w
	}
	return action.Kind(k.String())
}

func ticketStateFromProto(s actionsv1.TicketState) ticket.State {
	if w, ok := ticketStates.Word(s); ok || s == actionsv1.TicketState_TICKET_STATE_UNSPECIFIED {
		return w
	}
	return ticket.State(s.String())
}

func statusFromProto(s actionsv1.ActionStatus) action.Status {
	if w, ok := statuses.Word(s); ok {
		return w
	}
	return action.Status(s.String())
}

// syncOutcomeToProto maps a sync event's outcome.
func syncOutcomeToProto(o string) actionsv1.TicketSyncOutcome {
	switch o {
	case ticketstore.Applied:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_APPLIED
	case ticketstore.Echo:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_ECHO
	case ticketstore.InSync:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_IN_SYNC
	case ticketstore.LocalWon:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_LOCAL_WON
	case ticketstore.UnknownTicket:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_UNKNOWN_TICKET
	case ticketstore.Unmapped:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_UNMAPPED
	case ticketstore.Written:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_WRITTEN
	default:
		return actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_UNSPECIFIED
	}
}

func ticketToProto(t ticketstore.Ticket) *actionsv1.Ticket {
	out := &actionsv1.Ticket{
		Id:           t.ID,
		IncidentId:   t.IncidentID,
		System:       ticketSystems.Enum(provision.TicketSystem(t.System)),
		Key:          t.Number,
		Url:          t.URL,
		RemoteStatus: t.RemoteStatus,
		RemoteState:  ticketStates.Enum(t.RemoteState),
		WrittenState: ticketStates.Enum(t.Written.State),
		CreatedAt:    timestamppb.New(t.CreatedAt),
		SyncedAt:     timestamppb.New(t.SyncedAt),
		Events:       make([]*actionsv1.TicketSyncEvent, 0, len(t.Events)),
	}
	for _, e := range t.Events {
		out.Events = append(out.Events, &actionsv1.TicketSyncEvent{
			At:           timestamppb.New(e.At),
			Direction:    e.Direction,
			Outcome:      syncOutcomeToProto(e.Outcome),
			RemoteStatus: e.RemoteStatus,
			ChangedBy:    e.ChangedBy,
			Reason:       e.Reason,
		})
	}
	return out
}

func severityFromProto(s actionsv1.NotifySeverity) action.Severity {
	switch s {
	case actionsv1.NotifySeverity_NOTIFY_SEVERITY_INFO:
		return action.SeverityInfo
	case actionsv1.NotifySeverity_NOTIFY_SEVERITY_WARNING:
		return action.SeverityWarning
	case actionsv1.NotifySeverity_NOTIFY_SEVERITY_ERROR:
		return action.SeverityError
	case actionsv1.NotifySeverity_NOTIFY_SEVERITY_CRITICAL:
		return action.SeverityCritical
	default:
		return ""
	}
}

func actionToProto(a action.Action) *actionsv1.Action {
	return &actionsv1.Action{
		Id:             a.ID,
		IdempotencyKey: a.IdempotencyKey,
		IncidentId:     a.IncidentID,
		Kind:           kinds.Enum(a.Kind),
		Status:         statuses.Enum(a.Status),
		Result:         a.Result,
		Target:         a.Target(),
		Reason:         a.Reason,
		Attempts:       int32(a.Attempts),
		CreatedAt:      timestamppb.New(a.CreatedAt),
		UpdatedAt:      timestamppb.New(a.UpdatedAt),
	}
}
