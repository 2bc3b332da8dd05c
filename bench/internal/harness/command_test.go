package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	var f Flags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs, "ALEXUS_X=1", "plane")
	require.NoError(t, fs.Parse([]string{"-plane-env", "A=1", "-plane-env", "B=x=y", "-ready-timeout", "5s"}))
	require.Equal(t, EnvList{"A=1", "B=x=y"}, f.PlaneEnv)
	require.Equal(t, 5*time.Second, f.ReadyTimeout)
	require.Equal(t, "info", f.LogLevel)
	require.Equal(t, "redis://127.0.0.1:6379/0", f.RedisURL)
	require.Contains(t, fs.Lookup("plane-env").Usage, "e.g. ALEXUS_X=1 (repeatable)")
	require.Equal(t, "how long each plane may take to become ready", fs.Lookup("ready-timeout").Usage)

	require.ErrorContains(t, fs.Parse([]string{"-plane-env", "=1"}), `"=1" is not KEY=VALUE`)
	require.ErrorContains(t, fs.Parse([]string{"-plane-env", "A"}), `"A" is not KEY=VALUE`)
}

// fakeReport records that Main printed it.
type fakeReport struct{ printed bool }

func (r *fakeReport) Print(io.Writer) { r.printed = true }

func TestMainExitStatus(t *testing.T) {
	t.Parallel()
	parse := func(args []string) (string, error) {
		switch {
		case len(args) == 0:
			return "", nil
		case args[0] == "-h":
			return "", flag.ErrHelp
		default:
			return "", errors.New("bad flag")
		}
	}
	exit := func(args []string, rep *fakeReport, err error) int {
		return Main("bench/test", args, parse, func(context.Context, string, io.Writer) (*fakeReport, error) { return rep, err })
	}
	require.Equal(t, 0, exit([]string{"-h"}, nil, nil))
	require.Equal(t, 2, exit([]string{"-x"}, nil, nil))
	require.Equal(t, 1, exit(nil, nil, errors.New("broke")), "a nil report is not printed")

	rep := &fakeReport{}
	require.Equal(t, 0, exit(nil, rep, nil))
	require.True(t, rep.printed)
	rep = &fakeReport{}
	require.Equal(t, 1, exit(nil, rep, fmt.Errorf("check: %w", ErrMismatch)))
	require.True(t, rep.printed, "the report says what disagreed")
}

func TestRepoRoot(t *testing.T) {
	t.Parallel()
	root, err := RepoRoot()
	require.NoError(t, err)
	require.FileExists(t, root+"/go.mod")
	require.DirExists(t, root+"/cmd/alexus")
}

func TestParseHelp(t *testing.T) {
	t.Parallel()
	help := `
Flags:
      --actions-workers int                        webhook jobs run at once (ALEXUS_ACTIONS_WORKERS) (default 32)
      --orchestrator-group string                  consumer group of the orchestrator replicas (default "orchestrator")
      --ingest-dedup-window duration               how long repeats count (ALEXUS_INGEST_DEDUP_WINDOW) (default 24h0m0s)
      --postgres-max-conns int                     Postgres pool size; 0 means pgx's default (ALEXUS_POSTGRES_MAX_CONNS)
      --pprof                                      serve pprof (ALEXUS_PPROF)
  -h, --help                                       help for orchestrator
`
	require.Equal(t, []Setting{
		{Flag: "actions-workers", Type: "int", Env: "ALEXUS_ACTIONS_WORKERS", Default: "32"},
		{Flag: "ingest-dedup-window", Type: "duration", Env: "ALEXUS_INGEST_DEDUP_WINDOW", Default: "24h0m0s"},
		{Flag: "postgres-max-conns", Type: "int", Env: "ALEXUS_POSTGRES_MAX_CONNS"},
	}, ParseHelp(help))
	require.Empty(t, ParseHelp(""))
}
