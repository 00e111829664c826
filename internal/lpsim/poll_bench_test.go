package lpsim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/harness"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// pollChats is how many chats each agent of BenchmarkServeAgentPoll holds,
// as in the scale bench (make scale CHATS=5).
const pollChats = 5

// pollAgent is one agent of the poll benchmark: its bearer, its agent
// session path and its chats with the last event id it has read.
type pollAgent struct {
	bearer string
	as     string // path of the agent session
	chats  []string
	last   []int // the last event id read, per chat
	seen   []int // the newest event id posted, per chat: read by the next multi-chat GET
	tick   int
}

// serveOnce sends one request straight into the handler and returns the
// recorder.
func serveOnce(h http.Handler, method, target, body, bearer string, hdr ...string) *httptest.ResponseRecorder {
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, target, nil)
	} else {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// setupPoll builds an account of n demo agents, each logged in, Online and
// chatting in pollChats chats it accepted, all through the handler.
func setupPoll(b *testing.B, n int) (*lpsim.Simulator, []*pollAgent) {
	b.Helper()
	sim, err := lpsim.New(lpsim.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	logins := make([]string, n)
	for i := range logins {
		logins[i] = fmt.Sprintf("bot.%05d", i+1)
	}
	if _, err := sim.AddDemo(lpsim.DemoSpec{Agents: logins, MaxChats: pollChats}); err != nil {
		b.Fatal(err)
	}
	base := "/api/account/" + lpsim.DemoAccountID
	agents := make([]*pollAgent, n)
	for i, login := range logins {
		rec := serveOnce(sim, http.MethodPost, base+"/login?v=1.3", `{"username":"`+login+`","password":"`+lpsim.DemoPassword+`"}`, "")
		var lr struct {
			Bearer string `json:"bearer"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &lr) != nil {
			b.Fatalf("login %s: %d %s", login, rec.Code, rec.Body)
		}
		pa := &pollAgent{bearer: lr.Bearer}
		rec = serveOnce(sim, http.MethodPost, base+"/agentSession?v=1&NC=true", `{"loginData":""}`, pa.bearer)
		if rec.Code != http.StatusCreated {
			b.Fatalf("agent session %s: %d %s", login, rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		at := strings.Index(loc, "/api/")
		if at < 0 {
			b.Fatalf("no /api/ in Location %q", loc)
		}
		pa.as = loc[at:]
		rec = serveOnce(sim, http.MethodPost, pa.as+"/availability?v=1&NC=true", `{"availability":{"chat":"Online"}}`, pa.bearer,
			"X-HTTP-Method-Override", "PUT")
		if rec.Code != http.StatusOK {
			b.Fatalf("availability %s: %d %s", login, rec.Code, rec.Body)
		}
		for range pollChats {
			if _, err := sim.StartChat(lpsim.DemoAccountID, lpsim.VisitorSpec{}); err != nil {
				b.Fatal(err)
			}
		}
		for range pollChats {
			rec = serveOnce(sim, http.MethodPost, pa.as+"/incomingRequests?v=1&NC=true", `{}`, pa.bearer)
			if rec.Code != http.StatusCreated {
				b.Fatalf("accept %s: %d %s", login, rec.Code, rec.Body)
			}
			loc := rec.Header().Get("Location")
			pa.chats = append(pa.chats, loc[strings.LastIndex(loc, "/")+1:])
			pa.last = append(pa.last, 3) // waiting, routing line, chatting, accepted line
			pa.seen = append(pa.seen, 3)
		}
		agents[i] = pa
	}
	return sim, agents
}

// BenchmarkServeAgentPoll measures one request of the bridge's mix against
// n agents × pollChats chats, through the real handler without a network:
// per agent and poll tick GET incomingRequests and one multi-chat GET of its
// chats from the last event ids it read, every 5th tick GET chatSessions,
// every 10th GET availability, and one visitor line posted through the
// control API (a line every 10 s per chat at 2 s polls). ns/op is per
// request, the benchmark's own making of requests included; cpu-ns/op is
// the process's CPU time per request; "req/tick" is the requests of one
// agent's tick; heap-B/agent is what the setup added to the live heap (an
// agent, its login and session, 5 chats of 4 events) per agent.
func BenchmarkServeAgentPoll(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run("agents="+strconv.Itoa(n), func(b *testing.B) {
			before := liveHeap()
			sim, agents := setupPoll(b, n)
			heap := float64(liveHeap()-before) / float64(n)
			runPoll(b, agents, func(method, target, body, bearer string, hdr ...string) (int, []byte) {
				rec := serveOnce(sim, method, target, body, bearer, hdr...)
				return rec.Code, rec.Body.Bytes()
			})
			b.ReportMetric(heap, "heap-B/agent")
		})
	}
}

// BenchmarkServeAgentPollTLS is BenchmarkServeAgentPoll over loopback
// HTTPS with keep-alive, as the bridge reaches cmd/lpsim: ns/op holds the
// client's side too (a profile tells them apart: net/http.(*conn).serve is
// the server's).
func BenchmarkServeAgentPollTLS(b *testing.B) {
	sim, agents := setupPoll(b, 1000)
	srv := httptest.NewTLSServer(sim)
	b.Cleanup(srv.Close)
	hc := srv.Client()
	runPoll(b, agents, func(method, target, body, bearer string, hdr ...string) (int, []byte) {
		req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			b.Fatal(err)
		}
		return res.StatusCode, raw
	})
}

// sendFunc sends one request and returns its status and body.
type sendFunc func(method, target, body, bearer string, hdr ...string) (int, []byte)

// runPoll runs the agents' ticks one after the other, one request per op.
func runPoll(b *testing.B, agents []*pollAgent, send sendFunc) {
	ctl := "/sim/accounts/" + lpsim.DemoAccountID + "/chats/"
	var queue []func()
	next, ticks, reqs := 0, 0, 0
	runtime.GC() // the setup's garbage is not the requests'
	b.ReportAllocs()
	b.ResetTimer()
	cpu := harness.ProcessCPU()
	for b.Loop() {
		if len(queue) == 0 {
			pa := agents[next]
			next = (next + 1) % len(agents)
			ticks++
			queue = pollTick(b, send, pa, ticks, ctl)
			reqs += len(queue)
		}
		queue[0]()
		queue = queue[1:]
	}
	b.ReportMetric(float64(harness.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(reqs)/float64(ticks), "req/tick")
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// pollTick returns the requests of pa's poll tick, the tick-th of the run.
func pollTick(b *testing.B, send sendFunc, pa *pollAgent, tick int, ctl string) []func() {
	pa.tick++
	check := func(status int, body []byte, want int, what string) {
		if status != want {
			b.Fatalf("%s: status %d, want %d: %s", what, status, want, body)
		}
	}
	keys := strings.Join(pa.chats, ",")
	reqs := []func(){
		func() {
			st, body := send(http.MethodGet, pa.as+"/incomingRequests?v=1&NC=true", "", pa.bearer)
			check(st, body, http.StatusOK, "incomingRequests")
		},
		func() {
			froms := make([]string, len(pa.last))
			for i, l := range pa.last {
				froms[i] = strconv.Itoa(l)
			}
			st, body := send(http.MethodGet, pa.as+"/chat?v=1&NC=true&chatSessionKeys="+keys+"&fromEventIds="+strings.Join(froms, ","), "", pa.bearer)
			check(st, body, http.StatusOK, "multi-chat")
			copy(pa.last, pa.seen)
		},
		func() {
			c := (pa.tick) % len(pa.chats)
			st, body := send(http.MethodPost, ctl+pa.chats[c]+"/lines", `{"text":"hello from the visitor"}`, "")
			check(st, body, http.StatusCreated, "visitor line")
			var r struct {
				EventID int `json:"eventId"`
			}
			if err := json.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
			pa.seen[c] = r.EventID
		},
	}
	if tick%5 == 0 {
		reqs = append(reqs, func() {
			st, body := send(http.MethodGet, pa.as+"/chatSessions?v=1&NC=true", "", pa.bearer)
			check(st, body, http.StatusOK, "chatSessions")
		})
	}
	if tick%10 == 0 {
		reqs = append(reqs, func() {
			st, body := send(http.MethodGet, pa.as+"/availability?v=1&NC=true", "", pa.bearer)
			check(st, body, http.StatusOK, "availability")
		})
	}
	return reqs
}

// BenchmarkAddDemo measures what cmd/lpsim -agents-count does before it
// listens: a demo account of n agents.
func BenchmarkAddDemo(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("agents="+strconv.Itoa(n), func(b *testing.B) {
			logins := make([]string, n)
			for i := range logins {
				logins[i] = fmt.Sprintf("bot.%05d", i+1)
			}
			b.ReportAllocs()
			for b.Loop() {
				sim, err := lpsim.New(lpsim.Config{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sim.AddDemo(lpsim.DemoSpec{Agents: logins, MaxChats: pollChats}); err != nil {
					b.Fatal(err)
				}
				sim.Close()
			}
		})
	}
}
