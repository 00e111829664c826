// Package telemetrytest reads the values of a telemetry.Metrics in tests of
// the packages that record them.
package telemetrytest

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// Value is the value of the series name{labels} of m: a counter's or
// gauge's value, a histogram's sample count. labels must name every label
// of the series. A series that does not exist is 0 (a counter not yet
// touched); a metric name m does not expose fails the test.
func Value(t testing.TB, m *telemetry.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if !sameLabels(s.GetLabel(), labels) {
				continue
			}
			switch {
			case s.Counter != nil:
				return s.GetCounter().GetValue()
			case s.Gauge != nil:
				return s.GetGauge().GetValue()
			case s.Histogram != nil:
				return float64(s.GetHistogram().GetSampleCount())
			}
		}
		return 0
	}
	t.Fatalf("metric %s not exposed", name)
	return 0
}

// Sum is the sum of Value over every series of name whose labels include
// labels (nil: every series).
func Sum(t testing.TB, m *telemetry.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		var sum float64
		for _, s := range f.GetMetric() {
			if !hasLabels(s.GetLabel(), labels) {
				continue
			}
			switch {
			case s.Counter != nil:
				sum += s.GetCounter().GetValue()
			case s.Gauge != nil:
				sum += s.GetGauge().GetValue()
			case s.Histogram != nil:
				sum += float64(s.GetHistogram().GetSampleCount())
			}
		}
		return sum
	}
	t.Fatalf("metric %s not exposed", name)
	return 0
}

func sameLabels(got []*dto.LabelPair, want map[string]string) bool {
	return len(got) == len(want) && hasLabels(got, want)
}

func hasLabels(got []*dto.LabelPair, want map[string]string) bool {
	n := 0
	for _, l := range got {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}
