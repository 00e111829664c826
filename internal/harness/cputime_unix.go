//go:build unix

package harness

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user + system) this process has used, every
// thread included. Benchmarks report it per op because the machine they run
// on is shared: wall time per op grows with other people's load, CPU time
// much less.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
