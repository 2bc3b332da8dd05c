package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
)

// storeFlags are the connection settings shared by the planes.
type storeFlags struct {
	postgresURL    string
	postgresAppURL string
	postgresConns  int
	redisURL       string
	namespace      string
	internalSecret string
	secretKeys     string
}

func (s *storeFlags) register(fs *pflag.FlagSet) {
	s.registerPostgres(fs)
	stringFlag(fs, &s.redisURL, "redis-url", "ALEXUS_REDIS_URL", "", "Redis URL, e.g. redis://127.0.0.1:6379/0")
	stringFlag(fs, &s.namespace, "redis-namespace", "ALEXUS_REDIS_NAMESPACE", rediskey.DefaultNamespace, "prefix of every Redis key")
	stringFlag(fs, &s.internalSecret, "internal-token-secret", "ALEXUS_INTERNAL_TOKEN_SECRET", "", "secret (>= 32 bytes; 'base64:' prefix allowed) the planes sign and verify internal identity tokens with")
	s.registerSecretKeys(fs)
}

// registerSecretKeys registers the key ring that seals tenants' secrets.
func (s *storeFlags) registerSecretKeys(fs *pflag.FlagSet) {
	stringFlag(fs, &s.secretKeys, "secret-keys", "ALEXUS_SECRET_KEYS", "", "key ring sealing tenants' secrets at rest: id:base64-32-bytes entries, comma-separated, the first sealing and all opening (rotation)")
}

// keyring parses the key ring; nil when none is configured.
func (s *storeFlags) keyring() (*secretbox.Keyring, error) {
	if s.secretKeys == "" {
		return nil, nil
	}
	k, err := secretbox.ParseKeyring(s.secretKeys)
	if err != nil {
		return nil, fmt.Errorf("ALEXUS_SECRET_KEYS: %w", err)
	}
	return k, nil
}

// registerPostgres registers only the Postgres settings, for the
// administrative commands that need nothing else.
func (s *storeFlags) registerPostgres(fs *pflag.FlagSet) {
	stringFlag(fs, &s.postgresURL, "postgres-url", "ALEXUS_POSTGRES_URL", "", "admin Postgres URL: runs migrations; planes SET ROLE alexus_app on it unless --postgres-app-url is given")
	stringFlag(fs, &s.postgresAppURL, "postgres-app-url", "ALEXUS_POSTGRES_APP_URL", "", "the alexus_app role's own Postgres URL (production)")
	fs.IntVar(&s.postgresConns, "postgres-max-conns", envInt("ALEXUS_POSTGRES_MAX_CONNS", 0), "Postgres pool size; 0 means pgx's default (ALEXUS_POSTGRES_MAX_CONNS)")
}

func (s *storeFlags) storeConfig() store.Config {
	return store.Config{AdminURL: s.postgresURL, AppURL: s.postgresAppURL, MaxConns: int32(s.postgresConns)}
}

func (s *storeFlags) openDB(ctx context.Context) (*store.DB, error) {
	return store.Open(ctx, s.storeConfig())
}

func (s *storeFlags) space() rediskey.Space { return rediskey.Space(s.namespace) }
