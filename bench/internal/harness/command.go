package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrMismatch reports that a benchmark's correctness check failed: what the
// system stored does not match what the benchmark sent, so the run's
// figures are not to be trusted. The report says what disagreed; Main makes
// the exit status 1 without printing the error.
var ErrMismatch = errors.New("the run's correctness check failed")

// Main runs a benchmark command and returns its exit status: 0, 2 when
// the flags are wrong, 1 when the run fails or its check does
// (ErrMismatch), 130 when it is interrupted. name (e.g. "bench/ingest")
// prefixes every message.
//
// parse reads the flags into the benchmark's options. bench runs with
// progress lines on log and a context cancelled on Ctrl-C or SIGTERM, and
// must have stopped and removed what it started when it returns. The
// report it returns, when not nil, is printed on stdout, on failure too.
func Main[O, R any, PR interface {
	*R
	Print(w io.Writer)
}](name string, args []string, parse func(args []string) (O, error), bench func(ctx context.Context, o O, log io.Writer) (PR, error)) int {
	o, err := parse(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, name+":", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench(ctx, o, os.Stderr)
	if rep != nil {
		rep.Print(os.Stdout)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, name+": interrupted; everything it started was stopped and removed")
		return 130
	case errors.Is(err, ErrMismatch):
		return 1
	case err != nil:
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	return 0
}

// Flags are the command-line settings of the stack that every plane
// benchmark takes.
type Flags struct {
	// PostgresURL is the admin URL of the Postgres server; Start creates a
	// fresh database on it.
	PostgresURL string
	RedisURL    string
	// LogLevel is the planes' ALEXUS_LOG_LEVEL.
	LogLevel string
	// PlaneEnv are extra KEY=VALUE settings for every plane; they win over
	// the benchmark's own.
	PlaneEnv EnvList
	// ReadyTimeout is how long a plane may take to become healthy.
	ReadyTimeout time.Duration
}

// Register adds -postgres-url, -redis-url, -log-level, -plane-env and
// -ready-timeout to fs. planeEnvExample is the KEY=VALUE the -plane-env
// usage shows, one that matters to the benchmark; readyWhat is what
// -ready-timeout waits for ("plane", or "process" where the benchmark
// starts other programs too).
func (f *Flags) Register(fs *flag.FlagSet, planeEnvExample, readyWhat string) {
	fs.StringVar(&f.PostgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "admin URL of the Postgres server; a fresh database alexus_bench_<rand> is created on it and dropped at the end")
	fs.StringVar(&f.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis URL; everything goes under a fresh namespace deleted at the end")
	fs.StringVar(&f.LogLevel, "log-level", "info", "ALEXUS_LOG_LEVEL of the planes (info is the production default)")
	fs.Var(&f.PlaneEnv, "plane-env", "extra KEY=VALUE for both planes, e.g. "+planeEnvExample+" (repeatable)")
	fs.DurationVar(&f.ReadyTimeout, "ready-timeout", time.Minute, "how long each "+readyWhat+" may take to become ready")
}

// EnvList is a repeatable KEY=VALUE flag.
type EnvList []string

func (e *EnvList) String() string { return strings.Join(*e, " ") }

// Set adds one KEY=VALUE.
func (e *EnvList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

// RepoRoot is the folder of the main module's go.mod, where
// `go build ./cmd/alexus` runs and testdata/ lives.
func RepoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the alexus repository (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}
