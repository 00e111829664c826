package lpchat_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lpbridge/lpbridge/internal/harness"
	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// agentsFake is a lean TLS stand-in for the service with many agents: each
// agent session gets its own id and cookie, and every call under a session
// must carry that session's cookie (as lpsim's StrictCookies), so agents
// that share a transport but mixed up cookies fail the benchmark. It counts
// the connections and the full TLS handshakes it sees.
type agentsFake struct {
	srv     *httptest.Server
	chats   int
	next    atomic.Int64 // agent sessions started
	conns   atomic.Int64 // TCP connections accepted
	full    atomic.Int64 // TLS handshakes that did not resume a session
	resumed atomic.Int64 // TLS handshakes that resumed one

	mu    sync.Mutex
	multi map[string][]byte // agent session id → its multi-chat document
}

// ringingDoc is the incomingRequests answer of the benchmarks (§5.8).
var ringingDoc = []byte(`{"incomingRequests":{"ringingCount":"0"}}`)

// newAgentsFake starts the fake over TLS, offering h2 and http/1.1 by ALPN
// as cmd/lpsim's HTTPS does; it serves chats chats per agent session.
func newAgentsFake(b *testing.B, chats int) *agentsFake {
	b.Helper()
	f := &agentsFake{chats: chats, multi: map[string][]byte{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = true
	f.srv.TLS = &tls.Config{
		NextProtos: []string{"h2", "http/1.1"},
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.DidResume {
				f.resumed.Add(1)
			} else {
				f.full.Add(1)
			}
			return nil
		},
	}
	f.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut off by Close
	f.srv.StartTLS()
	b.Cleanup(f.srv.Close)
	return f
}

// base is {base} of the fake.
func (f *agentsFake) base() string { return f.srv.URL + "/api/account/" + testAccount }

// chatID is the id of chat i.
func chatID(i int) string {
	return fmt.Sprintf("H%d-0f1e2d3c4b5a69788796a5b4c3d2e1f0K%d", 5550001112223334445+i, 8400001+i)
}

// multiDoc is the multi-chat document of agent session as (§5.11): each
// chat with two new events after event 3.
func (f *agentsFake) multiDoc(as string) []byte {
	var chats []string
	for i := range f.chats {
		chats = append(chats, fmt.Sprintf(`{"link":[{"@href":"%[1]s/chat/%[2]s","@rel":"self"},
		  {"@href":"%[1]s/chat/%[2]s/events","@rel":"events"}],
		  "events":{"link":[{"@href":"%[1]s/chat/%[2]s/events","@rel":"self"},{"@href":"%[1]s/chat/%[2]s/events?from=6","@rel":"next"}],
		  "event":[{"@id":"4","@type":"line","time":"2024-03-04T10:00:15.000+00:00","textType":"plain","text":"hi, my order is late","by":"visitor","source":"visitor","subType":"REGULAR"},
		  {"@id":"5","@type":"line","time":"2024-03-04T10:00:16.000+00:00","textType":"plain","text":"order 42","by":"visitor","source":"visitor","subType":"REGULAR"}]},
		  "info":{"state":"chatting","chatSessionKey":"%[2]s","visitorName":"visitor","agentTyping":"not-typing","visitorTyping":"typing"}}`,
			as, chatID(i)))
	}
	return []byte(`{"chats":{"chat":[` + strings.Join(chats, ",") + `]}}`)
}

// serve answers the domain lookup, login, agent-session start, the
// multi-chat poll and incomingRequests.
func (f *agentsFake) serve(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, "/api/account/"+testAccount)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && rel == "/service/agentVep/baseURI.json":
		_, _ = w.Write([]byte(`{"service":"agentVep","account":"` + testAccount + `","baseURI":"` + r.Host + `"}`))
	case r.Method == http.MethodPost && rel == "/login":
		http.SetCookie(w, &http.Cookie{Name: "Session_id", Value: "login-cookie", Path: "/"})
		_, _ = w.Write([]byte(loginDoc))
	case r.Method == http.MethodPost && rel == "/agentSession":
		id := "as" + strconv.FormatInt(f.next.Add(1), 10)
		as := f.base() + "/agentSession/" + id
		doc := f.multiDoc(as)
		f.mu.Lock()
		f.multi[id] = doc
		f.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "agentSessionCookie", Value: "cookie-" + id, Path: "/"})
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"agentSessionLocation":{"link":{"@href":"` + as + `","@rel":"location"}}}`))
	case r.Method == http.MethodGet && strings.HasPrefix(rel, "/agentSession/"):
		id, res, _ := strings.Cut(strings.TrimPrefix(rel, "/agentSession/"), "/")
		if ck, err := r.Cookie("agentSessionCookie"); err != nil || ck.Value != "cookie-"+id {
			w.WriteHeader(http.StatusUnauthorized) // another agent's cookie, or none
			return
		}
		switch res {
		case "chat":
			f.mu.Lock()
			doc := f.multi[id]
			f.mu.Unlock()
			_, _ = w.Write(doc)
		case "incomingRequests":
			_, _ = w.Write(ringingDoc)
		default:
			http.NotFound(w, r)
		}
	default:
		http.NotFound(w, r)
	}
}

// benchTransports builds the transports of n agents; they trust tlsCfg's CA.
type benchTransports func(tlsCfg *tls.Config, n int) []http.RoundTripper

// transportVariants are the ways of giving n agents their transport:
// "clone" as cmd/bridge did before issue 11 (a clone of one transport per
// agent: one pool, one TLS session each), "shared-h1" one HTTP/1.1
// transport with a pool sized for the agents and a TLS session cache (what
// lpchat.NewTransport builds), "shared-h1-pool2" the same with Go's default
// 2 idle connections per host (why the pool is sized), "shared-h2" one
// transport speaking HTTP/2.
var transportVariants = []struct {
	name  string
	build benchTransports
}{
	{"clone", func(tlsCfg *tls.Config, n int) []http.RoundTripper {
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.TLSClientConfig = tlsCfg
		out := make([]http.RoundTripper, n)
		for i := range out {
			out[i] = base.Clone()
		}
		return out
	}},
	{"shared-h1", func(tlsCfg *tls.Config, n int) []http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsCfg.Clone()
		t.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
		t.ForceAttemptHTTP2 = false
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP1(true)
		t.MaxIdleConns = n
		t.MaxIdleConnsPerHost = n
		t.MaxConnsPerHost = n
		return repeat(t, n)
	}},
	{"shared-h1-pool2", func(tlsCfg *tls.Config, n int) []http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsCfg.Clone()
		t.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
		t.ForceAttemptHTTP2 = false
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP1(true)
		return repeat(t, n)
	}},
	{"shared-h2", func(tlsCfg *tls.Config, n int) []http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsCfg.Clone()
		t.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
		t.ForceAttemptHTTP2 = true
		return repeat(t, n)
	}},
}

// repeat returns n times t.
func repeat(t http.RoundTripper, n int) []http.RoundTripper {
	out := make([]http.RoundTripper, n)
	for i := range out {
		out[i] = t
	}
	return out
}

// BenchmarkPollShared measures one poll tick of many agents over TLS: every
// agent session polls its chats (one multi-chat GET of 5 chats) and
// incomingRequests, all at once (burst: ticks that line up) or one after
// the other (spread: ticks spread over the poll interval, as agents that
// started apart poll). The variants differ only in how the agents get
// their HTTP transport; conns is how many connections the service saw in
// all (setup included), dials/op the new connections per tick,
// handshakes/op the full (not resumed) TLS handshakes per tick and
// cpu-ns/op the CPU time per tick of client and loopback server together
// (ns/op of a burst is wall time on however many cores there are).
func BenchmarkPollShared(b *testing.B) {
	const agents, chats = 100, 5
	for _, v := range transportVariants {
		for _, burst := range []bool{true, false} {
			mode := "spread"
			if burst {
				mode = "burst"
			}
			b.Run(fmt.Sprintf("tls/%s/agents=%d/%s", v.name, agents, mode), func(b *testing.B) {
				pollShared(b, v.build, agents, chats, burst)
			})
		}
	}
}

// pollShared runs BenchmarkPollShared for one variant.
func pollShared(b *testing.B, build benchTransports, agents, chats int, burst bool) {
	f := newAgentsFake(b, chats)
	tlsCfg := &tls.Config{RootCAs: f.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	cursors := make([]lpchat.ChatCursor, chats)
	for i := range cursors {
		cursors[i] = lpchat.ChatCursor{ChatID: chatID(i), LastEventID: 3}
	}
	ctx := b.Context()
	sessions := make([]*lpchat.AgentSession, agents)
	for i, tr := range build(tlsCfg, agents) {
		c, err := lpchat.New(lpchat.Config{DomainURL: f.srv.URL, Account: testAccount, Transport: tr})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword}); err != nil {
			b.Fatal(err)
		}
		if sessions[i], err = c.StartAgentSession(ctx); err != nil {
			b.Fatal(err)
		}
	}
	poll := func(s *lpchat.AgentSession) error {
		got, err := s.Chats(ctx, cursors)
		if err == nil && (len(got) != chats || len(got[0].Events) != 2) {
			err = fmt.Errorf("got %d chats", len(got))
		}
		if err == nil {
			_, err = s.IncomingRequests(ctx)
		}
		return err
	}
	tick := func() {
		if !burst {
			for _, s := range sessions {
				if err := poll(s); err != nil {
					b.Fatal(err)
				}
			}
			return
		}
		var wg sync.WaitGroup
		errs := make(chan error, agents)
		for _, s := range sessions {
			wg.Go(func() {
				if err := poll(s); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	tick() // the pools fill on the first tick
	full, conns := f.full.Load(), f.conns.Load()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := harness.ProcessCPU()
	for b.Loop() {
		tick()
	}
	b.StopTimer()
	b.ReportMetric(float64(harness.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(f.conns.Load()), "conns")
	b.ReportMetric(float64(f.conns.Load()-conns)/float64(b.N), "dials/op")
	b.ReportMetric(float64(f.full.Load()-full)/float64(b.N), "handshakes/op")
}

// BenchmarkRequest measures the client's cost of one small request on a
// warm connection (incomingRequests, §5.8), where the request path (URL,
// headers, retry loop, body read) outweighs decoding.
func BenchmarkRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/baseURI.json"):
			_, _ = w.Write([]byte(`{"service":"agentVep","baseURI":"` + r.Host + `"}`))
		case strings.HasSuffix(r.URL.Path, "/login"):
			_, _ = w.Write([]byte(loginDoc))
		case strings.HasSuffix(r.URL.Path, "/agentSession"):
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"agentSessionLocation":{"link":{"@href":"http://` + r.Host +
				`/api/account/` + testAccount + `/agentSession/` + testASID + `","@rel":"location"}}}`))
		default:
			_, _ = w.Write(ringingDoc)
		}
	}))
	b.Cleanup(srv.Close)
	c, err := lpchat.New(lpchat.Config{DomainURL: srv.URL, Account: testAccount, AllowInsecureHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if _, err := c.Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword}); err != nil {
		b.Fatal(err)
	}
	s, err := c.StartAgentSession(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.IncomingRequests(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
