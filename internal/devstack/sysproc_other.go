//go:build !linux

package devstack

import (
	"errors"
	"os"
	"syscall"

	"go.uber.org/zap"
)

// osUser is the account the Postgres processes run as when it differs from
// the caller's. Outside Linux it is always the caller.
type osUser struct {
	name     string
	uid, gid uint32
}

// postgresOwner refuses root: switching users for the server is only
// implemented for Linux, where CI runs as root.
func postgresOwner() (*osUser, error) {
	if os.Geteuid() == 0 {
		return nil, errors.New("running as root, which PostgreSQL refuses; run alexus dev as a normal user")
	}
	return nil, nil
}

// sysProcAttr has no portable death signal or process group to set here;
// Stop still ends both servers.
func sysProcAttr(*osUser, syscall.Signal) *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func killGroup(p *os.Process) { _ = p.Kill() }

func chownTree(string, *osUser) error { return nil }

func ownedBy(string, *osUser) (bool, error) { return true, nil }

func ensureTraversable(string, *osUser, *zap.Logger) error { return nil }
