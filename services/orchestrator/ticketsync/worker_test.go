package ticketsync_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
	"github.com/alexus-platform/alexus/services/orchestrator/ticketsync"
)

const acme = tenant.ID("acme")

// actions is the action plane as the worker sees it: it records each
// request and answers with err.
type actions struct {
	actionsv1.ActionServiceClient
	mu    sync.Mutex
	calls []*actionsv1.ExecuteActionRequest
	err   error
}

func (a *actions) ExecuteAction(_ context.Context, req *actionsv1.ExecuteActionRequest, _ ...grpc.CallOption) (*actionsv1.ExecuteActionResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, req)
	if a.err != nil {
		return nil, a.err
	}
	return &actionsv1.ExecuteActionResponse{Action: &actionsv1.Action{Id: uuid.NewString(), IdempotencyKey: req.GetIdempotencyKey()}}, nil
}

func (a *actions) answer(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *actions) keys() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, c := range a.calls {
		out = append(out, c.GetIdempotencyKey())
	}
	return out
}

type bundle struct {
	db      *store.DB
	store   *incident.Store
	actions *actions
	worker  *ticketsync.Worker
}

// setup wires the store to a Sync whose River client is not started: the
// tests run the worker on the jobs the store queued.
func setup(t *testing.T) *bundle {
	t.Helper()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	db := storetest.New(t).DB
	_, err := provision.EnsureTenant(as(), db, provision.TenantOptions{})
	require.NoError(t, err)
	b := &bundle{db: db, actions: &actions{}}
	var s *ticketsync.Sync
	b.store = incident.NewStore(db, incident.WithTickets(late{&s}))
	b.worker = ticketsync.NewWorker(ticketsync.WorkerDeps{Store: b.store, Actions: b.actions, Log: log})
	s, err = ticketsync.New(db, b.worker, log)
	require.NoError(t, err)
	return b
}

// late hands the store's calls to the Sync built after it.
type late struct{ s **ticketsync.Sync }

func (l late) Open(ctx context.Context, tx pgx.Tx, inc incident.Incident, req incident.TicketOpen) error {
	return (*l.s).Open(ctx, tx, inc, req)
}

func (l late) Follow(ctx context.Context, tx pgx.Tx, inc incident.Incident, tr incident.Transition, tk incident.Ticket) error {
	return (*l.s).Follow(ctx, tx, inc, tr, tk)
}

func as() context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: acme, Subject: "user:test"})
}

// escalated opens an incident and stores its escalation with a ticket
// request.
func (b *bundle) escalated(t *testing.T) incident.Incident {
	t.Helper()
	op, err := b.store.Open(as(), &signalv1.Signal{Id: uuid.NewString(), TenantId: string(acme), Source: "alertmanager",
		Fingerprint: "fp-" + uuid.NewString()[:8], Status: signalv1.Status_STATUS_FIRING, Title: "Disk full on db-7", ReceivedAt: timestamppb.Now()})
	require.NoError(t, err)
	_, err = b.store.AddStages(as(), op.Incident.ID, []incident.StageUpdate{{
		Stage: incident.StageEscalate, Summary: "escalated",
		Ticket: &incident.TicketOpen{System: incident.TicketJira, Title: "Disk full on db-7", Description: "the disk is full"},
	}})
	require.NoError(t, err)
	return op.Incident
}

// jobs returns the ticket jobs queued for incident id, oldest first, as
// the worker gets them on their attempt.
func (b *bundle) jobs(t *testing.T, id string, attempt int) []*river.Job[ticketsync.Args] {
	t.Helper()
	rows, err := b.db.Pool().Query(context.Background(), `
		SELECT id, args, created_at FROM river_job WHERE kind = $1 AND args->>'incident_id' = $2 ORDER BY id`,
		ticketsync.Args{}.Kind(), id)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*river.Job[ticketsync.Args], error) {
		var (
			jid     int64
			raw     []byte
			created time.Time
			a       ticketsync.Args
		)
		if err := r.Scan(&jid, &raw, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, err
		}
		return &river.Job[ticketsync.Args]{JobRow: &rivertype.JobRow{ID: jid, Attempt: attempt, MaxAttempts: 10, CreatedAt: created}, Args: a}, nil
	})
	require.NoError(t, err)
	return out
}

