package devstack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"go.uber.org/zap"
)

// osUser is the account the Postgres processes run as when it differs from
// the caller's.
type osUser struct {
	name     string
	uid, gid uint32
}

// postgresOwner returns the account to run Postgres as: nil (the caller)
// unless the caller is root, which initdb and postgres refuse to run as.
func postgresOwner() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which PostgreSQL refuses, and no 'postgres' OS user to run it as "+
			"(installing the server package creates one: sudo apt-get install -y postgresql-15): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of OS user postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of OS user postgres: %w", err)
	}
	return &osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// sysProcAttr puts a server in its own process group, has the kernel send
// it deathSig when the caller dies (so an aborted `alexus dev` or test
// leaves no servers behind), and switches to as when given.
//
// Go sets the death signal after switching credentials, which matters: the
// kernel clears it on a change of user.
func sysProcAttr(as *osUser, deathSig syscall.Signal) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	if as != nil {
		a.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid}
	}
	return a
}

// killGroup kills a server and every process it forked.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

// chownTree gives dir and everything below it to as.
func chownTree(dir string, as *osUser) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(as.uid), int(as.gid))
	})
}

// ownedBy reports whether path belongs to as.
func ownedBy(path string, as *osUser) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, errors.New("no ownership information")
	}
	return st.Uid == as.uid, nil
}

// ensureTraversable makes dir and each of its parents searchable by as, so
// the postgres user can reach a cluster inside, say, a 0700 temporary
// folder of root's. Only the search (x) bit for others is added: nothing
// becomes listable or readable that was not.
func ensureTraversable(dir string, as *osUser, log *zap.Logger) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("inspect %s: %w", d, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("inspect %s: no ownership information", d)
		}
		perm := fi.Mode().Perm()
		canSearch := perm&0o001 != 0 ||
			(st.Uid == as.uid && perm&0o100 != 0) ||
			(st.Gid == as.gid && perm&0o010 != 0)
		if !canSearch {
			if err := os.Chmod(d, fi.Mode()|0o001); err != nil {
				return fmt.Errorf("let OS user %s traverse %s: %w", as.name, d, err)
			}
			log.Warn("added search permission for others so the postgres user can reach the data folder",
				zap.String("dir", d))
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}
