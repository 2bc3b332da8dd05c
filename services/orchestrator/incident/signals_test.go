package incident_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

func TestListSignalsPagesNewestFirstBySource(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	s := incident.NewStore(db)
	as := func(id tenant.ID) context.Context {
		return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "test"})
	}
	acme, globex := as("acme"), as("globex")
	for _, ctx := range []context.Context{acme, globex} {
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	open := func(ctx context.Context, source string, i int) {
		t.Helper()
		_, err := s.Open(ctx, &signalv1.Signal{
			Id: uuid.NewString(), Source: source, Fingerprint: fmt.Sprintf("%s:%d", source, i), Title: fmt.Sprintf("%s %d", source, i),
			Status: signalv1.Status_STATUS_FIRING, Severity: signalv1.Severity_SEVERITY_ERROR,
			Labels: map[string]string{"n": fmt.Sprint(i)}, ReceivedAt: timestamppb.New(t0.Add(time.Duration(i) * time.Minute)),
			FingerprintRecipe: source, FingerprintRecipeVersion: 2,
		})
		require.NoError(t, err)
	}
	for i := range 7 {
		open(acme, "alertmanager", i)
	}
	open(acme, "grafana", 100)
	open(globex, "alertmanager", 200)

	// Pages of 3 of acme's alertmanager signals: 6,5,4 / 3,2,1 / 0.
	var titles []string
	token := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 4, "pagination ends")
		sigs, next, err := s.ListSignals(acme, "alertmanager", 3, token)
		require.NoError(t, err)
		for _, sig := range sigs {
			require.Equal(t, "acme", sig.GetTenantId())
			require.Equal(t, "alertmanager", sig.GetSource())
			require.EqualValues(t, 2, sig.GetFingerprintRecipeVersion())
			require.Equal(t, signalv1.Severity_SEVERITY_ERROR, sig.GetSeverity())
			require.Empty(t, sig.GetRawPayload(), "listings leave raw payloads out")
			titles = append(titles, sig.GetTitle())
		}
		if token = next; token == "" {
			break
		}
	}
	require.Equal(t, []string{
		"alertmanager 6", "alertmanager 5", "alertmanager 4", "alertmanager 3", "alertmanager 2", "alertmanager 1", "alertmanager 0",
	}, titles)

	all, next, err := s.ListSignals(acme, "", 0, "")
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, all, 8, "every source, not globex's")
	require.Equal(t, "grafana 100", all[0].GetTitle())

	_, _, err = s.ListSignals(acme, "", 3, "not-a-token")
	require.ErrorIs(t, err, incident.ErrBadPageToken)
	_, _, err = s.ListSignals(context.Background(), "", 3, "")
	require.Error(t, err, "no tenant, no signals")
}
