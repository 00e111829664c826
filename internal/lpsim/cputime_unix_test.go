//go:build unix

package lpsim_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, every thread (the
// collector's too) and the kernel's work for it included. Benchmarks
// report it per op because the machine they run on is shared: wall time
// per op grows with other people's load, CPU time much less.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
