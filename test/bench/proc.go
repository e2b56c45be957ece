package main

import (
	"fmt"
	"os"

	"github.com/prometheus/procfs"
)

// usage is what /proc says of one process at one moment.
type usage struct {
	// CPU is user plus system CPU time so far, in seconds.
	CPU float64
	// PeakRSS is the high-water mark of the resident set (VmHWM), in bytes.
	PeakRSS uint64
	// RSS is the resident set now (VmRSS), in bytes.
	RSS uint64
}

// readUsage reads pid's CPU time and memory from /proc.
func readUsage(pid int) (usage, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return usage{}, fmt.Errorf("reading /proc/%d: %w", pid, err)
	}
	stat, err := p.Stat()
	if err != nil {
		return usage{}, fmt.Errorf("reading /proc/%d/stat: %w", pid, err)
	}
	status, err := p.NewStatus()
	if err != nil {
		return usage{}, fmt.Errorf("reading /proc/%d/status: %w", pid, err)
	}
	return usage{CPU: stat.CPUTime(), PeakRSS: status.VmHWM, RSS: status.VmRSS}, nil
}

// machineCPU returns the CPU time the whole machine spent busy and in total
// (busy plus idle and iowait) so far, in seconds, from /proc/stat.
func machineCPU() (busy, total float64, err error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, 0, err
	}
	st, err := fs.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("reading /proc/stat: %w", err)
	}
	c := st.CPUTotal
	busy = c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal
	return busy, busy + c.Idle + c.Iowait, nil
}

// childPID returns the process id of this process's child whose command name
// is comm (as in /proc/<pid>/comm, at most 15 characters).
func childPID(comm string) (int, error) {
	procs, err := procfs.AllProcs()
	if err != nil {
		return 0, err
	}
	self := os.Getpid()
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue // it ended meanwhile
		}
		if st.PPID == self && st.Comm == comm {
			return p.PID, nil
		}
	}
	return 0, fmt.Errorf("no child process named %q of process %d", comm, self)
}

// cpuMeter measures the CPU time processes and the whole machine spend
// between start and stop.
type cpuMeter struct {
	pids        map[string]int
	start       map[string]usage
	busy, total float64
}

// startCPUMeter starts measuring the named processes.
func startCPUMeter(pids map[string]int) (*cpuMeter, error) {
	m := &cpuMeter{pids: pids, start: map[string]usage{}}
	for name, pid := range pids {
		u, err := readUsage(pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		m.start[name] = u
	}
	var err error
	m.busy, m.total, err = machineCPU()
	return m, err
}

// CPUShares is where the CPU time of a measured interval went.
type CPUShares struct {
	// Seconds is the CPU time of each measured process.
	Seconds map[string]float64 `json:"seconds"`
	// MachineBusy is the CPU time the whole machine was busy, all processes
	// included (other users of this shared machine too).
	MachineBusy float64 `json:"machineBusy"`
	// MachineTotal is the CPU time the machine had: cores times wall time.
	MachineTotal float64 `json:"machineTotal"`
}

// stop returns the CPU time spent since start.
func (m *cpuMeter) stop() (CPUShares, error) {
	out := CPUShares{Seconds: map[string]float64{}}
	for name, pid := range m.pids {
		u, err := readUsage(pid)
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		out.Seconds[name] = u.CPU - m.start[name].CPU
	}
	busy, total, err := machineCPU()
	out.MachineBusy, out.MachineTotal = busy-m.busy, total-m.total
	return out, err
}
