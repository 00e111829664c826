package telemetry_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// family gathers g and returns the family called name, nil when absent.
func family(t *testing.T, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// value is the value of the series name{labels}: a counter's or gauge's
// value, a histogram's sample count. It fails the test when the series
// does not exist.
func value(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	f := family(t, g, name)
	if f == nil {
		t.Fatalf("metric %s not exposed", name)
	}
	for _, m := range f.GetMetric() {
		if !sameLabels(m.GetLabel(), labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("series %s%v not exposed", name, labels)
	return 0
}

// labelValues lists the values label takes across the series of name.
func labelValues(t *testing.T, g prometheus.Gatherer, name, label string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	f := family(t, g, name)
	if f == nil {
		return out
	}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out[l.GetValue()] = true
			}
		}
	}
	return out
}

func sameLabels(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}

// serve starts srv on a loopback port and returns its base URL; the server
// is shut down at cleanup.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// newMetrics is NewMetrics without the runtime collectors, so tests see
// only the bridge's own series.
func newMetrics(t *testing.T, opts ...telemetry.Option) *telemetry.Metrics {
	t.Helper()
	return telemetry.NewMetrics(append([]telemetry.Option{telemetry.WithoutRuntimeMetrics()}, opts...)...)
}
