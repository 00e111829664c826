package main

import (
	"testing"
	"time"
)

func TestLatencySummary(t *testing.T) {
	var ds latencies
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	p50, p99, maxD := ds.summary()
	if p50 != 50*time.Millisecond || p99 != 99*time.Millisecond || maxD != 100*time.Millisecond {
		t.Fatalf("p50 %s p99 %s max %s, want 50ms 99ms 100ms", p50, p99, maxD)
	}
	one := latencies{7 * time.Millisecond}
	if p50, p99, maxD := one.summary(); p50 != 7*time.Millisecond || p99 != p50 || maxD != p50 {
		t.Fatalf("one value: %s %s %s", p50, p99, maxD)
	}
	if p50, _, _ := (latencies{}).summary(); p50 != 0 {
		t.Fatalf("none: p50 %s", p50)
	}
	// Nearest rank of 3 values: p50 is the 2nd, p99 the 3rd.
	three := latencies{3, 1, 2}
	if p50, p99, _ := three.summary(); p50 != 2 || p99 != 3 {
		t.Fatalf("three: p50 %d p99 %d", p50, p99)
	}
}

func TestMetricSum(t *testing.T) {
	text := `# HELP lpbridge_lp_requests_total LivePerson HTTP requests
# TYPE lpbridge_lp_requests_total counter
lpbridge_lp_requests_total{code="2xx",operation="events"} 120
lpbridge_lp_requests_total{code="2xx",operation="chat"} 30
lpbridge_lp_requests_total_extra 999
lpbridge_poll_duration_seconds_count 40
lpbridge_poll_duration_seconds_sum 1.5
lpbridge_poll_duration_seconds_bucket{le="+Inf"} 40
`
	if got := metricSum(text, "lpbridge_lp_requests_total"); got != 150 {
		t.Fatalf("requests %v, want 150", got)
	}
	if got := metricSum(text, "lpbridge_poll_duration_seconds_count"); got != 40 {
		t.Fatalf("polls %v, want 40", got)
	}
	if got := metricSum(text, "absent"); got != 0 {
		t.Fatalf("absent %v", got)
	}
}
