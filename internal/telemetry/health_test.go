package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// readyz is the answer of /readyz.
type readyz struct {
	Status  string            `json:"status"`
	Failing []string          `json:"failing"`
	Checks  map[string]string `json:"checks"`
}

func getReadyz(t *testing.T, h *telemetry.Health) (int, readyz) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.Readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body readyz
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("readyz body %q: %v", rec.Body.String(), err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	return rec.Code, body
}

func TestReadyzFlipsWithChecks(t *testing.T) {
	var h telemetry.Health
	if code, body := getReadyz(t, &h); code != http.StatusOK || body.Status != "ok" {
		t.Errorf("no checks: %d %+v, want 200 ok", code, body)
	}

	var natsDown atomic.Bool
	h.Register("nats", func(context.Context) error {
		if natsDown.Load() {
			return errors.New("not connected")
		}
		return nil
	})
	h.Register("poller", func(context.Context) error { return nil })
	if code, body := getReadyz(t, &h); code != http.StatusOK || body.Checks["nats"] != "ok" || body.Checks["poller"] != "ok" {
		t.Errorf("all passing: %d %+v, want 200 with both checks ok", code, body)
	}

	natsDown.Store(true)
	code, body := getReadyz(t, &h)
	if code != http.StatusServiceUnavailable || body.Status != "unavailable" {
		t.Errorf("nats down: %d %q, want 503 unavailable", code, body.Status)
	}
	if len(body.Failing) != 1 || body.Failing[0] != "nats" || body.Checks["nats"] != "not connected" || body.Checks["poller"] != "ok" {
		t.Errorf("nats down: body %+v, want nats failing with its reason and poller ok", body)
	}

	natsDown.Store(false)
	if code, _ := getReadyz(t, &h); code != http.StatusOK {
		t.Errorf("nats back: %d, want 200", code)
	}
}

func TestReadyzRegisterReplacesByName(t *testing.T) {
	var h telemetry.Health
	h.Register("x", func(context.Context) error { return errors.New("old") })
	h.Register("x", func(context.Context) error { return nil })
	if code, body := getReadyz(t, &h); code != http.StatusOK || len(body.Checks) != 1 {
		t.Errorf("%d %+v, want 200 with one check", code, body)
	}
}

func TestReadyzBoundsSlowAndPanickingChecks(t *testing.T) {
	h := telemetry.Health{CheckTimeout: 20 * time.Millisecond}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	h.Register("stuck", func(context.Context) error { <-release; return nil }) // ignores ctx
	h.Register("panics", func(context.Context) error { panic("boom") })
	h.Register("fine", func(context.Context) error { return nil })

	errs := h.Check(context.Background())
	if !errors.Is(errs["stuck"], telemetry.ErrCheckTimeout) {
		t.Errorf("stuck check: %v, want ErrCheckTimeout", errs["stuck"])
	}
	if errs["panics"] == nil {
		t.Error("panicking check reported no error")
	}
	if errs["fine"] != nil {
		t.Errorf("fine check: %v", errs["fine"])
	}
	code, body := getReadyz(t, &h)
	if code != http.StatusServiceUnavailable || len(body.Failing) != 2 || body.Failing[0] != "panics" || body.Failing[1] != "stuck" {
		t.Errorf("%d %+v, want 503 naming panics and stuck", code, body)
	}
}

func TestLivezIgnoresChecks(t *testing.T) {
	var h telemetry.Health
	h.Register("down", func(context.Context) error { return errors.New("down") })
	rec := httptest.NewRecorder()
	h.Livez(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("livez %d with a failing readiness check, want 200", rec.Code)
	}
}

func TestRegisterRejectsNilCheck(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Register accepted a nil check")
		}
	}()
	var h telemetry.Health
	h.Register("nil", nil)
}
