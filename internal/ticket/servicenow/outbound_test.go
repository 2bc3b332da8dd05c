package servicenow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
)

func TestParseOutbound(t *testing.T) {
	t.Parallel()
	u, err := servicenow.ParseOutbound(tickettest.ReadFile(t, "outbound_resolved.json"))
	require.NoError(t, err)
	require.Equal(t, ticket.Update{
		System:         "servicenow",
		Key:            "46d44b7fa9fe198100b2f5f1ef1e8c52",
		Number:         "INC0010042",
		Marker:         "alexus-9f86d081884c7d65",
		Status:         "6",
		StatusCategory: "Resolved",
		FromStatus:     "2",
		StatusChanged:  true,
		State:          ticket.Resolved,
		ChangedBy:      "jane.operator",
		At:             time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Fields:         []string{"close_code", "close_notes", "state"},
		Version:        7,
	}, u)

	u, err = servicenow.ParseOutbound(tickettest.ReadFile(t, "outbound_numbers.json"))
	require.NoError(t, err)
	require.Equal(t, "1", u.Status)
	require.Equal(t, ticket.Open, u.State)
	require.Equal(t, int64(9), u.Version)
	require.True(t, u.StatusChanged, "from changed_fields")
	require.Equal(t, time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC), u.At)
}

func TestParseOutboundRejects(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not JSON":    `{"sys_id":`,
		"bad sys_id":  `{"sys_id":"x","state":"6","sys_updated_on":"2026-03-01 12:00:00"}`,
		"no state":    `{"sys_id":"46d44b7fa9fe198100b2f5f1ef1e8c52","sys_updated_on":"2026-03-01 12:00:00"}`,
		"bad time":    `{"sys_id":"46d44b7fa9fe198100b2f5f1ef1e8c52","state":"6","sys_updated_on":"01/03/2026"}`,
		"bad count":   `{"sys_id":"46d44b7fa9fe198100b2f5f1ef1e8c52","state":"6","sys_updated_on":"2026-03-01 12:00:00","sys_mod_count":"many"}`,
		"state array": `{"sys_id":"46d44b7fa9fe198100b2f5f1ef1e8c52","state":[6],"sys_updated_on":"2026-03-01 12:00:00"}`,
	} {
		_, err := servicenow.ParseOutbound([]byte(body))
		require.ErrorIs(t, err, servicenow.ErrBadOutbound, name)
	}
}

func TestOutboundOfAlexusOwnChangeIsAnEcho(t *testing.T) {
	t.Parallel()
	b := setup(t)
	own, err := servicenow.ParseOutbound(tickettest.ReadFile(t, "outbound_by_alexus.json"))
	require.NoError(t, err)
	require.True(t, ticket.IsEcho(own, b.client.Self(), ticket.Written{}), "user names compare without case")

	human, err := servicenow.ParseOutbound(tickettest.ReadFile(t, "outbound_resolved.json"))
	require.NoError(t, err)
	require.False(t, ticket.IsEcho(human, b.client.Self(), ticket.Written{State: ticket.Acknowledged, Version: 3}))
}

func TestStandInOutboundRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	inc, _, err := b.client.FindOrCreate(ctx, newIncident())
	require.NoError(t, err)

	// Alexus acknowledges; the business rule fires for Alexus's own write.
	acked, _, err := b.client.SetState(ctx, inc.SysID, ticket.Acknowledged, "")
	require.NoError(t, err)
	last := acked.Written()

	// A human resolves it in ServiceNow.
	body, err := b.srv.SetState(inc.SysID, servicenow.StateResolved, "jane.operator")
	require.NoError(t, err)
	u, err := servicenow.ParseOutbound(body)
	require.NoError(t, err)
	require.Equal(t, inc.Marker, u.Marker)
	require.Equal(t, ticket.Resolved, u.State)
	require.Equal(t, "2", u.FromStatus)
	require.Equal(t, last.Version+1, u.Version)
	require.False(t, ticket.IsEcho(u, b.client.Self(), last))

	// An outbound message replayed for Alexus's own write (same version),
	// even under another user name, is an echo.
	replay := u
	replay.ChangedBy, replay.Version, replay.State = "mid.server", last.Version, ticket.Acknowledged
	require.True(t, ticket.IsEcho(replay, b.client.Self(), last))

	got, err := b.client.Get(ctx, inc.SysID)
	require.NoError(t, err)
	require.Equal(t, u.Version, got.Version)
	require.Equal(t, u.At, got.Updated)
	require.Equal(t, "jane.operator", got.UpdatedBy)
}

func TestEchoUsers(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *servicenow.Config) { c.EchoUsers = []string{"mid.server"} })
	require.True(t, ticket.IsEcho(ticket.Update{System: "servicenow", ChangedBy: "MID.Server"}, b.client.Self(), ticket.Written{}))
}
