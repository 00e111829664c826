package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// Operation names of the tests, as lpchat names its requests.
const (
	opLogin         = "login"
	opChatEvents    = "chat.events"
	opChatEventsAdd = "chat.events.add"
	opIncoming      = "incomingRequests"
	opChat          = "chat"
)

// lpOperations makes the tests' operation names known label values, as the
// bridge does with lpchat's.
func lpOperations() telemetry.Option {
	return telemetry.WithOperations(opLogin, opChatEvents, opChatEventsAdd, opIncoming, opChat)
}

// opKey is the context key of the tests' operation names: the client names
// each request itself, the transport only reads the name.
type opKey struct{}

// opOf is the opFromRequest of the tests.
func opOf(r *http.Request) string {
	op, _ := r.Context().Value(opKey{}).(string)
	return op
}

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

// do sends one request named op and returns the answer.
func do(t *testing.T, c *http.Client, op, method, url string) (int, string) {
	t.Helper()
	ctx := context.WithValue(context.Background(), opKey{}, op)
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader("{}"))
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
	m := newMetrics(t, lpOperations())
	c := &http.Client{Transport: telemetry.InstrumentTransport(srv.Client().Transport, m, opOf)}
	base := srv.URL + "/api/account/55500011"
	as := base + "/agentSession/2038801122"
	chat := as + "/chat/H1-abcK2"

	do(t, c, opLogin, http.MethodPost, base+"/login?v=1.3")
	for range 3 {
		do(t, c, opChatEvents, http.MethodGet, chat+"/events?from=4&v=1&NC=true")
	}
	code, body := do(t, c, opChatEventsAdd, http.MethodPost, chat+"/events?v=1&NC=true")
	if code != http.StatusCreated || body != `{"chatEventLocation":{}}` {
		t.Errorf("the transport changed the response: %d %q", code, body)
	}
	do(t, c, opIncoming, http.MethodGet, as+"/incomingRequests?v=1&NC=true")
	do(t, c, opIncoming, http.MethodGet, as+"/incomingRequests.json?v=1&NC=true")
	do(t, c, opChat, http.MethodGet, chat+"?v=1&NC=true")
	do(t, c, "", http.MethodGet, srv.URL+"/not/an/api")         // not named
	do(t, c, "H1-abcK2", http.MethodGet, srv.URL+"/not/an/api") // a name outside the known set

	reg := m.Registry()
	tests := []struct {
		op, code string
		want     float64
	}{
		{opLogin, "2xx", 1},
		{opChatEvents, "2xx", 3},
		{opChatEventsAdd, "2xx", 1},
		{opIncoming, "5xx", 2},
		{opChat, "4xx", 1},
		{"other", "2xx", 2},
	}
	for _, tt := range tests {
		if got := value(t, reg, "lpbridge_lp_requests_total", map[string]string{"operation": tt.op, "code": tt.code}); got != tt.want {
			t.Errorf("requests{%s,%s} = %v, want %v", tt.op, tt.code, got, tt.want)
		}
	}
	if got := value(t, reg, "lpbridge_lp_request_duration_seconds", map[string]string{"operation": opChatEvents}); got != 3 {
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
	m := newMetrics(t, lpOperations())
	c := &http.Client{Transport: telemetry.InstrumentTransport(nil, m, opOf)}
	req, err := http.NewRequestWithContext(context.WithValue(context.Background(), opKey{}, opLogin),
		http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request to a closed server succeeded")
	}
	if got := value(t, m.Registry(), "lpbridge_lp_requests_total", map[string]string{"operation": opLogin, "code": "error"}); got != 1 {
		t.Errorf("requests{login,error} = %v, want 1", got)
	}
}

// Telemetry knows no endpoint: without opFromRequest every request is
// "other", whatever its URL says.
func TestInstrumentTransportWithoutOperationsCountsOther(t *testing.T) {
	srv := lpDouble(t)
	m := newMetrics(t, lpOperations())
	c := &http.Client{Transport: telemetry.InstrumentTransport(srv.Client().Transport, m, nil)}
	do(t, c, opLogin, http.MethodPost, srv.URL+"/api/account/1/login")
	if got := value(t, m.Registry(), "lpbridge_lp_requests_total", map[string]string{"operation": "other", "code": "2xx"}); got != 1 {
		t.Errorf("requests{other,2xx} = %v, want 1", got)
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
	c := &http.Client{Transport: telemetry.InstrumentTransport(rec, newMetrics(t), opOf)}
	c.CloseIdleConnections()
	if !rec.closed.Load() {
		t.Error("CloseIdleConnections did not reach the wrapped transport")
	}
}
