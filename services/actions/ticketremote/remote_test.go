package ticketremote_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow/sntest"
	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
	"github.com/alexus-platform/alexus/services/actions/ticketremote"
)

// harness is one system's Remote on its stand-in, with what the suite
// needs to act as a person on the stand-in and to look inside it.
type harness struct {
	remote ticketremote.Remote
	base   string
	// self is the integration's account; human is someone else.
	self, human string
	// move changes the ticket as user would and returns the inbound
	// payload the remote sends for it.
	move func(t *testing.T, key string, s ticket.State, user string) []byte
	// loseCreate makes the next create be performed without an answer.
	loseCreate func()
	// tickets counts the tickets the stand-in holds.
	tickets func() int
	// url is the link the remote's UI has for the ticket with key.
	url func(key string) string
}

func jiraHarness(t *testing.T) harness {
	srv := jiratest.New(t)
	r, err := ticketremote.New(provision.TicketIntegration{System: provision.TicketJira, Jira: &jira.Config{
		BaseURL: srv.URL, Email: jiratest.Email, APIToken: jiratest.APIToken, Project: jiratest.Project, AccountID: jiratest.AccountID,
	}}, tickettest.Fast)
	require.NoError(t, err)
	names := map[ticket.State]string{ticket.Open: "To Do", ticket.Acknowledged: "In Progress", ticket.Resolved: "Done"}
	return harness{
		remote: r, base: srv.URL, self: jiratest.AccountID, human: "5b10ac8d82e05b22cc7d4ef5",
		move: func(t *testing.T, key string, s ticket.State, user string) []byte {
			body, err := srv.Transition(key, names[s], user)
			require.NoError(t, err)
			return body
		},
		loseCreate: func() { srv.Fail(jiratest.RouteCreateIssue, jiratest.Fault{LoseResponse: true}) },
		tickets:    func() int { return len(srv.Issues()) },
		url:        func(key string) string { return srv.URL + "/browse/" + key },
	}
}

func serviceNowHarness(t *testing.T) harness {
	srv := sntest.New(t)
	r, err := ticketremote.New(provision.TicketIntegration{System: provision.TicketServiceNow, ServiceNow: &servicenow.Config{
		BaseURL: srv.URL, Username: sntest.Username, Password: sntest.Password,
	}}, tickettest.Fast)
	require.NoError(t, err)
	return harness{
		remote: r, base: srv.URL, self: sntest.Username, human: "jane.operator",
		move: func(t *testing.T, key string, s ticket.State, user string) []byte {
			body, err := srv.SetState(key, servicenow.CodeOf(s), user)
			require.NoError(t, err)
			return body
		},
		loseCreate: func() { srv.Fail(sntest.RouteCreate, sntest.Fault{LoseResponse: true}) },
		tickets:    func() int { return len(srv.Records()) },
		url:        func(key string) string { return srv.URL + "/nav_to.do?uri=incident.do?sys_id=" + key },
	}
}

// The one suite every Remote runs.
func TestRemotes(t *testing.T) {
	t.Parallel()
	for name, setup := range map[string]func(*testing.T) harness{
		"jira":       jiraHarness,
		"servicenow": serviceNowHarness,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("OpenOpensOnce", func(t *testing.T) { t.Parallel(); testOpenOpensOnce(t, setup(t)) })
			t.Run("OpenAfterALostResponse", func(t *testing.T) { t.Parallel(); testOpenAfterALostResponse(t, setup(t)) })
			t.Run("CommentOncePerNote", func(t *testing.T) { t.Parallel(); testCommentOncePerNote(t, setup(t)) })
			t.Run("SetStateMovesOnce", func(t *testing.T) { t.Parallel(); testSetStateMovesOnce(t, setup(t)) })
			t.Run("ParseTellsEchoesApart", func(t *testing.T) { t.Parallel(); testParseTellsEchoesApart(t, setup(t)) })
		})
	}
}

const hash = "0b7f3c523c1e4a7e9b436a0d1c2e5f10"

func open(t *testing.T, h harness) ticketremote.Ticket {
	t.Helper()
	tk, created, err := h.remote.Open(context.Background(), ticketremote.NewTicket{Hash: hash, Title: "checkout-api is down", Description: "5xx above 20%"})
	require.NoError(t, err)
	require.True(t, created)
	return tk
}

