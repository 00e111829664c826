package lpsim_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// TestReapedStatus: every call on an ended agent session, its chats'
// included, answers Config.ReapedStatus (401 by default).
func TestReapedStatus(t *testing.T) {
	for _, status := range []int{0, 401, 403, 404, 410, 400} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newEnv(t, lpsim.Config{ReapedStatus: status}, false)
			ann := e.online(t, "ann", annPass)
			e.startChat(t, lpsim.VisitorSpec{SkillID: skillBill})
			chat := ann.accept()
			must(t, e.sim.ExpireAgentSession(acct, "ann"))
			want := status
			if want == 0 {
				want = http.StatusUnauthorized
			}
			for _, u := range []string{ann.as, ann.as + "/incomingRequests", ann.as + "/chatSessions", ann.as + "/availability", chat} {
				ann.get(u).expect(t, want)
			}
		})
	}
	if _, err := lpsim.New(lpsim.Config{ReapedStatus: 500}); !errors.Is(err, lpsim.ErrBadReapedStatus) {
		t.Errorf("ReapedStatus 500: err = %v, want ErrBadReapedStatus", err)
	}
}

// TestFixedLoginTTL: with FixedLoginTTL a refresh answers 200 but the login
// still ends LoginTTL after it was made (a bearer of an ended login gets
// 401); a new login works again.
func TestFixedLoginTTL(t *testing.T) {
	e := newEnv(t, lpsim.Config{LoginTTL: time.Hour, SessionIdleTimeout: 10 * time.Hour, FixedLoginTTL: true}, false)
	c := e.client(t)
	c.login("ann", annPass)
	c.startSession()
	e.clock.Advance(50 * time.Minute)
	c.post(c.base+"/refresh", map[string]string{"csrf": c.csrf}).expect(t, 200)
	c.get(c.as+"/availability").expect(t, 200)
	e.clock.Advance(11 * time.Minute)
	c.get(c.as+"/availability").expect(t, 401)
	c.login("ann", annPass)
	c.get(c.as+"/availability").expect(t, 200)
}