func (b *bundle) ticket(t *testing.T, id string) incident.Ticket {
	t.Helper()
	tk, found, err := b.store.Ticket(as(), id)
	require.NoError(t, err)
	require.True(t, found)
	return tk
}

// An OPEN the action plane keeps failing is retried, and recorded as
// failed on its last attempt; the incident's later changes then send
// nothing.
func TestOpenFailsOnItsLastAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.escalated(t)
	b.actions.answer(status.Error(codes.Unavailable, "down"))

	open := b.jobs(t, inc.ID, 1)
	require.Len(t, open, 1)
	require.Equal(t, ticketsync.Args{Tenant: string(acme), Key: "incident/" + inc.ID + "/ticket/open", IncidentID: inc.ID, Operation: ticketsync.OpOpen}, open[0].Args,
		"the job names the call; the ticket's text stays in the tenant's rows")
	require.Error(t, b.worker.Work(context.Background(), open[0]))
	require.Equal(t, incident.TicketPending, b.ticket(t, inc.ID).State, "retried")

	last := b.jobs(t, inc.ID, 10)[0]
	require.Error(t, b.worker.Work(context.Background(), last))
	tk := b.ticket(t, inc.ID)
	require.Equal(t, incident.TicketFailed, tk.State)
	require.Contains(t, tk.Error, "down")

	_, _, err := b.store.SetStatus(as(), inc.ID, incident.StatusChange{To: incident.StatusResolved})
	require.NoError(t, err)
	require.Len(t, b.jobs(t, inc.ID, 1), 1, "no update for a ticket that never opened")
}

// A state change waits for its ticket's OPEN; once the OPEN is answered it
// is sent, unless a later status change superseded it.
func TestStateChangesWaitForTheOpenAndTheLatestWins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.escalated(t)
	resolved, _, err := b.store.SetStatus(as(), inc.ID, incident.StatusChange{To: incident.StatusResolved})
	require.NoError(t, err)

	jobs := b.jobs(t, inc.ID, 1)
	require.Len(t, jobs, 2)
	setState := jobs[1]
	require.Equal(t, ticketsync.OpSetState, setState.Args.Operation)
	require.Equal(t, resolved.Transition.Sequence, setState.Args.Sequence)
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, b.worker.Work(context.Background(), setState), &snooze, "the OPEN is not answered yet")
	require.Empty(t, b.actions.keys())

	require.NoError(t, b.worker.Work(context.Background(), jobs[0]))
	require.Equal(t, incident.TicketRequested, b.ticket(t, inc.ID).State)
	require.NoError(t, b.worker.Work(context.Background(), jobs[0]), "a redelivered OPEN asks nothing more")

	// Reopened before the resolution's job ran: that job is stale.
	reopened, _, err := b.store.SetStatus(as(), inc.ID, incident.StatusChange{To: incident.StatusOpen})
	require.NoError(t, err)
	jobs = b.jobs(t, inc.ID, 1)
	require.Len(t, jobs, 3)
	require.NoError(t, b.worker.Work(context.Background(), jobs[1]))
	require.NoError(t, b.worker.Work(context.Background(), jobs[2]))
	require.Equal(t, []string{
		"incident/" + inc.ID + "/ticket/open",
		"incident/" + inc.ID + "/ticket/state/" + itoa(reopened.Transition.Sequence),
	}, b.actions.keys())
	b.actions.mu.Lock()
	last := b.actions.calls[len(b.actions.calls)-1]
	b.actions.mu.Unlock()
	require.Equal(t, actionsv1.TicketState_TICKET_STATE_OPEN, last.GetTicket().GetState())
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_JIRA, last.GetKind())

	// A refused update is cancelled, not retried.
	b.actions.answer(status.Error(codes.InvalidArgument, "no such transition"))
	_, _, err = b.store.SetStatus(as(), inc.ID, incident.StatusChange{To: incident.StatusAcknowledged})
	require.NoError(t, err)
	jobs = b.jobs(t, inc.ID, 1)
	var cancelled *rivertype.JobCancelError
	require.ErrorAs(t, b.worker.Work(context.Background(), jobs[len(jobs)-1]), &cancelled)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A quality gate that finds the resolution did not hold comments on the
