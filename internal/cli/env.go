package cli

import (
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Every flag's default comes from its ALEXUS_* variable when that is set, so
// flags and environment configure the same struct and flags win.

func envString(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if v, ok := os.LookupEnv(key); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not an integer", key, v))
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(key); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not a duration (e.g. 30s, 5m)", key, v))
	}
	return def
}

func envFloat(key string, def float64) float64 {
	if v, ok := os.LookupEnv(key); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not a number", key, v))
	}
	return def
}

func envBool(key string, def bool) bool {
	if v, ok := os.LookupEnv(key); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not a boolean (true or false)", key, v))
	}
	return def
}

func envList(key string) []string {
	v := os.Getenv(key)
	if v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// badEnv collects malformed variables so the command can refuse to start
// with all of them named, instead of silently using defaults.
var badEnv []string

func checkEnv() error {
	if len(badEnv) > 0 {
		return fmt.Errorf("bad environment: %s", strings.Join(badEnv, "; "))
	}
	return nil
}

// secretBytes decodes a secret given as "base64:<b64>" or as plain text. A
// "base64:" value that does not decode is an error, never used as text.
func secretBytes(name, s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, "base64:")
	if !ok {
		return []byte(s), nil
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%s: the value after \"base64:\" is not valid base64: %w", name, err)
	}
	return b, nil
}

// stringFlag registers a string flag whose default comes from env.
func stringFlag(fs *pflag.FlagSet, p *string, name, env, def, usage string) {
	fs.StringVar(p, name, envString(env, def), usage+" ("+env+")")
}
