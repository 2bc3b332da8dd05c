package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/alexus-platform/alexus/bench/internal/harness"
)

// alertmanagerConfig routes everything to a receiver with no integrations,
// so Alertmanager stores, groups and deduplicates the alerts but notifies
// nobody. Group timers are long so no notification work is due during a
// run.
const alertmanagerConfig = `route:
  receiver: blackhole
  group_by: ['alertname']
  group_wait: 5m
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: blackhole
`

// alertmanagerProc is a running Prometheus Alertmanager.
type alertmanagerProc struct {
	proc *harness.Process
	addr string
	dir  string
}

// alertmanagerNames are the names an Alertmanager binary has on PATH:
// upstream's, then Debian's package name (prometheus-alertmanager), which
// installs it as /usr/bin/prometheus-alertmanager.
var alertmanagerNames = []string{"alertmanager", "prometheus-alertmanager"}

// findAlertmanager returns the binary at bin, or the first of
// alertmanagerNames on PATH.
func findAlertmanager(bin string) (string, error) {
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("-alertmanager-bin: %w", err)
		}
		return bin, nil
	}
	for _, name := range alertmanagerNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no alertmanager or prometheus-alertmanager binary on PATH (give one with -alertmanager-bin)")
}

// startAlertmanager runs bin with the blackhole configuration on a free
// port, without clustering, and waits until /-/ready answers 200.
func startAlertmanager(ctx context.Context, bin string, timeout time.Duration) (_ *alertmanagerProc, err error) {
	dir, err := os.MkdirTemp("", "alexus-bench-am-")
	if err != nil {
		return nil, err
	}
	am := &alertmanagerProc{dir: dir}
	defer func() {
		if err != nil {
			am.close()
		}
	}()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(alertmanagerConfig), 0o600); err != nil {
		return nil, err
	}
	if am.addr, err = harness.FreeAddr(); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+am.addr,
		// An empty cluster address turns high-availability gossip off.
		"--cluster.listen-address=",
		"--log.level=warn",
	)
	if am.proc, err = harness.StartProcess("alertmanager", cmd, filepath.Join(dir, "alertmanager.log")); err != nil {
		return nil, err
	}

	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-am.proc.Exited():
			return nil, fmt.Errorf("while starting: %w", am.proc.Gone())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if resp, err := http.Get("http://" + am.addr + "/-/ready"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("alertmanager not ready at %s after %s; its log:\n%s", am.addr, timeout, harness.Tail(am.proc.LogPath, 20))
		}
	}
}

// target posts each alert to the v2 API as a postable alert; Alertmanager
// answers 200 when it has taken the alerts.
func (am *alertmanagerProc) target() target {
	url := "http://" + am.addr + "/api/v2/alerts"
	return target{
		name:     "Alertmanager (POST /api/v2/alerts)",
		url:      func(alert) string { return url },
		render:   renderPostable,
		accepted: http.StatusOK,
	}
}

func (am *alertmanagerProc) pid() int { return am.proc.PID() }

// close stops Alertmanager and removes its folder.
func (am *alertmanagerProc) close() {
	if am.proc != nil {
		_ = am.proc.Stop()
	}
	os.RemoveAll(am.dir)
}
