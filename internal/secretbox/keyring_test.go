package secretbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/secretbox"
)

// testKey returns a fixed, recognisable key so tests can search output for
// every encoding of it.
func testKey(fill byte) []byte { return bytes.Repeat([]byte{fill}, secretbox.KeySize) }

func b64(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// mustKeyring parses config or fails the test.
func mustKeyring(t testing.TB, config string) *secretbox.Keyring {
	t.Helper()
	kr, err := secretbox.ParseKeyring(config)
	require.NoError(t, err)
	return kr
}

// requireNoKeyMaterial fails if s contains any common encoding of any key.
func requireNoKeyMaterial(t *testing.T, s string, keys ...[]byte) {
	t.Helper()
	for _, key := range keys {
		for _, enc := range []string{
			b64(key),
			base64.RawStdEncoding.EncodeToString(key),
			base64.URLEncoding.EncodeToString(key),
			hex.EncodeToString(key),
			strings.ToUpper(hex.EncodeToString(key)),
			string(key),
			fmt.Sprint(key),
			fmt.Sprintf("%#v", key),
		} {
			require.NotContains(t, s, enc)
		}
		// A long run of the key's base64 alphabet would betray a partial leak.
		require.NotContains(t, s, b64(key)[:16])
	}
}

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	k1, k2 := b64(testKey(1)), b64(testKey(2))

	for _, tc := range []struct {
		name    string
		config  string
		primary string
		ids     []string
	}{
		{"one key", "k1:" + k1, "k1", []string{"k1"}},
		{"primary first", "k2:" + k2 + ",k1:" + k1, "k2", []string{"k2", "k1"}},
		{"spaces and newlines around entries", " k2 : " + k2 + " ,\n k1:" + k1 + "\n", "k2", []string{"k2", "k1"}},
		{"id charset", "2026-01_a:" + k1, "2026-01_a", []string{"2026-01_a"}},
		{"sixteen character id", "abcdefghijklmnop:" + k1, "abcdefghijklmnop", []string{"abcdefghijklmnop"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kr := mustKeyring(t, tc.config)
			require.Equal(t, tc.primary, kr.PrimaryID())
			require.Equal(t, tc.ids, kr.IDs())
		})
	}
}

func TestParseKeyringRefusals(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(1), testKey(2)
	short := testKey(3)[:31]
	long := append(testKey(4), 4)

	for _, tc := range []struct {
		name   string
		config string
		want   string // a fragment the error must contain
	}{
		{"empty", "", "no keys configured"},
		{"blank", "  \n ", "no keys configured"},
		{"empty entry", "k1:" + b64(k1) + ",,k2:" + b64(k2), "entry 2 is empty"},
		{"trailing comma", "k1:" + b64(k1) + ",", "entry 2 is empty"},
		{"bare key", b64(k1), "entry 1 has no ':'"},
		{"empty id", ":" + b64(k1), "entry 1: key id must be"},
		{"upper-case id", "K1:" + b64(k1), "entry 1: key id must be"},
		{"id with a dot", "k.1:" + b64(k1), "entry 1: key id must be"},
		{"id starting with dash", "-k1:" + b64(k1), "entry 1: key id must be"},
		{"id too long", "abcdefghijklmnopq:" + b64(k1), "entry 1: key id must be"},
		{"key and id swapped", b64(k1) + ":k1", "entry 1: key id must be"},
		{"duplicate id", "k1:" + b64(k1) + ",k1:" + b64(k2), `entry 2: key id "k1" is already used by entry 1`},
		{"bad base64", "k1:" + b64(k1)[:10] + "!" + b64(k1)[11:], `entry 1 (id "k1"): key is not valid standard base64`},
		{"url base64", "k1:" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), `entry 1 (id "k1"): key is not valid standard base64`},
		{"empty key", "k1:", `entry 1 (id "k1"): key decodes to 0 bytes, want 32`},
		{"short key", "k1:" + b64(short), `entry 1 (id "k1"): key decodes to 31 bytes, want 32`},
		{"long key", "k2:" + b64(k2) + ",k1:" + b64(long), `entry 2 (id "k1"): key decodes to 33 bytes, want 32`},
		{"same key twice", "k2:" + b64(k1) + ",k1:" + b64(k1), `entry 2 (id "k1") has the same key as entry 1 (id "k2")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kr, err := secretbox.ParseKeyring(tc.config)
			require.Nil(t, kr)
			require.ErrorIs(t, err, secretbox.ErrInvalidKeyring)
			require.ErrorContains(t, err, tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "secretbox: invalid keyring: "), err.Error())
			requireNoKeyMaterial(t, err.Error(), k1, k2, short, long)
		})
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, err := secretbox.GenerateKey()
	require.NoError(t, err)
	b, err := secretbox.GenerateKey()
	require.NoError(t, err)
	require.NotEqual(t, a, b)

	raw, err := base64.StdEncoding.DecodeString(a)
	require.NoError(t, err)
	require.Len(t, raw, secretbox.KeySize)

	// The value is meant to be pasted straight into ALEXUS_SECRET_KEYS.
	kr := mustKeyring(t, "k2:"+a+",k1:"+b)
	require.Equal(t, []string{"k2", "k1"}, kr.IDs())
}

func TestKeyringPrintsNoKeyMaterial(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(0x41), testKey(0x42) // "AAAA..." and "BBBB...", easy to spot.
	kr := mustKeyring(t, "k2:"+b64(k2)+",k1:"+b64(k1))
	const want = "secretbox.Keyring{primary: k2, keys: [k2 k1]}"

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %p"} {
		out := fmt.Sprintf(verb, kr)
		requireNoKeyMaterial(t, out, k1, k2)
		if verb != "%T %p" {
			require.Equal(t, want, out, verb)
		}
		// Nor through a value copy or a containing struct, where fmt
		// reflects instead of calling Format.
		requireNoKeyMaterial(t, fmt.Sprintf(verb, *kr), k1, k2)
		requireNoKeyMaterial(t, fmt.Sprintf(verb, struct{ k secretbox.Keyring }{*kr}), k1, k2)
		requireNoKeyMaterial(t, fmt.Sprintf(verb, struct{ K *secretbox.Keyring }{kr}), k1, k2)
	}
	require.Equal(t, want, kr.String())

	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "keyring", kr)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("loaded", "keyring", kr)
	requireNoKeyMaterial(t, logs.String(), k1, k2)
	require.Contains(t, logs.String(), "keyring.primary=k2")
	require.Contains(t, logs.String(), `"keyring":{"primary":"k2","keys":["k2","k1"]}`)

	js, err := json.Marshal(kr)
	require.NoError(t, err)
	requireNoKeyMaterial(t, string(js), k1, k2)

	var nilKeyring *secretbox.Keyring
	require.Equal(t, "secretbox.Keyring{primary: , keys: []}", fmt.Sprint(nilKeyring))
}
