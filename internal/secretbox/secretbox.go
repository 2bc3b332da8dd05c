package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ErrDecrypt reports a blob that does not open: it is truncated or altered,
// it belongs to another owner, or its KEK is not the one its ID names. The
// message never says which part failed to authenticate.
var ErrDecrypt = errors.New("decryption failed")

// ErrUnknownKey reports a blob this keyring cannot even try to open: its
// format version is not one this build reads, or its KEK ID is not in the
// keyring (a key dropped before every blob under it was re-wrapped).
var ErrUnknownKey = errors.New("unknown key or format version")

// ErrInvalidOwner reports an Owner with an empty or oversized field.
var ErrInvalidOwner = errors.New("invalid owner")

// Owner is what a blob belongs to. All three fields go into the associated
// data of both encryptions, so a blob opens only for the Owner it was sealed
// for. None of them is secret; all of them must stay the same for the life
// of the stored blob.
type Owner struct {
	// Tenant is the tenant ID.
	Tenant string
	// Record is the immutable ID of the row or object holding the blob.
	Record string
	// Purpose says which secret of the record this is, as a stable dotted
	// name such as "integration.signing_secret", so two secret columns of
	// one row cannot be swapped.
	Purpose string
}

// maxOwnerField bounds each Owner field. They are IDs and short names; the
// bound keeps a mistaken caller (passing a document, say) from producing
// huge associated data, and keeps every length within its 4-byte prefix.
const maxOwnerField = 1024

// String names the owner in errors.
func (o Owner) String() string {
	return fmt.Sprintf("tenant %q record %q purpose %q", o.Tenant, o.Record, o.Purpose)
}

func (o Owner) validate() error {
	for _, f := range []struct{ name, value string }{
		{"tenant", o.Tenant},
		{"record", o.Record},
		{"purpose", o.Purpose},
	} {
		if f.value == "" {
			return fmt.Errorf("%w: %s is empty", ErrInvalidOwner, f.name)
		}
		if len(f.value) > maxOwnerField {
			return fmt.Errorf("%w: %s is %d bytes, over the %d-byte limit", ErrInvalidOwner, f.name, len(f.value), maxOwnerField)
		}
	}
	return nil
}

// Format version 1 layout; doc.go has the table.
const (
	version1 byte = 1

	gcmNonceSize = 12
	gcmTagSize   = 16
	// wrappedDEKSize is the wrap nonce, the encrypted DEK and its tag.
	wrappedDEKSize = gcmNonceSize + KeySize + gcmTagSize
	// minDataSize is the data nonce and tag around an empty plaintext.
	minDataSize = gcmNonceSize + gcmTagSize
)

// Roles keep the two associated-data strings of one blob distinct.
const (
	roleDEK  = "dek"
	roleData = "data"
	adLabel  = "alexus/secretbox"
)

// blob is a parsed, not yet authenticated, sealed blob. Its slices alias the
// input.
type blob struct {
	version    byte
	keyID      string
	wrappedDEK []byte
	data       []byte
}

// parse splits b into its fields. It checks the version first, so that a
// blob from a newer build is reported as such rather than as damaged, then
// every length, so that nothing later indexes past the end.
func parse(b []byte) (blob, error) {
	if len(b) == 0 {
		return blob{}, fmt.Errorf("%w: blob is empty", ErrDecrypt)
	}
	if b[0] != version1 {
		return blob{}, fmt.Errorf("%w: blob is format version %d; this build reads version %d", ErrUnknownKey, b[0], version1)
	}
	if len(b) < 2 {
		return blob{}, fmt.Errorf("%w: blob is truncated (%d bytes)", ErrDecrypt, len(b))
	}
	n := int(b[1])
	if n == 0 || n > maxKeyIDLen {
		return blob{}, fmt.Errorf("%w: blob has a %d-byte key id; want 1-%d", ErrDecrypt, n, maxKeyIDLen)
	}
	if want := 2 + n + wrappedDEKSize + minDataSize; len(b) < want {
		return blob{}, fmt.Errorf("%w: blob is truncated (%d bytes, want at least %d)", ErrDecrypt, len(b), want)
	}
	return blob{
		version:    b[0],
		keyID:      string(b[2 : 2+n]),
		wrappedDEK: b[2+n : 2+n+wrappedDEKSize],
		data:       b[2+n+wrappedDEKSize:],
	}, nil
}

// associatedData builds lp(label) || version || lp(role) || lp(keyID) ||
// lp(tenant) || lp(record) || lp(purpose), lp being a 4-byte big-endian
// length then the bytes. Length prefixes make the encoding injective, which
// plain concatenation is not ("ab"+"c" == "a"+"bc").
func associatedData(version byte, role, keyID string, o Owner) []byte {
	parts := []string{role, keyID, o.Tenant, o.Record, o.Purpose}
	size := 4 + len(adLabel) + 1
	for _, p := range parts {
		size += 4 + len(p)
	}
	ad := make([]byte, 0, size)
	ad = appendLP(ad, adLabel)
	ad = append(ad, version)
	for _, p := range parts {
		ad = appendLP(ad, p)
	}
	return ad
}

