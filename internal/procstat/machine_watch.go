package procstat

import (
	"fmt"
	"time"
)

// MachineWatcher measures what a phase costs beyond the processes a
// benchmark starts: the Postgres backends serving it, the machine's busy
// CPU time and its load average.
type MachineWatcher struct {
	pg     *GroupWatcher
	before MachineCPU
	// LoadStart is the load average when the watch started.
	LoadStart string
}

// MachineUsage is what a MachineWatcher measured.
type MachineUsage struct {
	// PostgresCPU is the backends' CPU time, summed over PostgresProcs
	// processes.
	PostgresCPU   time.Duration
	PostgresProcs int
	// MachineCPU is the machine's busy CPU time, every core summed.
	MachineCPU time.Duration
	// LoadEnd is the load average when the watch stopped.
	LoadEnd string
}

// WatchMachine starts measuring the Postgres backends backends lists (see
// WatchGroup) and the machine.
func WatchMachine(backends func() ([]int, error)) (*MachineWatcher, error) {
	pg, err := WatchGroup(backends)
	if err != nil {
		return nil, fmt.Errorf("postgres backends: %w", err)
	}
	m := &MachineWatcher{pg: pg, LoadStart: LoadAverage()}
	if m.before, err = ReadMachineCPU(); err != nil {
		return nil, err
	}
	return m, nil
}

// Stop returns what the phase cost since WatchMachine.
func (m *MachineWatcher) Stop() (MachineUsage, error) {
	var u MachineUsage
	var err error
	if u.PostgresCPU, u.PostgresProcs, err = m.pg.Stop(); err != nil {
		return u, fmt.Errorf("postgres backends: %w", err)
	}
	after, err := ReadMachineCPU()
	if err != nil {
		return u, err
	}
	u.MachineCPU = m.before.BusyTime(after)
	u.LoadEnd = LoadAverage()
	return u, nil
}
