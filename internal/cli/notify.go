package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
)

// newNotifyTargetCmd manages a tenant's notify targets: the Slack and
// Microsoft Teams incoming webhooks notify actions post to.
func newNotifyTargetCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "notify-target", Short: "Manage a tenant's Slack and Microsoft Teams notify targets"}
	var (
		s          storeFlags
		tenantName string
		format     string
	)
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Register (or repoint) a notify target; its incoming-webhook URL is read from stdin",
		Long: `Register the notify target NAME of a tenant: a Slack incoming webhook (--format slack) or a
Microsoft Teams incoming webhook or Workflows webhook (--format teams). Notify actions name the
target, never the URL. The URL is the channel's credential: it is read from the first line of
stdin, so it never appears in shell history or process lists, and stored sealed with
ALEXUS_SECRET_KEYS. Deliveries go through the action plane's egress policy like webhooks.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := s.keyring()
			if err != nil {
				return err
			}
			u, err := readSecret(cmd, "URL", false)
			if err != nil {
				return err
			}
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := provision.SetNotifyTarget(ctx, db, keys, args[0], provision.NotifyFormat(format), u); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "notify target %q (%s) of %s set\n", args[0], format, tenantName)
				return nil
			})
		},
	}
	s.registerTenant(set.Flags(), &tenantName, "tenant the target belongs to")
	s.registerSecretKeys(set.Flags())
	set.Flags().StringVar(&format, "format", "slack", "message format: slack or teams")

	list := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's notify targets (their hosts, never their URLs)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				targets, err := provision.ListNotifyTargets(ctx, db)
				if err != nil {
					return err
				}
				return printList(cmd.OutOrStdout(), "NAME\tFORMAT\tHOST\tUPDATED", targets, func(n provision.NotifyTarget) string {
					return fmt.Sprintf("%s\t%s\t%s\t%s", n.Name, n.Format, n.Host, n.UpdatedAt.UTC().Format(time.RFC3339))
				})
			})
		},
	}
	s.registerTenant(list.Flags(), &tenantName, "tenant whose targets to list")

	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a notify target; notify actions naming it fail from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := provision.RemoveNotifyTarget(ctx, db, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "notify target %q of %s removed\n", args[0], tenantName)
				return nil
			})
		},
	}
	s.registerTenant(remove.Flags(), &tenantName, "tenant the target belongs to")
	cmd.AddCommand(set, list, remove)
	return cmd
}
