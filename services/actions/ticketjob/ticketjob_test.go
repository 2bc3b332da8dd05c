package ticketjob_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow/sntest"
	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/ticketjob"
	"github.com/alexus-platform/alexus/services/actions/ticketjob/ticketjobtest"
	"github.com/alexus-platform/alexus/services/actions/ticketremote"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
)

const (
	acme     = "acme"
	incident = "0b7f3c52-3c1e-4a7e-9b43-6a0d1c2e5f10"
)

// remote is what a test needs of one system's stand-in.
type remote struct {
	system provision.TicketSystem
	// find and create are the routes of the open's search and create.
	find, create tickettest.Route
	fail         func(tickettest.Route, ...tickettest.Fault)
	// requests counts the requests the stand-in got on a route.
	requests func(tickettest.Route) int
	// tickets counts the stand-in's tickets.
	tickets func() int
	// secret is the credential the stand-in accepts.
	secret string
	// denied is the stand-in's message for a refused credential.
	denied string
}

func remotes(b *ticketjobtest.Bed) []remote {
	return []remote{{
		system: provision.TicketJira, find: jiratest.RouteSearch, create: jiratest.RouteCreateIssue, fail: b.Jira.Fail,
		requests: func(rt tickettest.Route) int { return len(b.Jira.Requests(rt)) },
		tickets:  func() int { return len(b.Jira.Issues()) }, secret: jiratest.APIToken,
		denied: "Client must be authenticated to access this resource.",
	}, {
		system: provision.TicketServiceNow, find: sntest.RouteQuery, create: sntest.RouteCreate, fail: b.ServiceNow.Fail,
		requests: func(rt tickettest.Route) int { return len(b.ServiceNow.Requests(rt)) },
		tickets:  func() int { return len(b.ServiceNow.Records()) }, secret: sntest.Password,
		denied: "User Not Authenticated: Required to provide Auth information",
	}}
}

func setup(t *testing.T) *ticketjobtest.Bed {
	t.Helper()
	b := ticketjobtest.New(t)
	b.AddTenant(t, acme)
	b.Integrate(t, acme, provision.TicketJira, provision.TicketServiceNow)
	return b
}

func openParams() action.TicketParams {
	return action.TicketParams{Operation: action.TicketOpen, Title: "checkout-api is down", Description: "5xx above 20%."}
}

// An OPEN whose create was performed but never answered opens one ticket,
// whether the client finds it again within the run or only River's next
// run does; the row records the ticket, its link and its marker.
func TestOpenAfterALostResponseOpensOneTicket(t *testing.T) {
	t.Parallel()
	for _, within := range []bool{true, false} {
		name := "found by the next run"
		if within {
			name = "found within the run"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			for _, r := range remotes(b) {
				r.fail(r.create, tickettest.Fault{LoseResponse: true})
				if !within {
					// The search before the create answers; every search
					// after the lost create fails until the client gives up.
					r.fail(r.find, tickettest.Fault{}, tickettest.Fault{Status: 503}, tickettest.Fault{Status: 503},
						tickettest.Fault{Status: 503}, tickettest.Fault{Status: 503})
				}
				a := b.Execute(t, acme, action.Kind(r.system), incident, "open-"+string(r.system), openParams())
				if !within {
					err := b.Work(acme, a, 1)
					require.Error(t, err, r.system)
					var cancel *rivertype.JobCancelError
					require.NotErrorAs(t, err, &cancel, "River retries it")
					got := b.Action(t, acme, a.ID)
					require.Equal(t, action.StatusPending, got.Status)
					require.Contains(t, got.Result, "HTTP 503")
					require.NoError(t, b.Work(acme, a, 2))
				} else {
					require.NoError(t, b.Work(acme, a, 1))
				}
				got := b.Action(t, acme, a.ID)
				require.Equal(t, action.StatusSucceeded, got.Status, got.Result)
				require.Equal(t, 1, r.tickets(), "%s: one ticket", r.system)

				tk := b.Ticket(t, acme, incident, r.system)
				require.Equal(t, "alexus-0b7f3c523c1e4a7e9b436a0d1c2e5f10", tk.Marker)
				require.Equal(t, ticket.Open, tk.RemoteState)
				require.Contains(t, got.Result, tk.Number)
				switch r.system {
				case provision.TicketJira:
					require.Equal(t, "OPS-1", tk.Number)
					require.Equal(t, b.Jira.URL+"/browse/OPS-1", tk.URL)
				case provision.TicketServiceNow:
					require.Equal(t, "INC0010001", tk.Number)
					require.Equal(t, b.ServiceNow.URL+"/nav_to.do?uri=incident.do?sys_id="+tk.RemoteKey, tk.URL)
				}
			}
		})
	}
}

