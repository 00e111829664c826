package poller_test

import (
	"fmt"
	"testing"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// Auto-accept whose 502 came after the service took the chat: the worker
// finds the chat in chatSessions at once and reports it accepted by auto,
// once; a blind retry would have found nothing ringing and left the chat to
// a later sync (as if a command had taken it), or taken the next chat.
func TestAutoAcceptVerifiedAfterGateway502(t *testing.T) {
	for _, after := range []bool{true, false} {
		name := "before"
		if after {
			name = "after"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, lpsim.Config{})
			col := e.collect()
			e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/incomingRequests", Status: 502, AfterHandle: after})
			w := e.worker(config(nil), nil, nil, nil)
			run(t, w)
			chat := e.startChat(lpsim.VisitorSpec{Name: "Gus"})
			acc := col.waitEvent(events.ChatAccepted, chat, nil).Data.(events.AcceptedData)
			if acc.AcceptedBy != events.AcceptedByAuto {
				t.Errorf("acceptedBy = %q, want auto", acc.AcceptedBy)
			}
			if st, who, err := e.sim.ChatState(acct, chat); err != nil || st != "chatting" || who != login {
				t.Errorf("chat is %s at %q (%v), want chatting at %s", st, who, err, login)
			}
			if n := len(col.of(events.ChatAccepted, chat)); n != 1 {
				t.Errorf("chat.accepted %d times, want 1", n)
			}
		})
	}
}

// A chat that left the agent and rings at it again is taken back, also
// when the accept's 502 came after the service gave it the chat. Here the
// agent session is reaped: the chat is requeued, the new session's first
// chatSessions does not list it (the worker reads it a last time and puts
// it aside), and then it rings at the same agent. The worker must not count
// the chat it put aside as one it holds, or it never polls it again while
// chatSessions lists it (found by the chaos run: the chat's later lines and
// its transcript were never published).
func TestChatBackAfterLeavingIsTakenAgain(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	chat := reapedWhileStopped(t, e, col)
	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/incomingRequests", Status: 502, AfterHandle: true})
	run(t, e.worker(config(nil), nil, nil, nil)) // resumes the chat from its cursor
	waitUntil(t, "the chat taken back", func() string {
		if st, who, err := e.sim.ChatState(acct, chat); err != nil || st != "chatting" || who != login {
			return fmt.Sprintf("chat is %s at %q (%v)", st, who, err)
		}
		return ""
	})
	e.visitorLine(chat, "after")
	waitLine(col, chat, "after")
	wantLines(t, col, chat, "before", "after")
	checkStream(t, col.all())
}
