package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
)

// newTicketCmd manages a tenant's ticketing systems: the Jira and the
// ServiceNow that jira and servicenow actions write to and whose changes
// come back through POST /v1/webhooks/jira and /v1/webhooks/servicenow.
func newTicketCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "ticket", Short: "Manage a tenant's Jira and ServiceNow integrations"}
	var (
		s          storeFlags
		tenantName string
		rawURL     string
		bearer     bool
		// Jira
		email, project, issueType, accountID string
		labels, statusStates, stateStatuses  []string
		// ServiceNow
		username, closeCode, group string
		echoUsers                  []string
	)
	credential := func(cmd *cobra.Command) (secret, token string, err error) {
		v, err := readSecret(cmd, "credential", false)
		if bearer {
			return "", v, err
		}
		return v, "", err
	}
	set := func(cmd *cobra.Command, in provision.TicketIntegration) error {
		keys, err := s.keyring()
		if err != nil {
			return err
		}
		return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
			if err := provision.SetTicketIntegration(ctx, db, keys, in); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s integration of %s set\n", in.System, tenantName)
			return nil
		})
	}

	setJira := &cobra.Command{
		Use:   "set-jira",
		Short: "Set (or replace) the tenant's Jira; the API token is read from stdin",
		Long: `Set the tenant's Jira, which jira actions open, comment on and transition issues in
(REST API v3), and whose jira:issue_updated webhooks move incidents.

Authentication is an Atlassian account's email and API token (Basic), or with --bearer an
OAuth 2.0 access token (then --url is https://api.atlassian.com/ex/jira/<cloudId>). The token
is read from the first line of stdin, so it never appears in shell history or process lists,
and is stored sealed with ALEXUS_SECRET_KEYS (AES-256-GCM, tenant and record as associated data).

--account-id is the accountId Alexus writes as: changes it made are recognised as its own and
not applied again (the echo-loop rule). --status-state maps a status name onto an incident state
(open, acknowledged, resolved) where the status category would say otherwise; --state-status
names the status a state is moved to when a transition offers several.

Point a Jira webhook (Settings > System > WebHooks, event "Issue updated") at
  https://<gateway>/v1/webhooks/jira?token=<integration token for source jira>
with, optionally, a secret: then also set it as the integration token's signing secret, and the
gateway checks Jira's X-Hub-Signature.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			states, err := parseStatusStates(statusStates)
			if err != nil {
				return err
			}
			statuses, err := parseStateStatuses(stateStatuses)
			if err != nil {
				return err
			}
			secret, token, err := credential(cmd)
			if err != nil {
				return err
			}
			c := &jira.Config{BaseURL: rawURL, Email: email, APIToken: secret, BearerToken: token, Project: project,
				IssueType: issueType, Labels: labels, AccountID: accountID, States: states, Statuses: statuses}
			return set(cmd, provision.TicketIntegration{System: provision.TicketJira, Jira: c})
		},
	}
	s.registerTenant(setJira.Flags(), &tenantName, "tenant the integration belongs to")
	s.registerSecretKeys(setJira.Flags())
	setJira.Flags().StringVar(&rawURL, "url", "", "the Jira site, e.g. https://example.atlassian.net")
	setJira.Flags().BoolVar(&bearer, "bearer", false, "stdin holds an OAuth 2.0 access token instead of an API token")
	setJira.Flags().StringVar(&email, "email", "", "the Atlassian account's email (with an API token)")
	setJira.Flags().StringVar(&project, "project", "", "key of the project issues are opened in, e.g. OPS")
	setJira.Flags().StringVar(&issueType, "issue-type", "", "issue type opened (default "+jira.DefaultIssueType+")")
	setJira.Flags().StringSliceVar(&labels, "label", nil, "label added to every issue (repeatable)")
	setJira.Flags().StringVar(&accountID, "account-id", "", "accountId of the account Alexus writes as, for the echo-loop rule")
	setJira.Flags().StringArrayVar(&statusStates, "status-state", nil, "STATUS=STATE: map a status name onto open, acknowledged or resolved (repeatable)")
	setJira.Flags().StringArrayVar(&stateStatuses, "state-status", nil, "STATE=STATUS: the status a state is moved to (repeatable)")
	_ = setJira.MarkFlagRequired("url")
	_ = setJira.MarkFlagRequired("project")

	setSN := &cobra.Command{
		Use:   "set-servicenow",
		Short: "Set (or replace) the tenant's ServiceNow; the password is read from stdin",
		Long: `Set the tenant's ServiceNow instance, in whose incident table servicenow actions open and
update records (Table API), and whose outbound REST messages move incidents.

Authentication is a user name and password (Basic), or with --bearer an OAuth 2.0 access token
(set --username too: it is the sys_updated_by of Alexus's own changes, for the echo-loop rule).
The secret is read from the first line of stdin and stored sealed with ALEXUS_SECRET_KEYS.

State codes map onto incident states as: 1 New -> open; 2 In Progress, 3 On Hold ->
acknowledged; 6 Resolved, 7 Closed, 8 Canceled -> resolved.

Send changes back with a business rule on incident (after update) calling an outbound REST
message: POST https://<gateway>/v1/webhooks/servicenow with "Authorization: Bearer <integration
token for source servicenow>" and the body documented in internal/ticket/servicenow.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, token, err := credential(cmd)
			if err != nil {
				return err
			}
			c := &servicenow.Config{BaseURL: rawURL, Username: username, Password: secret, BearerToken: token,
				CloseCode: closeCode, AssignmentGroup: group, EchoUsers: echoUsers}
			return set(cmd, provision.TicketIntegration{System: provision.TicketServiceNow, ServiceNow: c})
		},
	}
	s.registerTenant(setSN.Flags(), &tenantName, "tenant the integration belongs to")
	s.registerSecretKeys(setSN.Flags())
	setSN.Flags().StringVar(&rawURL, "url", "", "the instance, e.g. https://example.service-now.com")
	setSN.Flags().BoolVar(&bearer, "bearer", false, "stdin holds an OAuth 2.0 access token instead of a password")
	setSN.Flags().StringVar(&username, "username", "", "the user Alexus authenticates and writes as")
	setSN.Flags().StringVar(&closeCode, "close-code", "", "close_code set on resolution (default \""+servicenow.DefaultCloseCode+"\")")
	setSN.Flags().StringVar(&group, "assignment-group", "", "sys_id of the group new incidents are assigned to")
	setSN.Flags().StringSliceVar(&echoUsers, "echo-user", nil, "further user name whose changes are Alexus's own (repeatable)")
	_ = setSN.MarkFlagRequired("url")
	_ = setSN.MarkFlagRequired("username")

	list := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's ticket integrations (never their credentials)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				ins, err := provision.ListTicketIntegrations(ctx, db)
				if err != nil {
					return err
				}
				return printList(cmd.OutOrStdout(), "SYSTEM\tURL\tSETTINGS\tUPDATED", ins, func(in provision.TicketIntegrationInfo) string {
					return fmt.Sprintf("%s\t%s\t%s\t%s", in.System, in.BaseURL, in.Settings, in.UpdatedAt.UTC().Format(time.RFC3339))
				})
			})
		},
	}
	s.registerTenant(list.Flags(), &tenantName, "tenant whose integrations to list")

	remove := &cobra.Command{
		Use:   "remove SYSTEM",
		Short: "Remove the tenant's jira or servicenow integration; its ticket actions fail from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			system, err := provision.ParseTicketSystem(args[0])
			if err != nil {
				return err
			}
			return s.withTenant(cmd, tenantName, func(ctx context.Context, db *store.DB) error {
				if err := provision.RemoveTicketIntegration(ctx, db, system); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s integration of %s removed\n", system, tenantName)
				return nil
			})
		},
	}
	s.registerTenant(remove.Flags(), &tenantName, "tenant the integration belongs to")
	cmd.AddCommand(setJira, setSN, list, remove)
	return cmd
}

// parseStatusStates reads --status-state STATUS=STATE pairs.
func parseStatusStates(pairs []string) (map[string]ticket.State, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]ticket.State, len(pairs))
	for _, p := range pairs {
		name, state, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("--status-state %q must be STATUS=STATE", p)
		}
		s := ticket.State(strings.TrimSpace(state))
		if !s.Valid() {
			return nil, fmt.Errorf("--status-state %q: state must be open, acknowledged or resolved", p)
		}
		out[strings.TrimSpace(name)] = s
	}
	return out, nil
}

// parseStateStatuses reads --state-status STATE=STATUS pairs.
func parseStateStatuses(pairs []string) (map[ticket.State]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[ticket.State]string, len(pairs))
	for _, p := range pairs {
		state, name, ok := strings.Cut(p, "=")
		s := ticket.State(strings.TrimSpace(state))
		if !ok || strings.TrimSpace(name) == "" || !s.Valid() {
			return nil, fmt.Errorf("--state-status %q must be STATE=STATUS with STATE open, acknowledged or resolved", p)
		}
		if _, dup := out[s]; dup {
			return nil, fmt.Errorf("--state-status names state %s twice", s)
		}
		out[s] = strings.TrimSpace(name)
	}
	return out, nil
}
