package secretbox_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/secretbox"
)

// bundle is what most tests need: keyrings over the same two keys in each
// rotation state, an owner and a secret.
type bundle struct {
	k1Only  *secretbox.Keyring // before rotation: k1 is the only key.
	rotated *secretbox.Keyring // during rotation: k2 seals, k1 still opens.
	k2Only  *secretbox.Keyring // after rotation: k1 is gone.
	owner   secretbox.Owner
	secret  []byte
}

func setup(t testing.TB) bundle {
	t.Helper()
	k1, k2 := b64(testKey(1)), b64(testKey(2))
	return bundle{
		k1Only:  mustKeyring(t, "k1:"+k1),
		rotated: mustKeyring(t, "k2:"+k2+",k1:"+k1),
		k2Only:  mustKeyring(t, "k2:"+k2),
		owner:   secretbox.Owner{Tenant: "acme", Record: "int_01HZX", Purpose: "integration.signing_secret"},
		secret:  []byte("whsec_" + strings.Repeat("s", 58)),
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for _, tc := range []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"webhook secret", b.secret},
		{"binary", bytes.Repeat([]byte{0xff, 0x00}, 4096)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sealed, err := b.rotated.Seal(b.owner, tc.plaintext)
			require.NoError(t, err)
			require.Len(t, sealed, 90+len("k2")+len(tc.plaintext), "doc.go gives the size as 90+n+m")
			require.Equal(t, byte(1), sealed[0], "version")
			require.Equal(t, byte(2), sealed[1], "key id length")
			require.Equal(t, "k2", string(sealed[2:4]), "key id")
			if len(tc.plaintext) > 8 {
				require.NotContains(t, string(sealed), string(tc.plaintext))
			}

			got, err := b.rotated.Open(b.owner, sealed)
			require.NoError(t, err)
			require.Equal(t, string(tc.plaintext), string(got))

			id, err := secretbox.KeyID(sealed)
			require.NoError(t, err)
			require.Equal(t, "k2", id)
			require.False(t, b.rotated.NeedsRewrap(sealed))
		})
	}
}

func TestSealIsRandomized(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, err := b.k1Only.Seal(b.owner, b.secret)
	require.NoError(t, err)
	second, err := b.k1Only.Seal(b.owner, b.secret)
	require.NoError(t, err)
	// Fresh DEK and nonces every time: no part after the header repeats.
	header := 2 + len("k1")
	require.NotEqual(t, first[header:header+12], second[header:header+12], "wrap nonce")
	require.NotEqual(t, first[header+60:], second[header+60:], "data nonce and ciphertext")
}

func TestOpenRefusesAnotherOwner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sealed, err := b.k1Only.Seal(b.owner, b.secret)
	require.NoError(t, err)

	other := func(edit func(*secretbox.Owner)) secretbox.Owner {
		o := b.owner
		edit(&o)
		return o
	}
	for _, tc := range []struct {
		name  string
		owner secretbox.Owner
	}{
		{"another tenant", other(func(o *secretbox.Owner) { o.Tenant = "globex" })},
		{"another record", other(func(o *secretbox.Owner) { o.Record = "int_01HZY" })},
		{"another purpose", other(func(o *secretbox.Owner) { o.Purpose = "integration.api_token" })},
		{"case matters", other(func(o *secretbox.Owner) { o.Tenant = "ACME" })},
		// Naive concatenation would make these two owners collide with the
		// sealing owner; length prefixes keep them apart.
		{"boundary moved left", secretbox.Owner{Tenant: "acm", Record: "eint_01HZX", Purpose: b.owner.Purpose}},
		{"boundary moved right", secretbox.Owner{Tenant: "acmeint_01HZ", Record: "X", Purpose: b.owner.Purpose}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.k1Only.Open(tc.owner, sealed)
			require.ErrorIs(t, err, secretbox.ErrDecrypt)
			require.NotErrorIs(t, err, secretbox.ErrUnknownKey)

			// Rewrap checks the owner too, so a rotation job cannot launder
			// a blob into another row.
			_, err = b.rotated.Rewrap(tc.owner, sealed)
			require.ErrorIs(t, err, secretbox.ErrDecrypt)
		})
	}
}

func TestInvalidOwnerIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sealed, err := b.k1Only.Seal(b.owner, b.secret)
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		owner secretbox.Owner
		want  string
	}{
		{"zero", secretbox.Owner{}, "tenant is empty"},
		{"no tenant", secretbox.Owner{Record: "r", Purpose: "p"}, "tenant is empty"},
		{"no record", secretbox.Owner{Tenant: "t", Purpose: "p"}, "record is empty"},
		{"no purpose", secretbox.Owner{Tenant: "t", Record: "r"}, "purpose is empty"},
		{"huge record", secretbox.Owner{Tenant: "t", Record: strings.Repeat("r", 1025), Purpose: "p"}, "record is 1025 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.k1Only.Seal(tc.owner, b.secret)
			require.ErrorIs(t, err, secretbox.ErrInvalidOwner)
			require.ErrorContains(t, err, tc.want)
			_, err = b.k1Only.Open(tc.owner, sealed)
			require.ErrorIs(t, err, secretbox.ErrInvalidOwner)
			_, err = b.k1Only.Rewrap(tc.owner, sealed)
			require.ErrorIs(t, err, secretbox.ErrInvalidOwner)
		})
	}
}

func TestEveryBitFlipIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sealed, err := b.rotated.Seal(b.owner, b.secret)
	require.NoError(t, err)

	for i := range sealed {
		for bit := range 8 {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= 1 << bit

			_, err := b.rotated.Open(b.owner, tampered)
			require.Error(t, err, "byte %d bit %d", i, bit)
			_, rewrapErr := b.rotated.Rewrap(b.owner, tampered)
			require.Error(t, rewrapErr, "byte %d bit %d", i, bit)
			// Flips in the version or key id can turn the blob into one
			// for an unknown version or key; everything else is ErrDecrypt.
			if i < 2+len("k2") {
				require.True(t, errors.Is(err, secretbox.ErrDecrypt) || errors.Is(err, secretbox.ErrUnknownKey),
					"byte %d bit %d: %v", i, bit, err)
			} else {
				require.ErrorIs(t, err, secretbox.ErrDecrypt, "byte %d bit %d", i, bit)
			}
		}
	}
}

func TestDecryptErrorsDoNotSayWhichPartFailed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sealed, err := b.k1Only.Seal(b.owner, b.secret)
	require.NoError(t, err)

	wrapped := bytes.Clone(sealed)
	wrapped[2+len("k1")+20] ^= 1 // inside the wrapped DEK
	data := bytes.Clone(sealed)
	data[len(data)-1] ^= 1 // inside the data tag

	_, errWrapped := b.k1Only.Open(b.owner, wrapped)
	_, errData := b.k1Only.Open(b.owner, data)
	require.ErrorIs(t, errWrapped, secretbox.ErrDecrypt)
	require.ErrorIs(t, errData, secretbox.ErrDecrypt)
	require.Equal(t, errWrapped.Error(), errData.Error())
	require.Equal(t, `secretbox: open tenant "acme" record "int_01HZX" purpose "integration.signing_secret": decryption failed`, errData.Error())
}

func TestTruncatedAndExtendedBlobsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sealed, err := b.rotated.Seal(b.owner, b.secret)
	require.NoError(t, err)

	for n := range len(sealed) {
		short := sealed[:n:n]
		_, err := b.rotated.Open(b.owner, short)
		require.ErrorIs(t, err, secretbox.ErrDecrypt, "length %d", n)
		_, err = b.rotated.Rewrap(b.owner, short)
		require.ErrorIs(t, err, secretbox.ErrDecrypt, "length %d", n)
		// Below the minimum size the header readers refuse too; above it
		// they read the header and, by design, authenticate nothing.
		if n < 2+len("k2")+60+28 {
			require.True(t, b.rotated.NeedsRewrap(short), "length %d", n)
			_, err = secretbox.KeyID(short)
			require.ErrorIs(t, err, secretbox.ErrDecrypt, "length %d", n)
		}
	}

	_, err = b.rotated.Open(b.owner, append(bytes.Clone(sealed), 0))
	require.ErrorIs(t, err, secretbox.ErrDecrypt)
	_, err = b.rotated.Open(b.owner, nil)
	require.ErrorIs(t, err, secretbox.ErrDecrypt)
}

