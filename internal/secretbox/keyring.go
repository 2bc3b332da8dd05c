package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// KeySize is the length in bytes of a key-encryption key and of a data key.
const KeySize = 32

// maxKeyIDLen keeps KEK IDs short enough to cost little in every blob, and
// well below the 44 characters of a base64 key, so a key pasted where an ID
// belongs can never pass as one and be echoed back in an error.
const maxKeyIDLen = 16

var keyIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,15}$`)

// ErrInvalidKeyring reports a keyring configuration string that cannot be
// used. The wrapping error names the offending entry by position (and by ID
// once the ID is known to be well formed), never by its key material.
var ErrInvalidKeyring = errors.New("invalid keyring")

// Keyring holds the key-encryption keys that seal and open blobs. The first
// key is the primary: Seal and Rewrap use it. Every key can open. A Keyring
// is immutable once parsed and safe for concurrent use.
//
// It keeps no raw key bytes, only the AES-GCM instances built from them, and
// its printed forms (fmt verbs, slog, JSON) show only key IDs.
type Keyring struct {
	// keys is in configuration order; keys[0] is the primary. Lookups scan
	// it because a keyring holds a handful of keys at most.
	keys []*kek
}

// kek is one key-encryption key. It sits behind a pointer in Keyring so that
// even a reflective dump of a Keyring value reaches no further than an
// address.
type kek struct {
	id   string
	aead cipher.AEAD // AES-256-GCM with random nonces prepended.
}

// ParseKeyring parses a keyring configuration string of comma-separated
// id:base64key entries, primary first, for example
//
//	k2:<base64 32 bytes>,k1:<base64 32 bytes>
//
// IDs are 1-16 characters of a-z, 0-9, '_' or '-', starting with a letter or
// digit; keys are standard (padded) base64 of exactly 32 bytes. Spaces
// around entries are ignored. Empty strings, empty entries, malformed IDs,
// duplicate IDs, undecodable or wrong-length keys, and the same key under
// two IDs are refused with an error wrapping ErrInvalidKeyring.
func ParseKeyring(s string) (*Keyring, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("secretbox: %w: no keys configured; want id:base64key[,id:base64key...]", ErrInvalidKeyring)
	}

	// raw holds the decoded keys only long enough to spot one key listed
	// under two IDs; it is wiped on the way out, success or not.
	var raw [][]byte
	defer func() {
		for _, key := range raw {
			clear(key)
		}
	}()

	kr := &Keyring{}
	for i, entry := range strings.Split(s, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("secretbox: %w: entry %d is empty (stray comma?)", ErrInvalidKeyring, n)
		}
		id, encoded, ok := strings.Cut(entry, ":")
		if !ok {
			// The entry is not echoed: without a colon it is most likely a
			// bare key.
			return nil, fmt.Errorf("secretbox: %w: entry %d has no ':'; want id:base64key", ErrInvalidKeyring, n)
		}
		id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
		if !keyIDPattern.MatchString(id) {
			// Nor is a malformed ID, which may be key material in the wrong
			// place (for example "base64key:id").
			return nil, fmt.Errorf("secretbox: %w: entry %d: key id must be 1-%d characters of a-z, 0-9, '_' or '-', starting with a letter or digit",
				ErrInvalidKeyring, n, maxKeyIDLen)
		}
		for j, prev := range kr.keys {
			if prev.id == id {
				return nil, fmt.Errorf("secretbox: %w: entry %d: key id %q is already used by entry %d", ErrInvalidKeyring, n, id, j+1)
			}
		}
		key, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w: entry %d (id %q): key is not valid standard base64: %w", ErrInvalidKeyring, n, id, err)
		}
		raw = append(raw, key)
		if len(key) != KeySize {
			return nil, fmt.Errorf("secretbox: %w: entry %d (id %q): key decodes to %d bytes, want %d (make one with `openssl rand -base64 32`)",
				ErrInvalidKeyring, n, id, len(key), KeySize)
		}
		for j, prev := range raw[:len(raw)-1] {
			if subtle.ConstantTimeCompare(prev, key) == 1 {
				// Two IDs for one key would make a rotation to the new ID
				// rotate nothing.
				return nil, fmt.Errorf("secretbox: %w: entry %d (id %q) has the same key as entry %d (id %q); each id needs its own key",
					ErrInvalidKeyring, n, id, j+1, kr.keys[j].id)
			}
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w: entry %d (id %q): %w", ErrInvalidKeyring, n, id, err)
		}
		kr.keys = append(kr.keys, &kek{id: id, aead: aead})
	}
	return kr, nil
}

// GenerateKey returns a new random key encoded as a keyring entry's key
// value (standard base64 of KeySize bytes). Prefix it with an ID and a colon
// to make an entry, e.g. "k1:" + key.
func GenerateKey() (string, error) {
	key := make([]byte, KeySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("secretbox: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

// newAEAD returns AES-256-GCM under key with a random nonce prepended to
// each ciphertext, so no caller of it can forget or reuse a nonce.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// PrimaryID returns the ID of the key that seals, or "" for an empty
// keyring.
func (k *Keyring) PrimaryID() string {
	if k == nil || len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].id
}

// IDs returns the key IDs in configuration order, primary first.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.id
	}
	return ids
}

// primary returns the sealing key, or an error for a keyring that was not
// made by ParseKeyring.
func (k *Keyring) primary() (*kek, error) {
	if k == nil || len(k.keys) == 0 {
		return nil, fmt.Errorf("%w: keyring has no keys", ErrInvalidKeyring)
	}
	return k.keys[0], nil
}

// lookup returns the key with the given ID, or nil.
func (k *Keyring) lookup(id string) *kek {
	if k == nil {
		return nil
	}
	for _, key := range k.keys {
		if key.id == id {
			return key
		}
	}
	return nil
}

// String describes the keyring by its key IDs only, e.g.
// "secretbox.Keyring{primary: k2, keys: [k2 k1]}". It is safe on nil.
func (k *Keyring) String() string {
	return fmt.Sprintf("secretbox.Keyring{primary: %s, keys: %v}", k.PrimaryID(), k.IDs())
}

// Format makes every fmt verb, %#v and %x included, print String, so
// formatting a *Keyring never reflects over its fields. (A dereferenced
// Keyring value would print only pointer addresses, as its keys sit behind
// pointers.)
func (k *Keyring) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, k.String())
}

// LogValue gives slog the key IDs, for the same reason as Format.
func (k *Keyring) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("primary", k.PrimaryID()),
		slog.Any("keys", k.IDs()),
	)
}
