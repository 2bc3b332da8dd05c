package e2e_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/store/storetest"
)

// TestDevBinaryDemo builds the real alexus binary and runs `alexus dev
// --demo` against the test servers, as a user would from the README: it
// must print a decision for the demo feed, accept a token from `alexus dev
// token` for another tenant, and stop cleanly on Ctrl-C (SIGINT).
func TestDevBinaryDemo(t *testing.T) {
	t.Parallel()
	pg := storetest.New(t)
	_, ns := redistest.New(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "alexus")
	build := exec.Command("go", "build", "-o", bin, "github.com/alexus-platform/alexus/cmd/alexus")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	gatewayAddr, sinkAddr := freeAddr(t), freeAddr(t)
	env := append(os.Environ(),
		"ALEXUS_POSTGRES_URL="+pg.AdminURL,
		"ALEXUS_REDIS_URL="+redistest.URL(),
		"ALEXUS_REDIS_NAMESPACE="+string(ns),
		"ALEXUS_GATEWAY_ADDR="+gatewayAddr,
		"ALEXUS_DEV_SINK_ADDR="+sinkAddr,
		"ALEXUS_DATA_DIR="+filepath.Join(dir, "data"),
	)
	dev := exec.Command(bin, "dev", "--demo", "--demo-interval", "100ms")
	dev.Env = env
	stdout, err := dev.StdoutPipe()
	require.NoError(t, err)
	dev.Stderr = io.Discard
	require.NoError(t, dev.Start())
	exited := make(chan error, 1)
	go func() { exited <- dev.Wait() }()
	t.Cleanup(func() {
		_ = dev.Process.Kill()
	})

	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// waitFor returns the first line containing substr, read now or before:
	// lines from the demo feed and the webhook receiver may interleave.
	var seen []string
	waitFor := func(substr string) string {
		t.Helper()
		for _, l := range seen {
			if strings.Contains(l, substr) {
				return l
			}
		}
		timeout := time.After(deadline)
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "alexus dev exited before printing %q", substr)
				seen = append(seen, l)
				if strings.Contains(l, substr) {
					return l
				}
			case <-timeout:
				t.Fatalf("alexus dev printed no %q within %s", substr, deadline)
			}
		}
	}
	waitFor("Alexus is running")
	// The demo's alerts run concurrently, so any of the actionable ones may
	// be decided first.
	waitFor("=> decision execute")
	waitFor("first decision")
	waitFor("remediation webhook received")

	// `alexus dev token` with the same environment and data folder mints a
	// token this dev accepts; its tenant is created on first use.
	tokCmd := exec.Command(bin, "dev", "token", "--tenant", "zeta")
	tokCmd.Env = env
	tok, err := tokCmd.Output()
	require.NoError(t, err)
	client := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, "http://"+gatewayAddr)
	req := connect.NewRequest(&orchestratorv1.ListIncidentsRequest{})
	req.Header().Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	res, err := client.ListIncidents(context.Background(), req)
	require.NoError(t, err)
	require.Empty(t, res.Msg.GetIncidents(), "a new tenant sees none of the demo tenant's incidents")

	// Ctrl-C stops everything and the process exits cleanly.
	require.NoError(t, dev.Process.Signal(syscall.SIGINT))
	select {
	case err := <-exited:
		require.NoError(t, err)
	case <-time.After(deadline):
		t.Fatal("alexus dev did not stop after SIGINT")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}
