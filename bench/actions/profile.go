package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/bench/internal/harness"
)

// profile is the action plane's CPU profile.
type profile struct {
	path string
	// top is `go tool pprof -top` of the profile.
	top string
	err error
}

// captureProfile takes a CPU profile of p for seconds through its pprof
// server and writes it to dir/actions.pprof.
func captureProfile(ctx context.Context, p *harness.Plane, seconds int, dir string) profile {
	out := profile{path: filepath.Join(dir, p.Role+".pprof")}
	if p.PprofAddr == "" {
		out.err = fmt.Errorf("%s serves no pprof", p.Name)
		return out
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.PprofAddr, seconds)
	client := &http.Client{Timeout: time.Duration(seconds)*time.Second + 30*time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		out.err = err
		return out
	}
	resp, err := client.Do(req)
	if err != nil {
		out.err = fmt.Errorf("profile %s: %w", p.Name, err)
		return out
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		out.err = fmt.Errorf("profile %s: %s: %s", p.Name, resp.Status, b)
		return out
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		out.err = err
		return out
	}
	f, err := os.Create(out.path)
	if err != nil {
		out.err = err
		return out
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		out.err = fmt.Errorf("profile %s: %w", p.Name, err)
		return out
	}
	if err := f.Close(); err != nil {
		out.err = err
		return out
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", out.path).CombinedOutput()
	if err != nil {
		out.err = fmt.Errorf("go tool pprof -top %s: %w\n%s", out.path, err, top)
		return out
	}
	out.top = strings.TrimSpace(string(top))
	return out
}

// reportedSettings bound the action plane's throughput; the report lists
// them with the value the run used.
var reportedSettings = []string{
	"ALEXUS_ACTIONS_WORKERS",
	"ALEXUS_ACTIONS_POLL_INTERVAL",
	"ALEXUS_ACTIONS_WEBHOOK_TIMEOUT",
	"ALEXUS_POSTGRES_MAX_CONNS",
}

// planeSettings reads the reported settings' defaults from the plane's
// help text and says, for each, the value the run used: its default, or
// what a -plane-env set.
func planeSettings(help string, planeEnv []string) []string {
	defaults := map[string]string{}
	for _, f := range harness.ParseHelp(help) {
		def := f.Default
		if def == "" {
			// pflag prints no default for a zero value.
			def = "0"
		}
		defaults[f.Env] = def
	}
	set := map[string]string{}
	for _, kv := range planeEnv {
		k, v, _ := strings.Cut(kv, "=")
		set[k] = v
	}
	var out []string
	for _, k := range reportedSettings {
		def, ok := defaults[k]
		if !ok {
			continue
		}
		if v, ok := set[k]; ok {
			out = append(out, fmt.Sprintf("%s=%s (-plane-env; default %s)", k, v, def))
			continue
		}
		note := "default"
		if k == "ALEXUS_POSTGRES_MAX_CONNS" && def == "0" {
			note = "default: the action plane takes workers + 16"
		}
		out = append(out, fmt.Sprintf("%s=%s (%s)", k, def, note))
	}
	return out
}
