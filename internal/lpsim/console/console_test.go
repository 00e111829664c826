package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/lpsim/console"
)

// newSim serves a simulator with the console mounted, as the binaries do.
func newSim(t *testing.T) (*lpsim.Simulator, string) {
	t.Helper()
	sim, err := lpsim.New(lpsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// answer is a read response.
type answer struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, url string) (answer, string) {
	t.Helper()
	res, err := noRedirect.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{StatusCode: res.StatusCode, Header: res.Header}, string(b)
}

// TestPageAndAssetsServedFromBinary reads the page through the simulator's
// handler and every file it references, each with its own content type.
func TestPageAndAssetsServedFromBinary(t *testing.T) {
	sim, base := newSim(t)
	res, page := get(t, base+console.Prefix)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET %s: %d %q", console.Prefix, res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`id="new-chat"`, `id="agents"`, `id="chat-template"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("page headers %v: want nosniff and a self-only CSP", res.Header)
	}

	wantType := map[string]string{
		"app.js":    "text/javascript; charset=utf-8",
		"style.css": "text/css; charset=utf-8",
		"icon.svg":  "image/svg+xml",
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	seen := map[string]bool{}
	for _, m := range refs {
		name := m[1]
		seen[name] = true
		res, body := get(t, base+console.Prefix+name)
		if res.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s: %d, %d bytes", name, res.StatusCode, len(body))
		}
		if got := res.Header.Get("Content-Type"); got != wantType[name] {
			t.Errorf("GET %s: Content-Type %q, want %q", name, got, wantType[name])
		}
	}
	for name := range wantType {
		if !seen[name] {
			t.Errorf("page does not reference %s", name)
		}
	}
	// The script talks to the control API relative to the page.
	if _, js := get(t, base+console.Prefix+"app.js"); !strings.Contains(js, "'../sim/'") {
		t.Error("app.js does not reach the control API at ../sim/")
	}
	if n := sim.Requests(); n != 0 {
		t.Errorf("console requests counted as API requests: %d", n)
	}
}

func TestIndexByNameAndRedirect(t *testing.T) {
	_, base := newSim(t)
	_, byDir := get(t, base+console.Prefix)
	res, byName := get(t, base+console.Prefix+"index.html")
	if res.StatusCode != http.StatusOK || byName != byDir {
		t.Errorf("GET index.html: %d, same as the directory: %v", res.StatusCode, byName == byDir)
	}
	res, _ = get(t, base+strings.TrimSuffix(console.Prefix, "/"))
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != console.Prefix {
		t.Errorf("GET /console: %d Location %q, want 301 to %s", res.StatusCode, res.Header.Get("Location"), console.Prefix)
	}
}

func TestOnlyTheConsoleFilesAreServed(t *testing.T) {
	_, base := newSim(t)
	for _, p := range []string{"nope.js", "console.go", "static/app.js", "..%2fconsole.go", "style.css/"} {
		if res, _ := get(t, base+console.Prefix+p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s%s: %d, want 404", console.Prefix, p, res.StatusCode)
		}
	}
	res, err := noRedirect.Post(base+console.Prefix+"app.js", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST app.js: %d, want 405", res.StatusCode)
	}
}

func TestServes(t *testing.T) {
	for p, want := range map[string]bool{"/console/": true, "/console": true, "/console/app.js": true,
		"/consoles": false, "/sim/console/": false, "/api/account/1/login": false} {
		if got := console.Serves(p); got != want {
			t.Errorf("Serves(%q) = %v, want %v", p, got, want)
		}
	}
}
