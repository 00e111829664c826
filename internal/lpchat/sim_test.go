package lpchat_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// The client against the simulator over real HTTP: the whole flow of
// chat-agent-api.md §1 and every operation, with strict cookies so the
// per-agent jar is exercised.

const (
	simAccount = "55500011"
	simBot     = "bot.one"
	simAnn     = "ann"
	simPass    = "sim-pw-S3CRET"
	skillSup   = "31100810"
	skillBill  = "31100811"
)

// simEnv is a simulator with one account, two skills and two agents.
type simEnv struct {
	sim *lpsim.Simulator
	srv *httptest.Server
	ops *opRecorder // the transport of the clients: every request must carry a known operation
}

// newSim starts the simulator; it stops with the test.
func newSim(t testing.TB, cfg lpsim.Config) *simEnv {
	t.Helper()
	sim, err := lpsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	must(t, sim.AddAccount(simAccount))
	must(t, sim.AddSkill(simAccount, lpsim.SkillSpec{ID: skillSup, Name: "Support"}))
	must(t, sim.AddSkill(simAccount, lpsim.SkillSpec{ID: skillBill, Name: "Billing"}))
	must(t, sim.AddAgent(simAccount, lpsim.AgentSpec{LoginName: simBot, Password: simPass, Nickname: "Helper Bot",
		MaxChats: -1, SkillIDs: []string{skillSup, skillBill}}))
	must(t, sim.AddAgent(simAccount, lpsim.AgentSpec{LoginName: simAnn, Password: simPass, Nickname: "Ann",
		MaxChats: 3, SkillIDs: []string{skillBill}}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &simEnv{sim: sim, srv: srv, ops: recordOperations(t)}
}

// must fails the test on an error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// online logs an agent in with its own client, starts a session and sets
// it Online.
func (e *simEnv) online(t testing.TB, login string, mods ...func(*lpchat.Config)) *lpchat.AgentSession {
	t.Helper()
	cfg := lpchat.Config{DomainURL: e.srv.URL, Account: simAccount, AllowInsecureHTTP: true,
		Retry: fastRetry(), HTTPTimeout: 5 * time.Second, Transport: e.ops}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := lpchat.New(cfg)
	must(t, err)
	ctx := context.Background()
	_, err = c.Login(ctx, lpchat.Credentials{Username: login, Password: simPass})
	must(t, err)
	s, err := c.StartAgentSession(ctx)
	must(t, err)
	st, err := s.SetAvailability(ctx, lpchat.Online)
	must(t, err)
	if st.Chat != lpchat.Online {
		t.Fatalf("availability after set = %+v", st)
	}
	return s
}

// acceptNext waits for a ringing chat and accepts it.
func acceptNext(t testing.TB, s *lpchat.AgentSession) string {
	t.Helper()
	ctx := context.Background()
	testwait.True(t, 10*time.Second, "a ringing chat", func() bool {
		r, err := s.IncomingRequests(ctx)
		must(t, err)
		return r.Count > 0
	})
	id, err := s.Accept(ctx)
	must(t, err)
	return id
}

func TestSimFlow(t *testing.T) {
	e := newSim(t, lpsim.Config{Seed: 1, StrictCookies: true})
	ctx := testCtx(t)

	// 1-2. Domain lookup and login.
	c, err := lpchat.New(lpchat.Config{DomainURL: e.srv.URL, Account: simAccount, AllowInsecureHTTP: true, Retry: fastRetry(), Transport: e.ops})
	must(t, err)
	host, err := c.LookupDomain(ctx)
	if err != nil || host != strings.TrimPrefix(e.srv.URL, "http://") {
		t.Fatalf("LookupDomain = %q, %v", host, err)
	}
	ls, err := c.Login(ctx, lpchat.Credentials{Username: simBot, Password: simPass})
	must(t, err)
	if ls.Bearer == "" || ls.CSRF == "" || ls.TTL <= 0 || ls.LoginName != simBot {
		t.Errorf("login session = %v", ls)
	}
	// 3. Agent session: starts Away.
	s, err := c.StartAgentSession(ctx)
	must(t, err)
	if s.ID == "" || !strings.HasSuffix(s.URL, "/agentSession/"+s.ID) {
		t.Errorf("session = %+v", s)
	}
	raw, err := s.Resource(ctx)
	if err != nil || !json.Valid(raw) {
		t.Errorf("Resource = %s, %v", raw, err)
	}
	st, err := s.Availability(ctx)
	if err != nil || st.Chat != lpchat.Away {
		t.Errorf("initial availability = %+v, %v", st, err)
	}
	// 4. Online.
	if st, err = s.SetAvailability(ctx, lpchat.Online); err != nil || st.Chat != lpchat.Online {
		t.Fatalf("SetAvailability = %+v, %v", st, err)
	}
	if st, err = s.Availability(ctx); err != nil || st.Chat != lpchat.Online {
		t.Errorf("availability = %+v, %v", st, err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.LoginName != simBot || info.AgentName != "Helper Bot" || info.MaxChats != -1 || len(info.Skills) != 2 {
		t.Errorf("Info = %+v, %v", info, err)
	}

	// 5-6. A visitor asks; the chat rings; the agent takes it.
	if r, err := s.IncomingRequests(ctx); err != nil || r.Count != 0 {
		t.Errorf("before any chat: %+v, %v", r, err)
	}
	if _, err := s.Accept(ctx); !errors.Is(err, lpchat.ErrNotRinging) {
		t.Errorf("accept with nothing ringing: err = %v, want ErrNotRinging", err)
	}
	chatID, err := e.sim.StartChat(simAccount, lpsim.VisitorSpec{Name: "Ada", SkillID: skillSup,
		Device: "DESKTOP", OS: "WINDOWS", Browser: "CHROME", IP: "192.0.2.7",
		Survey:          []lpsim.SurveyAnswer{{QuestionID: "1", Label: "Order number", Value: "42"}},
		CustomVariables: map[string]string{"plan": "gold", "tier": "2"},
		Authenticated:   &lpsim.AuthenticatedVisitor{CustomerID: "c-42", Name: "Ada"}})
	must(t, err)
	if got := acceptNext(t, s); got != chatID {
		t.Fatalf("accepted %q, want %q", got, chatID)
	}
	cs, err := s.ChatSessions(ctx)
	if err != nil || len(cs) != 1 || cs[0].ChatID != chatID || cs[0].StartTime.IsZero() {
		t.Errorf("ChatSessions = %+v, %v", cs, err)
	}

	// 7. Read the chat: waiting, system #4, chatting, system #3.
	chat, err := s.Chat(ctx, chatID)
	must(t, err)
	types := []string{}
	for _, ev := range chat.Events {
		types = append(types, string(ev.Type)+"/"+string(ev.State))
	}
	if len(chat.Events) != 4 || chat.Events[1].SystemMessageID != 4 || chat.Events[3].SystemMessageID != 3 ||
		chat.Events[2].State != "chatting" || chat.NextFrom != 4 {
		t.Errorf("chat events %v next %d", types, chat.NextFrom)
	}
	if chat.Info == nil || chat.Info.State != "chatting" || chat.Info.VisitorName != "Ada" || chat.VisitID == "" {
		t.Errorf("chat info %+v visit %q", chat.Info, chat.VisitID)
	}

	// Visitor writes; the agent polls the events and the multi-chat resource.
	lineID, err := e.sim.VisitorLine(simAccount, chatID, "hi, my order is late")
	must(t, err)
	evs, next, err := s.ChatEvents(ctx, chatID, chat.NextFrom)
	if err != nil || len(evs) != 1 || evs[0].ID != lineID || evs[0].Text != "hi, my order is late" ||
		evs[0].Source != "visitor" || next != lineID+1 {
		t.Errorf("ChatEvents = %+v next %d, %v", evs, next, err)
	}
	evs, next2, err := s.ChatEvents(ctx, chatID, next)
	if err != nil || len(evs) != 0 || next2 != next {
		t.Errorf("no new events: %+v next %d, %v", evs, next2, err)
	}
	chats, err := s.Chats(ctx, []lpchat.ChatCursor{{ChatID: chatID, LastEventID: lineID - 1}})
	if err != nil || len(chats) != 1 || len(chats[0].Events) != 1 || chats[0].Events[0].ID != lineID || chats[0].NextFrom != lineID+1 {
		t.Errorf("Chats = %+v, %v", chats, err)
	}

	// 8. Send lines.
	sent, err := s.SendLine(ctx, chatID, lpchat.Line{Text: "Let me check that for you."})
	must(t, err)
	rich := json.RawMessage(`{"type":"vertical","elements":[{"type":"text","text":"Pick one"}]}`)
	richID, err := s.SendLine(ctx, chatID, lpchat.Line{TextType: "rich-content", JSON: rich})
	must(t, err)
	note, err := s.SendLine(ctx, chatID, lpchat.Line{Text: "internal", SubType: "ONLY_TO_REP"})
	must(t, err)
	views, err := e.sim.ChatEvents(simAccount, chatID)
	must(t, err)
	byID := map[int]lpsim.EventView{}
	for _, v := range views {
		byID[v.ID] = v
	}
	if v := byID[sent]; v.Text != "Let me check that for you." || v.Source != "agent" {
		t.Errorf("sent line in the simulator: %+v", v)
	}
	if v := byID[richID]; v.TextType != "rich-content" || !strings.Contains(string(v.JSON), "Pick one") {
		t.Errorf("rich line in the simulator: %+v", v)
	}
	if v := byID[note]; v.SubType != "ONLY_TO_REP" {
		t.Errorf("note in the simulator: %+v", v)
	}
	evs, _, err = s.ChatEvents(ctx, chatID, sent)
	if err != nil || len(evs) != 3 || evs[1].JSON == nil {
		t.Errorf("own lines read back: %+v, %v", evs, err)
	}

	// Chat info, names, typing.
	ci, err := s.ChatInfo(ctx, chatID)
	if err != nil || ci.State != "chatting" || ci.ChatSessionKey != chatID || ci.VisitorName != "Ada" || ci.ParticipantID == "" {
		t.Errorf("ChatInfo = %+v, %v", ci, err)
	}
	if v, err := s.VisitorName(ctx, chatID); err != nil || v != "Ada" {
		t.Errorf("VisitorName = %q, %v", v, err)
	}
	must(t, e.sim.VisitorTyping(simAccount, chatID, true))
	if v, err := s.VisitorTyping(ctx, chatID); err != nil || v != "typing" {
		t.Errorf("VisitorTyping = %q, %v", v, err)
	}
	must(t, s.SetAgentTyping(ctx, chatID, true))
	if v, err := s.AgentTyping(ctx, chatID); err != nil || v != "typing" {
		t.Errorf("AgentTyping = %q, %v", v, err)
	}
	must(t, s.SetAgentTyping(ctx, chatID, false))
	if v, err := s.AgentTyping(ctx, chatID); err != nil || v != "not-typing" {
		t.Errorf("AgentTyping after reset = %q, %v", v, err)
	}

	// Visit, custom variables, participant.
	visit, err := s.Visit(ctx, chat.VisitID)
	must(t, err)
	if visit.Device != "DESKTOP" || visit.OS != "WINDOWS" || visit.Browser != "CHROME" || visit.IP != "192.0.2.7" ||
		len(visit.PreChatSurvey) != 1 || visit.PreChatSurvey[0] != (lpchat.SurveyAnswer{QuestionID: "1", Label: "Order number", Value: "42"}) {
		t.Errorf("Visit = %+v", visit)
	}
	vars, err := s.CustomVariables(ctx, chat.VisitID)
	if err != nil || !slices.Equal(vars, []lpchat.CustomVariable{{Name: "plan", Value: "gold"}, {Name: "tier", Value: "2"}}) {
		t.Errorf("CustomVariables = %+v, %v", vars, err)
	}
	p, err := s.ParticipantInfo(ctx, ci.ParticipantID)
	if err != nil || !strings.Contains(string(p), "c-42") {
		t.Errorf("ParticipantInfo = %s, %v", p, err)
	}

	// Agents and slots.
	ann := e.online(t, simAnn)
	agents, err := s.AvailableAgents(ctx, lpchat.AgentFilter{})
	if err != nil || len(agents) != 2 {
		t.Fatalf("AvailableAgents = %+v, %v", agents, err)
	}
	for _, a := range agents {
		if a.UserName == simAnn && (a.ChatState != lpchat.Online || a.MaxChats != 3 || !slices.Equal(a.SkillIDs, []string{skillBill})) {
			t.Errorf("ann = %+v", a)
		}
	}
	if agents, err := s.AvailableAgents(ctx, lpchat.AgentFilter{Skill: "Support"}); err != nil || len(agents) != 1 || agents[0].UserName != simBot {
		t.Errorf("Support agents = %+v, %v", agents, err)
	}
	if n, err := s.AvailableSlots(ctx, lpchat.SlotQuery{Agent: simAnn}); err != nil || n != 3 {
		t.Errorf("AvailableSlots(ann) = %d, %v", n, err)
	}
	if n, err := s.AvailableSlots(ctx, lpchat.SlotQuery{Skill: "Support"}); err != nil || n != -1 {
		t.Errorf("AvailableSlots(Support) = %d, %v", n, err)
	}

	// Survey.
	survey, err := s.Survey(ctx, chatID)
	if err != nil || !strings.Contains(string(survey), "Chat topic") {
		t.Errorf("Survey = %s, %v", survey, err)
	}
	must(t, s.SubmitSurvey(ctx, chatID, []lpchat.SurveyAnswer{{QuestionID: "3001", Value: "Orders"},
		{QuestionID: "3002", Value: "Yes"}, {QuestionID: "3003", Value: "Call back"}, {QuestionID: "3003", Value: "Escalate"}}))
	if survey, err = s.Survey(ctx, chatID); err != nil || !strings.Contains(string(survey), "Call back,Escalate") {
		t.Errorf("submitted survey not kept: %s, %v", survey, err)
	}

	// Transfer to a skill: Ann takes it.
	skills, err := s.TransferSkills(ctx, chatID)
	if err != nil || len(skills) != 1 || skills[0].ID != skillBill || skills[0].OnlineAgents != 1 {
		t.Errorf("TransferSkills = %+v, %v", skills, err)
	}
	must(t, s.Transfer(ctx, chatID, lpchat.Transfer{SkillID: skillBill, Text: "Customer needs a refund."}))
	if got := acceptNext(t, ann); got != chatID {
		t.Errorf("ann accepted %q", got)
	}
	if _, holder, err := e.sim.ChatState(simAccount, chatID); err != nil || holder != simAnn {
		t.Errorf("holder = %q, %v", holder, err)
	}

	// 9. A second chat, ended by the agent.
	chat2, err := e.sim.StartChat(simAccount, lpsim.VisitorSpec{SkillID: skillSup})
	must(t, err)
	if got := acceptNext(t, s); got != chat2 {
		t.Fatalf("accepted %q, want %q", got, chat2)
	}
	must(t, s.EndChat(ctx, chat2))
	if state, _, err := e.sim.ChatState(simAccount, chat2); err != nil || state != "ended" {
		t.Errorf("state = %q, %v", state, err)
	}
	if c2, err := s.Chat(ctx, chat2); err != nil || c2.Info == nil || c2.Info.State != "ended" {
		t.Errorf("ended chat still readable: %+v, %v", c2, err)
	}
	if _, err := s.SendLine(ctx, chat2, lpchat.Line{Text: "late"}); !errors.Is(err, lpchat.ErrBadRequest) {
		t.Errorf("line to an ended chat: err = %v, want ErrBadRequest", err)
	}

	// 10-11. Keepalive and logout.
	must(t, c.Refresh(ctx))
	must(t, c.Logout(ctx))
	if _, err := s.IncomingRequests(ctx); !errors.Is(err, lpchat.ErrSessionLost) {
		t.Errorf("after logout: err = %v, want ErrSessionLost", err)
	}
	e.ops.wantAll(t)
}

func TestSimFaults(t *testing.T) {
	e := newSim(t, lpsim.Config{Seed: 2})
	s := e.online(t, simBot)
	ctx := testCtx(t)
	chatID, err := e.sim.StartChat(simAccount, lpsim.VisitorSpec{SkillID: skillSup})
	must(t, err)
	acceptNext(t, s)

	// 5xx and 429 are retried.
	e.sim.InjectFault(lpsim.Fault{Method: "GET", PathContains: "/incomingRequests", Status: 503, Count: 2})
	if _, err := s.IncomingRequests(ctx); err != nil {
		t.Errorf("after two 503s: %v", err)
	}
	e.sim.InjectFault(lpsim.Fault{Method: "GET", PathContains: "/chat/", Status: 429, RetryAfter: "0", Count: 3})
	if _, err := s.Chat(ctx, chatID); err != nil {
		t.Errorf("after three 429s: %v", err)
	}
	e.sim.InjectFault(lpsim.Fault{Method: "GET", PathContains: "/availability", Status: 500, Count: 10})
	if _, err := s.Availability(ctx); !errors.Is(err, lpchat.ErrServer) {
		t.Errorf("persistent 500: err = %v", err)
	}
	e.sim.ClearFaults()

	// A line whose answer is lost after the service acted: ambiguous, sent once.
	count := func() int {
		views, err := e.sim.ChatEvents(simAccount, chatID)
		must(t, err)
		n := 0
		for _, v := range views {
			if v.Text == "exactly once" {
				n++
			}
		}
		return n
	}
	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/events", Drop: true, AfterHandle: true})
	if _, err := s.SendLine(ctx, chatID, lpchat.Line{Text: "exactly once"}); !errors.Is(err, lpchat.ErrAmbiguous) {
		t.Errorf("dropped answer: err = %v, want ErrAmbiguous", err)
	}
	if n := count(); n != 1 {
		t.Errorf("line appears %d times, want 1 (no blind retry)", n)
	}
	// Dropped before the service acted: also ambiguous to the client, and
	// the line is not there.
	e.sim.InjectFault(lpsim.Fault{Method: "POST", PathContains: "/events", Drop: true})
	if _, err := s.SendLine(ctx, chatID, lpchat.Line{Text: "exactly once"}); !errors.Is(err, lpchat.ErrAmbiguous) {
		t.Errorf("dropped request: err = %v, want ErrAmbiguous", err)
	}
	if n := count(); n != 1 {
		t.Errorf("line appears %d times, want still 1", n)
	}

	// Login expired: 401, re-login, the agent session lives on.
	must(t, e.sim.ExpireLogin(simAccount, simBot))
	if _, err := s.IncomingRequests(ctx); !errors.Is(err, lpchat.ErrSessionLost) {
		t.Errorf("expired login: err = %v, want ErrSessionLost", err)
	}
	_, err = s.Client().Login(ctx, lpchat.Credentials{Username: simBot, Password: simPass})
	must(t, err)
	if _, err := s.IncomingRequests(ctx); err != nil {
		t.Errorf("after re-login: %v", err)
	}

	// Agent session expired: 401; a new session works.
	must(t, e.sim.ExpireAgentSession(simAccount, simBot))
	if _, err := s.Availability(ctx); !errors.Is(err, lpchat.ErrAuth) {
		t.Errorf("expired session: err = %v, want ErrAuth", err)
	}
	s2, err := s.Client().StartAgentSession(ctx)
	must(t, err)
	if s2.ID == s.ID {
		t.Error("new session has the old id")
	}
	if _, err := s2.Availability(ctx); err != nil {
		t.Errorf("new session: %v", err)
	}
	// An old session id resumed after a restart fails cleanly.
	if _, err := s.Client().ResumeAgentSession(s.ID).IncomingRequests(ctx); !errors.Is(err, lpchat.ErrAuth) {
		t.Errorf("resumed dead session: err = %v", err)
	}
}
