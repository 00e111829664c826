package telemetry

import (
	"net/http"
	"net/http/pprof"
	"time"
)

// Server timeouts: the endpoints answer at once (a readiness check is
// bounded by CheckTimeout), so anything slow is a stuck client.
const (
	serverReadHeaderTimeout = 5 * time.Second
	serverWriteTimeout      = 30 * time.Second
	serverIdleTimeout       = 2 * time.Minute
)

// ServerOption changes what NewServer serves.
type ServerOption func(*http.ServeMux)

// WithProfiling serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/. They reveal internals and a CPU profile costs CPU, so they
// are only for an address that is not public.
func WithProfiling() ServerOption {
	return func(mux *http.ServeMux) {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
}

// NewServer returns an unstarted server on addr (e.g. ":8080") serving
// /metrics (m's registry), /livez (and its alias /healthz) and /readyz,
// plus what opts add. A nil m leaves /metrics out; a nil h is a Health
// without checks. The caller runs ListenAndServe (or Serve) and Shutdown.
func NewServer(addr string, m *Metrics, h *Health, opts ...ServerOption) *http.Server {
	if h == nil {
		h = &Health{}
	}
	mux := http.NewServeMux()
	if m != nil {
		mux.Handle("GET /metrics", m.Handler())
	}
	mux.HandleFunc("GET /livez", h.Livez)
	mux.HandleFunc("GET /healthz", h.Livez)
	mux.HandleFunc("GET /readyz", h.Readyz)
	for _, opt := range opts {
		opt(mux)
	}
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
	}
}
