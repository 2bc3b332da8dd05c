package deploycheck

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

type composeFile struct {
	Services map[string]service `yaml:"services"`
}

type service struct {
	Image       string                `yaml:"image"`
	Build       any                   `yaml:"build"`
	Command     []string              `yaml:"command"`
	Environment any                   `yaml:"environment"`
	Healthcheck *healthcheck          `yaml:"healthcheck"`
	DependsOn   map[string]dependency `yaml:"depends_on"`
	Ports       []string              `yaml:"ports"`
}

type healthcheck struct {
	Test    []string `yaml:"test"`
	Disable bool     `yaml:"disable"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

// planes maps each plane service to the address variable that the other
// planes dial it by (the gateway is dialled by nobody inside the stack).
var planes = map[string]string{
	"gateway":      "ALEXUS_GATEWAY_ADDR",
	"ingest":       "ALEXUS_INGEST_ADDR",
	"orchestrator": "ALEXUS_ORCHESTRATOR_ADDR",
	"actions":      "ALEXUS_ACTIONS_ADDR",
}

func load(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("../../compose.yaml")
	require.NoError(t, err)
	var f composeFile
	require.NoError(t, yaml.Unmarshal(b, &f), "compose.yaml must be valid YAML in compose's shape")
	require.NotEmpty(t, f.Services)
	return f
}

// env flattens both of compose's environment forms (a map, or a list of
// KEY=VALUE) into a map.
func env(t *testing.T, name string, s service) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			out[k] = fmt.Sprint(v)
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			out[k] = v
		}
	default:
		t.Fatalf("service %s: environment has unexpected shape %T", name, e)
	}
	return out
}

func TestComposeHasEveryService(t *testing.T) {
	t.Parallel()
	f := load(t)
	images := map[string]string{"postgres": "postgres:15", "redis": "redis:7", "neo4j": "neo4j:5"}
	for name, prefix := range images {
		s, ok := f.Services[name]
		require.True(t, ok, "service %s missing", name)
		require.True(t, strings.HasPrefix(s.Image, prefix), "service %s: image %q, want %s*", name, s.Image, prefix)
	}
	for _, name := range []string{"migrate", "gateway", "ingest", "orchestrator", "actions"} {
		s, ok := f.Services[name]
		require.True(t, ok, "service %s missing", name)
		require.NotNil(t, s.Build, "service %s must be built from the repository's Dockerfile", name)
		require.Equal(t, []string{name}, s.Command, "service %s must run `alexus %s`", name, name)
	}
}

func TestComposeHealthchecks(t *testing.T) {
	t.Parallel()
	f := load(t)
	for name, s := range f.Services {
		if name == "migrate" {
			// A one-shot job has nothing to probe; dependants wait for it
			// to complete successfully instead.
			continue
		}
		require.NotNil(t, s.Healthcheck, "service %s has no healthcheck", name)
		require.False(t, s.Healthcheck.Disable, "service %s disables its healthcheck", name)
		require.NotEmpty(t, s.Healthcheck.Test, "service %s: empty healthcheck", name)
		require.Contains(t, []string{"CMD", "CMD-SHELL"}, s.Healthcheck.Test[0], "service %s: healthcheck test must start with CMD or CMD-SHELL", name)
	}
	for plane := range planes {
		test := f.Services[plane].Healthcheck.Test
		require.Equal(t, []string{"CMD", "/alexus", "health", "--addr"}, test[:min(4, len(test))], "plane %s: probe with `alexus health --addr`", plane)
	}
}

func TestComposeStartupOrder(t *testing.T) {
	t.Parallel()
	f := load(t)
	require.Equal(t, "service_healthy", f.Services["migrate"].DependsOn["postgres"].Condition)
	for plane := range planes {
		deps := f.Services[plane].DependsOn
		require.Equal(t, "service_healthy", deps["postgres"].Condition, "plane %s must wait for postgres", plane)
		require.Equal(t, "service_healthy", deps["redis"].Condition, "plane %s must wait for redis", plane)
		require.Equal(t, "service_completed_successfully", deps["migrate"].Condition, "plane %s must wait for migrations", plane)
	}
	for _, p := range []string{"ingest", "orchestrator", "actions"} {
		require.Equal(t, "service_healthy", f.Services["gateway"].DependsOn[p].Condition, "gateway must wait for %s", p)
	}
	require.Contains(t, f.Services["gateway"].Ports, "8080:8080")
}

func TestComposePlaneEnvironment(t *testing.T) {
	t.Parallel()
	f := load(t)
	for plane := range planes {
		e := env(t, plane, f.Services[plane])
		for _, k := range []string{"ALEXUS_POSTGRES_URL", "ALEXUS_REDIS_URL", "ALEXUS_INTERNAL_TOKEN_SECRET",
			"ALEXUS_INGEST_ADDR", "ALEXUS_ORCHESTRATOR_ADDR", "ALEXUS_ACTIONS_ADDR"} {
			require.NotEmpty(t, e[k], "plane %s lacks %s", plane, k)
		}
		require.Contains(t, e["ALEXUS_POSTGRES_URL"], "@postgres:5432/", "plane %s must reach the compose postgres", plane)
		require.Contains(t, e["ALEXUS_REDIS_URL"], "redis:6379", "plane %s must reach the compose redis", plane)
	}
	require.Equal(t, "ingest:9001", env(t, "ingest", f.Services["ingest"])["ALEXUS_INGEST_ADDR"])
	require.Equal(t, "orchestrator:9002", env(t, "orchestrator", f.Services["orchestrator"])["ALEXUS_ORCHESTRATOR_ADDR"])
	require.Equal(t, "actions:9003", env(t, "actions", f.Services["actions"])["ALEXUS_ACTIONS_ADDR"])
	require.Equal(t, "0.0.0.0:8080", env(t, "gateway", f.Services["gateway"])["ALEXUS_GATEWAY_ADDR"])
	require.NotEmpty(t, env(t, "actions", f.Services["actions"])["ALEXUS_ACTIONS_WEBHOOK_SECRET"])
	require.NotEmpty(t, env(t, "migrate", f.Services["migrate"])["ALEXUS_POSTGRES_URL"])
}

// A required reference with no default: ${VAR}, ${VAR?msg} or ${VAR:?msg}.
// ${VAR:-x} is refused because x would be a committed secret.
var secretRef = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$`)

