package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// registerTenant registers the Postgres settings and --tenant, the flags
// of a command that acts on one tenant's rows.
func (s *storeFlags) registerTenant(fs *pflag.FlagSet, name *string, usage string) {
	s.registerPostgres(fs)
	fs.StringVar(name, "tenant", "", usage)
}

// tenantDB opens the application-role pool and a context acting for the
// named tenant as the CLI.
func (s *storeFlags) tenantDB(cmd *cobra.Command, name string) (context.Context, *store.DB, error) {
	id, err := tenant.Parse(name)
	if err != nil {
		return nil, nil, fmt.Errorf("tenant: %w", err)
	}
	ctx := tenant.WithIdentity(cmd.Context(), tenant.Identity{Tenant: id, Subject: "system:cli"})
	db, err := s.openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ctx, db, nil
}

// withTenant runs fn acting for the named tenant as the CLI, with the
// application-role pool, which it closes afterwards.
func (s *storeFlags) withTenant(cmd *cobra.Command, name string, fn func(context.Context, *store.DB) error) error {
	ctx, db, err := s.tenantDB(cmd, name)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(ctx, db)
}

// requireTenant refuses the context's tenant, name, when it has not been
// created: the error says so, then hint.
func requireTenant(ctx context.Context, db *store.DB, name, hint string) error {
	ok, err := provision.TenantExists(ctx, db)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("tenant %s does not exist%s", name, hint)
	}
	return nil
}

// emptyStdinError reports a first line of stdin with nothing on it.
type emptyStdinError struct{ what string }

func (e emptyStdinError) Error() string { return "no " + e.what + " on stdin" }

// readSecret reads what (a URL, a credential, a secret) from the first
// line of stdin, so it never appears in shell history or process lists.
// The line ending is dropped, and so is white space around it unless
// exact (a signing secret is taken byte for byte). An empty one is an
// emptyStdinError.
func readSecret(cmd *cobra.Command, what string, exact bool) (string, error) {
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the %s from stdin: %w", what, err)
	}
	if exact {
		line = strings.TrimRight(line, "\r\n")
	} else {
		line = strings.TrimSpace(line)
	}
	if line == "" {
		return "", emptyStdinError{what: what}
	}
	return line, nil
}

// printList prints items to out as a table with aligned columns: header,
// then row(item) for each; both separate columns with tabs.
func printList[T any](out io.Writer, header string, items []T, row func(T) string) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, it := range items {
		fmt.Fprintln(w, row(it))
	}
	return w.Flush()
}
