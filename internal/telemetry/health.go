package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultCheckTimeout bounds one readiness check. It stays below the Helm
// chart's probe timeoutSeconds (3 s), so a slow check is reported by name
// instead of the whole probe timing out.
const DefaultCheckTimeout = 2 * time.Second

// maxReasonLen caps the error text /readyz shows per check; a check's error
// is a one-line reason, not a dump.
const maxReasonLen = 200

// Health answers the liveness and readiness probes. Its zero value is
// ready to use and has no checks (always ready); it is safe for concurrent
// use.
type Health struct {
	// CheckTimeout bounds each readiness check; 0 means DefaultCheckTimeout.
	// Set it before serving.
	CheckTimeout time.Duration

	mu     sync.RWMutex
	checks map[string]func(context.Context) error
	soft   map[string]bool // checks registered with RegisterSoft
}

// Register adds a readiness check under name, replacing any check of the
// same name. A check returns nil when its part is ready; it must honour
// ctx, which ends after CheckTimeout. It panics on an empty name or a nil
// check, which are programming errors.
func (h *Health) Register(name string, check func(ctx context.Context) error) {
	if name == "" || check == nil {
		panic("telemetry: Health.Register needs a name and a check")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.checks == nil {
		h.checks = make(map[string]func(context.Context) error)
	}
	h.checks[name] = check
	delete(h.soft, name)
}

// RegisterSoft adds a check whose failure /readyz reports in its body
// (under "degraded", with the reason) while still answering 200: a part
// that is broken for good but does not stop the rest, such as one agent
// whose login LivePerson refused, which taking the pod out of service
// would not mend. It replaces any check of the same name and panics like
// Register.
func (h *Health) RegisterSoft(name string, check func(ctx context.Context) error) {
	h.Register(name, check)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.soft == nil {
		h.soft = make(map[string]bool)
	}
	h.soft[name] = true
}

// healthReply is the JSON body of /livez and /readyz.
type healthReply struct {
	Status   string            `json:"status"`             // "ok", "degraded" or "unavailable"
	Failing  []string          `json:"failing,omitempty"`  // names of failing checks, sorted
	Degraded []string          `json:"degraded,omitempty"` // names of failing soft checks, sorted
	Checks   map[string]string `json:"checks,omitempty"`   // name -> "ok" or the reason it fails
}

// Livez answers 200 while the process serves HTTP: it runs no checks, so a
// restart is never triggered by LivePerson or NATS being unreachable.
func (h *Health) Livez(w http.ResponseWriter, _ *http.Request) {
	writeHealth(w, http.StatusOK, healthReply{Status: "ok"})
}

// Readyz runs every check concurrently and answers 200 when all pass, 503
// with a JSON body naming the failing checks otherwise. Failing soft checks
// (RegisterSoft) are named under "degraded" and keep the 200.
func (h *Health) Readyz(w http.ResponseWriter, r *http.Request) {
	results := h.Check(r.Context())
	h.mu.RLock()
	soft := maps.Clone(h.soft)
	h.mu.RUnlock()
	reply := healthReply{Status: "ok", Checks: make(map[string]string, len(results))}
	for name, err := range results {
		if err == nil {
			reply.Checks[name] = "ok"
			continue
		}
		if soft[name] {
			reply.Degraded = append(reply.Degraded, name)
		} else {
			reply.Failing = append(reply.Failing, name)
		}
		reply.Checks[name] = truncate(err.Error(), maxReasonLen)
	}
	status := http.StatusOK
	if len(reply.Degraded) > 0 {
		slices.Sort(reply.Degraded)
		reply.Status = "degraded"
	}
	if len(reply.Failing) > 0 {
		slices.Sort(reply.Failing)
		reply.Status = "unavailable"
		status = http.StatusServiceUnavailable
	}
	writeHealth(w, status, reply)
}

// Check runs every registered check concurrently, each bounded by
// CheckTimeout, and returns each one's error (nil when it passed). A check
// that overruns reports ErrCheckTimeout; one that panics reports the panic.
func (h *Health) Check(ctx context.Context) map[string]error {
	h.mu.RLock()
	checks := make(map[string]func(context.Context) error, len(h.checks))
	for name, c := range h.checks {
		checks[name] = c
	}
	timeout := h.CheckTimeout
	h.mu.RUnlock()
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}

	type result struct {
		name string
		err  error
	}
	done := make(chan result, len(checks)) // buffered: an overrunning check may finish after we stop waiting
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for name, c := range checks {
		go func() { done <- result{name, runCheck(ctx, c)} }()
	}
	out := make(map[string]error, len(checks))
	for range checks {
		select {
		case r := <-done:
			out[r.name] = r.err
		case <-ctx.Done():
			for name := range checks {
				if _, ok := out[name]; !ok {
					out[name] = fmt.Errorf("%w after %s", ErrCheckTimeout, timeout)
				}
			}
			return out
		}
	}
	return out
}

// runCheck calls c, turning a panic into an error.
func runCheck(ctx context.Context, c func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	return c(ctx)
}

func writeHealth(w http.ResponseWriter, status int, reply healthReply) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(reply) // the probe has gone if this fails
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
