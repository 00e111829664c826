// Package console is the simulator's visitor console: a web page, embedded
// in the binary, on which a person plays visitors (start a chat on a skill
// with a pre-chat survey, type, send lines, see the bot's lines and typing,
// end the chat) and watches the simulator's agents. The page uses only the
// simulator's control API under /sim/, polled, so a test can do anything it
// does. It imports nothing of lpsim: lpsim mounts Handler under Prefix.
package console

import (
	"bytes"
	"embed"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is where the console is served; the page reaches the control API
// relative to it, at ../sim/.
const Prefix = "/console/"

//go:embed static
var files embed.FS

// Serves reports whether a request path belongs to the console: Prefix and
// everything below it, and Prefix without its slash (redirected).
func Serves(urlPath string) bool {
	return strings.HasPrefix(urlPath, Prefix) || urlPath == strings.TrimSuffix(Prefix, "/")
}

// Handler serves the console's files. Content types are fixed here rather
// than taken from the host's mime tables, which differ between machines.
func Handler() http.Handler { return http.HandlerFunc(serve) }

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !strings.HasPrefix(r.URL.Path, Prefix) {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, Prefix)
	if name == "" {
		name = "index.html"
	}
	ctype := contentType(name)
	b, err := files.ReadFile("static/" + name)
	if ctype == "" || err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	// The page talks only to its own origin and embeds nothing foreign.
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	// A rebuilt binary may serve other files under the same names.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// contentType is the type of the console's own kinds of file; "" for any
// other, which is not served.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}
