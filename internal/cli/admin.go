package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
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
			id, err := tenant.Parse(args[0])
			if err != nil {
				return err
			}
			ctx := tenant.WithIdentity(cmd.Context(), tenant.Identity{Tenant: id, Subject: "system:cli"})
			db, err := s.openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
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
		},
	}
	s.registerPostgres(create.Flags())
	create.Flags().StringVar(&webhookURL, "webhook-url", "", "URL of the tenant's \"default\" remediation webhook target (set or replaced, also for an existing tenant)")
	create.Flags().StringVar(&display, "display-name", "", "human name of the tenant")
	cmd.AddCommand(create)
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
			id, err := tenant.Parse(tenantName)
			if err != nil {
				return err
			}
			if source == "" {
				return errors.New("--source is required (e.g. alertmanager)")
			}
			ctx := tenant.WithIdentity(cmd.Context(), tenant.Identity{Tenant: id, Subject: "system:cli"})
			db, err := s.openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			ok, err := provision.TenantExists(ctx, db)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("tenant %s does not exist; run `alexus tenant create %s` first", id, id)
			}
			tok, err := provision.CreateIntegrationToken(ctx, db, source, name)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	s.registerPostgres(create.Flags())
	create.Flags().StringVar(&tenantName, "tenant", "", "tenant the token posts for")
	create.Flags().StringVar(&source, "source", "", "webhook source the token may post to, e.g. alertmanager")
	create.Flags().StringVar(&name, "name", "", "label to recognise the token by")
	cmd.AddCommand(create)
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