func TestRotation(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// Before: sealed under k1.
	old, err := b.k1Only.Seal(b.owner, b.secret)
	require.NoError(t, err)
	require.False(t, b.k1Only.NeedsRewrap(old))

	// During: k2 is primary, k1 still opens, and the blob needs re-wrapping.
	got, err := b.rotated.Open(b.owner, old)
	require.NoError(t, err)
	require.Equal(t, b.secret, got)
	require.True(t, b.rotated.NeedsRewrap(old))

	rewrapped, err := b.rotated.Rewrap(b.owner, old)
	require.NoError(t, err)
	require.False(t, b.rotated.NeedsRewrap(rewrapped))
	id, err := secretbox.KeyID(rewrapped)
	require.NoError(t, err)
	require.Equal(t, "k2", id)
	// Only the wrapped DEK changed: the data nonce and ciphertext are the
	// same bytes, which is what makes rotation cheap.
	const dataStart = 2 + 2 + 60
	require.Equal(t, old[dataStart:], rewrapped[dataStart:])
	require.Len(t, rewrapped, len(old))

	// Rewrapping a current blob is a no-op copy.
	again, err := b.rotated.Rewrap(b.owner, rewrapped)
	require.NoError(t, err)
	require.Equal(t, rewrapped, again)
	again[0] ^= 1
	require.NotEqual(t, rewrapped, again, "Rewrap must return a copy, not alias its input")

	// After: k1 is gone. The rewrapped blob opens; the old one names an
	// unknown key.
	got, err = b.k2Only.Open(b.owner, rewrapped)
	require.NoError(t, err)
	require.Equal(t, b.secret, got)

	_, err = b.k2Only.Open(b.owner, old)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
	require.ErrorContains(t, err, `blob was sealed under key "k1", which is not in the keyring [k2]`)
	_, err = b.k2Only.Rewrap(b.owner, old)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
	require.True(t, b.k2Only.NeedsRewrap(old))
}

func TestUnknownKeyAndVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A different key that happens to be called k1 is not k1: it fails to
	// authenticate rather than being reported unknown.
	impostor := mustKeyring(t, "k1:"+b64(testKey(9)))
	sealed, err := b.k1Only.Seal(b.owner, b.secret)
	require.NoError(t, err)

	_, err = impostor.Open(b.owner, sealed)
	require.ErrorIs(t, err, secretbox.ErrDecrypt)

	_, err = b.k2Only.Open(b.owner, sealed)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
	require.NotErrorIs(t, err, secretbox.ErrDecrypt)

	for _, version := range []byte{0, 2, 0xff} {
		future := bytes.Clone(sealed)
		future[0] = version
		_, err := b.k1Only.Open(b.owner, future)
		require.ErrorIs(t, err, secretbox.ErrUnknownKey, "version %d", version)
		require.ErrorContains(t, err, "this build reads version 1")
		require.True(t, b.k1Only.NeedsRewrap(future))
	}
}

func TestEmptyKeyringRefusesToSeal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, kr := range []*secretbox.Keyring{nil, {}} {
		_, err := kr.Seal(b.owner, b.secret)
		require.ErrorIs(t, err, secretbox.ErrInvalidKeyring)
		_, err = kr.Rewrap(b.owner, goldenK1)
		require.ErrorIs(t, err, secretbox.ErrInvalidKeyring)
		_, err = kr.Open(b.owner, goldenK1)
		require.ErrorIs(t, err, secretbox.ErrUnknownKey)
		require.True(t, kr.NeedsRewrap(goldenK1))
		require.Empty(t, kr.PrimaryID())
	}
}

func TestKeyringIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			owner := b.owner
			owner.Record = strings.Repeat("r", i+1)
			for range 50 {
				sealed, err := b.rotated.Seal(owner, b.secret)
				require.NoError(t, err)
				got, err := b.rotated.Open(owner, sealed)
				require.NoError(t, err)
				require.Equal(t, b.secret, got)
			}
		})
	}
	wg.Wait()
}

