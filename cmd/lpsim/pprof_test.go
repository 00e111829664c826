package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/testwait"
)

// TestProfilesOnTheirOwnAddress checks that -pprof-addr serves the profile
// index on its own listener, and that the API address does not.
func TestProfilesOnTheirOwnAddress(t *testing.T) {
	base, out, stop := startRun(t, "-pprof-addr", "127.0.0.1:0")
	re := regexp.MustCompile(`profiles on (http://127\.0\.0\.1:\d+)/debug/pprof/`)
	var prof string
	testwait.Until(t, 5*time.Second, func() error {
		m := re.FindStringSubmatch(out.String())
		if m == nil {
			return fmt.Errorf("no profiles line in %q", out.String())
		}
		prof = m[1]
		return nil
	})
	status := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	if code, body := status(prof + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("profile index: %d %.200s", code, body)
	}
	if code, _ := status(base + "/debug/pprof/"); code == http.StatusOK {
		t.Fatalf("the API address serves profiles too")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
