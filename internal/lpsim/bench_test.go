package lpsim_test

import (
	"net/http"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// BenchmarkPollEvents measures one events poll over loopback HTTP.
func BenchmarkPollEvents(b *testing.B) {
	e := newEnv(b, lpsim.Config{}, true)
	c := e.online(b, "ann", annPass)
	id := e.startChat(b, lpsim.VisitorSpec{})
	chatURL := c.accept()
	for range 20 {
		if _, err := e.sim.VisitorLine(acct, id, "line"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if r := c.do(http.MethodGet, v(chatURL+"/events?from=10"), nil); r.status != http.StatusOK {
			b.Fatalf("status %d", r.status)
		}
	}
}

// BenchmarkStartAndEndChat measures the Go API of a visitor: start a chat
// (which routes it) and leave it.
func BenchmarkStartAndEndChat(b *testing.B) {
	sim, err := lpsim.New(lpsim.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	if err := sim.AddAccount(acct); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		id, err := sim.StartChat(acct, lpsim.VisitorSpec{})
		if err != nil {
			b.Fatal(err)
		}
		if err := sim.VisitorEnd(acct, id); err != nil {
			b.Fatal(err)
		}
	}
}
