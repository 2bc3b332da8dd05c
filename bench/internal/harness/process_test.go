package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProcessExits(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "p.log")
	p, err := StartProcess("shell", exec.Command("sh", "-c", "echo first; echo last; exit 3"), log)
	require.NoError(t, err)
	<-p.Exited()
	err = p.Gone()
	require.ErrorContains(t, err, "shell exited (exit status 3); its log:\nfirst\nlast")
	require.ErrorContains(t, p.Stop(), "shell stopped with exit status 3")
}

func TestProcessStop(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "p.log")
	p, err := StartProcess("sleeper", exec.Command("sleep", "60"), log)
	require.NoError(t, err)
	require.Positive(t, p.PID())
	require.False(t, p.Started.IsZero())
	require.NoError(t, p.Gone())
	require.ErrorContains(t, p.Stop(), "signal: terminated")
	require.Error(t, p.Gone())

	_, err = StartProcess("missing", exec.Command(filepath.Join(t.TempDir(), "nothing")), log)
	require.ErrorContains(t, err, "start missing:")
}

func TestTail(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	require.NoError(t, os.WriteFile(path, []byte("1\n2\n3\n4\n"), 0o600))
	require.Equal(t, "3\n4", Tail(path, 2))
	require.Equal(t, "1\n2\n3\n4", Tail(path, 20))
	require.True(t, strings.HasPrefix(Tail(path+".missing", 2), "(open "))
}

func TestFreeAddr(t *testing.T) {
	t.Parallel()
	a, err := FreeAddr()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(a, "127.0.0.1:"))
}