// Golden format-version-1 blobs, sealed once for setup's owner and secret
// under testKey(2) (id "k2") and testKey(1) (id "k1"). They pin the format
// and the associated-data encoding: blobs already stored must keep opening,
// so if TestGoldenBlobsStillOpen fails, the change broke compatibility.
// They are constants rather than sealed at run time because fuzzing runs
// the target in worker processes, where a fresh Seal would differ.
var (
	goldenK2    = mustHex("01026b32b4c5c154db2be60acd8e2144514da1afaa758031b77b911f9bee2f786d57b4b52ab7882fadb4746a76c50d800d61179cee824475083f100334fb25d14d4ed2a6165bce8abbafead299b082f3dfb7c673163275c801905c5090559764a0a83252f56008ab4ceb8717a089309a1767207a33bf65bdd43656b590f62bf031d3e4717600dfd92f88fb4348a533c66362773f207aa157796d0914")
	goldenK1    = mustHex("01026b317610a0b920ad769245d31b94e9db34648800a4e67698fa6f9a23458fbdca49cceb7c4a0d56017c5b09a9fba303935041ea58926abae60fc893bffd67913c536db57e4813c58c8d5c96d386b6175d9d0b51bb4f0a64039343885931aec901fdd65fe00f2a1bfd21c68b045716fb75bc671c8c38bbca9614966607e2fc694830554d9833ad4ecb3002c738199442180abc2b62655ba669908d")
	goldenEmpty = mustHex("01026b3272860ef27e8faf0a697746c5d04dad5e780c6cc0ee96c98a75990c6d83f22a24ffc141ca732038f248db874a98068d1a4c107fa35ea24ae2f7012fbb84ae2fd788eec451cb2ce533bab3f7195c87d2a95ba885d8d2da3d2c")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func isGolden(blob []byte) bool {
	return bytes.Equal(blob, goldenK2) || bytes.Equal(blob, goldenK1) || bytes.Equal(blob, goldenEmpty)
}

func TestGoldenBlobsStillOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name string
		blob []byte
		want []byte
		kr   *secretbox.Keyring
	}{
		{"k2", goldenK2, b.secret, b.k2Only},
		{"k1", goldenK1, b.secret, b.k1Only},
		{"k1 during rotation", goldenK1, b.secret, b.rotated},
		{"empty secret", goldenEmpty, nil, b.rotated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.kr.Open(b.owner, tc.blob)
			require.NoError(t, err)
			require.Equal(t, string(tc.want), string(got))
		})
	}
}

func FuzzOpen(f *testing.F) {
	b := setup(f)
	for _, seed := range [][]byte{
		goldenK2,
		goldenK1,
		goldenEmpty,
		{},
		{1},
		{1, 2, 'k', '2'},
		{2, 2, 'k', '2'},
		{1, 0},
		{1, 17},
		goldenK2[:len(goldenK2)-1],
		append(bytes.Clone(goldenK2), 0),
		bytes.Repeat([]byte{0xff}, 200),
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, blob []byte) {
		got, err := b.rotated.Open(b.owner, blob)
		if err == nil {
			// Forging AES-GCM is out of the fuzzer's reach, so only the
			// genuine blobs may open, and only to the genuine secret.
			require.True(t, isGolden(blob), "forged blob opened: %x", blob)
			if bytes.Equal(blob, goldenEmpty) {
				require.Empty(t, got)
			} else {
				require.Equal(t, b.secret, got)
			}
		} else {
			require.True(t, errors.Is(err, secretbox.ErrDecrypt) || errors.Is(err, secretbox.ErrUnknownKey), "unexpected error class: %v", err)
		}

		// Neither the header readers nor Rewrap may panic on any input.
		_ = b.rotated.NeedsRewrap(blob)
		_, _ = secretbox.KeyID(blob)
		if rewrapped, err := b.rotated.Rewrap(b.owner, blob); err == nil {
			// Rewrap authenticates as much as Open, so it too accepts only
			// the genuine blobs.
			require.True(t, isGolden(blob), "Rewrap accepted a forged blob: %x", blob)
			require.False(t, b.rotated.NeedsRewrap(rewrapped))
		}
	})
}

func benchmarkSecret(b *testing.B) (*secretbox.Keyring, secretbox.Owner, []byte) {
	b.Helper()
	bb := setup(b)
	return bb.rotated, bb.owner, bytes.Repeat([]byte{'s'}, 64)
}

func BenchmarkSeal64(b *testing.B) {
	kr, owner, secret := benchmarkSecret(b)
	b.SetBytes(int64(len(secret)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Seal(owner, secret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen64(b *testing.B) {
	kr, owner, secret := benchmarkSecret(b)
	sealed, err := kr.Seal(owner, secret)
	require.NoError(b, err)
	b.SetBytes(int64(len(secret)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(owner, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRewrap64(b *testing.B) {
	bb := setup(b)
	sealed, err := bb.k1Only.Seal(bb.owner, bytes.Repeat([]byte{'s'}, 64))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bb.rotated.Rewrap(bb.owner, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