// SET_STATE resolves the Jira issue through a transition and the
// ServiceNow record with state 6 and the close fields; it records what it
// wrote, and a second one finds the ticket already there.
func TestSetStateResolves(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range remotes(b) {
		opened := b.Open(t, acme, r.system, incident)
		a := b.SetState(t, acme, r.system, incident, action.TicketParams{State: ticket.Resolved, Text: "Rolled back deploy 4812."}, "resolve-"+string(r.system))
		require.Equal(t, action.StatusSucceeded, a.Status, a.Result)

		tk := b.Ticket(t, acme, incident, r.system)
		require.Equal(t, ticket.Resolved, tk.RemoteState)
		require.Equal(t, ticket.Resolved, tk.LocalState)
		require.Equal(t, ticket.Resolved, tk.Written.State)
		require.False(t, tk.Written.At.IsZero())
		switch r.system {
		case provision.TicketJira:
			require.Equal(t, "moved OPS-1 to Done", a.Result)
			iss, ok := b.Jira.Issue(opened.RemoteKey)
			require.True(t, ok)
			require.Equal(t, "Done", iss.Status.Name)
			require.Len(t, b.Jira.Requests(jiratest.RouteDoTransition), 1)
			require.Equal(t, "Done", tk.RemoteStatus)
		case provision.TicketServiceNow:
			require.Equal(t, "moved INC0010001 to Resolved", a.Result)
			rec, ok := b.ServiceNow.Record(opened.RemoteKey)
			require.True(t, ok)
			require.Equal(t, servicenow.StateResolved, rec.Fields["state"])
			require.Equal(t, servicenow.DefaultCloseCode, rec.Fields["close_code"])
			require.Equal(t, "Rolled back deploy 4812.", rec.Fields["close_notes"])
			require.Equal(t, "6", tk.RemoteStatus)
			require.Positive(t, tk.Written.Version, "sys_mod_count of the write, for the echo rule")
		}

		again := b.SetState(t, acme, r.system, incident, action.TicketParams{State: ticket.Resolved}, "resolve-again-"+string(r.system))
		require.Equal(t, action.StatusSucceeded, again.Status)
		require.Contains(t, again.Result, "already in")

		list, err := b.Tickets.List(ticketjobtest.As(acme), ticketstore.Query{IncidentID: incident})
		require.NoError(t, err)
		for _, lt := range list.Tickets {
			if lt.System == string(r.system) {
				require.Equal(t, []string{ticketstore.InSync, ticketstore.Written, ticketstore.Written}, outcomes(lt.Events), "newest first")
			}
		}
	}
	require.Len(t, b.Jira.Requests(jiratest.RouteDoTransition), 1, "the second SET_STATE wrote nothing")
}

func outcomes(events []ticketstore.Event) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.Outcome)
	}
	return out
}

// COMMENT adds a comment or work note once per note id.
func TestCommentOncePerNote(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range remotes(b) {
		opened := b.Open(t, acme, r.system, incident)
		p := action.TicketParams{Operation: action.TicketComment, NoteID: "diagnosis-1", Text: "Deploy 4812 broke checkout."}
		first := b.Execute(t, acme, action.Kind(r.system), incident, "note-1-"+string(r.system), p)
		require.NoError(t, b.Work(acme, first, 1))
		second := b.Execute(t, acme, action.Kind(r.system), incident, "note-2-"+string(r.system), p)
		require.NoError(t, b.Work(acme, second, 1))
		require.Equal(t, "commented on "+opened.Number, b.Action(t, acme, first.ID).Result)
		require.Equal(t, opened.Number+" already has note diagnosis-1", b.Action(t, acme, second.ID).Result)
		switch r.system {
		case provision.TicketJira:
			iss, _ := b.Jira.Issue(opened.RemoteKey)
			require.Len(t, iss.Comments, 1)
		case provision.TicketServiceNow:
			rec, _ := b.ServiceNow.Record(opened.RemoteKey)
			require.Len(t, rec.WorkNotes, 1)
		}
	}
}

