package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"
)

// HashSize is the size of an entry's hash and prev_hash.
const HashSize = sha256.Size

// domain is the first field of every encoding; a later version of the
// encoding changes it, so hashes of different versions can never collide.
const domain = "alexus-audit-v1"

// GenesisHash is the prev_hash of a tenant's first entry: 32 zero bytes.
func GenesisHash() []byte { return make([]byte, HashSize) }

// Record is what an entry's hash covers (see the package documentation for
// the encoding).
type Record struct {
	// Tenant is the tenant id.
	Tenant string
	// Seq is the entry's position in the tenant's chain, from 1.
	Seq int64
	// At is when the entry was written; only its microseconds count.
	At time.Time
	// Actor, Event and Subject are the entry's columns of the same names.
	Actor, Event, Subject string
	// Details is the canonical JSON text of the details (CanonicalJSON).
	Details []byte
	// PrevHash is the hash of the entry at Seq-1, GenesisHash for Seq 1.
	PrevHash []byte
}

// AppendEncoding appends the record's canonical encoding to dst.
func (r *Record) AppendEncoding(dst []byte) []byte {
	var n [8]byte
	dst = appendField(dst, []byte(domain))
	dst = appendStringField(dst, r.Tenant)
	binary.BigEndian.PutUint64(n[:], uint64(r.Seq))
	dst = appendField(dst, n[:])
	binary.BigEndian.PutUint64(n[:], uint64(r.At.UnixMicro()))
	dst = appendField(dst, n[:])
	dst = appendStringField(dst, r.Actor)
	dst = appendStringField(dst, r.Event)
	dst = appendStringField(dst, r.Subject)
	dst = appendField(dst, r.Details)
	return appendField(dst, r.PrevHash)
}

// Hash returns the SHA-256 of the record's canonical encoding.
func (r *Record) Hash() [HashSize]byte {
	return sha256.Sum256(r.AppendEncoding(nil))
}

func appendField(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func appendStringField(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// CanonicalStrings returns the canonical JSON of string pairs, the details
// Append writes; nil is the empty object.
func CanonicalStrings(m map[string]string) []byte {
	return appendCanonicalStrings(nil, m)
}

func appendCanonicalStrings(dst []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, m[k])
	}
	return append(dst, '}')
}

// CanonicalJSON returns the canonical text of the JSON value raw, as read
// back from a jsonb column.
func CanonicalJSON(raw []byte) ([]byte, error) {
	return appendCanonicalJSON(nil, raw)
}

func appendCanonicalJSON(dst, raw []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode details: %w", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode details: trailing data after the value")
	}
	return appendCanonicalValue(dst, v)
}

func appendCanonicalValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case json.Number:
		// The number's text as Postgres printed it: jsonb keeps a numeric
		// value, and its text is what both implementations hash.
		return append(dst, x...), nil
	case string:
		return appendJSONString(dst, x), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendCanonicalValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendCanonicalValue(dst, x[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	default:
		return nil, fmt.Errorf("decode details: unexpected %T", v)
	}
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a canonical JSON string, escaping exactly
// what jsonb escapes. Bytes that are not valid UTF-8 become U+FFFD, as
// encoding/json does, so the text hashed is the text Postgres stores.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				if c < 0x20 {
					dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				} else {
					dst = append(dst, c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
