package devstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary act as a caller that starts a stack and
// is then killed, instead of running tests.
const helperEnv = "ALEXUS_DEVSTACK_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		helperMain(dir)
		return
	}
	os.Exit(m.Run())
}

// helperMain starts a stack, reports its PIDs and waits for stdin to close,
// which never happens before the test kills it.
func helperMain(dir string) {
	s, err := Start(context.Background(), Options{DataDir: dir})
	if err != nil {
		fmt.Printf("ERR %s\n", strings.ReplaceAll(err.Error(), "\n", " | "))
		os.Exit(1)
	}
	fmt.Printf("PIDS %d %d\n", s.postgres.cmd.Process.Pid, s.redis.cmd.Process.Pid)
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = s.Stop()
}

// liveInGroup lists the non-zombie processes in process group pgid. Orphans
// of a killed caller may linger as zombies until the machine's init reaps
// them; those hold nothing and do not count.
func liveInGroup(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, pgrp, ok := procStat(pid)
		if ok && pgrp == pgid && state != 'Z' && state != 'X' {
			live = append(live, pid)
		}
	}
	return live
}

func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 3 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	return f[0][0], pgrp, err == nil
}

func TestServersDieWithCaller(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	helper := exec.Command(exe)
	helper.Env = append(os.Environ(), helperEnv+"="+dir)
	helper.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := helper.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	out, err := helper.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, helper.Start())
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "PIDS ") || strings.HasPrefix(l, "ERR ") {
				lines <- l
				return
			}
		}
		close(lines)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(2 * time.Minute):
		t.Fatal("helper did not report its servers within two minutes")
	}
	if strings.Contains(line, ErrMissingBinary.Error()) {
		if os.Getenv("CI") != "" {
			t.Fatalf("server binaries missing under CI: %s", line)
		}
		t.Skipf("SKIPPED: %s", line)
	}
	require.True(t, strings.HasPrefix(line, "PIDS "), "helper failed: %q", line)
	var p pids
	_, err = fmt.Sscanf(line, "PIDS %d %d", &p.postgres, &p.redis)
	require.NoError(t, err)
	require.NotEmpty(t, liveInGroup(p.postgres))
	require.NotEmpty(t, liveInGroup(p.redis))

	// SIGKILL gives the helper no chance to stop anything itself: only the
	// kernel's death signal can end its servers.
	require.NoError(t, helper.Process.Kill())
	_ = helper.Wait()

	deadline := time.Now().Add(time.Minute)
	for len(liveInGroup(p.postgres))+len(liveInGroup(p.redis)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("servers outlived their killed caller by a minute: postgres group %v, redis group %v",
				liveInGroup(p.postgres), liveInGroup(p.redis))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The folder must be usable again straight away.
	s := start(t, context.Background(), dir)
	require.NoError(t, s.Stop())
}
