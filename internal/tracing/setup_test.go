package tracing_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/tracing"
)

func TestSetupWithoutEndpointIsNoop(t *testing.T) {
	tp, shutdown, err := tracing.Setup(context.Background(), tracing.Config{})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	ctx, span := tracing.Tracer(tp).Start(context.Background(), "x")
	span.End()
	if span.SpanContext().IsValid() || span.IsRecording() {
		t.Errorf("span of the default provider is valid/recording; want a no-op")
	}
	if tp := tracing.TraceParent(ctx); tp != "" {
		t.Errorf("TraceParent = %q, want none without tracing", tp)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestSetupRejectsBadConfig(t *testing.T) {
	for _, cfg := range []tracing.Config{
		{Endpoint: "ftp://collector:4318"},
		{Endpoint: "http://user:s3cret-pw@collector:4318"},
		{Endpoint: "http://collector:4318/v1/traces?x=1"},
		{Endpoint: "collector:4318/v1/traces"},
		{Endpoint: "http://"},
		{Endpoint: "collector:4318", SampleRatio: 1.5},
		{SampleRatio: -0.1},
	} {
		_, _, err := tracing.Setup(context.Background(), cfg)
		if !errors.Is(err, tracing.ErrInvalidConfig) {
			t.Errorf("Setup(%+v) = %v, want ErrInvalidConfig", cfg, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error %q reveals the endpoint's password", err)
		}
	}
}

// collector is a fake OTLP/HTTP collector: it records the requests' paths.
type collector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	paths []string
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want a protobuf POST", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.paths = append(c.paths, r.URL.Path)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

func TestSetupExportsToCollector(t *testing.T) {
	col := newCollector(t)
	hostPort := strings.TrimPrefix(col.srv.URL, "http://")
	for _, tt := range []struct {
		name     string
		cfg      tracing.Config
		wantPath string
	}{
		{"host:port", tracing.Config{Endpoint: hostPort, Insecure: true}, "/v1/traces"},
		{"URL without path", tracing.Config{Endpoint: col.srv.URL}, "/v1/traces"},
		{"URL with path", tracing.Config{Endpoint: col.srv.URL + "/otlp/traces"}, "/otlp/traces"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(col.got())
			tp, shutdown, err := tracing.Setup(context.Background(), tt.cfg)
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			ctx, span := tracing.Tracer(tp).Start(context.Background(), "lpbridge.test")
			if !span.SpanContext().IsValid() || !span.SpanContext().IsSampled() {
				t.Errorf("span context %v: want a valid, sampled one", span.SpanContext())
			}
			if tracing.TraceParent(ctx) == "" {
				t.Error("TraceParent empty inside a span")
			}
			span.End()
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := shutdown(sctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			paths := col.got()[before:]
			if len(paths) == 0 || paths[0] != tt.wantPath {
				t.Errorf("collector got %v, want a POST to %s", paths, tt.wantPath)
			}
		})
	}
}
