package cli

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// newSecretsCmd manages the key ring that seals tenants' secrets.
func newSecretsCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Manage the sealing of tenants' secrets (ALEXUS_SECRET_KEYS)"}
	var (
		s          storeFlags
		tenantName string
	)
	rewrap := &cobra.Command{
		Use:   "rewrap",
		Short: "Move every sealed secret to the key ring's first key, so that an old key can be retired",
		Long: `Rotate a key-encryption key in three steps:

  1. Put a new key (openssl rand -base64 32) first in ALEXUS_SECRET_KEYS and keep the old one
     after it: ALEXUS_SECRET_KEYS=k2:<new>,k1:<old>.
     Restart the planes: new secrets are sealed with k2, old ones still open with k1.
  2. Run alexus secrets rewrap with that key ring. Every tenant's sealed secrets (integration
     signing secrets, notify target URLs, runbook credentials, Jira and ServiceNow credentials,
     model and embedding API keys) not under k2 get their data key wrapped again under k2;
     the secrets themselves are not re-encrypted. Each tenant is rewrapped in one transaction
     and audited (secrets.rewrapped, with the counts and the key's id).
  3. Drop k1 from ALEXUS_SECRET_KEYS and restart the planes.

Without --tenant every tenant that holds a sealed secret is rewrapped; a tenant that fails (a
secret that does not open) is reported and the others go on. Running it again is harmless.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := s.keyring()
			if err != nil {
				return err
			}
			if keys == nil {
				return errors.New("no key ring: set ALEXUS_SECRET_KEYS (or --secret-keys) with the new key first")
			}
			db, err := s.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			var tenants []tenant.ID
			if tenantName != "" {
				t, err := tenant.Parse(tenantName)
				if err != nil {
					return fmt.Errorf("tenant: %w", err)
				}
				tenants = []tenant.ID{t}
			} else if tenants, err = provision.SealedSecretTenants(cmd.Context(), db); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var failed []string
			for _, t := range tenants {
				ctx := tenant.WithIdentity(cmd.Context(), tenant.Identity{Tenant: t, Subject: "system:cli"})
				res, err := provision.RewrapSecrets(ctx, db, keys)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", t, err)
					failed = append(failed, string(t))
					continue
				}
				var parts []string
				for _, table := range slices.Sorted(maps.Keys(res.Rewrapped)) {
					parts = append(parts, fmt.Sprintf("%s %d", table, res.Rewrapped[table]))
				}
				line := fmt.Sprintf("%s: %d rewrapped to key %s", t, res.Total(), keys.PrimaryID())
				if len(parts) > 0 {
					line += " (" + strings.Join(parts, ", ") + ")"
				}
				fmt.Fprintf(out, "%s, %d already under it\n", line, res.Current)
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d tenant(s) not rewrapped: %s", len(failed), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	s.registerPostgres(rewrap.Flags())
	s.registerSecretKeys(rewrap.Flags())
	rewrap.Flags().StringVar(&tenantName, "tenant", "", "rewrap only this tenant (default: every tenant with a sealed secret)")
	cmd.AddCommand(rewrap)
	return cmd
}
