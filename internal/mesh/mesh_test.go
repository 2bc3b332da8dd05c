package mesh_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/mesh"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/services/gateway"
)

// A plane that cannot be built (here: a gateway with no JWT settings) makes
// Start return an error naming the problem, releasing what it opened.
func TestStartReportsBadPlaneConfig(t *testing.T) {
	t.Parallel()
	pg := storetest.New(t)
	_, err := mesh.Start(context.Background(), zap.NewNop(), mesh.Config{
		Planes:         []mesh.Plane{mesh.Gateway},
		Addrs:          mesh.Addrs{Gateway: "127.0.0.1:0", Ingest: "127.0.0.1:1", Orchestrator: "127.0.0.1:1", Actions: "127.0.0.1:1"},
		Store:          pg.Config,
		InternalSecret: []byte(strings.Repeat("s", 32)),
		Gateway:        gateway.DefaultConfig(),
	})
	require.ErrorContains(t, err, "auth.jwks_url")
}

func TestStartRefusesShortSecretAndNoPlanes(t *testing.T) {
	t.Parallel()
	_, err := mesh.Start(context.Background(), zap.NewNop(), mesh.Config{Planes: mesh.All, InternalSecret: []byte("short")})
	require.ErrorContains(t, err, "internal token secret")
	_, err = mesh.Start(context.Background(), zap.NewNop(), mesh.Config{})
	require.ErrorContains(t, err, "no planes")
}
