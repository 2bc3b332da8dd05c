package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// and of the times in /proc/stat. Linux fixes it at 100 on every
// architecture Go supports, and reading it properly (sysconf) would need
// cgo.
const clockTicks = 100

// CPUTime is a process's user and system CPU time so far.
type CPUTime struct {
	User, Sys time.Duration
}

// Total is user plus system time.
func (c CPUTime) Total() time.Duration { return c.User + c.Sys }

// Sub is the CPU time spent between o and c.
func (c CPUTime) Sub(o CPUTime) CPUTime { return CPUTime{User: c.User - o.User, Sys: c.Sys - o.Sys} }

// ReadCPU reads utime and stime from /proc/<pid>/stat. The command name in
// field 2 may contain spaces and parentheses, so the fields are counted from
// the last ')'.
func ReadCPU(pid int) (CPUTime, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return CPUTime{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return CPUTime{}, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, b)
	}
	// After ')' come field 3 (state) onwards; utime is field 14, stime 15.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return CPUTime{}, fmt.Errorf("/proc/%d/stat: %d fields after the name, want at least 13", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return CPUTime{}, fmt.Errorf("/proc/%d/stat: utime %q, stime %q are not integers", pid, f[11], f[12])
	}
	tick := time.Second / clockTicks
	return CPUTime{User: time.Duration(ut) * tick, Sys: time.Duration(st) * tick}, nil
}

// Memory is a process's resident memory: now (VmRSS) and its peak since it
// started (VmHWM), in bytes.
type Memory struct {
	RSS, HWM int64
}

// ReadMemory reads VmRSS and VmHWM from /proc/<pid>/status.
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		// The value is "<n> kB".
		kb, err := strconv.ParseInt(strings.Fields(value)[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("/proc/%d/status: %s %q: %w", pid, name, value, err)
		}
		*dst = kb << 10
	}
	return m, sc.Err()
}

// MB formats a byte count in whole mebibytes, as the reports print memory.
func MB(b int64) string {
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

// Usage is what one process used during one phase.
type Usage struct {
	Name string
	PID  int
	CPU  CPUTime
	// Wall is the phase's duration, the base of the CPU percentage.
	Wall time.Duration
	Mem  Memory
}

// CorePercent is CPU time as a percentage of one core over the phase.
func (u Usage) CorePercent() float64 {
	if u.Wall <= 0 {
		return 0
	}
	return 100 * u.CPU.Total().Seconds() / u.Wall.Seconds()
}

// Add adds a later phase of the same process: CPU and wall time add up,
// the peak is the highest, the final RSS the last.
func (u *Usage) Add(o Usage) {
	u.CPU.User += o.CPU.User
	u.CPU.Sys += o.CPU.Sys
	u.Wall += o.Wall
	u.Mem.HWM = max(u.Mem.HWM, o.Mem.HWM)
	u.Mem.RSS = o.Mem.RSS
}

// Watcher samples a fixed set of processes at the start and end of a phase.
type Watcher struct {
	names  []string
	pids   []int
	start  []CPUTime
	starts time.Time
}

// Watch records the processes' CPU times now; names[i] names pids[i] in
// the usage and in errors. A process that cannot be read is reported by
// Stop, not here, so a phase never fails to start for want of a statistic.
func Watch(names []string, pids []int) *Watcher {
	w := &Watcher{names: names, pids: pids, start: make([]CPUTime, len(pids)), starts: time.Now()}
	for i, pid := range pids {
		w.start[i], _ = ReadCPU(pid)
	}
	return w
}

// Stop returns each process's usage since Watch, in the order Watch was
// given them.
func (w *Watcher) Stop() ([]Usage, error) {
	wall := time.Since(w.starts)
	out := make([]Usage, len(w.pids))
	for i, pid := range w.pids {
		end, err := ReadCPU(pid)
		if err != nil {
			return nil, fmt.Errorf("%s (pid %d): %w", w.names[i], pid, err)
		}
		mem, err := ReadMemory(pid)
		if err != nil {
			return nil, fmt.Errorf("%s (pid %d): %w", w.names[i], pid, err)
		}
		out[i] = Usage{Name: w.names[i], PID: pid, CPU: end.Sub(w.start[i]), Wall: wall, Mem: mem}
	}
	return out, nil
}

// GroupWatcher measures a changing set of processes, such as the Postgres
// backends of one database: a process that starts during the phase counts
// from zero, one that ends during it is lost (pooled connections rarely do).
type GroupWatcher struct {
	list  func() ([]int, error)
	start map[int]CPUTime
}

// WatchGroup records the CPU times of the processes list returns now.
func WatchGroup(list func() ([]int, error)) (*GroupWatcher, error) {
	pids, err := list()
	if err != nil {
		return nil, err
	}
	g := &GroupWatcher{list: list, start: map[int]CPUTime{}}
	for _, pid := range pids {
		if c, err := ReadCPU(pid); err == nil {
			g.start[pid] = c
		}
	}
	return g, nil
}

// Stop returns the group's CPU time since WatchGroup and how many processes
// it summed.
func (g *GroupWatcher) Stop() (cpu time.Duration, procs int, err error) {
	pids, err := g.list()
	if err != nil {
		return 0, 0, err
	}
	for _, pid := range pids {
		c, err := ReadCPU(pid)
		if err != nil {
			continue
		}
		cpu += c.Sub(g.start[pid]).Total()
		procs++
	}
	return cpu, procs, nil
}
