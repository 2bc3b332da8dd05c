package devstack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ErrMissingBinary is matched (errors.Is) by the error Start returns when
// the Postgres or Redis server binaries cannot be found. Its message says
// how to install them.
var ErrMissingBinary = errors.New("database server binaries not found")

// InstallHint tells a developer how to get the servers, or how to do
// without them.
const InstallHint = `Install them with
  Debian/Ubuntu: sudo apt-get install -y postgresql-15 redis-server
  macOS:         brew install postgresql@15 redis
or set ALEXUS_POSTGRES_URL and ALEXUS_REDIS_URL to servers you already run; alexus dev then uses those and starts none.`

// postgresGlobs are where distributions install Postgres server binaries
// off PATH: Debian and Ubuntu, the PGDG RPMs, and Homebrew's keg-only
// formulae on Apple silicon and Intel. A variable so tests can empty it.
var postgresGlobs = []string{
	"/usr/lib/postgresql/*/bin",
	"/usr/pgsql-*/bin",
	"/opt/homebrew/opt/postgresql@*/bin",
	"/usr/local/opt/postgresql@*/bin",
}

// binaries are the programs a stack runs.
type binaries struct {
	initdb, postgres string
	pgMajor          int
	redisServer      string
}

// pgInstall is one Postgres installation's server programs.
type pgInstall struct {
	initdb, postgres string
}

// findBinaries picks the Postgres installation (PATH first, then the newest
// in postgresGlobs) and redis-server. When the data folder already holds a
// cluster, only an installation of that cluster's major version will do:
// a server cannot open another major version's files.
func findBinaries(dataDir string) (binaries, error) {
	var b binaries
	var missing []string
	installs := postgresInstalls()
	if len(installs) == 0 {
		missing = append(missing, "postgres and initdb (looked on PATH and in "+strings.Join(postgresGlobs, ", ")+")")
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		b.redisServer = p
	} else {
		missing = append(missing, "redis-server (looked on PATH)")
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("%w: %s.\n%s", ErrMissingBinary, strings.Join(missing, "; "), InstallHint)
	}

	want := 0
	if v, err := os.ReadFile(filepath.Join(dataDir, "postgres", "PG_VERSION")); err == nil {
		want, _ = strconv.Atoi(strings.TrimSpace(string(v)))
	}
	var found []string
	for _, in := range installs {
		major, err := postgresMajor(in.postgres)
		if err != nil {
			return b, err
		}
		if want == 0 || major == want {
			b.initdb, b.postgres, b.pgMajor = in.initdb, in.postgres, major
			return b, nil
		}
		found = append(found, fmt.Sprintf("%d (%s)", major, in.postgres))
	}
	return b, fmt.Errorf("%w: the cluster in %s was created by PostgreSQL %d, but only %s is installed; "+
		"install PostgreSQL %d (Debian/Ubuntu: sudo apt-get install -y postgresql-%d; macOS: brew install postgresql@%d) "+
		"or delete that folder to start over with an empty database",
		ErrMissingBinary, filepath.Join(dataDir, "postgres"), want, strings.Join(found, ", "), want, want, want)
}

// postgresInstalls lists installations that have both initdb and postgres,
// PATH's first, then each glob's matches newest version first.
func postgresInstalls() []pgInstall {
	var out []pgInstall
	seen := map[string]bool{}
	add := func(in pgInstall) {
		key := in.postgres
		if r, err := filepath.EvalSymlinks(in.postgres); err == nil {
			key = r
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, in)
		}
	}
	if pg, err := exec.LookPath("postgres"); err == nil {
		if initdb, err := exec.LookPath("initdb"); err == nil {
			add(pgInstall{initdb: initdb, postgres: pg})
		}
	}
	for _, g := range postgresGlobs {
		dirs, _ := filepath.Glob(g)
		slices.SortFunc(dirs, func(a, b string) int { return versionIn(b) - versionIn(a) })
		for _, d := range dirs {
			in := pgInstall{initdb: filepath.Join(d, "initdb"), postgres: filepath.Join(d, "postgres")}
			if isExecutable(in.initdb) && isExecutable(in.postgres) {
				add(in)
			}
		}
	}
	return out
}

var firstNumber = regexp.MustCompile(`\d+`)

// versionIn is the first number in a path such as /usr/lib/postgresql/15/bin.
func versionIn(path string) int {
	n, _ := strconv.Atoi(firstNumber.FindString(path))
	return n
}

var pgVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// postgresMajor asks a postgres binary for its major version.
func postgresMajor(postgres string) (int, error) {
	out, err := exec.Command(postgres, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("ask %s for its version: %w", postgres, err)
	}
	m := pgVersion.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("ask %s for its version: unexpected answer %q", postgres, strings.TrimSpace(string(out)))
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
