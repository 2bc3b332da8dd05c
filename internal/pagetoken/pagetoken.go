// Package pagetoken writes and reads the opaque keyset page tokens of the
// list APIs that page newest first by (time, UUID): a token says "the rows
// before (at, id)" and is bound to the filters it was issued for, so it
// cannot silently be replayed against different ones. It is not a
// security boundary: row-level security, not the token, keeps tenants
// apart.
package pagetoken

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ErrInvalid reports a token this package did not issue, or one issued
// for other filters or another list.
var ErrInvalid = errors.New("invalid page token")

// Encode returns the token for "before (at, id)" under filters. version
// names the issuing list's format (e.g. "a1"), so that a list can change
// its format, and one list's tokens are not read by another.
func Encode(version string, at time.Time, id, filters string) string {
	raw := version + ":" + strconv.FormatInt(at.UnixMicro(), 10) + ":" + id + ":" + filterTag(filters)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// Decode reads a token Encode made with version and filters; the error
// wraps ErrInvalid and says what is wrong with it.
func Decode(token, version, filters string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: not base64url", ErrInvalid)
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 4 || parts[0] != version {
		return time.Time{}, "", fmt.Errorf("%w: unknown format", ErrInvalid)
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: bad position", ErrInvalid)
	}
	if _, err := uuid.Parse(parts[2]); err != nil {
		return time.Time{}, "", fmt.Errorf("%w: bad position", ErrInvalid)
	}
	if parts[3] != filterTag(filters) {
		return time.Time{}, "", fmt.Errorf("%w: issued for different filters", ErrInvalid)
	}
	return time.UnixMicro(us).UTC(), parts[2], nil
}

func filterTag(filters string) string {
	h := fnv.New32a()
	h.Write([]byte(filters))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}
