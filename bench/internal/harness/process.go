package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills.
const stopGrace = 10 * time.Second

// Process is a child process of the benchmark with its output in a log
// file. It runs in a process group of its own, so a Ctrl-C at the terminal
// reaches only the benchmark, which then stops its children in order; and
// the kernel kills it should the benchmark die first.
type Process struct {
	// Name is what messages call the process, e.g. "alexus gateway".
	Name    string
	LogPath string
	// Started is when the process was started.
	Started time.Time

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// StartProcess starts cmd with its output in a new file at logPath.
func StartProcess(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.Started = time.Now()
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process's ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Gone returns an error with the log's tail when the process has exited,
// or nil while it runs.
func (p *Process) Gone() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v); its log:\n%s", p.Name, p.waitErr, Tail(p.LogPath, 20))
	default:
		return nil
	}
}

// Stop asks the process to stop (SIGTERM), kills it after ten seconds, and
// returns an error with the log's tail when it did not exit cleanly. A
// process that has already exited is not signalled.
func (p *Process) Stop() error {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s stopped with %v; its log:\n%s", p.Name, p.waitErr, Tail(p.LogPath, 20))
	}
	return nil
}

// Tail returns the last n lines of a file, for error messages.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
