package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/demo"
	"github.com/alexus-platform/alexus/internal/devstack"
	"github.com/alexus-platform/alexus/internal/mesh"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/webhook"
	"github.com/alexus-platform/alexus/services/gateway/auth"
)

// demoTenant is the tenant `alexus dev` prints a token for.
const demoTenant = "demo"

func newDevCmd(g *globals) *cobra.Command {
	f := &meshFlags{}
	var (
		dataDir  string
		sinkAddr string
		withDemo bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run every plane in one process, with private Postgres and Redis unless URLs are given",
		Long: `Run the gateway, ingest, orchestrator and action planes in one process on real ports.

When ALEXUS_POSTGRES_URL or ALEXUS_REDIS_URL is not set, private servers are started
from the local postgres and redis-server binaries in the data folder. Migrations are
applied, secrets are generated once into the data folder, tenants named in valid dev
tokens are created on first use, and remediation webhooks go to a local receiver that
prints what it gets. Ctrl-C stops everything this command started.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			started := time.Now()
			ctx := cmd.Context()
			if !cmd.Flags().Changed("log-format") && os.Getenv("ALEXUS_LOG_FORMAT") == "" {
				g.logFormat = "console"
			}
			if !cmd.Flags().Changed("log-level") && os.Getenv("ALEXUS_LOG_LEVEL") == "" {
				g.logLevel = "warn"
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			if err := servePprof(ctx, log, g.pprofAddr); err != nil {
				return err
			}
			setPlaneGC()
			out := cmd.OutOrStdout()

			secrets, err := loadDevSecrets(dataDir)
			if err != nil {
				return err
			}
			if f.stores.internalSecret == "" {
				f.stores.internalSecret = secrets.InternalTokenSecret
			}
			if f.devJWTSecret == "" {
				f.devJWTSecret = secrets.DevJWTSecret
			}
			if f.webhookSecret == "" {
				f.webhookSecret = secrets.WebhookSecret
			}
			if f.stores.secretKeys == "" {
				f.stores.secretKeys = secrets.SecretKeys
			}

			if f.stores.postgresURL == "" && f.stores.postgresAppURL == "" || f.stores.redisURL == "" {
				fmt.Fprintf(out, "starting private Postgres and Redis in %s ...\n", dataDir)
				// The servers outlive the signal that stops the planes, so the
				// planes can shut down cleanly; the deferred Stop ends them after.
				stack, err := devstack.Start(context.WithoutCancel(ctx), devstack.Options{DataDir: dataDir, Log: log})
				if err != nil {
					return err
				}
				defer func() { _ = stack.Stop() }()
				if f.stores.postgresURL == "" && f.stores.postgresAppURL == "" {
					f.stores.postgresURL = stack.PostgresURL
				}
				if f.stores.redisURL == "" {
					f.stores.redisURL = stack.RedisURL
				}
			}
			if f.stores.postgresURL != "" {
				if err := store.Migrate(ctx, f.stores.postgresURL); err != nil {
					return err
				}
			}

			// The internal planes take free ports: only the gateway is public.
			f.addrs.Ingest, f.addrs.Orchestrator, f.addrs.Actions, f.addrs.Reasoning = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", ""
			if f.gateway.Auth.Issuer == "" {
				f.gateway.Auth.Issuer = auth.DevIssuer
			}
			if f.gateway.Auth.Audience == "" {
				f.gateway.Auth.Audience = auth.DevAudience
			}
			f.gateway.DevAutoCreateTenants = true
			cfg, err := f.config(mesh.All...)
			if err != nil {
				return err
			}
			if cfg.Gateway.DevDefaultWebhookURL, err = startSink(ctx, out, sinkAddr, cfg.Actions.WebhookSecret); err != nil {
				return err
			}
			// The demo receiver listens on this host; production keeps
			// loopback unreachable unless the operator allows it.
			if len(cfg.Actions.EgressAllow) == 0 {
				cfg.Actions.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
			}
			m, err := mesh.Start(ctx, log, cfg)
			if err != nil {
				return err
			}

			token, err := auth.DevToken(cfg.Gateway.Auth.DevHS256Secret, demoTenant, "dev-user", cfg.Gateway.Auth.Issuer, cfg.Gateway.Auth.Audience, 24*time.Hour)
			if err != nil {
				return err
			}
			gatewayURL := "http://" + m.Addrs.Gateway
			printBanner(out, m.Addrs, gatewayURL, token, dataDir)

			if withDemo {
				go func() {
					err := demo.Run(ctx, demo.Options{GatewayURL: gatewayURL, Token: token, Out: out, Interval: interval, Started: started})
					if err != nil && ctx.Err() == nil {
						log.Error("demo feed stopped", zap.Error(err))
					}
				}()
			}
			err = m.Wait()
			fmt.Fprintln(out, "stopped")
			return err
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&dataDir, "data-dir", envString("ALEXUS_DATA_DIR", devstack.DefaultDataDir), "folder for private servers and generated dev secrets (ALEXUS_DATA_DIR)")
	cmd.Flags().StringVar(&sinkAddr, "dev-sink-addr", envString("ALEXUS_DEV_SINK_ADDR", "127.0.0.1:8081"), "address of the local receiver of dev tenants' remediation webhooks (ALEXUS_DEV_SINK_ADDR)")
	cmd.Flags().BoolVar(&withDemo, "demo", false, "feed sample Alertmanager alerts and print each decision")
	cmd.Flags().DurationVar(&interval, "demo-interval", envDuration("ALEXUS_DEMO_INTERVAL", 2*time.Second), "pause between demo alerts (ALEXUS_DEMO_INTERVAL)")
	cmd.AddCommand(newDevTokenCmd())
	return cmd
}

func printBanner(out io.Writer, a mesh.Addrs, gatewayURL, token, dataDir string) {
	fmt.Fprintf(out, `
Alexus is running (data in %s)
  gateway       %s   (Connect, gRPC, gRPC-Web; POST /v1/webhooks/alertmanager)
  ingest        %s
  orchestrator  %s
  actions       %s

Dev token for tenant %q (valid 24h; 'alexus dev token --tenant NAME' prints others):
  %s

Try:
  curl -s -X POST %s/alexus.orchestrator.v1.OrchestratorService/ListIncidents \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" -d '{}'

Ctrl-C stops everything.

`, dataDir, gatewayURL, a.Ingest, a.Orchestrator, a.Actions, demoTenant, token, gatewayURL)
}

// startSink serves the receiver that dev tenants' "default" webhook target
// points at: it checks each delivery's signature and prints it.
//
// Its address is fixed (not a free port) because tenants keep the target
// they were created with across restarts of `alexus dev`.
func startSink(ctx context.Context, out io.Writer, addr string, secret []byte) (string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen for the dev webhook receiver on %s (set ALEXUS_DEV_SINK_ADDR to another address): %w", addr, err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		ok := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), body, r.Header.Get(webhook.HeaderSignature))
		var msg struct {
			ActionID   string `json:"action_id"`
			IncidentID string `json:"incident_id"`
		}
		_ = json.Unmarshal(body, &msg)
		if !ok {
			fmt.Fprintf(out, "  !! webhook for action %s has a bad signature\n", msg.ActionID)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(out, "  <- remediation webhook received for incident %s (action %s, signature ok)\n", short(msg.IncidentID), short(msg.ActionID))
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(lis) }()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return "http://" + lis.Addr().String() + "/remediate", nil
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func newDevTokenCmd() *cobra.Command {
	var (
		dataDir, tenantName, subject, secret string
		issuer, audience                     string
		ttl                                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a development JWT that `alexus dev` with the same environment and data folder accepts",
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := tenant.Parse(tenantName)
			if err != nil {
				return err
			}
			if secret == "" {
				s, err := loadDevSecrets(dataDir)
				if err != nil {
					return err
				}
				secret = s.DevJWTSecret
			}
			key, err := secretBytes("ALEXUS_DEV_JWT_SECRET", secret)
			if err != nil {
				return err
			}
			tok, err := auth.DevToken(key, id, subject, issuer, audience, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantName, "tenant", demoTenant, "tenant the token is for")
	cmd.Flags().StringVar(&subject, "subject", "dev-user", "subject (sub) of the token")
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
	cmd.Flags().StringVar(&dataDir, "data-dir", envString("ALEXUS_DATA_DIR", devstack.DefaultDataDir), "data folder holding the generated dev secrets (ALEXUS_DATA_DIR)")
	cmd.Flags().StringVar(&issuer, "jwt-issuer", envString("ALEXUS_JWT_ISSUER", auth.DevIssuer), "issuer (iss), as `alexus dev` expects it (ALEXUS_JWT_ISSUER)")
	cmd.Flags().StringVar(&audience, "jwt-audience", envString("ALEXUS_JWT_AUDIENCE", auth.DevAudience), "audience (aud), as `alexus dev` expects it (ALEXUS_JWT_AUDIENCE)")
	cmd.Flags().StringVar(&secret, "dev-jwt-secret", envString("ALEXUS_DEV_JWT_SECRET", ""), "HS256 secret; default: the data folder's (ALEXUS_DEV_JWT_SECRET)")
	return cmd
}

// devSecrets are generated once per data folder so that `alexus dev` and
// `alexus dev token` agree across restarts.
type devSecrets struct {
	InternalTokenSecret string `json:"internal_token_secret"`
	DevJWTSecret        string `json:"dev_jwt_secret"`
	WebhookSecret       string `json:"webhook_secret"`
	// SecretKeys is the key ring sealing tenants' secrets; data folders
	// made before it existed get one on their next start.
	SecretKeys string `json:"secret_keys"`
}

func loadDevSecrets(dataDir string) (devSecrets, error) {
	path := filepath.Join(dataDir, "dev-secrets.json")
	var s devSecrets
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil {
			return s, fmt.Errorf("read %s: %w (delete it to generate new dev secrets)", path, err)
		}
		if s.SecretKeys != "" {
			return s, nil
		}
	case !errors.Is(err, os.ErrNotExist):
		return s, fmt.Errorf("read %s: %w", path, err)
	default:
		gen := func() string {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			return "base64:" + base64.StdEncoding.EncodeToString(b)
		}
		s = devSecrets{InternalTokenSecret: gen(), DevJWTSecret: gen(), WebhookSecret: gen()}
	}
	key, err := secretbox.GenerateKey()
	if err != nil {
		return s, fmt.Errorf("generate dev secret key: %w", err)
	}
	s.SecretKeys = "dev1:" + key
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return s, fmt.Errorf("create data folder %s: %w", dataDir, err)
	}
	b, _ = json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return s, fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}
