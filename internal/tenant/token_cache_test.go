package tenant

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var cacheSecret = []byte(strings.Repeat("c", 32))

// clock is a settable time for a Signer's or Verifier's now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSignerReusesTokenForAQuarterOfItsTTL(t *testing.T) {
	t.Parallel()
	s, err := NewSigner(cacheSecret, time.Minute)
	require.NoError(t, err)
	c := &clock{t: time.Now()}
	s.now = c.now
	alice := Identity{Tenant: "acme", Subject: "alice"}

	first, err := s.Sign(alice)
	require.NoError(t, err)
	c.t = c.t.Add(14 * time.Second)
	again, err := s.Sign(alice)
	require.NoError(t, err)
	require.Equal(t, first, again, "reused within a quarter of the TTL")

	other, err := s.Sign(Identity{Tenant: "acme", Subject: "bob"})
	require.NoError(t, err)
	require.NotEqual(t, first, other, "another identity gets its own token")

	c.t = c.t.Add(2 * time.Second)
	fresh, err := s.Sign(alice)
	require.NoError(t, err)
	require.NotEqual(t, first, fresh, "minted anew after a quarter of the TTL")

	c.t = c.t.Add(-time.Hour)
	back, err := s.Sign(alice)
	require.NoError(t, err)
	require.NotEqual(t, fresh, back, "a clock that stepped back mints anew, so iat is never ahead")
}

func TestVerifierRemembersOnlyIdenticalTokensUntilTheyExpire(t *testing.T) {
	t.Parallel()
	s, err := NewSigner(cacheSecret, time.Minute)
	require.NoError(t, err)
	v, err := NewVerifier(cacheSecret)
	require.NoError(t, err)
	c := &clock{t: time.Now()}
	s.now, v.now = c.now, c.now
	alice := Identity{Tenant: "acme", Subject: "alice"}

	tok, err := s.Sign(alice)
	require.NoError(t, err)
	id, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, alice, id)
	require.Len(t, v.verified, 1)

	// The same claims with another signature are checked, and refused.
	tampered := tok[:strings.LastIndexByte(tok, '.')+1] + strings.Repeat("A", 43)
	_, err = v.Verify(tampered)
	require.ErrorIs(t, err, ErrBadToken)

	id, err = v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, alice, id, "answered from memory")

	// Past exp and the leeway, the remembered token is refused like any
	// expired one.
	c.t = c.t.Add(time.Minute + 6*time.Second)
	_, err = v.Verify(tok)
	require.ErrorIs(t, err, ErrBadToken)
}