// appendLP appends s with its length prefix. The uint32 conversion cannot
// truncate: Owner fields are bounded by maxOwnerField and key IDs by
// maxKeyIDLen.
func appendLP(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Seal encrypts plaintext for owner under a fresh data key wrapped by the
// primary KEK, and returns the blob to store.
func (k *Keyring) Seal(owner Owner, plaintext []byte) ([]byte, error) {
	if err := owner.validate(); err != nil {
		return nil, fmt.Errorf("secretbox: seal: %w", err)
	}
	primary, err := k.primary()
	if err != nil {
		return nil, fmt.Errorf("secretbox: seal %v: %w", owner, err)
	}

	dek := make([]byte, KeySize)
	// Best effort only: the AES key schedule built from dek outlives it
	// until the garbage collector reclaims it.
	defer clear(dek)
	if _, err := rand.Read(dek); err != nil {
		return nil, fmt.Errorf("secretbox: seal %v: data key: %w", owner, err)
	}
	data, err := newAEAD(dek)
	if err != nil {
		return nil, fmt.Errorf("secretbox: seal %v: %w", owner, err)
	}

	out := make([]byte, 0, 2+len(primary.id)+wrappedDEKSize+minDataSize+len(plaintext))
	out = append(out, version1, byte(len(primary.id)))
	out = append(out, primary.id...)
	out = primary.aead.Seal(out, nil, dek, associatedData(version1, roleDEK, primary.id, owner))
	out = data.Seal(out, nil, plaintext, associatedData(version1, roleData, "", owner))
	return out, nil
}

// Open authenticates and decrypts a blob sealed for owner. It fails with
// ErrUnknownKey if the blob's version or KEK ID is unknown here, and with
// ErrDecrypt for anything else: truncation, tampering, or another owner.
func (k *Keyring) Open(owner Owner, sealed []byte) ([]byte, error) {
	if err := owner.validate(); err != nil {
		return nil, fmt.Errorf("secretbox: open: %w", err)
	}
	_, dek, plaintext, err := k.open(owner, sealed)
	clear(dek)
	if err != nil {
		return nil, fmt.Errorf("secretbox: open %v: %w", owner, err)
	}
	return plaintext, nil
}

// Rewrap returns sealed with its data key re-wrapped under the primary KEK,
// leaving the data nonce and ciphertext byte for byte as they were, so
// rotation costs a few small AES-GCM operations per blob and no
// re-encryption. It fails like Open does: for another owner, an unknown key,
// or a damaged blob. It does decrypt the data once, into a buffer it wipes
// and never returns, because AES-GCM cannot check a tag without decrypting
// and a rotation job should surface damaged rows rather than re-label them
// as current. A blob already under the primary key comes back as an
// unchanged copy.
func (k *Keyring) Rewrap(owner Owner, sealed []byte) ([]byte, error) {
	if err := owner.validate(); err != nil {
		return nil, fmt.Errorf("secretbox: rewrap: %w", err)
	}
	primary, err := k.primary()
	if err != nil {
		return nil, fmt.Errorf("secretbox: rewrap %v: %w", owner, err)
	}
	b, dek, plaintext, err := k.open(owner, sealed)
	defer clear(dek)
	clear(plaintext)
	if err != nil {
		return nil, fmt.Errorf("secretbox: rewrap %v: %w", owner, err)
	}
	if b.keyID == primary.id {
		return bytes.Clone(sealed), nil
	}

	// parse accepts only version 1, so the data part, whose associated data
	// names the version, carries over unchanged. A future version would
	// have to re-encrypt instead.
	out := make([]byte, 0, 2+len(primary.id)+wrappedDEKSize+len(b.data))
	out = append(out, version1, byte(len(primary.id)))
	out = append(out, primary.id...)
	out = primary.aead.Seal(out, nil, dek, associatedData(version1, roleDEK, primary.id, owner))
	out = append(out, b.data...)
	return out, nil
}

// NeedsRewrap reports whether Rewrap would change sealed, that is whether it
// is not a current-format blob under the primary key. It reads only the
// header and authenticates nothing. Malformed blobs report true, so that a
// rotation job passes them to Rewrap and sees its error instead of skipping
// them in silence.
func (k *Keyring) NeedsRewrap(sealed []byte) bool {
	b, err := parse(sealed)
	if err != nil {
		return true
	}
	return b.keyID != k.PrimaryID()
}

// KeyID returns the ID of the KEK that sealed a blob, read from its header
// without authenticating anything: for counting what a rotation has left,
// not for trusting.
func KeyID(sealed []byte) (string, error) {
	b, err := parse(sealed)
	if err != nil {
		return "", fmt.Errorf("secretbox: key id: %w", err)
	}
	return b.keyID, nil
}

// open parses sealed, finds its KEK, unwraps the data key and decrypts the
// data. The caller wipes the returned data key. Both authentication
// failures return the bare ErrDecrypt, so the error does not tell an
// attacker which half of the blob their change broke.
func (k *Keyring) open(owner Owner, sealed []byte) (b blob, dek, plaintext []byte, err error) {
	b, err = parse(sealed)
	if err != nil {
		return blob{}, nil, nil, err
	}
	key := k.lookup(b.keyID)
	if key == nil {
		return blob{}, nil, nil, fmt.Errorf("%w: blob was sealed under key %q, which is not in the keyring [%s]",
			ErrUnknownKey, b.keyID, strings.Join(k.IDs(), " "))
	}
	dek, err = key.aead.Open(nil, nil, b.wrappedDEK, associatedData(b.version, roleDEK, b.keyID, owner))
	if err != nil || len(dek) != KeySize {
		clear(dek)
		return blob{}, nil, nil, ErrDecrypt
	}
	data, err := newAEAD(dek)
	if err != nil {
		return blob{}, dek, nil, err
	}
	plaintext, err = data.Open(nil, nil, b.data, associatedData(b.version, roleData, "", owner))
	if err != nil {
		return blob{}, dek, nil, ErrDecrypt
	}
	return b, dek, plaintext, nil
}