// ticket; one that passes does not.
func TestFailedGateIsCommented(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inc := b.escalated(t)
	require.NoError(t, b.worker.Work(context.Background(), b.jobs(t, inc.ID, 1)[0]))
	res, _, err := b.store.SetStatus(as(), inc.ID, incident.StatusChange{To: incident.StatusResolved, Source: "jira:OPS-7"})
	require.NoError(t, err)
	require.Len(t, b.jobs(t, inc.ID, 1), 1, "a resolution from the ticket is not written back")

	verdict, err := b.store.RecordVerdict(as(), inc.ID, incident.Verdict{
		Quality: incident.QualityIneffective, Summary: "the resolution did not hold", ResolvedAt: *res.Incident.ResolvedAt,
		Details: map[string]string{"result": "fail", "resolution": "ineffective", "reason": "The same alert came back after 5m.", "route": "oncall"},
	})
	require.NoError(t, err)
	jobs := b.jobs(t, inc.ID, 1)
	require.Len(t, jobs, 2)
	require.NoError(t, b.worker.Work(context.Background(), jobs[1]))
	b.actions.mu.Lock()
	c := b.actions.calls[len(b.actions.calls)-1]
	b.actions.mu.Unlock()
	note := "quality-gate-" + itoa(verdict.Transition.Sequence)
	require.Equal(t, "incident/"+inc.ID+"/ticket/comment/"+note, c.GetIdempotencyKey())
	require.Equal(t, actionsv1.TicketOperation_TICKET_OPERATION_COMMENT, c.GetTicket().GetOperation())
	require.Equal(t, note, c.GetTicket().GetNoteId())
	require.Equal(t, "The same alert came back after 5m.\nEscalated to oncall.", c.GetTicket().GetText())
}

// A ticket asked for after a person acknowledged the incident (the
// pipeline decided late) follows that status once it is open.
func TestLateTicketFollowsTheStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	op, err := b.store.Open(as(), &signalv1.Signal{Id: uuid.NewString(), TenantId: string(acme), Source: "alertmanager",
		Fingerprint: "fp-late", Status: signalv1.Status_STATUS_FIRING, Title: "Disk full on db-7", ReceivedAt: timestamppb.Now()})
	require.NoError(t, err)
	ack, _, err := b.store.SetStatus(as(), op.Incident.ID, incident.StatusChange{To: incident.StatusAcknowledged})
	require.NoError(t, err)
	require.Empty(t, b.jobs(t, op.Incident.ID, 1), "no ticket yet, nothing to move")

	_, err = b.store.AddStages(as(), op.Incident.ID, []incident.StageUpdate{{
		Stage: incident.StageEscalate, Summary: "escalated",
		Ticket: &incident.TicketOpen{System: incident.TicketJira, Title: "Disk full on db-7", Description: "the disk is full"},
	}})
	require.NoError(t, err)
	jobs := b.jobs(t, op.Incident.ID, 1)
	require.Len(t, jobs, 2)
	for _, j := range jobs {
		require.NoError(t, b.worker.Work(context.Background(), j))
	}
	require.Equal(t, []string{
		"incident/" + op.Incident.ID + "/ticket/open",
		"incident/" + op.Incident.ID + "/ticket/state/" + itoa(ack.Transition.Sequence),
	}, b.actions.keys())
}
