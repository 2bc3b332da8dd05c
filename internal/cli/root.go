package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Main runs the binary with args and returns the process exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "alexus:", err)
		return 1
	}
	return 0
}

// globals are the settings every subcommand shares.
type globals struct {
	logLevel  string
	logFormat string
	pprofAddr string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "alexus",
		Short:         "Alexus incident triage: one binary, a subcommand per plane",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return checkEnv()
		},
	}
	pf := root.PersistentFlags()
	stringFlag(pf, &g.logLevel, "log-level", "ALEXUS_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	stringFlag(pf, &g.logFormat, "log-format", "ALEXUS_LOG_FORMAT", "json", "log format: json or console")
	stringFlag(pf, &g.pprofAddr, "pprof-addr", "ALEXUS_PPROF_ADDR", "", "loopback address to serve net/http/pprof on (port 0: any free port); empty: off")
	root.AddCommand(
		newGatewayCmd(g),
		newIngestCmd(g),
		newOrchestratorCmd(g),
		newActionsCmd(g),
		newMigrateCmd(g),
		newDevCmd(g),
		newTenantCmd(g),
		newIntegrationCmd(g),
		newNotifyTargetCmd(g),
		newRunbookCmd(g),
		newTicketCmd(g),
		newSecretsCmd(g),
		newAuditCmd(g),
		newHealthCmd(),
	)
	return root
}

func (g *globals) logger() (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", g.logLevel, err)
	}
	var cfg zap.Config
	switch g.logFormat {
	case "json":
		cfg = zap.NewProductionConfig()
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true
	default:
		return nil, errors.New("log format must be json or console")
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	return cfg.Build()
}
