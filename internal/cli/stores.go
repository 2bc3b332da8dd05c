package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// storeFlags are the connection settings shared by the planes.
type storeFlags struct {
	postgresURL    string
	postgresAppURL string
	postgresConns  int
	redisURL       string
	namespace      string
	internalSecret string
}

func (s *storeFlags) register(fs *pflag.FlagSet) {
	stringFlag(fs, &s.postgresURL, "postgres-url", "ALEXUS_POSTGRES_URL", "", "admin Postgres URL: runs migrations; planes SET ROLE alexus_app on it unless --postgres-app-url is given")
	stringFlag(fs, &s.postgresAppURL, "postgres-app-url", "ALEXUS_POSTGRES_APP_URL", "", "the alexus_app role's own Postgres URL (production)")
	fs.IntVar(&s.postgresConns, "postgres-max-conns", envInt("ALEXUS_POSTGRES_MAX_CONNS", 0), "Postgres pool size; 0 means pgx's default (ALEXUS_POSTGRES_MAX_CONNS)")
	stringFlag(fs, &s.redisURL, "redis-url", "ALEXUS_REDIS_URL", "", "Redis URL, e.g. redis://127.0.0.1:6379/0")
	stringFlag(fs, &s.namespace, "redis-namespace", "ALEXUS_REDIS_NAMESPACE", rediskey.DefaultNamespace, "prefix of every Redis key")
	stringFlag(fs, &s.internalSecret, "internal-token-secret", "ALEXUS_INTERNAL_TOKEN_SECRET", "", "secret (>= 32 bytes; 'base64:' prefix allowed) the planes sign and verify internal identity tokens with")
}

func (s *storeFlags) storeConfig() store.Config {
	return store.Config{AdminURL: s.postgresURL, AppURL: s.postgresAppURL, MaxConns: int32(s.postgresConns)}
}

func (s *storeFlags) openDB(ctx context.Context) (*store.DB, error) {
	return store.Open(ctx, s.storeConfig())
}

func (s *storeFlags) openRedis(ctx context.Context) (*redis.Client, error) {
	if s.redisURL == "" {
		return nil, errors.New("redis: set ALEXUS_REDIS_URL (or --redis-url)")
	}
	opt, err := redis.ParseURL(s.redisURL)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("reach redis at %s: %w", opt.Addr, err)
	}
	return rdb, nil
}

func (s *storeFlags) space() rediskey.Space { return rediskey.Space(s.namespace) }

func (s *storeFlags) tokens() (*tenant.Signer, *tenant.Verifier, error) {
	if s.internalSecret == "" {
		return nil, nil, errors.New("internal token secret: set ALEXUS_INTERNAL_TOKEN_SECRET (at least 32 bytes, the same on every plane)")
	}
	secret := secretBytes(s.internalSecret)
	signer, err := tenant.NewSigner(secret, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("ALEXUS_INTERNAL_TOKEN_SECRET: %w", err)
	}
	verifier, err := tenant.NewVerifier(secret)
	if err != nil {
		return nil, nil, fmt.Errorf("ALEXUS_INTERNAL_TOKEN_SECRET: %w", err)
	}
	return signer, verifier, nil
}
