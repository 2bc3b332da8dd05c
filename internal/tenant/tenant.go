package tenant

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ID names a tenant. Valid IDs are short lower-case slugs, so they are safe
// inside Redis hash tags, metric labels and log fields without escaping.
type ID string

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ErrInvalidID reports a tenant ID that does not match the slug rules.
var ErrInvalidID = errors.New("tenant id must be 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter or digit")

// Parse validates s as a tenant ID.
func Parse(s string) (ID, error) {
	if !idPattern.MatchString(s) {
		return "", fmt.Errorf("tenant id %q: %w", s, ErrInvalidID)
	}
	return ID(s), nil
}

// String returns the ID as a plain string.
func (id ID) String() string { return string(id) }

// Identity is who a call is made for and by: the tenant and the subject
// (a user from the JWT's "sub", or a plane's system name).
type Identity struct {
	Tenant  ID
	Subject string
}

type identityKey struct{}

// WithIdentity returns a context carrying id. Only the edge (after verifying
// a JWT), the plane interceptors (after verifying an internal token) and
// system workers that act for a tenant (after reading it from a
// tenant-scoped key) may call it.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity in ctx, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok && id.Tenant != ""
}

// Require returns the tenant in ctx or an UNAUTHENTICATED status error. Every
// store and key builder calls it, so a missing tenant fails closed.
func Require(ctx context.Context) (ID, error) {
	id, ok := FromContext(ctx)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "no verified tenant in context")
	}
	return id.Tenant, nil
}
