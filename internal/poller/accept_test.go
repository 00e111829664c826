package poller_test

import (
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
