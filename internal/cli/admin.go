package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
)

func newMigrateCmd(_ *globals) *cobra.Command {
	var s storeFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (River's job tables and Alexus's schema) with the admin URL",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if s.postgresURL == "" {
				return errors.New("migrate needs the admin URL: set ALEXUS_POSTGRES_URL")
			}
			if err := store.Migrate(cmd.Context(), s.postgresURL); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "migrations applied")
			return nil
		},
	}
	s.registerPostgres(cmd.Flags())
	return cmd
}

func newTenantCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants"}
	var (
		s          storeFlags
		webhookURL string
		display    string
	)
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant (idempotent)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			return s.withTenant(cmd, id, func(ctx context.Context, db *store.DB) error {
				created, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{DisplayName: display})
				if err != nil {
					return err
				}
				if created {
					fmt.Fprintf(cmd.OutOrStdout(), "tenant %s created\n", id)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "tenant %s already exists\n", id)
				}
				if webhookURL != "" {
					if err := provision.SetWebhookTarget(ctx, db, "default", webhookURL); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "webhook target \"default\" of %s set\n", id)
				}
				return nil
			})
		},
	}
	s.registerPostgres(create.Flags())
	create.Flags().StringVar(&webhookURL, "webhook-url", "", "URL of the tenant's \"default\" remediation webhook target (set or replaced, also for an existing tenant)")
	create.Flags().StringVar(&display, "display-name", "", "human name of the tenant")
	cmd.AddCommand(create, newAllowEgressCmd())
	return cmd
}

// newAllowEgressCmd lets an operator open (or close) non-public networks to
// one tenant's actions; there is no API for it, so a tenant cannot widen its
// own reach.
func newAllowEgressCmd() *cobra.Command {
	var (
		s      storeFlags
		revoke bool
	)
	cmd := &cobra.Command{
		Use:   "allow-egress NAME CIDR...",
		Short: "Let a tenant's actions reach private, loopback or link-local networks (or, with --revoke, stop them)",
		Long: "Actions (webhooks, automation endpoints) may call any public address. Every other address is refused\n" +
			"when the action plane connects, unless ALEXUS_ACTIONS_EGRESS_ALLOW allows it for every tenant or this\n" +
			"command allows it for one. A CIDR or a single address; the change is audited.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			nets := make([]netip.Prefix, 0, len(args)-1)
			for _, a := range args[1:] {
				n, err := egress.ParsePrefix(a)
				if err != nil {
					return err
				}
				nets = append(nets, n)
			}
			return s.withTenant(cmd, args[0], func(ctx context.Context, db *store.DB) error {
				for _, n := range nets {
					if err := provision.AllowEgress(ctx, db, n, revoke); err != nil {
						return err
					}
				}
				all, err := provision.EgressNetworks(ctx, db)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "tenant %s may reach, beyond public addresses: %v\n", args[0], all)
				return nil
			})
		},
	}
	s.registerPostgres(cmd.Flags())
	cmd.Flags().BoolVar(&revoke, "revoke", false, "remove the networks instead")
	return cmd
}

func newIntegrationCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "integration", Short: "Manage vendor integration tokens"}
	var (
		s                  storeFlags
		tenantName, source string
		name               string
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an integration token for a tenant's webhook source; the token is printed once",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if source == "" {
				return errors.New("--source is required (e.g. alertmanager)")
			}
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := requireTenant(ctx, db, tenantName, "; run `alexus tenant create "+tenantName+"` first"); err != nil {
					return err
				}
				in, tok, err := provision.CreateIntegration(ctx, db, source, name)
				if err != nil {
					return err
				}
				// The token alone goes to stdout, so scripts can capture it; it
				// is shown this once and only its hash is kept.
				fmt.Fprintf(cmd.ErrOrStderr(), "integration %s created for %s/%s; its token is shown once:\n", in.ID, tenantName, source)
				fmt.Fprintln(cmd.OutOrStdout(), tok)
				return nil
			})
		},
	}
	s.registerTenant(create.Flags(), &tenantName, "tenant the token posts for")
	create.Flags().StringVar(&source, "source", "", "webhook source the token may post to, e.g. alertmanager")
	create.Flags().StringVar(&name, "name", "", "label to recognise the token by")

	list := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's integrations (never their tokens)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				ins, err := provision.ListIntegrations(ctx, db)
				if err != nil {
					return err
				}
				return printList(cmd.OutOrStdout(), "ID\tSOURCE\tNAME\tSIGNED\tCREATED\tREVOKED", ins, func(in provision.Integration) string {
					revoked := "-"
					if in.RevokedAt != nil {
						revoked = in.RevokedAt.UTC().Format(time.RFC3339)
					}
					return fmt.Sprintf("%s\t%s\t%s\t%t\t%s\t%s", in.ID, in.Source, in.Name, in.Signed, in.CreatedAt.UTC().Format(time.RFC3339), revoked)
				})
			})
		},
	}
	s.registerTenant(list.Flags(), &tenantName, "tenant whose integrations to list")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an integration's token; it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := provision.RevokeIntegration(ctx, db, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "integration %s revoked\n", args[0])
				return nil
			})
		},
	}
	s.registerTenant(revoke.Flags(), &tenantName, "tenant the integration belongs to")

	var clearSecret bool
	setSecret := &cobra.Command{
		Use:   "set-secret ID",
		Short: "Set the vendor's webhook signing secret of an integration, read from stdin; its webhooks must then be signed",
		Long: `Set the signing secret the vendor signs its webhooks with (Sentry's client secret, a PagerDuty
webhook subscription's secret, a Grafana contact point's HMAC secret, or the secret of the Alexus
X-Alexus-Signature scheme for any other source). It is read from the first line of stdin, so it
never appears in shell history or process lists, and stored sealed with ALEXUS_SECRET_KEYS.
From then on every webhook of the integration must carry a valid signature (within the gateway's
token cache TTL). --clear removes the secret.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := s.keyring()
			if err != nil {
				return err
			}
			var secret []byte
			if !clearSecret {
				line, err := readSecret(cmd, "secret", true)
				if errors.As(err, new(emptyStdinError)) {
					return fmt.Errorf("%w (use --clear to remove one)", err)
				}
				if err != nil {
					return err
				}
				secret = []byte(line)
			}
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := provision.SetSigningSecret(ctx, db, keys, args[0], secret); err != nil {
					return err
				}
				if clearSecret {
					fmt.Fprintf(cmd.OutOrStdout(), "integration %s: signing secret removed\n", args[0])
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "integration %s: signing secret set; webhooks must now be signed\n", args[0])
				}
				return nil
			})
		},
	}
	s.registerTenant(setSecret.Flags(), &tenantName, "tenant the integration belongs to")
	s.registerSecretKeys(setSecret.Flags())
	setSecret.Flags().BoolVar(&clearSecret, "clear", false, "remove the signing secret instead")
	cmd.AddCommand(create, list, revoke, setSecret)
	return cmd
}

func newHealthCmd() *cobra.Command {
	var addr string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check a plane's gRPC health endpoint (for container health checks)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				return fmt.Errorf("dial %s: %w", addr, err)
			}
			defer cc.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return fmt.Errorf("health of %s: %w", addr, err)
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("%s is %s", addr, resp.GetStatus())
			}
			fmt.Fprintln(cmd.OutOrStdout(), "SERVING")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9001", "gRPC address of the plane")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait")
	return cmd
}
