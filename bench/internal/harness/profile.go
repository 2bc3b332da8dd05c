package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Profile is one plane's CPU profile.
type Profile struct {
	// Plane is the plane's role ("actions", "orchestrator").
	Plane string
	// Path is the file the profile was written to.
	Path string
	// Top is `go tool pprof -top` of the profile.
	Top string
	// Err says why the profile was not taken.
	Err error
}

// CaptureProfile takes a CPU profile of p for seconds through the pprof
// server it serves at ALEXUS_PPROF_ADDR, writes it to dir/<role>.pprof and
// summarises it with `go tool pprof -top`. The server starts with the
// plane, so a refused connection is retried for a few seconds.
func CaptureProfile(ctx context.Context, p *Plane, seconds int, dir string) Profile {
	out := Profile{Plane: p.Role, Path: filepath.Join(dir, p.Role+".pprof")}
	if p.PprofAddr == "" {
		out.Err = fmt.Errorf("%s serves no pprof", p.Name)
		return out
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.PprofAddr, seconds)
	client := &http.Client{Timeout: time.Duration(seconds)*time.Second + 30*time.Second}
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			out.Err = err
			return out
		}
		resp, err = client.Do(req)
		if err == nil {
			break
		}
		if attempt == 20 || ctx.Err() != nil {
			out.Err = fmt.Errorf("profile %s: %w", p.Name, err)
			return out
		}
		time.Sleep(250 * time.Millisecond)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		out.Err = fmt.Errorf("profile %s: %s: %s", p.Name, resp.Status, b)
		return out
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		out.Err = err
		return out
	}
	f, err := os.Create(out.Path)
	if err != nil {
		out.Err = err
		return out
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		out.Err = fmt.Errorf("profile %s: %w", p.Name, err)
		return out
	}
	if err := f.Close(); err != nil {
		out.Err = err
		return out
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", out.Path).CombinedOutput()
	if err != nil {
		out.Err = fmt.Errorf("go tool pprof -top %s: %w\n%s", out.Path, err, top)
		return out
	}
	out.Top = strings.TrimSpace(string(top))
	return out
}

// PlaneSettings reads the defaults of the settings keys from a plane's
// help text and says, for each, the value the run used: its default, or
// what a -plane-env set. A setting the help does not list is left out.
// zeroNotes explain a setting whose default is 0 (pflag prints none for a
// zero value), which usually means "computed at start".
func PlaneSettings(help string, planeEnv []string, keys []string, zeroNotes map[string]string) []string {
	defaults := map[string]string{}
	for _, f := range ParseHelp(help) {
		def := f.Default
		if def == "" {
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
	for _, k := range keys {
		def, ok := defaults[k]
		if !ok {
			continue
		}
		if v, ok := set[k]; ok {
			out = append(out, fmt.Sprintf("%s=%s (-plane-env; default %s)", k, v, def))
			continue
		}
		note := "default"
		if n, ok := zeroNotes[k]; ok && def == "0" {
			note = n
		}
		out = append(out, fmt.Sprintf("%s=%s (%s)", k, def, note))
	}
	return out
}

// RunFlags are the command-line settings of a run that every plane
// benchmark takes beside Flags: the binary, the deadline, profiling and
// whether to keep what the run made.
type RunFlags struct {
	Bin            string
	Timeout        time.Duration
	ProfileDir     string
	ProfileSeconds int
	Keep           bool
}

// RunUsage is what the RunFlags' usage lines say that differs between
// benchmarks.
type RunUsage struct {
	// Timeout is -timeout's usage: when the run gives up.
	Timeout string
	// Profile is -profile's usage: which planes are profiled, and when.
	Profile string
	// ProfileSeconds is -profile-seconds' usage.
	ProfileSeconds string
	// Keep is -keep's usage: what is left in place.
	Keep string
}

// Register adds -bin, -timeout, -profile, -profile-seconds and -keep to fs.
func (f *RunFlags) Register(fs *flag.FlagSet, u RunUsage) {
	fs.StringVar(&f.Bin, "bin", "", "alexus binary to run instead of building ./cmd/alexus")
	fs.DurationVar(&f.Timeout, "timeout", 10*time.Minute, u.Timeout)
	fs.StringVar(&f.ProfileDir, "profile", "", u.Profile)
	fs.IntVar(&f.ProfileSeconds, "profile-seconds", 10, u.ProfileSeconds)
	fs.BoolVar(&f.Keep, "keep", false, u.Keep)
}

// Validate names the first bad flag; a benchmark checks its own flags
// first.
func (f *RunFlags) Validate() error {
	switch {
	case f.Timeout <= 0:
		return errors.New("-timeout must be positive")
	case f.ProfileSeconds < 1:
		return errors.New("-profile-seconds must be at least 1")
	}
	return nil
}
