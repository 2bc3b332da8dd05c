package rediskey_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	s := rediskey.Space("alexus")
	require.Equal(t, "alexus:{acme}:signals", s.Tenant("acme", rediskey.SignalStream))
	require.Equal(t, "alexus:{acme}:dedup:am:abc", s.Tenant("acme", rediskey.Dedup, "am:abc"))
	require.Equal(t, "alexus:streams", s.Global(rediskey.StreamRegistry))

	got, ok := s.TenantFromKey("alexus:{acme}:signals")
	require.True(t, ok)
	require.Equal(t, tenant.ID("acme"), got)
	for _, bad := range []string{"other:{acme}:signals", "alexus:acme:signals", "alexus:{Bad!}:x", "alexus:{acme"} {
		_, ok := s.TenantFromKey(bad)
		require.False(t, ok, bad)
	}
}
