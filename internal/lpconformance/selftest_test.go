package lpconformance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpconformance"
)

// The suite's own tests: it must report a server that breaks the
// reference, so each case below runs under a recorder (a testing.TB that
// keeps failures instead of failing the test) against a broken simulator.

// recorder is a testing.TB that records failures and skips; Fatal and Skip
// end the case's goroutine as testing does. Logs, Cleanup and Context go
// to the real test.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	skipped  string
}

func (r *recorder) Helper() {}

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, msg)
}

func (r *recorder) Fail()                             { r.fail("Fail") }
func (r *recorder) FailNow()                          { r.fail("FailNow"); runtime.Goexit() }
func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Fatal(args ...any)                 { r.fail(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any)                 { r.skip(fmt.Sprint(args...)) }
func (r *recorder) Skipf(format string, args ...any) { r.skip(fmt.Sprintf(format, args...)) }
func (r *recorder) SkipNow()                         { r.skip("SkipNow") }

func (r *recorder) skip(msg string) {
	r.mu.Lock()
	r.skipped = msg
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) > 0
}

func (r *recorder) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.failures, "\n")
}

// runCase runs one named case of the suite under a recorder.
func runCase(t *testing.T, tg lpconformance.Target, name string) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	i := slices.IndexFunc(lpconformance.Cases(tg), func(c lpconformance.Case) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("no case %q", name)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		lpconformance.Cases(tg)[i].Run(r)
	}()
	<-done
	return r
}

// rewrite is a middleware that lets the simulator answer, then may change
// the answer: edit gets the request and the recorded answer.
func rewrite(edit func(r *http.Request, rec *httptest.ResponseRecorder)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			edit(r, rec)
			maps.Copy(w.Header(), rec.Header())
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
}

// acceptsBadBearer answers 200 {} where the simulator refused a bearer.
var acceptsBadBearer = rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
	if rec.Code == http.StatusUnauthorized && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		rec.Code = http.StatusOK
		rec.Body = bytes.NewBufferString("{}")
	}
})

// reversesEvents returns every event list newest first.
var reversesEvents = rewrite(func(_ *http.Request, rec *httptest.ResponseRecorder) {
	var doc any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
		return
	}
	walk(doc, func(m map[string]any) {
		if list, ok := m["event"].([]any); ok {
			slices.Reverse(list)
		}
	})
	b, _ := json.Marshal(doc)
	rec.Body = bytes.NewBuffer(b)
})

// hidesRingingLink drops the link of a ringing incomingRequests document
// (§5.8 says one appears beside the count).
var hidesRingingLink = rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
	var doc map[string]map[string]any
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/incomingRequests") ||
		json.Unmarshal(rec.Body.Bytes(), &doc) != nil || doc["incomingRequests"] == nil {
		return
	}
	delete(doc["incomingRequests"], "link")
	b, _ := json.Marshal(doc)
	rec.Body = bytes.NewBuffer(b)
})

func walk(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		for _, e := range x {
			walk(e, f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}

func TestSuiteReportsABrokenServer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		broken func(http.Handler) http.Handler
		cases  []string // every one must fail
		says   string   // in the failure report
	}{
		{"200 to a bad bearer", acceptsBadBearer, []string{"errors/bad-bearer"}, "want status [401]"},
		{"events out of order", reversesEvents, []string{"chat/resource", "chat/lines-and-events"}, "do not rise by one"},
		{"no link while ringing", hidesRingingLink, []string{"chat/ringing-and-accept"}, "want one link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range tc.cases {
				healthy := runCase(t, inProcessTarget(t, nil), name)
				if healthy.Failed() || healthy.skipped != "" {
					t.Fatalf("%s fails or skips on the healthy simulator: %s%s", name, healthy.report(), healthy.skipped)
				}
				r := runCase(t, inProcessTarget(t, tc.broken), name)
				t.Logf("%s: %s", name, r.report())
				if !r.Failed() || !strings.Contains(r.report(), tc.says) {
					t.Errorf("%s on a server with %s: failures %q; want one saying %q", name, tc.name, r.report(), tc.says)
				}
			}
		})
	}
}

func TestVisitorCasesSkipWithoutAVisitor(t *testing.T) {
	tg := inProcessTarget(t, nil)
	tg.Visitor = nil
	for _, c := range lpconformance.Cases(tg) {
		if !strings.HasPrefix(c.Name, "chat/") && c.Name != "client/lpchat" {
			continue
		}
		r := runCase(t, tg, c.Name)
		if r.Failed() || !strings.Contains(r.skipped, "no Visitor") {
			t.Errorf("%s without a Visitor: failures %q, skip %q; want a skip naming the Visitor", c.Name, r.report(), r.skipped)
		}
	}
	tg.SecondAgent = lpconformance.Agent{}
	if r := runCase(t, tg, "cookies-per-agent"); !strings.Contains(r.skipped, "no SecondAgent") {
		t.Errorf("cookies-per-agent without a second agent: skip %q, failures %q", r.skipped, r.report())
	}
}

func TestTargetValidate(t *testing.T) {
	err := lpconformance.Target{DomainURL: "ftp://x", Visitor: &lpconformance.SimVisitor{},
		Agent: lpconformance.Agent{AppKey: "k"}}.Validate()
	for _, want := range []string{"DomainURL", "Account", "Agent.Username", "Agent.Secret", "SkillID"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to name %s", err, want)
		}
	}
	if err := inProcessTarget(t, nil).Validate(); err != nil {
		t.Errorf("a complete target: %v", err)
	}
}

// TestTargetFromEnv points the LPCONFORMANCE_* variables at the in-process
// simulator, as a user would at their server, and runs the whole suite.
func TestTargetFromEnv(t *testing.T) {
	tg := inProcessTarget(t, nil)
	for k, v := range map[string]string{
		lpconformance.EnvDomainURL: tg.DomainURL, lpconformance.EnvAccount: tg.Account,
		lpconformance.EnvUsername: tg.Agent.Username, lpconformance.EnvAppKey: tg.Agent.AppKey,
		lpconformance.EnvSecret: tg.Agent.Secret, lpconformance.EnvUsername + "2": tg.SecondAgent.Username,
		lpconformance.EnvPassword + "2": tg.SecondAgent.Password, lpconformance.EnvSkillID: tg.SkillID,
		lpconformance.EnvSimControlURL: tg.DomainURL, lpconformance.EnvPollInterval: "5ms",
	} {
		t.Setenv(k, v)
	}
	got, ok, err := lpconformance.TargetFromEnv()
	if !ok || err != nil || got.Agent.Password != "" || got.Visitor == nil {
		t.Fatalf("TargetFromEnv: agent %q (password set: %t), visitor %T, %v, %v; want an app-login agent and a SimVisitor",
			got.Agent.Username, got.Agent.Password != "", got.Visitor, ok, err)
	}
	lpconformance.Run(t, got)

	t.Setenv(lpconformance.EnvPollInterval, "often")
	if _, _, err := lpconformance.TargetFromEnv(); err == nil || !strings.Contains(err.Error(), lpconformance.EnvPollInterval) {
		t.Errorf("a bad poll interval: %v", err)
	}
	t.Setenv(lpconformance.EnvDomainURL, "")
	if _, ok, _ := lpconformance.TargetFromEnv(); ok {
		t.Error("no domain URL: want ok false")
	}
}