// The password part of a URL's user information.
var urlPassword = regexp.MustCompile(`://[^:/@]*:([^@]*)@`)

func TestComposeCommitsNoSecrets(t *testing.T) {
	t.Parallel()
	f := load(t)
	names := make([]string, 0, len(f.Services))
	for n := range f.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	checked := 0
	for _, name := range names {
		for k, v := range env(t, name, f.Services[name]) {
			upper := strings.ToUpper(k)
			if strings.Contains(upper, "SECRET") || strings.Contains(upper, "PASSWORD") || strings.Contains(upper, "AUTH") {
				require.Regexp(t, secretRef, v, "service %s: %s must be a required ${...} reference, not a value", name, k)
				checked++
			}
			if m := urlPassword.FindStringSubmatch(v); m != nil {
				require.Regexp(t, secretRef, m[1], "service %s: %s carries a literal password", name, k)
			}
		}
	}
	require.Positive(t, checked, "no secret-bearing variables found; the check would be vacuous")
}

func TestSecretCheckCatchesLiterals(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"hunter2", "${PW:-hunter2}", "${PW}suffix", ""} {
		require.NotRegexp(t, secretRef, bad)
	}
	for _, good := range []string{"${PW}", "${PW?set it}", "${PW:?set PW}"} {
		require.Regexp(t, secretRef, good)
	}
	m := urlPassword.FindStringSubmatch("postgres://postgres:hunter2@db:5432/x")
	require.Equal(t, "hunter2", m[1])
}

func TestDockerfileRunsUnprivileged(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	// Only the final stage's instructions reach the running image.
	last := 0
	for i, l := range lines {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(l)), "FROM ") {
			last = i
		}
	}
	require.Positive(t, last, "Dockerfile must be multi-stage")
	user := ""
	for _, l := range lines[last:] {
		if f := strings.Fields(l); len(f) >= 2 && strings.EqualFold(f[0], "USER") {
			user = f[1]
		}
	}
	require.NotEmpty(t, user, "final stage must set USER")
	name, _, _ := strings.Cut(user, ":")
	require.False(t, slices.Contains([]string{"root", "0"}, name), "final stage runs as %s", user)
	require.Contains(t, string(b), "./cmd/alexus")
}
