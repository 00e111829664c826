package lpchat_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// Test values. The secrets are long and distinctive so a leak is easy to spot.
const (
	testAccount  = "55500011"
	testUser     = "bot.one"
	testPassword = "pw-S3CRET-do-not-leak"
	testBearer   = "bearer0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	testCSRF     = "csrf00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
	testASID     = "2038801122"
	testChatID   = "H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400001"
)

// recorded is one request the fake server received.
type recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

// fakeLP is a small stand-in for the LivePerson service: routes keyed by
// "METHOD /path" (path relative to /api/account/{account}), every request
// recorded. Domain lookup, login and agent-session creation work by default.
type fakeLP struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	reqs   []recorded
}

// newFake starts a fake service; it stops at the end of the test.
func newFake(t testing.TB) *fakeLP {
	t.Helper()
	f := &fakeLP{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	f.handle("GET /service/agentVep/baseURI.json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"service":"agentVep","account":"`+testAccount+`","baseURI":"`+host+`"}`)
	})
	f.handle("POST /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "Session_id", Value: "login-cookie-1", Path: "/"})
		writeJSON(w, 200, loginDoc)
	})
	f.handle("POST /refresh", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	f.handle("POST /logout", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	f.handle("POST /agentSession", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "agentSessionCookie", Value: "as-cookie-1", Path: "/"})
		writeJSON(w, 201, `{ "agentSessionLocation": { "link": {
    "@href": "`+f.base()+`/agentSession/`+testASID+`",
    "@rel": "location" } } }`)
	})
	return f
}

// base is {base} of the fake service.
func (f *fakeLP) base() string { return f.srv.URL + "/api/account/" + testAccount }

// as is {as} of the fake service's agent session.
func (f *fakeLP) as() string { return f.base() + "/agentSession/" + testASID }

// chat is {chat} of the test chat.
func (f *fakeLP) chat() string { return f.as() + "/chat/" + testChatID }

// handle sets the handler of "METHOD /path" (relative to {base}).
func (f *fakeLP) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = h
}

// serveDoc makes route answer status with body after replacing the
// reference's placeholders {as}, {chat}, {chatId}.
func (f *fakeLP) serveDoc(route string, status int, body string) {
	body = f.expand(body)
	f.handle(route, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, status, body) })
}

// expand replaces the reference's placeholders with the fake's URLs.
func (f *fakeLP) expand(s string) string {
	return strings.NewReplacer("{chat}", f.chat(), "{as}", f.as(), "{chatId}", testChatID).Replace(s)
}

// serve records the request and dispatches it.
func (f *fakeLP) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: string(body)})
	rel := strings.TrimPrefix(r.URL.Path, "/api/account/"+testAccount)
	h, ok := f.routes[r.Method+" "+rel]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 404, `{"error":{"message":"no route `+r.Method+" "+rel+`","internalCode":404}}`)
		return
	}
	h(w, r)
}

// requests returns the requests whose path ends with suffix.
func (f *fakeLP) requests(suffix string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// last returns the last request whose path ends with suffix.
func (f *fakeLP) last(suffix string) recorded {
	f.t.Helper()
	rs := f.requests(suffix)
	if len(rs) == 0 {
		f.t.Fatalf("no request to ...%s", suffix)
	}
	return rs[len(rs)-1]
}

// writeJSON writes a JSON answer.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// fastRetry is a policy with the documented shape and tiny waits.
func fastRetry() lpchat.RetryPolicy {
	return lpchat.RetryPolicy{
		ServerBackoff:      []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond},
		MinRetryAfter:      time.Millisecond,
		LoginMinRetryAfter: time.Millisecond,
		Max429Retries:      3,
	}
}

// newClient returns a client of the fake service (not logged in).
func newClient(t *testing.T, f *fakeLP, mods ...func(*lpchat.Config)) *lpchat.Client {
	t.Helper()
	cfg := lpchat.Config{
		DomainURL: f.srv.URL, Account: testAccount, AllowInsecureHTTP: true,
		Retry: fastRetry(), HTTPTimeout: 5 * time.Second,
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := lpchat.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// session logs in and starts an agent session on the fake service.
func session(t *testing.T, f *fakeLP, mods ...func(*lpchat.Config)) *lpchat.AgentSession {
	t.Helper()
	c := newClient(t, f, mods...)
	ctx := testCtx(t)
	if _, err := c.Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword}); err != nil {
		t.Fatalf("Login: %v", err)
	}
	s, err := c.StartAgentSession(ctx)
	if err != nil {
		t.Fatalf("StartAgentSession: %v", err)
	}
	return s
}

// testCtx is a context that ends with the test (bounded, so a hang fails).
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// loginDoc is the login response of chat-agent-api.md §4.3 with test tokens.
const loginDoc = `{
  "csrf": "` + testCSRF + `",
  "wsuk": "1234567",
  "config": {
    "loginName": "bot.one", "userId": "31100910", "userPrivileges": [100, 101, 1730],
    "serverCurrentTime": 1700000000000, "timeDiff": -25200000,
    "serverTimeZoneName": "America/New_York", "serverTimeGMTDiff": -18000000,
    "isLPA": false, "isAdmin": false, "accountTimeZoneId": "America/New_York"
  },
  "csdsCollectionResponse": { "baseURIs": [
    { "account": "55500011", "baseURI": "va.agentvep.liveperson.net", "service": "agentVep" }
  ] },
  "accountData": { "agentGroupsData": { "items": [ { "id": -1, "deleted": false, "name": "Main Group" } ], "revision": 1 } },
  "sessionTTl": "28800000",
  "bearer": "` + testBearer + `"
}`
