package lpsim

import (
	"encoding/json"
	"slices"
	"time"
)

// Chat availability values (chat-agent-api.md §7).
const (
	availOnline   = "Online"
	availAway     = "Away"
	availOccupied = "Occupied"
	availOffline  = "Offline" // an agent without a live agent session
)

// Chat states (§6.3).
const (
	stateWaiting  = "waiting"
	stateChatting = "chatting"
	stateEnded    = "ended"
)

// Typing values (§5.18).
const (
	typingOn      = "typing"
	typingOff     = "not-typing"
	typingUnknown = "unknown"
)

// account is one LivePerson account with everything in it. All of the model
// is guarded by Simulator.mu.
type account struct {
	id       string
	skills   []*skill
	agents   []*agent
	logins   map[string]*loginSession // live logins by bearer
	cookies  map[string]*loginSession // live logins by Session_id
	sessions map[string]*agentSession // every agent session ever, by id
	chats    map[string]*chat         // every chat, by id
	visits   map[string]*chat         // by visit id
	open     []*chat                  // chats not ended, oldest first

	// Indexes, so that a request costs the same with 10 agents or 10,000.
	byLogin   map[string]*agent // agents by login name
	byID      map[string]*agent // agents by id
	byAppKey  map[string]*agent // agents by OAuth1 app key
	clientIDs map[string]bool   // OAuth2 client ids in use
	queue     []*chat           // open chats waiting without ringing, oldest first (index.go)
	chatSeq   int               // creation number of the next chat: the order of open
	deadlines                   // lower bounds of the next sweep deadlines (index.go)
}

func newAccount(id string) *account {
	return &account{
		id:        id,
		logins:    map[string]*loginSession{},
		cookies:   map[string]*loginSession{},
		sessions:  map[string]*agentSession{},
		chats:     map[string]*chat{},
		visits:    map[string]*chat{},
		byLogin:   map[string]*agent{},
		byID:      map[string]*agent{},
		byAppKey:  map[string]*agent{},
		clientIDs: map[string]bool{},
	}
}

func (a *account) skillByID(id string) *skill {
	for _, sk := range a.skills {
		if sk.id == id {
			return sk
		}
	}
	return nil
}

func (a *account) skillByName(name string) *skill {
	for _, sk := range a.skills {
		if sk.name == name {
			return sk
		}
	}
	return nil
}

func (a *account) agentByLogin(login string) *agent { return a.byLogin[login] }

func (a *account) agentByID(id string) *agent { return a.byID[id] }

// load counts the chats an agent holds or has ringing: what maxChats limits.
func (a *account) load(ag *agent) int {
	n := len(ag.ringing) + len(ag.held)
	for _, c := range ag.ringing {
		if c.state == stateChatting && c.holder == ag { // counted once
			n--
		}
	}
	return n
}

// dropOpen removes an ended chat from the open list.
func (a *account) dropOpen(c *chat) {
	a.open = slices.DeleteFunc(a.open, func(o *chat) bool { return o == c })
}

type skill struct {
	id, name string
}

// agent is a user of the account. spec holds its credentials: never log it.
type agent struct {
	spec         AgentSpec
	login        string
	id           string
	nickname     string
	maxChats     int // -1 = unlimited
	skills       []string
	availability string          // meaningful while live is not empty
	live         []*agentSession // live agent sessions, oldest first
	ringing      []*chat         // open chats ringing at it, oldest first (index.go)
	held         []*chat         // open chats it is chatting in, oldest first (index.go)
}

// state is the agent's chat availability as others see it.
func (ag *agent) state() string {
	if len(ag.live) == 0 {
		return availOffline
	}
	return ag.availability
}

func (ag *agent) hasSkill(id string) bool { return slices.Contains(ag.skills, id) }

// free is how many more chats the agent may take; -1 = unlimited.
func (ag *agent) free(load int) int {
	if ag.maxChats < 0 {
		return -1
	}
	return max(0, ag.maxChats-load)
}

// loginSession is one successful login: bearer, csrf and Session_id.
type loginSession struct {
	id        string // Session_id cookie and sessionId
	bearer    string
	csrf      string
	agent     *agent
	refreshed time.Time
	sessions  []*agentSession
}

// agentSession is one agent session; ended ones are kept so that calls to
// them get 401 rather than 404.
type agentSession struct {
	id           string
	agent        *agent
	login        *loginSession // nil when created by an OAuth-signed request
	cookie       string        // agent-session cookie value; "" when signed
	lastActivity time.Time
	ended        bool
}

// chat is one visitor chat and its event log.
type chat struct {
	id, visitID   string
	acct          *account
	seq           int // creation number: open, queue, ringing and held are in this order
	inQueue       bool
	inRing        *agent // the agent whose ringing list holds the chat
	inHeld        *agent // the agent whose held list holds the chat
	visitor       VisitorSpec
	skillID       string // routing skill; "" = any agent
	state         string
	holder        *agent // agent chatting, or the last one when ended
	ringing       *agent // agent the chat rings at
	ringSince     time.Time
	targetAgent   *agent // transfer target: ring only there
	transferred   bool   // waiting after a transfer: Occupied agents may take it
	exclude       *agent // the agent that transferred it away
	participants  []*agent
	events        []event
	agentTyping   string
	visitorTyping string
	start         time.Time
	lastUpdate    time.Time
	visitorID     int64
	rtSessionID   int64
	sharkVisitor  string
	sharkSession  string
	engagementID  int64
	campaignID    int64
	participantID string
	survey        map[string][]string // agent survey answers by question id
	changed       chan struct{}       // closed and replaced on every change
}

func (c *chat) hadAgent(ag *agent) bool { return slices.Contains(c.participants, ag) }

// notify wakes everyone waiting for a change of c (scripted visitors).
func (c *chat) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// event is one chat event (§6).
type event struct {
	id              int
	typ             string // line or state
	at              time.Time
	text            string
	textType        string
	by              string
	source          string
	subType         string
	systemMessageID int
	json            json.RawMessage
	state           string
}

// appendEvent numbers e, stamps it and adds it to the chat.
func (c *chat) appendEvent(now time.Time, e event) int {
	e.id = len(c.events)
	e.at = now
	c.events = append(c.events, e)
	c.lastUpdate = now
	c.notify()
	return e.id
}

func (c *chat) addState(now time.Time, state string) int {
	c.state = state
	c.reindex()
	return c.appendEvent(now, event{typ: "state", state: state})
}

func (c *chat) addSystemLine(now time.Time, id int, text string) int {
	return c.appendEvent(now, event{
		typ: "line", text: text, textType: "plain", by: "info", source: "system",
		subType: "REGULAR", systemMessageID: id,
	})
}