func testOpenOpensOnce(t *testing.T, h harness) {
	ctx := context.Background()
	tk := open(t, h)
	require.Equal(t, "alexus-"+hash, tk.Marker)
	require.Equal(t, ticket.Open, tk.State)
	require.Equal(t, ticket.Open, tk.Written.State, "the open is Alexus's write")
	require.False(t, tk.Written.At.IsZero())
	require.NotEmpty(t, tk.Number)
	require.Equal(t, h.url(tk.Key), tk.URL)

	again, created, err := h.remote.Open(ctx, ticketremote.NewTicket{Hash: hash, Title: "checkout-api is down"})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, tk.Key, again.Key)
	require.Zero(t, again.Written, "finding is no write")
	require.Equal(t, 1, h.tickets())

	got, err := h.remote.Get(ctx, tk.Key)
	require.NoError(t, err)
	require.Equal(t, tk.Number, got.Number)
	require.Equal(t, ticket.Open, got.State)
	require.NotEmpty(t, got.Status)
}

func testOpenAfterALostResponse(t *testing.T, h harness) {
	h.loseCreate()
	tk := open(t, h)
	require.Equal(t, 1, h.tickets(), "the create whose answer was lost is found, not repeated")
	require.Equal(t, "alexus-"+hash, tk.Marker)
}

func testCommentOncePerNote(t *testing.T, h harness) {
	ctx := context.Background()
	tk := open(t, h)
	added, err := h.remote.Comment(ctx, tk.Key, "diagnosis-1", "Deploy 4812 broke checkout.")
	require.NoError(t, err)
	require.True(t, added)
	added, err = h.remote.Comment(ctx, tk.Key, "diagnosis-1", "Deploy 4812 broke checkout.")
	require.NoError(t, err)
	require.False(t, added)
}

func testSetStateMovesOnce(t *testing.T, h harness) {
	ctx := context.Background()
	tk := open(t, h)
	moved, ok, err := h.remote.SetState(ctx, tk.Key, ticket.Resolved, "")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, ticket.Resolved, moved.State)
	require.NotEmpty(t, moved.Status)
	require.Equal(t, ticket.Resolved, moved.Written.State)
	require.False(t, moved.Written.At.IsZero())

	again, ok, err := h.remote.SetState(ctx, tk.Key, ticket.Resolved, "")
	require.NoError(t, err)
	require.False(t, ok, "a ticket already there is left alone")
	require.Equal(t, moved.Status, again.Status)
	require.Zero(t, again.Written)

	got, err := h.remote.Get(ctx, tk.Key)
	require.NoError(t, err)
	require.Equal(t, ticket.Resolved, got.State)
}

func testParseTellsEchoesApart(t *testing.T, h harness) {
	tk := open(t, h)
	u, err := h.remote.Parse(h.move(t, tk.Key, ticket.Acknowledged, h.human))
	require.NoError(t, err)
	require.True(t, u.StatusChanged)
	require.Equal(t, ticket.Acknowledged, u.State)
	require.Equal(t, tk.Key, u.Key)
	require.Equal(t, tk.Marker, u.Marker)
	require.Equal(t, h.human, u.ChangedBy)
	require.False(t, u.At.IsZero())
	require.False(t, ticket.IsEcho(u, h.remote.Self(), tk.Written), "a person's change is no echo")

	u, err = h.remote.Parse(h.move(t, tk.Key, ticket.Resolved, h.self))
	require.NoError(t, err)
	require.True(t, ticket.IsEcho(u, h.remote.Self(), ticket.Written{}), "a change by the integration's account is")

	for _, garbage := range []string{`not json`, `[1, 2]`, `{"webhookEvent": "jira:issue_updated", "sys_id": "x", "state": "6"}`} {
		_, err = h.remote.Parse([]byte(garbage))
		require.ErrorIs(t, err, ticketremote.ErrBadPayload, garbage)
	}
	if h.remote.System() == provision.TicketJira {
		_, err = h.remote.Parse([]byte(`{"webhookEvent": "comment_created", "issue": {"key": "OPS-1"}}`))
		require.ErrorIs(t, err, ticketremote.ErrIgnoredEvent)
		require.False(t, strings.Contains(err.Error(), jiratest.APIToken))
	}
}
