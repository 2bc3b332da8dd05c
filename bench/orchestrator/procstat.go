package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// Linux fixes it at 100 on every architecture Go supports, and reading it
// properly (sysconf) would need cgo.
const clockTicks = 100

// cpuTime is a process's user and system CPU time so far.
type cpuTime struct {
	user, sys time.Duration
}

func (c cpuTime) total() time.Duration { return c.user + c.sys }

func (c cpuTime) sub(o cpuTime) cpuTime { return cpuTime{user: c.user - o.user, sys: c.sys - o.sys} }

// readCPU reads utime and stime from /proc/<pid>/stat. The command name in
// field 2 may contain spaces and parentheses, so the fields are counted from
// the last ')'.
func readCPU(pid int) (cpuTime, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTime{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return cpuTime{}, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, b)
	}
	// After ')' come field 3 (state) onwards; utime is field 14, stime 15.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return cpuTime{}, fmt.Errorf("/proc/%d/stat: %d fields after the name, want at least 13", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return cpuTime{}, fmt.Errorf("/proc/%d/stat: utime %q, stime %q are not integers", pid, f[11], f[12])
	}
	tick := time.Second / clockTicks
	return cpuTime{user: time.Duration(ut) * tick, sys: time.Duration(st) * tick}, nil
}

// memory is a process's resident memory: now (VmRSS) and its peak since it
// started (VmHWM), in bytes.
type memory struct {
	rss, hwm int64
}

// readMemory reads VmRSS and VmHWM from /proc/<pid>/status.
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		default:
			continue
		}
		// The value is "<n> kB".
		kb, err := strconv.ParseInt(strings.Fields(value)[0], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status: %s %q: %w", pid, name, value, err)
		}
		*dst = kb << 10
	}
	return m, sc.Err()
}

// procUsage is what one process used during one phase.
type procUsage struct {
	name string
	pid  int
	cpu  cpuTime
	// wall is the phase's duration, the base of the CPU percentage.
	wall time.Duration
	mem  memory
}

// corePercent is CPU time as a percentage of one core over the phase.
func (u procUsage) corePercent() float64 {
	if u.wall <= 0 {
		return 0
	}
	return 100 * u.cpu.total().Seconds() / u.wall.Seconds()
}

// procWatch samples a set of processes at the start and end of a phase.
type procWatch struct {
	names  []string
	pids   []int
	start  []cpuTime
	starts time.Time
}

// watch records the processes' CPU times now. A process that cannot be
// read is reported at the end, not here, so a phase never fails to start
// for want of a statistic.
func watch(names []string, pids []int) *procWatch {
	w := &procWatch{names: names, pids: pids, start: make([]cpuTime, len(pids)), starts: time.Now()}
	for i, pid := range pids {
		w.start[i], _ = readCPU(pid)
	}
	return w
}

// stop returns each process's usage since watch.
func (w *procWatch) stop() ([]procUsage, error) {
	wall := time.Since(w.starts)
	out := make([]procUsage, len(w.pids))
	for i, pid := range w.pids {
		end, err := readCPU(pid)
		if err != nil {
			return nil, fmt.Errorf("%s (pid %d): %w", w.names[i], pid, err)
		}
		mem, err := readMemory(pid)
		if err != nil {
			return nil, fmt.Errorf("%s (pid %d): %w", w.names[i], pid, err)
		}
		out[i] = procUsage{name: w.names[i], pid: pid, cpu: end.sub(w.start[i]), wall: wall, mem: mem}
	}
	return out, nil
}

// groupCPU measures a changing set of processes, such as the Postgres
// backends of one database: a process that starts during the phase counts
// from zero, one that ends during it is lost (pooled connections rarely do).
type groupCPU struct {
	list  func() ([]int, error)
	start map[int]cpuTime
}

func watchGroup(list func() ([]int, error)) (*groupCPU, error) {
	pids, err := list()
	if err != nil {
		return nil, err
	}
	g := &groupCPU{list: list, start: map[int]cpuTime{}}
	for _, pid := range pids {
		if c, err := readCPU(pid); err == nil {
			g.start[pid] = c
		}
	}
	return g, nil
}

// stop returns the group's CPU time since watchGroup and how many processes
// it summed.
func (g *groupCPU) stop() (time.Duration, int, error) {
	pids, err := g.list()
	if err != nil {
		return 0, 0, err
	}
	var total time.Duration
	n := 0
	for _, pid := range pids {
		c, err := readCPU(pid)
		if err != nil {
			continue
		}
		total += c.sub(g.start[pid]).total()
		n++
	}
	return total, n, nil
}

// loadAverage is the first three fields of /proc/loadavg, for the report:
// other work on the machine skews every figure.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// redisCPU is the Redis server's user+sys CPU time so far (INFO cpu).
func redisCPU(ctx context.Context, rdb *redis.Client) (time.Duration, error) {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("redis INFO cpu: %w", err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("redis INFO cpu: %s=%q", k, v)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second)), nil
}

// machineCPU is the machine's CPU time so far from the first line of
// /proc/stat: busy (user, nice, system, irq, softirq, steal) and all
// (busy, idle and iowait), in clock ticks.
type machineCPU struct {
	busy, all int64
}

// readMachineCPU reads the first line of /proc/stat.
func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseMachineCPU(line)
}

// parseMachineCPU parses the "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal, then guest times that user and nice
// already include.
func parseMachineCPU(line string) (machineCPU, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineCPU{}, fmt.Errorf("/proc/stat: first line %q is not the cpu line", line)
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("/proc/stat: field %d %q: %w", i+1, f[i+1], err)
		}
		v[i] = n
	}
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return machineCPU{busy: busy, all: busy + v[3] + v[4]}, nil
}

// busyTime is the CPU time, summed over cores, the machine was busy
// between two readings.
func (m machineCPU) busyTime(later machineCPU) time.Duration {
	return time.Duration(later.busy-m.busy) * (time.Second / clockTicks)
}
