package lpchat_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

func TestNewValidatesConfig(t *testing.T) {
	_, err := lpchat.New(lpchat.Config{DomainURL: "http://127.0.0.1:8280", Account: "55500011"})
	if !errors.Is(err, lpchat.ErrInvalidConfig) || !strings.Contains(err.Error(), "invalid config") ||
		!strings.Contains(err.Error(), "https") {
		t.Errorf("plain-HTTP DomainURL without AllowInsecureHTTP: err = %v", err)
	}
	if _, err := lpchat.New(lpchat.Config{DomainURL: "http://127.0.0.1:8280", Account: "55500011", AllowInsecureHTTP: true}); err != nil {
		t.Errorf("plain HTTP with AllowInsecureHTTP: %v", err)
	}
	if _, err := lpchat.New(lpchat.Config{Account: "55500011"}); err != nil {
		t.Errorf("defaults: %v", err)
	}
	// Every problem is named at once.
	_, err = lpchat.New(lpchat.Config{DomainURL: "ftp://x", HTTPTimeout: -1,
		Retry: lpchat.RetryPolicy{Max429Retries: -1}})
	for _, want := range []string{"Account is required", "DomainURL", "HTTPTimeout", "Max429Retries"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
	for _, bad := range []string{"https://user:pw@h", "https://h/?q=1", "https://", "::"} {
		if _, err := lpchat.New(lpchat.Config{DomainURL: bad, Account: "1"}); !errors.Is(err, lpchat.ErrInvalidConfig) {
			t.Errorf("DomainURL %q accepted", bad)
		}
	}
	if _, err := lpchat.New(lpchat.Config{Account: "1/../2"}); !errors.Is(err, lpchat.ErrInvalidConfig) {
		t.Error("account with a slash accepted")
	}
}

func TestHTTPSAgentVepHost(t *testing.T) {
	var paths sync.Map
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path, r.TLS != nil)
		if strings.HasSuffix(r.URL.Path, "/baseURI.json") {
			writeJSON(w, 200, `{"service":"agentVep","account":"1","baseURI":"`+r.Host+`"}`)
			return
		}
		writeJSON(w, 200, loginDoc)
	}))
	t.Cleanup(srv.Close)
	c, err := lpchat.New(lpchat.Config{DomainURL: srv.URL, Account: "1", Transport: srv.Client().Transport, Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(testCtx(t), lpchat.Credentials{Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if tls, ok := paths.Load("/api/account/1/login"); !ok || tls != true {
		t.Error("login did not go to the agentVep host over https")
	}
}

func TestDomainLookupCachedAndValidated(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := testCtx(t)
	host, err := c.LookupDomain(ctx)
	if err != nil || host != strings.TrimPrefix(f.srv.URL, "http://") {
		t.Fatalf("LookupDomain = %q, %v", host, err)
	}
	if _, err := c.LookupDomain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests("/baseURI.json")); n != 1 {
		t.Errorf("%d lookups, want 1 (cached)", n)
	}
	if q := f.last("/baseURI.json").Query; q != "version=1.0" {
		t.Errorf("lookup query = %q", q)
	}
	for _, bad := range []string{`{"service":"agentVep","baseURI":""}`, `{"service":"agentVep","baseURI":"h/evil?x"}`,
		`{"service":"smt","baseURI":"h"}`, `not json`} {
		f2 := newFake(t)
		f2.serveDoc("GET /service/agentVep/baseURI.json", 200, bad)
		if _, err := newClient(t, f2).LookupDomain(ctx); !errors.Is(err, lpchat.ErrProtocol) {
			t.Errorf("%s: err = %v, want ErrProtocol", bad, err)
		}
	}
}

func TestHeadersQueryAndCookies(t *testing.T) {
	f := newFake(t)
	s := session(t, f, func(c *lpchat.Config) { c.UserAgent = "lpbridge-test/1" })
	f.serveDoc("GET /agentSession/"+testASID+"/incomingRequests", 200, `{"incomingRequests":{"ringingCount":"0"}}`)
	if _, err := s.IncomingRequests(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	req := f.last("/incomingRequests")
	checks := map[string]string{
		"Authorization": "Bearer " + testBearer, "Accept": "application/json",
		"Content-Type": "application/json", "User-Agent": "lpbridge-test/1",
	}
	for h, want := range checks {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if req.Query != "v=1&NC=true" {
		t.Errorf("query = %q", req.Query)
	}
	// Cookies set on login and agent-session creation come back (§10).
	cookie := req.Header.Get("Cookie")
	if !strings.Contains(cookie, "Session_id=login-cookie-1") || !strings.Contains(cookie, "agentSessionCookie=as-cookie-1") {
		t.Errorf("Cookie = %q", cookie)
	}
	if err := s.Client().Refresh(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if c := f.last("/refresh").Header.Get("Cookie"); !strings.Contains(c, "Session_id=login-cookie-1") {
		t.Errorf("refresh Cookie = %q", c)
	}
	if names := s.Client().CookieNames(); !slices.Equal(names, []string{"Session_id", "agentSessionCookie"}) &&
		!slices.Equal(names, []string{"agentSessionCookie", "Session_id"}) {
		t.Errorf("CookieNames() = %v", names)
	}

	// A second agent's client has its own jar.
	other := newClient(t, f)
	if _, err := other.LookupDomain(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(other.CookieNames()); n != 0 {
		t.Errorf("second client sees %d cookies of the first", n)
	}
}

func TestCallsBeforeLoginAndAfterLogout(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := testCtx(t)
	if _, err := c.StartAgentSession(ctx); !errors.Is(err, lpchat.ErrAuth) {
		t.Errorf("before login: err = %v, want ErrAuth", err)
	}
	if err := c.Refresh(ctx); !errors.Is(err, lpchat.ErrAuth) {
		t.Errorf("refresh before login: err = %v", err)
	}
	if n := len(f.requests("/agentSession")) + len(f.requests("/refresh")); n != 0 {
		t.Errorf("%d requests sent without a login", n)
	}
	s := session(t, f)
	if err := s.Client().Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if b := f.last("/logout").Body; b != `{"csrf":"`+testCSRF+`"}` {
		t.Errorf("logout body = %s", b)
	}
	if _, err := s.IncomingRequests(ctx); !errors.Is(err, lpchat.ErrSessionLost) {
		t.Errorf("after logout: err = %v, want ErrSessionLost", err)
	}
}

func TestResumeAgentSession(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := testCtx(t)
	s := c.ResumeAgentSession(testASID) // before the domain lookup
	if s.ID != testASID || s.URL != "" {
		t.Errorf("resumed = %+v", s)
	}
	if _, err := c.Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	f.serveDoc("GET /agentSession/"+testASID+"/incomingRequests", 200, `{"incomingRequests":{"ringingCount":"3"}}`)
	if r, err := s.IncomingRequests(ctx); err != nil || r.Count != 3 {
		t.Errorf("IncomingRequests = %+v, %v", r, err)
	}
	if s2 := c.ResumeAgentSession(testASID); s2.URL != f.as() {
		t.Errorf("resumed after lookup: URL = %q", s2.URL)
	}
	f.serveDoc("GET /agentSession/"+testASID, 200, `{"agentSession":{"link":{"@href":"{as}","@rel":"self"}}}`)
	if raw, err := s.Resource(ctx); err != nil || !strings.Contains(string(raw), `"self"`) {
		t.Errorf("Resource = %s, %v", raw, err)
	}
}

func TestErrorMessages(t *testing.T) {
	f := newFake(t)
	s := session(t, f)
	_, err := s.SendLine(testCtx(t), "H9-unknownK9", lpchat.Line{Text: "x"})
	if !errors.Is(err, lpchat.ErrNotFound) || !strings.HasPrefix(err.Error(), "lpchat: send line: 404 not found") {
		t.Errorf("err = %v", err)
	}
	f.handle("GET /agentSession/"+testASID+"/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, strings.Repeat(" ", 8<<20+1))
	})
	if _, err := s.Info(testCtx(t)); !errors.Is(err, lpchat.ErrProtocol) {
		t.Errorf("oversized body: err = %v", err)
	}
	f.serveDoc("GET /agentSession/"+testASID+"/info", 200, `<info/>`)
	if _, err := s.Info(testCtx(t)); !errors.Is(err, lpchat.ErrProtocol) || !strings.HasPrefix(err.Error(), "lpchat: agent info: decode") {
		t.Errorf("XML body: err = %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/incomingRequests", 200, `{"incomingRequests":{"ringingCount":"1"}}`)
	f.serveDoc("GET /agentSession/"+testASID+"/chat", 200, multiChatDoc)
	f.serveDoc("POST /agentSession/"+testASID+"/chat/"+testChatID+"/events", 201,
		`{"chatEventLocation":{"link":{"@href":"{chat}/events/7","@rel":"location"}}}`)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				var err error
				switch i % 4 {
				case 0:
					_, err = s.IncomingRequests(ctx)
				case 1:
					_, err = s.Chats(ctx, []lpchat.ChatCursor{{ChatID: testChatID, LastEventID: -1}})
				case 2:
					_, err = s.SendLine(ctx, testChatID, lpchat.Line{Text: "x"})
				case 3:
					err = s.Client().Refresh(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(f.requests("/incomingRequests")); n != 10 {
		t.Errorf("%d incomingRequests calls, want 10", n)
	}
}
