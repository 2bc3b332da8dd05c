package devstack

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// child is one server process started by the stack.
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// stopSig is the signal that asks this server for a quick clean exit.
	stopSig syscall.Signal

	stopping atomic.Bool
	exited   chan struct{} // closed once the process has been reaped
	waitErr  error         // set before exited is closed
}

// startChild starts cmd with its output going to a fresh log file, in its
// own process group (so a terminal's Ctrl-C reaches only the caller, which
// then stops the servers in order) and with deathSig delivered if the
// caller dies first.
func startChild(name string, cmd *exec.Cmd, logPath string, stopSig syscall.Signal, as *osUser) (*child, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	// The child gets its own copy of the descriptor, so ours can go as soon
	// as it has started.
	defer f.Close()
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr(as, stopSig)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, stopSig: stopSig, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// stop signals the server and waits for it; past timeout it kills the
// server's whole process group, which for Postgres includes its backends.
func (c *child) stop(timeout time.Duration) error {
	c.stopping.Store(true)
	select {
	case <-c.exited:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(c.stopSig)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.exited:
		return nil
	case <-t.C:
	}
	killGroup(c.cmd.Process)
	<-c.exited
	return fmt.Errorf("did not exit within %s of %s; killed", timeout, c.stopSig)
}

// errExited says a server stopped while we waited for it to come up.
type errExited struct {
	name, logPath, tail string
	err                 error
}

func (e *errExited) Error() string {
	return fmt.Sprintf("%s exited during startup (%v); last lines of %s:\n%s", e.name, e.err, e.logPath, e.tail)
}

// portTaken reports whether a startup failure was another process taking
// the port between our probe and the server's bind, which is worth a retry
// on a new port.
func (e *errExited) portTaken() bool {
	return strings.Contains(e.tail, "already in use")
}

// waitReady polls probe until it succeeds, the child exits, ctx ends or
// timeout passes. Polling is the only portable readiness signal both servers
// offer; the interval grows so a slow machine is not hammered.
func waitReady(ctx context.Context, c *child, timeout time.Duration, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	interval := 20 * time.Millisecond
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		last = probe(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		t := time.NewTimer(interval)
		select {
		case <-c.exited:
			t.Stop()
			return &errExited{name: c.name, logPath: c.logPath, tail: tail(c.logPath, 15), err: c.waitErr}
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for %s to accept connections: %w (last attempt: %v; see %s)", c.name, ctx.Err(), last, c.logPath)
		case <-t.C:
		}
		interval = min(interval*2, 250*time.Millisecond)
	}
}

// freePort asks the kernel for an unused loopback port. Another process can
// take it before the server binds it; callers retry on that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns up to n last lines of a log file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
