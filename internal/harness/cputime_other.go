//go:build !unix

package harness

import "time"

// ProcessCPU is not measured here; benchmarks then report 0 CPU per op.
func ProcessCPU() time.Duration { return 0 }
