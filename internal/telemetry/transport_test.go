package telemetry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// lpDouble answers like a (misbehaving) Chat Agent API: incomingRequests
// fails with 503, a chat is unauthorized, the rest succeed.
func lpDouble(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/incomingRequests"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case strings.HasSuffix(r.URL.Path, "/events") && r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"chatEventLocation":{}}`)
		case strings.Contains(r.URL.Path, "/chat/") && !strings.HasSuffix(r.URL.Path, "/events"):
			w.WriteHeader(http.StatusUnauthorized)
		default:
			_, _ = io.WriteString(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, c *http.Client, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(body)
}

func TestInstrumentTransportCountsByOperationAndStatus(t *testing.T) {
	srv := lpDouble(t)
	m := newMetrics(t)
	c := &http.Client{Transport: telemetry.InstrumentTransport(srv.Client().Transport, m, nil)}
	base := srv.URL + "/api/account/55500011"
	as := base + "/agentSession/2038801122"
	chat := as + "/chat/H1-abcK2"

	do(t, c, http.MethodPost, base+"/login?v=1.3")
	for range 3 {
		do(t, c, http.MethodGet, chat+"/events?from=4&v=1&NC=true")
	}
	code, body := do(t, c, http.MethodPost, chat+"/events?v=1&NC=true")
	if code != http.StatusCreated || body != `{"chatEventLocation":{}}` {
		t.Errorf("the transport changed the response: %d %q", code, body)
	}
	do(t, c, http.MethodGet, as+"/incomingRequests?v=1&NC=true")
	do(t, c, http.MethodGet, as+"/incomingRequests.json?v=1&NC=true")
	do(t, c, http.MethodGet, chat+"?v=1&NC=true")
	do(t, c, http.MethodGet, srv.URL+"/not/an/api")

	reg := m.Registry()
	tests := []struct {
		op, code string
		want     float64
	}{
		{telemetry.OpLogin, "2xx", 1},
		{telemetry.OpChatEvents, "2xx", 3},
		{telemetry.OpChatEventsAdd, "2xx", 1},
		{telemetry.OpIncomingRequests, "5xx", 2},
		{telemetry.OpChat, "4xx", 1},
		{telemetry.OpOther, "2xx", 1},
	}
	for _, tt := range tests {
		if got := value(t, reg, "lpbridge_lp_requests_total", map[string]string{"operation": tt.op, "code": tt.code}); got != tt.want {
			t.Errorf("requests{%s,%s} = %v, want %v", tt.op, tt.code, got, tt.want)
		}
	}
	if got := value(t, reg, "lpbridge_lp_request_duration_seconds", map[string]string{"operation": telemetry.OpChatEvents}); got != 3 {
		t.Errorf("latency samples of chat.events = %v, want 3", got)
	}
	for op := range labelValues(t, reg, "lpbridge_lp_requests_total", "operation") {
		if strings.Contains(op, "H1-abc") || strings.Contains(op, "55500011") {
			t.Errorf("an id leaked into operation %q", op)
		}
	}
}

func TestInstrumentTransportCountsNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/api/account/1/login"
	srv.Close() // nothing listens any more: the request gets no response
	m := newMetrics(t)
	c := &http.Client{Transport: telemetry.InstrumentTransport(nil, m, nil)}
	resp, err := c.Post(url, "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Fatal("request to a closed server succeeded")
	}
	if got := value(t, m.Registry(), "lpbridge_lp_requests_total", map[string]string{"operation": "login", "code": "error"}); got != 1 {
		t.Errorf("requests{login,error} = %v, want 1", got)
	}
}

func TestInstrumentTransportUsesGivenOperation(t *testing.T) {
	srv := lpDouble(t)
	m := newMetrics(t, telemetry.WithOperations("probe"))
	c := &http.Client{Transport: telemetry.InstrumentTransport(srv.Client().Transport, m,
		func(*http.Request) string { return "probe" })}
	do(t, c, http.MethodGet, srv.URL+"/api/account/1/login")
	if got := value(t, m.Registry(), "lpbridge_lp_requests_total", map[string]string{"operation": "probe", "code": "2xx"}); got != 1 {
		t.Errorf("requests{probe,2xx} = %v, want 1", got)
	}
}

// closeRecorder is a RoundTripper that records CloseIdleConnections.
type closeRecorder struct {
	http.RoundTripper
	closed atomic.Bool
}

func (c *closeRecorder) CloseIdleConnections() { c.closed.Store(true) }

func TestInstrumentTransportPassesCloseIdleConnectionsOn(t *testing.T) {
	rec := &closeRecorder{RoundTripper: http.DefaultTransport}
	c := &http.Client{Transport: telemetry.InstrumentTransport(rec, newMetrics(t), nil)}
	c.CloseIdleConnections()
	if !rec.closed.Load() {
		t.Error("CloseIdleConnections did not reach the wrapped transport")
	}
}
