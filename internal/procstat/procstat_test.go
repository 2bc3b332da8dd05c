package procstat

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseMachineCPU(t *testing.T) {
	t.Parallel()
	m, err := parseMachineCPU("cpu  100 5 50 1000 20 3 2 1 7 0")
	require.NoError(t, err)
	require.Equal(t, MachineCPU{busy: 161, all: 1181}, m)
	later, err := parseMachineCPU("cpu  200 5 50 1000 20 3 2 1 7 0")
	require.NoError(t, err)
	require.Equal(t, int64(100), later.busy-m.busy)
	require.Equal(t, time.Second, m.BusyTime(later))

	_, err = parseMachineCPU("cpu0 1 2 3")
	require.Error(t, err)
}

func TestParseRedisCPU(t *testing.T) {
	t.Parallel()
	info := "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:2.250000\r\nused_cpu_sys_children:9.000000\r\n"
	d, err := parseRedisCPU(info)
	require.NoError(t, err)
	require.Equal(t, 3750*time.Millisecond, d)

	_, err = parseRedisCPU("used_cpu_user:lots\r\n")
	require.Error(t, err)
}

// TestWatchSelf measures this test's own process, which /proc always has.
func TestWatchSelf(t *testing.T) {
	t.Parallel()
	pid := os.Getpid()
	w := Watch([]string{"test"}, []int{pid})
	time.Sleep(50 * time.Millisecond)
	usage, err := w.Stop()
	require.NoError(t, err)
	require.Len(t, usage, 1)
	u := usage[0]
	require.Equal(t, "test", u.Name)
	require.Equal(t, pid, u.PID)
	require.GreaterOrEqual(t, u.Wall, 50*time.Millisecond)
	require.GreaterOrEqual(t, u.CPU.Total(), time.Duration(0))
	require.Positive(t, u.Mem.RSS)
	require.GreaterOrEqual(t, u.Mem.HWM, u.Mem.RSS)

	g, err := WatchGroup(func() ([]int, error) { return []int{pid}, nil })
	require.NoError(t, err)
	_, procs, err := g.Stop()
	require.NoError(t, err)
	require.Equal(t, 1, procs)
}

func TestUsageAdd(t *testing.T) {
	t.Parallel()
	u := Usage{Name: "a", CPU: CPUTime{User: time.Second, Sys: time.Second}, Wall: 4 * time.Second, Mem: Memory{RSS: 10, HWM: 30}}
	require.InDelta(t, 50.0, u.CorePercent(), 1e-9)
	u.Add(Usage{CPU: CPUTime{User: 2 * time.Second}, Wall: 2 * time.Second, Mem: Memory{RSS: 20, HWM: 25}})
	require.Equal(t, Usage{Name: "a", CPU: CPUTime{User: 3 * time.Second, Sys: time.Second}, Wall: 6 * time.Second, Mem: Memory{RSS: 20, HWM: 30}}, u)
	require.Zero(t, Usage{}.CorePercent())
	require.Equal(t, "2 MB", MB(2<<20))
}

func TestReadMissingProcess(t *testing.T) {
	t.Parallel()
	// Linux's pid_max is at most 2^22, so this process cannot exist.
	_, err := ReadCPU(1 << 30)
	require.Error(t, err)
	_, err = ReadMemory(1 << 30)
	require.Error(t, err)
	_, err = Watch([]string{"gone"}, []int{1 << 30}).Stop()
	require.ErrorContains(t, err, "gone (pid 1073741824)")
}
