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

// TestPrintsAndServesTheConsole: the address lpsim prints is the page.
func TestPrintsAndServesTheConsole(t *testing.T) {
	base, out, stop := startRun(t)
	re := regexp.MustCompile(`lpsim: visitor console: (\S+)\n`)
	var m []string
	testwait.Until(t, 5*time.Second, func() error {
		if m = re.FindStringSubmatch(out.String()); m == nil || m[1] != base+"/console/" {
			return fmt.Errorf("no visitor console line for %s in %q", base, out.String())
		}
		return nil
	})
	res, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "visitor console") {
		t.Fatalf("GET %s: %d %.200s", m[1], res.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