// A refused credential fails the action at once with the remote's message
// and never the credential; a rate limit (with Retry-After) and a 5xx are
// retried, by the client within the run and by River after it, and the
// action then succeeds.
func TestRemoteAnswers(t *testing.T) {
	t.Parallel()
	t.Run("401", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, r := range remotes(b) {
			r.fail(r.find, tickettest.Fault{Status: http.StatusUnauthorized})
			a := b.Execute(t, acme, action.Kind(r.system), incident, "open-"+string(r.system), openParams())
			var cancel *rivertype.JobCancelError
			require.ErrorAs(t, b.Work(acme, a, 1), &cancel)
			got := b.Action(t, acme, a.ID)
			require.Equal(t, action.StatusFailed, got.Status)
			require.Contains(t, got.Result, "HTTP 401")
			require.Contains(t, got.Result, r.denied)
			require.NotContains(t, got.Result, r.secret)
			require.Zero(t, r.tickets())
		}
	})
	t.Run("429 and 5xx within the run", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, r := range remotes(b) {
			r.fail(r.find, tickettest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second}, tickettest.Fault{Status: http.StatusBadGateway})
			a := b.Execute(t, acme, action.Kind(r.system), incident, "open-"+string(r.system), openParams())
			require.NoError(t, b.Work(acme, a, 1))
			got := b.Action(t, acme, a.ID)
			require.Equal(t, action.StatusSucceeded, got.Status, got.Result)
			require.Equal(t, 1, got.Attempts)
			require.Equal(t, 3, r.requests(r.find), "%s: 429, 502, then the search that answered", r.system)
			require.Equal(t, 1, r.tickets())
		}
	})
	t.Run("429 and 5xx beyond the run", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, r := range remotes(b) {
			for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
				incident := map[int]string{429: "11111111-1111-4111-8111-111111111111", 503: "22222222-2222-4222-8222-222222222222"}[status]
				// More failures than the client retries within one run.
				for range 4 {
					r.fail(r.find, tickettest.Fault{Status: status, RetryAfter: time.Second})
				}
				a := b.Execute(t, acme, action.Kind(r.system), incident, "open-"+string(r.system)+incident, openParams())
				err := b.Work(acme, a, 1)
				require.Error(t, err)
				var cancel *rivertype.JobCancelError
				require.NotErrorAs(t, err, &cancel, "River retries it")
				got := b.Action(t, acme, a.ID)
				require.Equal(t, action.StatusPending, got.Status)
				require.Contains(t, got.Result, "HTTP "+strconv.Itoa(status))

				require.NoError(t, b.Work(acme, a, 2))
				got = b.Action(t, acme, a.ID)
				require.Equal(t, action.StatusSucceeded, got.Status, got.Result)
				require.Equal(t, 2, got.Attempts)
			}
			require.Equal(t, 2, r.tickets())
		}
	})
}

// An address the tenant may not reach fails the action at once, without
// the remote being called.
func TestEgressRefusalFailsForGood(t *testing.T) {
	t.Parallel()
	b := setup(t)
	strict := ticketremote.NewOpener(b.DB, b.Keys, &egress.Policy{}, tickettest.Fast)
	jw, sw := b.NewWorkers(t, strict)
	b.JiraWorker, b.ServiceNowWorker = jw, sw
	for _, r := range remotes(b) {
		a := b.Execute(t, acme, action.Kind(r.system), incident, "open-"+string(r.system), openParams())
		var cancel *rivertype.JobCancelError
		require.ErrorAs(t, b.Work(acme, a, 1), &cancel)
		got := b.Action(t, acme, a.ID)
		require.Equal(t, action.StatusFailed, got.Status)
		require.Equal(t, "refused: 127.0.0.1 is a loopback address this tenant may not reach", got.Result)
		require.Zero(t, r.requests(r.find))
	}
}

