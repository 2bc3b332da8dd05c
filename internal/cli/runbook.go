package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
)

// newRunbookCmd manages a tenant's runbooks: the Rundeck jobs, AWX job
// templates and generic automation endpoints runbook actions trigger.
func newRunbookCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "runbook", Short: "Manage a tenant's runbooks (Rundeck jobs, AWX job templates, generic endpoints)"}
	var (
		s          storeFlags
		tenantName string
		kind       string
		rawURL     string
		jobID      string
		apiVersion int
		schemaArg  string
	)
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Register (or replace) a runbook; its credential is read from stdin",
		Long: `Register the runbook NAME of a tenant, which runbook actions trigger:

  --kind rundeck  POST <url>/api/<api-version>/job/<job>/run with {"options": {...}};
                  the credential is a Rundeck API token (X-Rundeck-Auth-Token).
  --kind awx      POST <url>/api/v2/job_templates/<job>/launch/ with {"extra_vars": {...}};
                  the credential is an OAuth2 token (Authorization: Bearer). The template
                  must prompt for variables on launch, or AWX ignores them.
  --kind generic  POST <url> with a JSON body carrying "params", signed like a webhook
                  (X-Alexus-Signature) with the credential as the HMAC key (>= 32 bytes).

--schema is the JSON schema an action's parameters must satisfy, a file name or inline JSON
starting with '{'. It must describe an object, and only the
keywords type, properties, required, additionalProperties, items, enum, minimum, maximum,
minItems, maxItems, minLength and maxLength (plus annotations) are accepted, so a parameter is
never checked more loosely than the schema reads. The credential is read from the first line of
stdin, so it never appears in shell history or process lists, and stored sealed with
ALEXUS_SECRET_KEYS. Triggers go through the action plane's egress policy.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := s.keyring()
			if err != nil {
				return err
			}
			schema, err := readSchema(schemaArg)
			if err != nil {
				return err
			}
			cred, err := readSecret(cmd, "credential", false)
			if err != nil {
				return err
			}
			rb := provision.Runbook{
				Name:       args[0],
				Kind:       provision.RunbookKind(kind),
				URL:        rawURL,
				Job:        jobID,
				APIVersion: apiVersion,
				Credential: []byte(cred),
				Schema:     schema,
			}
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := provision.SetRunbook(ctx, db, keys, rb); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "runbook %q (%s) of %s set\n", args[0], kind, tenantName)
				return nil
			})
		},
	}
	s.registerTenant(set.Flags(), &tenantName, "tenant the runbook belongs to")
	s.registerSecretKeys(set.Flags())
	set.Flags().StringVar(&kind, "kind", "", "rundeck, awx or generic")
	set.Flags().StringVar(&rawURL, "url", "", "the server's base URL (rundeck, awx) or the endpoint (generic)")
	set.Flags().StringVar(&jobID, "job", "", "the Rundeck job ID or the AWX job template ID")
	set.Flags().IntVar(&apiVersion, "api-version", 0, fmt.Sprintf("Rundeck API version (default %d)", provision.DefaultRundeckAPIVersion))
	set.Flags().StringVar(&schemaArg, "schema", "", "the parameters' JSON schema: a file name, or inline JSON starting with '{'")
	_ = set.MarkFlagRequired("kind")
	_ = set.MarkFlagRequired("url")
	_ = set.MarkFlagRequired("schema")

	list := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's runbooks (never their credentials)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				rbs, err := provision.ListRunbooks(ctx, db)
				if err != nil {
					return err
				}
				return printList(cmd.OutOrStdout(), "NAME\tKIND\tENDPOINT\tSCHEMA\tUPDATED", rbs, func(r provision.Runbook) string {
					return fmt.Sprintf("%s\t%s\t%s\t%s\t%s", r.Name, r.Kind, r.Endpoint(), r.Schema, r.UpdatedAt.UTC().Format(time.RFC3339))
				})
			})
		},
	}
	s.registerTenant(list.Flags(), &tenantName, "tenant whose runbooks to list")

	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a runbook; runbook actions naming it are refused from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := provision.RemoveRunbook(ctx, db, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "runbook %q of %s removed\n", args[0], tenantName)
				return nil
			})
		},
	}
	s.registerTenant(remove.Flags(), &tenantName, "tenant the runbook belongs to")
	cmd.AddCommand(set, list, remove)
	return cmd
}

// readSchema reads --schema: inline JSON when it starts with '{', else the
// named file.
func readSchema(arg string) (json.RawMessage, error) {
	arg = strings.TrimSpace(arg)
	if strings.HasPrefix(arg, "{") {
		return json.RawMessage(arg), nil
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	return data, nil
}
