package postgres_test

import (
	"testing"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/graph/graphtest"
	"github.com/alexus-platform/alexus/internal/graph/postgres"
)

// TestConformance runs the suite every graph adapter passes, each subtest
// on a fresh database with tenants acme and globex.
func TestConformance(t *testing.T) {
	t.Parallel()
	graphtest.Run(t, graph.DefaultDimension, func(t *testing.T) graph.Graph {
		return setup(t, postgres.Config{}).g
	})
}