// A SET_STATE that finds no ticket waits, without using up an attempt,
// while the incident's OPEN is pending, and then moves the ticket the
// OPEN opened; with no OPEN on its way it succeeds without writing.
func TestSetStateWaitsForThePendingOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range remotes(b) {
		kind := action.Kind(r.system)
		open := b.Execute(t, acme, kind, incident, "open-"+string(r.system), openParams())
		resolve := b.Execute(t, acme, kind, incident, "resolve-"+string(r.system), action.TicketParams{Operation: action.TicketSetState, State: ticket.Resolved})

		var snooze *river.JobSnoozeError
		require.ErrorAs(t, b.Work(acme, resolve, 1), &snooze)
		require.Equal(t, ticketjob.DefaultOpenWait, snooze.Duration)
		got := b.Action(t, acme, resolve.ID)
		require.Equal(t, action.StatusPending, got.Status)
		require.Zero(t, got.Attempts, "waiting is not an attempt")

		require.NoError(t, b.Work(acme, open, 1))
		require.NoError(t, b.Work(acme, resolve, 1))
		got = b.Action(t, acme, resolve.ID)
		require.Equal(t, action.StatusSucceeded, got.Status)
		require.Contains(t, got.Result, "moved ")
		require.Equal(t, ticket.Resolved, b.Ticket(t, acme, incident, r.system).RemoteState)

		other := "33333333-3333-4333-8333-333333333333"
		lone := b.Execute(t, acme, kind, other, "lone-"+string(r.system), action.TicketParams{Operation: action.TicketSetState, State: ticket.Resolved})
		require.NoError(t, b.Work(acme, lone, 1))
		require.Equal(t, "no ticket for this incident", b.Action(t, acme, lone.ID).Result)
	}
}

// A SET_STATE requested before the incident moved on does not undo the
// later move.
func TestStaleSetStateIsSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.Open(t, acme, provision.TicketJira, incident)
	ack := b.Execute(t, acme, action.KindJira, incident, "ack", action.TicketParams{Operation: action.TicketSetState, State: ticket.Acknowledged})
	resolved := b.SetState(t, acme, provision.TicketJira, incident, action.TicketParams{State: ticket.Resolved}, "resolve")
	require.Equal(t, "moved OPS-1 to Done", resolved.Result)

	require.NoError(t, b.Work(acme, ack, 1))
	require.Equal(t, "skipped: the incident became resolved after this action was requested", b.Action(t, acme, ack.ID).Result)
	iss, _ := b.Jira.Issue("OPS-1")
	require.Equal(t, "Done", iss.Status.Name)
}

// A ticket action of a kind the tenant has no integration with is refused
// when requested, and nothing is stored; so is one without an incident.
func TestCheckRefusesWithoutIntegrationOrIncident(t *testing.T) {
	t.Parallel()
	b := ticketjobtest.New(t)
	b.AddTenant(t, acme)
	b.Integrate(t, acme, provision.TicketJira)
	ctx := ticketjobtest.As(acme)
	p := openParams()
	_, _, err := b.Actions.Execute(ctx, action.Request{IdempotencyKey: "k1", IncidentID: incident, Kind: action.KindServiceNow, Ticket: &p})
	require.ErrorIs(t, err, action.ErrInvalid)
	require.ErrorContains(t, err, "the tenant has no servicenow integration")
	_, _, err = b.Actions.Execute(ctx, action.Request{IdempotencyKey: "k2", Kind: action.KindJira, Ticket: &p})
	require.ErrorIs(t, err, action.ErrInvalid)
	require.ErrorContains(t, err, "must name its incident")
	page, err := b.Actions.List(ctx, action.Query{})
	require.NoError(t, err)
	require.Empty(t, page.Actions)

	_, _, err = b.Actions.Execute(ctx, action.Request{IdempotencyKey: "k3", IncidentID: incident, Kind: action.KindJira, Ticket: &p})
	require.NoError(t, err)
}
