package lpsim

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"
)

// Defaults of ScriptConfig.
const (
	// DefaultChatsPerMinute gives a demo something to do without flooding it.
	DefaultChatsPerMinute = 6
	// DefaultLineInterval is a human-ish pause between a visitor's lines.
	DefaultLineInterval = 5 * time.Second
	// DefaultLinesPerChat keeps scripted chats short.
	DefaultLinesPerChat = 5
	// DefaultMaxConcurrent bounds the open scripted chats.
	DefaultMaxConcurrent = 10
	// scriptGiveUp: a scripted visitor nobody accepts leaves after this long.
	scriptGiveUp = 2 * time.Minute
)

// ScriptConfig drives scripted visitors; zero values get the defaults in
// brackets.
type ScriptConfig struct {
	ChatsPerMinute float64       `json:"chatsPerMinute,omitempty"` // new chats [6]
	LineInterval   time.Duration `json:"lineInterval,omitempty"`   // mean gap between a visitor's lines once chatting [5s]
	LinesPerChat   int           `json:"linesPerChat,omitempty"`   // then the visitor ends the chat [5]
	MaxConcurrent  int           `json:"maxConcurrent,omitempty"`  // open scripted chats at once [10]
}

func (sc *ScriptConfig) setDefaults() {
	if sc.ChatsPerMinute <= 0 {
		sc.ChatsPerMinute = DefaultChatsPerMinute
	}
	if sc.LineInterval <= 0 {
		sc.LineInterval = DefaultLineInterval
	}
	if sc.LinesPerChat <= 0 {
		sc.LinesPerChat = DefaultLinesPerChat
	}
	if sc.MaxConcurrent <= 0 {
		sc.MaxConcurrent = DefaultMaxConcurrent
	}
}

// scriptLines is what scripted visitors say, in order of a short chat.
func scriptLines() []string {
	return []string{
		"Hi, I have a question about my order.",
		"The order number is 4711.",
		"It was supposed to arrive yesterday.",
		"Can you check where it is?",
		"Is there a tracking link?",
		"OK, thanks for checking.",
		"Could you also update my delivery address?",
		"Great, that helps a lot.",
	}
}

// StartScriptedVisitors starts visitors that open chats on their own and,
// once an agent accepts, say LinesPerChat lines at random gaps and then end
// the chat. It returns at once; the visitors stop when ctx is done or the
// simulator is closed. Their choices come from the seed; their timing is
// real time (not Config.Now).
func (s *Simulator) StartScriptedVisitors(ctx context.Context, accountID string, sc ScriptConfig) {
	sc.setDefaults()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.scripts++
	r := newStream(s.cfg.Seed, streamScripts+uint64(s.scripts)<<8)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.runScript(ctx, accountID, sc, r)
}

func (s *Simulator) runScript(ctx context.Context, accountID string, sc ScriptConfig, r *rand.Rand) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	done := make(chan struct{}, sc.MaxConcurrent)
	open, n := 0, 0
	mean := time.Duration(float64(time.Minute) / sc.ChatsPerMinute)
	for {
		if !wait(ctx, jitter(r, mean), done, &open) {
			return
		}
		if open >= sc.MaxConcurrent {
			continue
		}
		n++
		v := s.scriptedVisitor(accountID, r, n)
		id, err := s.StartChat(accountID, v)
		if err != nil {
			s.log.Warn("lpsim: scripted visitor cannot start a chat", "account", accountID, "err", err)
			return
		}
		open++
		seed := r.Uint64()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.scriptedChat(ctx, accountID, id, sc, rand.New(rand.NewPCG(seed, seed^0x5bd1e995)))
			select {
			case done <- struct{}{}:
			case <-ctx.Done():
			}
		}()
	}
}

// wait sleeps d while counting scripted chats that finish; false when ctx
// is done.
func wait(ctx context.Context, d time.Duration, done <-chan struct{}, open *int) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-done:
			*open--
		case <-t.C:
			return true
		}
	}
}

// jitter draws an exponential gap with the given mean, clamped to a quarter
// and three times the mean so demos neither stall nor burst.
func jitter(r *rand.Rand, mean time.Duration) time.Duration {
	d := time.Duration(r.ExpFloat64() * float64(mean))
	return min(max(d, mean/4), 3*mean)
}

func (s *Simulator) scriptedVisitor(accountID string, r *rand.Rand, n int) VisitorSpec {
	devices := []string{"DESKTOP", "MOBILE", "TABLET"}
	oses := []string{"WINDOWS", "MAC_OSX", "ANDROID", "IOS", "LINUX"}
	browsers := []string{"CHROME", "FIREFOX", "SAFARI", "EDGE"}
	v := VisitorSpec{
		Name:    "visitor-" + strconv.Itoa(n),
		Device:  devices[r.IntN(len(devices))],
		OS:      oses[r.IntN(len(oses))],
		Browser: browsers[r.IntN(len(browsers))],
		IP:      "203.0.113." + strconv.Itoa(1+r.IntN(254)),
		Survey: []SurveyAnswer{
			{QuestionID: "1", Label: "What is your question about?", Value: []string{"Orders", "Billing", "Other"}[r.IntN(3)]},
		},
		CustomVariables: map[string]string{"cartValue": strconv.Itoa(10 + r.IntN(490)), "scripted": "true"},
	}
	s.mu.Lock()
	if a := s.accounts[accountID]; a != nil && len(a.skills) > 0 && r.IntN(4) > 0 {
		v.SkillID = a.skills[r.IntN(len(a.skills))].id
	}
	s.mu.Unlock()
	return v
}

// scriptedChat plays one visitor: wait for an agent, talk, leave.
func (s *Simulator) scriptedChat(ctx context.Context, accountID, chatID string, sc ScriptConfig, r *rand.Rand) {
	if !s.waitAccepted(ctx, accountID, chatID) {
		return
	}
	lines := scriptLines()
	for i := range sc.LinesPerChat + 1 {
		t := time.NewTimer(jitter(r, sc.LineInterval))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if state, _ := s.watch(accountID, chatID); state == stateEnded || state == "" {
			return
		}
		if i == sc.LinesPerChat {
			_ = s.VisitorEnd(accountID, chatID)
			return
		}
		_ = s.VisitorTyping(accountID, chatID, false)
		_, _ = s.VisitorLine(accountID, chatID, lines[(i+r.IntN(2))%len(lines)])
	}
}

// waitAccepted waits until an agent takes the chat; false when the chat
// ended, ctx is done or nobody took it within scriptGiveUp (the visitor then
// leaves).
func (s *Simulator) waitAccepted(ctx context.Context, accountID, chatID string) bool {
	giveUp := time.NewTimer(scriptGiveUp)
	defer giveUp.Stop()
	for {
		state, changed := s.watch(accountID, chatID)
		switch state {
		case stateChatting:
			return true
		case stateEnded, "":
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-giveUp.C:
			_ = s.VisitorEnd(accountID, chatID)
			return false
		case <-changed:
		}
	}
}

// watch returns the chat's state and a channel closed on its next change;
// state is "" when the chat does not exist.
func (s *Simulator) watch(accountID, chatID string) (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[accountID]
	if a == nil || a.chats[chatID] == nil {
		return "", nil
	}
	c := a.chats[chatID]
	return c.state, c.changed
}
