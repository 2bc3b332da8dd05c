package tenant_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/tenant"
)

var (
	secretA = []byte(strings.Repeat("a", 32))
	secretB = []byte(strings.Repeat("b", 32))
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := tenant.NewSigner(secretA, time.Minute)
	require.NoError(t, err)
	v, err := tenant.NewVerifier(secretA)
	require.NoError(t, err)

	tok, err := s.Sign(tenant.Identity{Tenant: "acme", Subject: "alice"})
	require.NoError(t, err)
	id, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, tenant.Identity{Tenant: "acme", Subject: "alice"}, id)
}

func TestTokenRefusals(t *testing.T) {
	t.Parallel()
	s, _ := tenant.NewSigner(secretA, time.Minute)
	other, _ := tenant.NewSigner(secretB, time.Minute)
	v, _ := tenant.NewVerifier(secretA)
	id := tenant.Identity{Tenant: "acme", Subject: "alice"}

	expired, err := s.SignAt(id, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	future, err := s.SignAt(id, time.Now().Add(time.Hour))
	require.NoError(t, err)
	foreign, err := other.Sign(id)
	require.NoError(t, err)

	for name, tok := range map[string]string{
		"expired":       expired,
		"not yet valid": future,
		"another key":   foreign,
		"garbage":       "not.a.token",
		"empty":         "",
	} {
		_, err := v.Verify(tok)
		require.ErrorIs(t, err, tenant.ErrBadToken, name)
	}
}

func TestSecretsTooShortAreRefused(t *testing.T) {
	t.Parallel()
	_, err := tenant.NewSigner([]byte("short"), 0)
	require.Error(t, err)
	_, err = tenant.NewVerifier([]byte("short"))
	require.Error(t, err)
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"acme", "a", "team-1", "x_y"} {
		_, err := tenant.Parse(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "Acme", "-x", "a}b", "a:b", "a b", strings.Repeat("a", 64)} {
		_, err := tenant.Parse(bad)
		require.ErrorIs(t, err, tenant.ErrInvalidID, bad)
	}
}
