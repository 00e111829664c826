package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// client bounds a test request, so a broken server fails the test
// instead of hanging it.
func client() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client().Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func TestServerServesMetricsAndProbes(t *testing.T) {
	m := telemetry.NewMetrics()
	exercise(m)
	_ = m.Handler() // a second handler on the same registry must not panic
	var h telemetry.Health
	var down atomic.Bool
	h.Register("nats", func(context.Context) error {
		if down.Load() {
			return errors.New("disconnected")
		}
		return nil
	})
	base := serve(t, telemetry.NewServer("127.0.0.1:0", m, &h))

	code, text := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, name := range append(wantNames(), "go_goroutines", "promhttp_metric_handler_requests_total") {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	for _, path := range []string{"/livez", "/healthz", "/readyz"} {
		if code, _ := get(t, base+path); code != http.StatusOK {
			t.Errorf("%s: %d, want 200", path, code)
		}
	}
	down.Store(true)
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"failing":["nats"]`) {
		t.Errorf("/readyz with nats down: %d %s", code, body)
	}
	if code, _ := get(t, base+"/livez"); code != http.StatusOK {
		t.Errorf("/livez with nats down: %d, want 200", code)
	}
	if code, _ := get(t, base+"/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing: %d, want 404", code)
	}
}

func TestServerWithoutMetricsOrHealth(t *testing.T) {
	srv := telemetry.NewServer("127.0.0.1:0", nil, nil)
	if srv.ReadHeaderTimeout <= 0 {
		t.Error("server has no ReadHeaderTimeout")
	}
	base := serve(t, srv)
	if code, _ := get(t, base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics without Metrics: %d, want 404", code)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz without Health: %d, want 200", code)
	}
}

func TestServerShutsDownPromptly(t *testing.T) {
	srv := telemetry.NewServer("127.0.0.1:0", newMetrics(t), nil)
	base := serve(t, srv)
	if code, _ := get(t, base+"/livez"); code != http.StatusOK {
		t.Fatalf("/livez: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if resp, err := client().Get(base + "/livez"); err == nil {
		resp.Body.Close()
		t.Error("server still answers after Shutdown")
	}
}

func TestServerServesProfilesOnlyWhenAsked(t *testing.T) {
	plain := serve(t, telemetry.NewServer("127.0.0.1:0", nil, nil))
	if code, _ := get(t, plain+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("without WithProfiling: /debug/pprof/ answered %d, want 404", code)
	}
	profiled := serve(t, telemetry.NewServer("127.0.0.1:0", nil, nil, telemetry.WithProfiling()))
	if code, body := get(t, profiled+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("with WithProfiling: /debug/pprof/ answered %d %.80q, want 200 and the profile index", code, body)
	}
	if code, body := get(t, profiled+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("goroutine profile answered %d %.80q", code, body)
	}
	if code, _ := get(t, profiled+"/livez"); code != http.StatusOK {
		t.Errorf("/livez with profiling: %d", code)
	}
}
