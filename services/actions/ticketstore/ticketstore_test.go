package ticketstore_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/services/actions/ticketjob/ticketjobtest"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
)

func setup(t *testing.T) *ticketstore.Store {
	t.Helper()
	db := storetest.New(t).DB
	_, err := provision.EnsureTenant(ticketjobtest.As("acme"), db, provision.TenantOptions{})
	require.NoError(t, err)
	return ticketstore.NewStore(db)
}

func open(t *testing.T, s *ticketstore.Store, n int) ticketstore.Ticket {
	t.Helper()
	tk, err := s.Open(ticketjobtest.As("acme"), ticketstore.Opened{
		IncidentID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		System:     "jira",
		RemoteKey:  "OPS-" + strconv.Itoa(n),
		Number:     "OPS-" + strconv.Itoa(n),
		Marker:     fmt.Sprintf("alexus-00000000000040008000%012d", n),
		Remote:     ticketstore.Remote{Status: "To Do", State: ticket.Open, At: time.Now().Add(-5 * time.Hour)},
		Written:    ticket.Written{State: ticket.Open, At: time.Now()},
		Reason:     "opened OPS-" + strconv.Itoa(n),
	})
	require.NoError(t, err)
	return tk
}

// A new ticket's incident has been open since an unknown time; a change
// older than what the row knows, of either side, does not overwrite it.
func TestApplyKeepsTheNewest(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := ticketjobtest.As("acme")
	tk := open(t, s, 1)
	require.Equal(t, ticket.Open, tk.LocalState)
	require.True(t, tk.LocalChangedAt.IsZero(), "unknown")
	require.Equal(t, ticket.Open, tk.Written.State)

	// In the past, so that the database's now is later than all of them.
	t0 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Millisecond)
	tk, err := s.Apply(ctx, tk.ID, ticketstore.Change{
		Remote: &ticketstore.Remote{Status: "Done", State: ticket.Resolved, At: t0.Add(time.Hour)},
		Local:  &ticket.Change{State: ticket.Acknowledged, At: t0.Add(time.Hour)},
	})
	require.NoError(t, err)
	tk, err = s.Apply(ctx, tk.ID, ticketstore.Change{
		Remote:  &ticketstore.Remote{Status: "In Progress", State: ticket.Acknowledged, At: t0},
		Local:   &ticket.Change{State: ticket.Open, At: t0},
		Written: &ticket.Written{State: ticket.Resolved, At: t0, Version: 7},
	})
	require.NoError(t, err)
	require.Equal(t, "Done", tk.RemoteStatus)
	require.Equal(t, ticket.Resolved, tk.RemoteState)
	require.Equal(t, t0.Add(time.Hour), tk.RemoteChangedAt)
	require.Equal(t, ticket.Acknowledged, tk.LocalState)
	require.Equal(t, ticket.Written{State: ticket.Resolved, At: t0, Version: 7}, tk.Written)

	// A zero local time is now, by the database's clock.
	tk, err = s.Apply(ctx, tk.ID, ticketstore.Change{Local: &ticket.Change{State: ticket.Resolved}})
	require.NoError(t, err)
	require.Equal(t, ticket.Resolved, tk.LocalState)
	require.True(t, tk.LocalChangedAt.After(t0.Add(time.Hour)))

	// A state already known keeps the time it became known.
	seen := tk.Seen("Done", ticket.Resolved, t0.Add(2*time.Hour))
	require.Equal(t, t0.Add(time.Hour), seen.At)
	seen = tk.Seen("To Do", ticket.Open, t0.Add(2*time.Hour))
	require.Equal(t, t0.Add(2*time.Hour), seen.At)
}

// Tickets are listed newest first, a page at a time, each with its latest
// events, newest first.
func TestListPagesWithTheLatestEvents(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := ticketjobtest.As("acme")
	var want []string
	for n := 1; n <= 3; n++ {
		want = append([]string{open(t, s, n).ID}, want...)
	}
	for i := range ticketstore.EventsPerTicket + 5 {
		_, err := s.Apply(ctx, want[0], ticketstore.Change{Event: &ticketstore.Event{Direction: ticketstore.Inbound, Outcome: ticketstore.InSync, Reason: strconv.Itoa(i)}})
		require.NoError(t, err)
	}

	var (
		got   []string
		token string
	)
	for {
		page, err := s.List(ctx, ticketstore.Query{PageSize: 2, PageToken: token})
		require.NoError(t, err)
		for _, tk := range page.Tickets {
			got = append(got, tk.ID)
			if tk.ID == want[0] {
				require.Len(t, tk.Events, ticketstore.EventsPerTicket)
				require.Equal(t, strconv.Itoa(ticketstore.EventsPerTicket+4), tk.Events[0].Reason, "newest first")
			} else {
				require.Len(t, tk.Events, 1)
				require.Equal(t, ticketstore.Written, tk.Events[0].Outcome)
			}
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	require.Equal(t, want, got)

	first, err := s.List(ctx, ticketstore.Query{PageSize: 1})
	require.NoError(t, err)
	_, err = s.List(ctx, ticketstore.Query{PageSize: 1, PageToken: first.NextPageToken, IncidentID: "00000000-0000-4000-8000-000000000001"})
	require.ErrorIs(t, err, ticketstore.ErrBadPageToken)
	_, err = s.List(ctx, ticketstore.Query{PageSize: 501})
	require.ErrorIs(t, err, ticketstore.ErrBadQuery)
	_, err = s.List(ctx, ticketstore.Query{IncidentID: "nope"})
	require.ErrorIs(t, err, ticketstore.ErrBadQuery)
	one, err := s.List(ctx, ticketstore.Query{IncidentID: "00000000-0000-4000-8000-000000000002"})
	require.NoError(t, err)
	require.Len(t, one.Tickets, 1)
	require.Equal(t, want[1], one.Tickets[0].ID)
}
