// Package secretbox encrypts per-tenant secrets at rest: vendor webhook
// signing secrets today, and later Jira and ServiceNow credentials and LLM
// API keys. Planes store the sealed blob (a bytea column, say) in place of
// the secret and open it only at the moment they need the plaintext.
//
// # Envelope encryption
//
// Every Seal draws a fresh random 256-bit data key (DEK), encrypts the
// plaintext under it with AES-256-GCM, and then encrypts ("wraps") the DEK
// with AES-256-GCM under a key-encryption key (KEK) taken from
// configuration. Only the wrapped DEK depends on the KEK, so rotating KEKs
// means replacing 60 bytes per record (Keyring.Rewrap) rather than
// re-encrypting every secret, and the KEK itself encrypts only random keys.
//
// # Binding a blob to its owner
//
// Both GCM operations authenticate associated data built from the Owner:
// the tenant ID, the record ID (the row the blob lives in) and a purpose
// such as "integration.signing_secret". A blob copied to another tenant's
// row, another record, or another column therefore fails to open with
// ErrDecrypt. The record ID must be immutable for the life of the row;
// changing it orphans the secret. Each associated-data string is
//
//	lp("alexus/secretbox") || version || lp(role) || lp(keyID) ||
//	lp(tenant) || lp(record) || lp(purpose)
//
// where lp(x) is the 4-byte big-endian length of x followed by x, version is
// the format version byte, and role is "dek" (with keyID the KEK's ID) for
// the wrapped DEK or "data" (with keyID empty) for the data ciphertext. The
// length prefixes keep ("ab","c") and ("a","bc") distinct, which naive
// concatenation would not. The data part leaves the KEK ID out so that
// Rewrap can change the KEK without touching the data ciphertext.
//
// # Format
//
// A sealed blob is self-describing; format version 1 is
//
//	offset     size  field
//	0          1     version, 0x01
//	1          1     n, the length of the KEK ID (1-16)
//	2          n     KEK ID, ASCII
//	2+n        12    wrap nonce
//	14+n       48    wrapped DEK: AES-256-GCM(KEK, DEK) ciphertext and tag
//	62+n       12    data nonce
//	74+n       m+16  data: AES-256-GCM(DEK, plaintext) ciphertext and tag
//
// so a blob is 90+n+m bytes for an m-byte plaintext (156 bytes for a 64-byte
// secret under a 2-character KEK ID). Nonces are random 96-bit values.
//
// Opening a blob whose version this build does not read, or whose KEK ID is
// not in the keyring, fails with ErrUnknownKey. Any other failure, whether
// a truncated blob, a flipped bit, or the wrong owner, fails with ErrDecrypt,
// which deliberately does not say whether the DEK or the data failed to
// authenticate.
//
// # Keys and rotation
//
// A Keyring comes from one configuration string (ALEXUS_SECRET_KEYS):
//
//	k2:<base64 of 32 random bytes>,k1:<base64 of 32 random bytes>
//
// The first entry is the primary key, which seals; every entry can open.
// GenerateKey (or `openssl rand -base64 32`) makes a key value. To rotate:
//
//  1. put a new key in front of the list and deploy it everywhere;
//  2. for each stored blob where NeedsRewrap reports true, store the result
//     of Rewrap (KeyID tells which key a blob is under, for progress counts);
//  3. once no blob names the old key, drop it from the list.
//
// KEK IDs are not secret and appear in errors and in Keyring's printed form;
// key material never does. A KEK must not be used for anything but this
// package, and must not seal more than 2^32 blobs (the random-nonce bound
// for AES-GCM), which rotation keeps far out of reach.
//
// # Limits
//
// Associated data stops a blob moving between owners, but not an older blob
// of the same owner being written back over a newer one; callers that care
// about rollback must version the row themselves. Plaintext returned by Open
// is the caller's to keep out of logs.
package secretbox
