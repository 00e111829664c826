package telemetry

import (
	"net/http"
	"time"
)

// Server timeouts: the endpoints answer at once (a readiness check is
// bounded by CheckTimeout), so anything slow is a stuck client.
const (
	serverReadHeaderTimeout = 5 * time.Second
	serverWriteTimeout      = 30 * time.Second
	serverIdleTimeout       = 2 * time.Minute
)

// NewServer returns an unstarted server on addr (e.g. ":8080") serving
// /metrics (m's registry), /livez (and its alias /healthz) and /readyz.
// A nil m leaves /metrics out; a nil h is a Health without checks. The
// caller runs ListenAndServe (or Serve) and Shutdown.
func NewServer(addr string, m *Metrics, h *Health) *http.Server {
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
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
	}
}
