package lpconformance

import "testing"

// Case is one check of the suite.
type Case struct {
	// Name is the subtest name, e.g. "login/password".
	Name string
	// Run checks the target; it fails t on a deviation from the reference
	// and skips when the target lacks what it needs (a Visitor, a second
	// agent, app credentials).
	Run func(t testing.TB)
}

// caseFunc is a check over a target with defaults.
type caseFunc func(t testing.TB, tg *Target)

// Cases returns the suite's cases for a target, in the order Run runs
// them. For running one case under another testing.TB (the suite's own
// tests do, to see it fail on a broken server).
func Cases(target Target) []Case {
	tg := target
	tg.setDefaults()
	var out []Case
	add := func(name string, f caseFunc, needs ...func(testing.TB, *Target)) {
		out = append(out, Case{Name: name, Run: func(t testing.TB) {
			t.Helper()
			for _, need := range needs {
				need(t, &tg)
			}
			f(t, &tg)
		}})
	}
	add("domain", testDomain)
	add("login/password", testPasswordLogin)
	add("login/application", testAppLogin)
	add("login/refresh", testRefresh)
	add("login/logout", testLogout)
	add("agent-session", testAgentSession)
	add("availability", testAvailability)
	add("errors/bad-bearer", testBadBearer)
	add("errors/unknown-chat", testUnknownChat)
	add("cookies-per-agent", testCookiesPerAgent, needSecondAgent)
	add("chat/ringing-and-accept", testRingingAndAccept, needVisitor)
	add("chat/resource", testChatResource, needVisitor)
	add("chat/lines-and-events", testLines, needVisitor)
	add("chat/multi-chat", testMultiChat, needVisitor)
	add("chat/sessions", testChatSessions, needVisitor)
	add("chat/typing-and-visitor-name", testTyping, needVisitor)
	add("chat/info", testChatInfo, needVisitor)
	add("chat/transfer", testTransfer, needVisitor, needSecondAgent)
	add("chat/agent-ends", testAgentEnds, needVisitor)
	add("chat/visitor-leaves", testVisitorLeaves, needVisitor)
	add("client/lpchat", testLPChat, needVisitor)
	return out
}

// Run runs every case as a subtest of t, one after another (chats ring at
// whichever agent is Online, so cases must not overlap). An invalid target
// fails t at once.
func Run(t *testing.T, target Target) {
	t.Helper()
	if err := target.Validate(); err != nil {
		t.Fatalf("lpconformance: invalid target: %v", err)
	}
	for _, c := range Cases(target) {
		t.Run(c.Name, func(t *testing.T) { c.Run(t) })
	}
}

func needVisitor(t testing.TB, tg *Target) {
	t.Helper()
	if tg.Visitor == nil {
		t.Skip("lpconformance: no Visitor: the target cannot make chats ring (set Target.Visitor, or " +
			EnvSimControlURL + " for an lpsim-style /sim/ control API)")
	}
}

func needSecondAgent(t testing.TB, tg *Target) {
	t.Helper()
	if !tg.hasSecondAgent() {
		t.Skip("lpconformance: no SecondAgent (set Target.SecondAgent, or " + EnvUsername + "2 and " +
			EnvPassword + "2)")
	}
}
