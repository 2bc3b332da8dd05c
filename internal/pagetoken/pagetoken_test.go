package pagetoken_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/pagetoken"
)

func TestRoundTripAndRefusals(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 14, 0, 0, 123456000, time.UTC)
	id := "0b5c9e0e-1f7a-4a53-9a43-3d1e4d7c2a11"
	tok := pagetoken.Encode("a1", at, id, "status=failed")
	gotAt, gotID, err := pagetoken.Decode(tok, "a1", "status=failed")
	require.NoError(t, err)
	require.True(t, at.Equal(gotAt))
	require.Equal(t, id, gotID)

	for name, c := range map[string]struct{ token, version, filters string }{
		"other filters":  {tok, "a1", "status=pending"},
		"other list":     {tok, "t1", "status=failed"},
		"not base64":     {"***", "a1", ""},
		"not a token":    {base64.RawURLEncoding.EncodeToString([]byte("hello")), "a1", ""},
		"id not a UUID":  {base64.RawURLEncoding.EncodeToString([]byte("a1:1:42:0")), "a1", ""},
		"bad position":   {base64.RawURLEncoding.EncodeToString([]byte("a1:x:" + id + ":0")), "a1", ""},
		"empty filters?": {pagetoken.Encode("a1", at, id, ""), "a1", "kind=webhook"},
	} {
		_, _, err := pagetoken.Decode(c.token, c.version, c.filters)
		require.ErrorIs(t, err, pagetoken.ErrInvalid, name)
	}
}
