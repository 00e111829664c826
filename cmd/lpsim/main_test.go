package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/testwait"
)

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRun runs the command on port 0 and returns its base URL.
func startRun(t *testing.T, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), out) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	re := regexp.MustCompile(`listening on (https?://127\.0\.0\.1:\d+)`)
	var base string
	testwait.Until(t, 5*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v; output %s", err, out.String())
		default:
		}
		m := re.FindStringSubmatch(out.String())
		if m == nil {
			return fmt.Errorf("no listening line in %q", out.String())
		}
		base = m[1]
		return nil
	})
	return base, out, stop
}

type walker struct {
	t      *testing.T
	hc     *http.Client
	bearer string
}

func (w *walker) do(method, url, body string, hdr ...string) map[string]any {
	w.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if w.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+w.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		w.t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	doc := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &doc); err != nil {
			w.t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	return doc
}

func get(t *testing.T, doc map[string]any, keys ...string) string {
	t.Helper()
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: no %s", doc, k)
		}
		cur = m[k]
	}
	s, ok := cur.(string)
	if !ok {
		t.Fatalf("%v: %v is not a string", doc, keys)
	}
	return s
}

func TestRunServesTheWalkthrough(t *testing.T) {
	base, out, stop := startRun(t, "-seed", "3", "-log-level", "warn")
	jar, _ := cookiejar.New(nil)
	w := &walker{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	acct := base + "/api/account/55500011"

	host := get(t, w.do("GET", base+"/api/account/55500011/service/agentVep/baseURI.json?version=1.0", ""), "baseURI")
	if "http://"+host != base {
		t.Fatalf("baseURI %q for %q", host, base)
	}
	w.bearer = get(t, w.do("POST", acct+"/login?v=1.3", `{"username":"bot.one","password":"demo-password"}`), "bearer")
	as := get(t, w.do("POST", acct+"/agentSession?v=1&NC=true", `{"loginData":""}`), "agentSessionLocation", "link", "@href")
	w.do("POST", as+"/availability?v=1&NC=true", `{"availability":{"chat":"Online"}}`, "X-HTTP-Method-Override", "PUT")

	saved := w.bearer
	w.bearer = ""
	chatID := get(t, w.do("POST", base+"/sim/accounts/55500011/chats", `{"name":"Jane","skillId":"31100810"}`), "chatId")
	w.bearer = saved

	if n := get(t, w.do("GET", as+"/incomingRequests?v=1&NC=true", ""), "incomingRequests", "ringingCount"); n != "1" {
		t.Fatalf("ringingCount %s", n)
	}
	chat := get(t, w.do("POST", as+"/incomingRequests?v=1&NC=true", `{}`), "chatLocation", "link", "@href")
	if !strings.HasSuffix(chat, "/chat/"+chatID) {
		t.Fatalf("accepted %s, want %s", chat, chatID)
	}
	if st := get(t, w.do("GET", chat+"?v=1&NC=true", ""), "chat", "info", "state"); st != "chatting" {
		t.Fatalf("chat state %s", st)
	}
	w.do("POST", chat+"/events?v=1&NC=true", `{"event":{"@type":"line","text":"Hello Jane","textType":"plain"}}`)
	w.bearer = ""
	events := w.do("GET", base+"/sim/accounts/55500011/chats/"+chatID+"/events", "")
	list, _ := events["events"].([]any)
	if len(list) != 5 || !strings.Contains(string(mustJSON(t, list[4])), "Hello Jane") {
		t.Fatalf("events %v", events)
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(out.String(), "demo-password") {
		t.Fatal("the password must not be printed")
	}
	if !strings.Contains(out.String(), "lpsim: stopped") {
		t.Fatalf("no graceful stop in %q", out.String())
	}
}

func TestRunScriptedVisitors(t *testing.T) {
	base, _, stop := startRun(t, "-visitors-per-minute", "6000", "-agents", "solo")
	w := &walker{t: t, hc: &http.Client{Timeout: 10 * time.Second}}
	acct := base + "/api/account/55500011"
	w.bearer = get(t, w.do("POST", acct+"/login", `{"username":"solo","password":"demo-password"}`), "bearer")
	as := get(t, w.do("POST", acct+"/agentSession", ``), "agentSessionLocation", "link", "@href")
	w.do("PUT", as+"/availability", `{"availability":{"chat":"Online"}}`)
	testwait.True(t, 5*time.Second, "a scripted chat to ring", func() bool {
		return get(t, w.do("GET", as+"/incomingRequests", ""), "incomingRequests", "ringingCount") != "0"
	})
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-max-chats", "0"}, {"-agents", ""}, {"-nope"}, {"-log-level", "loud"}, {"extra"}, {"-tls-cert", "c.pem"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run %v: want an error", args)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
