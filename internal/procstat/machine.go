package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// LoadAverage is the first three fields of /proc/loadavg, for the report:
// other work on the machine skews every figure.
func LoadAverage() string {
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

// MachineCPU is the machine's CPU time so far from the first line of
// /proc/stat: busy (user, nice, system, irq, softirq, steal) and all
// (busy, idle and iowait), in clock ticks.
type MachineCPU struct {
	busy, all int64
}

// ReadMachineCPU reads the first line of /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseMachineCPU(line)
}

// parseMachineCPU parses the "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal, then guest times that user and nice
// already include.
func parseMachineCPU(line string) (MachineCPU, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return MachineCPU{}, fmt.Errorf("/proc/stat: first line %q is not the cpu line", line)
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return MachineCPU{}, fmt.Errorf("/proc/stat: field %d %q: %w", i+1, f[i+1], err)
		}
		v[i] = n
	}
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return MachineCPU{busy: busy, all: busy + v[3] + v[4]}, nil
}

// BusyTime is the CPU time, summed over cores, the machine was busy
// between this reading and a later one.
func (m MachineCPU) BusyTime(later MachineCPU) time.Duration {
	return time.Duration(later.busy-m.busy) * (time.Second / clockTicks)
}
