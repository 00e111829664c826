package main

import (
	"bufio"
	"slices"
	"strconv"
	"strings"
	"time"
)

// latencies are the line → event delays seen in the window.
type latencies []time.Duration

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds, which
// must be sorted; 0 for none.
func (ds latencies) percentile(p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	// Nearest rank: the smallest value with at least p % of the values at or below it.
	rank := int(float64(len(ds))*p/100 + 0.999999999)
	rank = min(max(rank, 1), len(ds))
	return ds[rank-1]
}

// summary sorts ds and returns its p50, p99 and max.
func (ds latencies) summary() (p50, p99, maxD time.Duration) {
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0, 0, 0
	}
	return ds.percentile(50), ds.percentile(99), ds[len(ds)-1]
}

// metricSum adds up every sample of the metric name (all label sets) in a
// Prometheus text exposition; the bench only needs totals.
func metricSum(text, name string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a comment, another metric, or one whose name only starts with name
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			sum += v
		}
	}
	return sum
}
