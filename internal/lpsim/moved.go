package lpsim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// What the simulator answers for a chat that moved away from the reading
// agent, and odd scalars in multi-chat answers. The reference is silent on
// both (chat-agent-api.md §12, §15.4); the real service has been seen to
// refuse such chats, so the simulator can too.

// OddScalar names a value the multi-chat answer (§5.12) renders oddly for
// one chat, to exercise the client's tolerance of single odd values.
type OddScalar string

// The odd values SetOddScalar can render.
const (
	OddNone    OddScalar = ""                 // render as usual
	OddTime    OddScalar = "info.startTime"   // a time in no known format
	OddObject  OddScalar = "info.visitorName" // an object where a string belongs
	OddEventID OddScalar = "event.id"         // the chat's newest event without its id
)

// movedModes holds the simulator's answers for moved chats. Guarded by
// Simulator.mu.
type movedModes struct {
	status int                  // 0: a moved chat stays readable (200)
	odd    map[string]OddScalar // chat id → odd value of its multi-chat rendering
}

// SetMovedChatStatus makes every request on a chat that moved away from the
// requesting agent (transferred, requeued or taken by another agent, and
// not ended while this agent held it) answer status, 403 or 410; a
// multi-chat request naming such a chat answers 403 when status is 403,
// else 400. 0 restores the default: the chat stays readable.
func (s *Simulator) SetMovedChatStatus(status int) error {
	if status != 0 && status != http.StatusForbidden && status != http.StatusGone {
		return fmt.Errorf("lpsim: moved-chat status %d: want 0, 403 or 410", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moved.status = status
	return nil
}

// SetOddScalar makes the multi-chat answers render odd for chatID (OddNone
// clears it).
func (s *Simulator) SetOddScalar(chatID string, odd OddScalar) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.moved.odd == nil {
		s.moved.odd = map[string]OddScalar{}
	}
	if odd == OddNone {
		delete(s.moved.odd, chatID)
		return
	}
	s.moved.odd[chatID] = odd
}

// movedAway reports whether c moved away from the agent: the agent held it
// and no longer does. An ended chat's holder is the agent that had it last.
func movedAway(x *sessionCall, c *chat) bool {
	return c.hadAgent(x.agent()) && c.holder != x.agent()
}

// refuseMoved is the answer for a request on a moved chat, or nil.
func (s *Simulator) refuseMoved(x *sessionCall, c *chat) *reply {
	if s.moved.status == 0 || !movedAway(x, c) {
		return nil
	}
	rep := x.fail(s.moved.status, "chat is not with this agent any more")
	return &rep
}

// refuseMovedMulti is the answer for a multi-chat request naming a moved
// chat, or nil.
func (s *Simulator) refuseMovedMulti(x *sessionCall, c *chat) *reply {
	if s.moved.status == 0 || !movedAway(x, c) {
		return nil
	}
	status := http.StatusBadRequest
	if s.moved.status == http.StatusForbidden {
		status = http.StatusForbidden
	}
	rep := x.fail(status, "chatSessionKeys names chat %s, which is not with this agent any more", c.id)
	return &rep
}

// multiChatDoc renders one chat of a multi-chat answer, with its odd value
// if SetOddScalar asked for one.
func (s *Simulator) multiChatDoc(cx *chatCall, from int) any {
	doc := cx.document(from)
	odd := s.moved.odd[cx.c.id]
	if odd == OddNone {
		return doc
	}
	b, err := json.Marshal(doc)
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil {
		return doc
	}
	switch odd {
	case OddTime:
		if info, ok := m["info"].(map[string]any); ok {
			info["startTime"] = "the day before yesterday"
		}
	case OddObject:
		if info, ok := m["info"].(map[string]any); ok {
			info["visitorName"] = map[string]any{"first": info["visitorName"]}
		}
	case OddEventID:
		if evs, ok := m["events"].(map[string]any); ok {
			switch e := evs["event"].(type) {
			case map[string]any:
				delete(e, "@id")
			case []any:
				if last, ok := e[len(e)-1].(map[string]any); ok {
					delete(last, "@id")
				}
			}
		}
	}
	return m
}
