package e2e_test

import (
	"time"

	"github.com/alexus-platform/alexus/services/gateway/auth"
)

// authTokenWithOtherKey is a well-formed dev token signed with a key the
// gateway does not know.
func authTokenWithOtherKey() (string, error) {
	return auth.DevToken(randBytes(32), "acme", "mallory", auth.DevIssuer, auth.DevAudience, time.Hour)
}
