//go:build unix

package lpchat_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used: the
// client's and the loopback server's together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
