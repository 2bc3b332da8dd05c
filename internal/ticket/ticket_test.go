package ticket_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/ticket"
)

func TestMarker(t *testing.T) {
	t.Parallel()
	m, err := ticket.Marker("9F86d081884c7d65")
	require.NoError(t, err)
	require.Equal(t, "alexus-9f86d081884c7d65", m)
	h, ok := ticket.HashOf(m)
	require.True(t, ok)
	require.Equal(t, "9f86d081884c7d65", h)

	for _, bad := range []string{"", "a b", "a^b", `a"b`, string(make([]byte, 65))} {
		_, err := ticket.Marker(bad)
		require.Error(t, err, "%q", bad)
	}
	for _, not := range []string{"alexus", "alexus-", "payments", "alexus-a b"} {
		_, ok := ticket.HashOf(not)
		require.False(t, ok, not)
	}
}

func TestIsEcho(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	self := ticket.Self{Users: []string{"712020:alexus-bot", "alexus.integration"}}
	wrote := ticket.Written{State: ticket.Acknowledged, At: at, Version: 4}
	for _, tc := range []struct {
		name string
		u    ticket.Update
		last ticket.Written
		want bool
	}{
		{"jira: by the integration account", ticket.Update{System: "jira", ChangedBy: "712020:alexus-bot", State: ticket.Resolved, At: at.Add(time.Hour)}, ticket.Written{}, true},
		{"jira: account ids compare exactly", ticket.Update{System: "jira", ChangedBy: "712020:ALEXUS-BOT", State: ticket.Resolved, At: at.Add(time.Hour)}, ticket.Written{}, false},
		{"servicenow: user names compare without case", ticket.Update{System: "servicenow", ChangedBy: "Alexus.Integration"}, ticket.Written{}, true},
		{"a human's change", ticket.Update{System: "jira", ChangedBy: "5b10ac8d", State: ticket.Resolved, At: at.Add(time.Minute)}, wrote, false},
		{"version of Alexus's own write", ticket.Update{System: "servicenow", ChangedBy: "mid.server", State: ticket.Acknowledged, Version: 4, At: at.Add(time.Hour)}, wrote, true},
		{"older version replayed", ticket.Update{System: "servicenow", ChangedBy: "jane", State: ticket.Open, Version: 2, At: at.Add(time.Hour)}, wrote, true},
		{"newer version", ticket.Update{System: "servicenow", ChangedBy: "jane", State: ticket.Acknowledged, Version: 5, At: at.Add(time.Hour)}, wrote, false},
		{"the state Alexus wrote, within the window", ticket.Update{System: "jira", ChangedBy: "shared", State: ticket.Acknowledged, At: at.Add(30 * time.Second)}, ticket.Written{State: ticket.Acknowledged, At: at}, true},
		{"the state Alexus wrote, long after", ticket.Update{System: "jira", ChangedBy: "shared", State: ticket.Acknowledged, At: at.Add(ticket.EchoWindow + time.Second)}, ticket.Written{State: ticket.Acknowledged, At: at}, false},
		{"another state within the window", ticket.Update{System: "jira", ChangedBy: "shared", State: ticket.Resolved, At: at.Add(time.Second)}, ticket.Written{State: ticket.Acknowledged, At: at}, false},
		{"nothing written, unknown author", ticket.Update{System: "jira", State: ticket.Resolved, At: at}, ticket.Written{}, false},
	} {
		require.Equal(t, tc.want, ticket.IsEcho(tc.u, self, tc.last), tc.name)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	var zero time.Time
	for _, tc := range []struct {
		name          string
		local, remote ticket.Change
		state         ticket.State
		winner        ticket.Side
	}{
		{"in sync", ticket.Change{ticket.Resolved, at(0)}, ticket.Change{ticket.Resolved, at(time.Hour)}, ticket.Resolved, ticket.Neither},
		{"remote resolved later", ticket.Change{ticket.Open, at(0)}, ticket.Change{ticket.Resolved, at(time.Minute)}, ticket.Resolved, ticket.Remote},
		{"local resolved later", ticket.Change{ticket.Resolved, at(time.Minute)}, ticket.Change{ticket.Open, at(0)}, ticket.Resolved, ticket.Local},
		{"reopen in remote after the resolution", ticket.Change{ticket.Resolved, at(0)}, ticket.Change{ticket.Open, at(time.Minute)}, ticket.Open, ticket.Remote},
		{"reopen in Alexus after the resolution", ticket.Change{ticket.Open, at(time.Minute)}, ticket.Change{ticket.Resolved, at(0)}, ticket.Open, ticket.Local},
		{"a later ack does not undo a remote resolution", ticket.Change{ticket.Acknowledged, at(time.Minute)}, ticket.Change{ticket.Resolved, at(0)}, ticket.Resolved, ticket.Remote},
		{"a later remote ack does not undo a resolution", ticket.Change{ticket.Resolved, at(0)}, ticket.Change{ticket.Acknowledged, at(time.Minute)}, ticket.Resolved, ticket.Local},
		{"ack later than open", ticket.Change{ticket.Open, at(0)}, ticket.Change{ticket.Acknowledged, at(time.Second)}, ticket.Acknowledged, ticket.Remote},
		{"open later than ack", ticket.Change{ticket.Open, at(time.Second)}, ticket.Change{ticket.Acknowledged, at(0)}, ticket.Open, ticket.Local},
		{"unstamped local is older", ticket.Change{ticket.Open, zero}, ticket.Change{ticket.Acknowledged, at(0)}, ticket.Acknowledged, ticket.Remote},
		{"unstamped remote is older", ticket.Change{ticket.Open, at(0)}, ticket.Change{ticket.Resolved, zero}, ticket.Open, ticket.Local},
		{"tie goes further along", ticket.Change{ticket.Open, at(0)}, ticket.Change{ticket.Acknowledged, at(0)}, ticket.Acknowledged, ticket.Remote},
		{"tie goes further along, local", ticket.Change{ticket.Resolved, zero}, ticket.Change{ticket.Open, zero}, ticket.Resolved, ticket.Local},
		{"unmapped remote loses", ticket.Change{ticket.Open, at(0)}, ticket.Change{"", at(time.Hour)}, ticket.Open, ticket.Local},
		{"no local state", ticket.Change{"", at(time.Hour)}, ticket.Change{ticket.Open, at(0)}, ticket.Open, ticket.Remote},
	} {
		d := ticket.Decide(tc.local, tc.remote)
		require.Equal(t, tc.state, d.State, tc.name)
		require.Equal(t, tc.winner, d.Winner, "%s: %s", tc.name, d.Reason)
		require.NotEmpty(t, d.Reason)
	}
}

func TestDecideIsSymmetric(t *testing.T) {
	t.Parallel()
	// Swapping the sides never changes the state agreed on.
	states := []ticket.State{ticket.Open, ticket.Acknowledged, ticket.Resolved}
	times := []time.Time{{}, time.Unix(100, 0), time.Unix(200, 0)}
	for _, ls := range states {
		for _, rs := range states {
			for _, lt := range times {
				for _, rt := range times {
					a := ticket.Decide(ticket.Change{ls, lt}, ticket.Change{rs, rt})
					b := ticket.Decide(ticket.Change{rs, rt}, ticket.Change{ls, lt})
					require.Equal(t, a.State, b.State, fmt.Sprint(ls, lt, rs, rt))
				}
			}
		}
	}
}

func TestAPIErrorMatchesItsCause(t *testing.T) {
	t.Parallel()
	for status, cause := range map[int]error{401: ticket.ErrUnauthorized, 403: ticket.ErrForbidden, 404: ticket.ErrNotFound, 429: ticket.ErrRateLimited} {
		err := fmt.Errorf("jira: GET x, 1 attempt(s): %w", &ticket.APIError{System: "jira", StatusCode: status})
		require.ErrorIs(t, err, cause)
	}
	err := &ticket.APIError{System: "servicenow", StatusCode: 500, Message: "boom"}
	require.False(t, errors.Is(err, ticket.ErrRateLimited))
	require.Equal(t, "HTTP 500 Internal Server Error: boom", err.Error())
}
