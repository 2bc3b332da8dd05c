package jira_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
)

func TestParseWebhookStatusChange(t *testing.T) {
	t.Parallel()
	u, err := jira.ParseWebhook(tickettest.ReadFile(t, "issue_updated_status.json"), nil)
	require.NoError(t, err)
	require.Equal(t, ticket.Update{
		System:         "jira",
		Key:            "OPS-42",
		Number:         "OPS-42",
		Marker:         "alexus-9f86d081884c7d65",
		Status:         "Done",
		StatusCategory: "done",
		FromStatus:     "In Progress",
		StatusChanged:  true,
		State:          ticket.Resolved,
		ChangedBy:      "5b10ac8d82e05b22cc7d4ef5",
		At:             time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC),
		Fields:         []string{"resolution", "status"},
	}, u)
}

func TestParseWebhookOtherFieldChange(t *testing.T) {
	t.Parallel()
	u, err := jira.ParseWebhook(tickettest.ReadFile(t, "issue_updated_labels.json"), nil)
	require.NoError(t, err)
	require.False(t, u.StatusChanged)
	require.Equal(t, []string{"labels"}, u.Fields)
	require.Equal(t, ticket.Acknowledged, u.State, "the current status still maps")
}

func TestParseWebhookRejects(t *testing.T) {
	t.Parallel()
	_, err := jira.ParseWebhook(tickettest.ReadFile(t, "issue_created.json"), nil)
	require.ErrorIs(t, err, jira.ErrIgnoredEvent)
	_, err = jira.ParseWebhook([]byte(`{"webhookEvent":`), nil)
	require.ErrorIs(t, err, jira.ErrBadWebhook)
	_, err = jira.ParseWebhook([]byte(`{"webhookEvent":"jira:issue_updated"}`), nil)
	require.ErrorIs(t, err, jira.ErrBadWebhook)
}

func TestWebhookOfAlexusOwnTransitionIsAnEcho(t *testing.T) {
	t.Parallel()
	b := setup(t)
	own, err := b.client.ParseWebhook(tickettest.ReadFile(t, "issue_updated_by_alexus.json"))
	require.NoError(t, err)
	require.True(t, ticket.IsEcho(own, b.client.Self(), ticket.Written{}))

	human, err := b.client.ParseWebhook(tickettest.ReadFile(t, "issue_updated_status.json"))
	require.NoError(t, err)
	require.False(t, ticket.IsEcho(human, b.client.Self(), ticket.Written{State: ticket.Acknowledged, At: own.At}))
}

func TestStandInWebhookRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	iss, _, err := b.client.FindOrCreate(ctx, newIssue())
	require.NoError(t, err)

	body, err := b.srv.Transition(iss.Key, "Done", "5b10ac8d82e05b22cc7d4ef5")
	require.NoError(t, err)
	u, err := b.client.ParseWebhook(body)
	require.NoError(t, err)
	require.Equal(t, iss.Key, u.Key)
	require.Equal(t, iss.Marker, u.Marker)
	require.Equal(t, ticket.Resolved, u.State)
	require.Equal(t, "To Do", u.FromStatus)
	require.False(t, ticket.IsEcho(u, b.client.Self(), ticket.Written{}))

	// The reconcile job reads the same state back.
	got, err := b.client.Get(ctx, iss.Key)
	require.NoError(t, err)
	require.Equal(t, ticket.Resolved, got.State)
	require.Equal(t, u.At, got.Updated.UTC())

	own, err := b.srv.Transition(iss.Key, "In Progress", jiratest.AccountID)
	require.NoError(t, err)
	u, err = b.client.ParseWebhook(own)
	require.NoError(t, err)
	require.True(t, ticket.IsEcho(u, b.client.Self(), ticket.Written{}))
}
