package lpsim_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

func TestFaultStatusAndRetryAfterForNextN(t *testing.T) {
	e, c, _, _ := chattingEnv(t, lpsim.VisitorSpec{})
	e.sim.InjectFault(lpsim.Fault{PathContains: "/incomingRequests", Status: 429, RetryAfter: "1", Count: 2})
	before := e.sim.Requests()
	for range 2 {
		r := c.get(c.as+"/incomingRequests").expect(t, 429)
		if r.header.Get("Retry-After") != "1" || str(t, r.doc, "error.responseStatus") != "TOO_MANY_REQUESTS" {
			t.Fatalf("fault answer: %v %s", r.header, r.raw)
		}
	}
	c.get(c.as+"/availability").expect(t, 200) // other paths untouched
	r := c.get(c.as+"/incomingRequests").expect(t, 200)
	if r.header.Get("Retry-After") != "" {
		t.Fatal("the fault must be used up after Count requests")
	}
	if got := e.sim.Requests() - before; got != 4 {
		t.Fatalf("Requests counted %d, want 4", got)
	}
}

func TestFaultMethodMatchesOverride(t *testing.T) {
	e, c, _, _ := chattingEnv(t, lpsim.VisitorSpec{})
	e.sim.InjectFault(lpsim.Fault{Method: "PUT", Status: 503, Count: 5})
	c.get(c.as+"/availability").expect(t, 200)
	c.put(c.as+"/availability", map[string]any{"availability": map[string]string{"chat": "Away"}}).expect(t, 503)
	if st, _ := e.sim.AgentAvailability(acct, "ann"); st != "Online" {
		t.Fatalf("a faulted request must not change state: %s", st)
	}
	e.sim.ClearFaults()
	c.put(c.as+"/availability", map[string]any{"availability": map[string]string{"chat": "Away"}}).expect(t, 200)
}

func TestFaultLatency(t *testing.T) {
	e, c, _, _ := chattingEnv(t, lpsim.VisitorSpec{})
	const lat = 60 * time.Millisecond
	e.sim.InjectFault(lpsim.Fault{PathContains: "/availability", Latency: lat})
	start := time.Now()
	c.get(c.as+"/availability").expect(t, 200)
	if d := time.Since(start); d < lat {
		t.Fatalf("answered after %v, want at least %v", d, lat)
	}
}

func TestFaultDropLosesTheRequest(t *testing.T) {
	e, c, chatID, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/events", Drop: true})
	if err := postRaw(c, chatURL+"/events", line("lost")); err == nil {
		t.Fatal("a dropped connection must fail the request")
	}
	views, err := e.sim.ChatEvents(acct, chatID)
	must(t, err)
	if len(views) != 4 {
		t.Fatalf("a dropped request must not be handled: %d events", len(views))
	}
}

func TestFaultAfterHandleStoresButLosesResponse(t *testing.T) {
	e, c, chatID, chatURL := chattingEnv(t, lpsim.VisitorSpec{})

	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/events", Drop: true, AfterHandle: true})
	if err := postRaw(c, chatURL+"/events", line("stored but unanswered")); err == nil {
		t.Fatal("the response must be dropped")
	}
	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/events", Status: 504, RetryAfter: "2", AfterHandle: true})
	r := c.post(chatURL+"/events", line("stored, answered 504")).expect(t, 504)
	if r.header.Get("Retry-After") != "2" {
		t.Fatalf("Retry-After: %v", r.header)
	}
	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/events", AfterHandle: true})
	c.post(chatURL+"/events", line("normal")).expect(t, 201)

	views, err := e.sim.ChatEvents(acct, chatID)
	must(t, err)
	if len(views) != 7 || views[4].Text != "stored but unanswered" || views[5].Text != "stored, answered 504" {
		t.Fatalf("AfterHandle must run the handler: %+v", views[4:])
	}
}

func TestExpireAgentSession(t *testing.T) {
	e, c, chatID, chatURL := chattingEnv(t, lpsim.VisitorSpec{})
	must(t, e.sim.ExpireAgentSession(acct, "ann"))
	c.get(chatURL).expect(t, 401)
	if st, _, _ := e.sim.ChatState(acct, chatID); st != "waiting" {
		t.Fatalf("chat %s after the agent's sessions expired", st)
	}
	if err := e.sim.ExpireAgentSession(acct, "nobody"); err == nil {
		t.Fatal("unknown agent must fail")
	}
}

// postRaw posts without the test helper's fatal on transport errors.
func postRaw(c *agentClient, url string, body map[string]any) error {
	c.t.Helper()
	raw := mustJSON(c.t, body)
	req, err := http.NewRequest(http.MethodPost, v(url), bytes.NewReader(raw))
	must(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.bearer)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	return nil
}

// A rule with a Rate faults about that share of its matching requests and
// passes the others through; its Count bounds the faulted ones.
func TestFaultRate(t *testing.T) {
	e, c, _, _ := chattingEnv(t, lpsim.VisitorSpec{})
	e.sim.InjectFault(lpsim.Fault{PathContains: "/availability", Status: 503, Rate: 0.25, Count: 1000})
	faulted := 0
	const n = 400
	for range n {
		switch r := c.get(c.as + "/availability"); r.status {
		case 503:
			faulted++
		case 200:
		default:
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
	}
	// 400 draws of p = 0.25: 100 ± 8.7; ±40 is more than 4.5 σ.
	if faulted < 60 || faulted > 140 {
		t.Errorf("%d of %d requests faulted, want about a quarter", faulted, n)
	}
	e.sim.ClearFaults()
	e.sim.InjectFault(lpsim.Fault{Status: 503, Rate: 1, Count: 2})
	c.get(c.as+"/availability").expect(t, 503)
	c.get(c.as+"/availability").expect(t, 503)
	c.get(c.as+"/availability").expect(t, 200) // Count faulted: used up
}

func TestControlFaultRate(t *testing.T) {
	e, c, _, _ := chattingEnv(t, lpsim.VisitorSpec{})
	ctl := e.client(t)
	ctl.do(http.MethodPost, e.srv.URL+"/sim/faults", map[string]any{"status": 503, "rate": 1.5}).expect(t, http.StatusBadRequest)
	ctl.do(http.MethodPost, e.srv.URL+"/sim/faults", map[string]any{"pathContains": "/availability", "status": 502, "rate": 1}).expect(t, http.StatusCreated)
	c.get(c.as+"/availability").expect(t, 502)
}
