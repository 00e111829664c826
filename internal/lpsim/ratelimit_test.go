package lpsim_test

import (
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// Beyond its request budget an account gets 429 with a Retry-After of the
// whole seconds until its next token; the bucket refills with time.
func TestRequestBudgetAnswers429(t *testing.T) {
	e, c, _, _ := chattingEnv(t, lpsim.VisitorSpec{})
	e.sim.SetRequestBudget(0.5, 2) // a token every 2 s
	for range 2 {
		c.get(c.as+"/availability").expect(t, 200)
	}
	r := c.get(c.as+"/availability").expect(t, 429)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
	if str(t, r.doc, "error.responseStatus") != "TOO_MANY_REQUESTS" {
		t.Errorf("429 body: %s", r.raw)
	}
	e.clock.Advance(2 * time.Second)
	c.get(c.as+"/availability").expect(t, 200)
	c.get(c.as+"/availability").expect(t, 429)
	if n := e.sim.Throttled(); n != 2 {
		t.Errorf("Throttled = %d, want 2", n)
	}
	e.sim.SetRequestBudget(0, 0)
	for range 5 {
		c.get(c.as+"/availability").expect(t, 200)
	}
}
