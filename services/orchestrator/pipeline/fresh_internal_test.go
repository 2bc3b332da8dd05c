package pipeline

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// A new signal the database refuses fails alone: the others of its
// coalesced batch are stored all the same.
func TestOneRefusedNewIncidentDoesNotFailItsBatch(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
	require.NoError(t, err)
	st := incident.NewStore(db)

	signal := func(title string) incident.Fresh {
		return incident.Fresh{Signal: &signalv1.Signal{
			Id: uuid.NewString(), Source: "generic", Fingerprint: uuid.NewString(), Title: title, Status: signalv1.Status_STATUS_FIRING,
		}}
	}
	// Postgres text cannot hold NUL; ingest scrubs it, but the stream
	// is not the orchestrator's to trust.
	batch := []incident.Fresh{signal("disk full"), signal("bad \x00 title"), signal("cpu hot")}
	out, err := openFreshAll(st)(ctx, batch)
	require.NoError(t, err)
	require.Len(t, out, 3)
	for _, k := range []int{0, 2} {
		require.NoError(t, out[k].err)
		require.True(t, out[k].stored.New)
		_, trs, err := st.Get(ctx, incident.IDFor("acme", batch[k].Signal.GetId()))
		require.NoError(t, err)
		require.Len(t, trs, 1)
	}
	require.Error(t, out[1].err)
	_, _, err = st.Get(ctx, incident.IDFor("acme", batch[1].Signal.GetId()))
	require.ErrorIs(t, err, incident.ErrNotFound)
}
