package lpsim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

// stdJSON is what writeReply wrote before the hand-written encoders: the
// value through encoding/json with SetEscapeHTML(false).
func stdJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAppendJSONMatchesEncodingJSON holds every hand-written document to
// the bytes encoding/json writes for the same value.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	texts := []string{"", "hello", `a "quoted" \ back`, "<b>bold</b> & more", "tab\there\nnew\rline\x01\x1f",
		"unicode: héllo 😀 漢字", "separators \u2028 \u2029", "bad utf-8 \xff\xfe end", "\x7f del"}
	var events []eventDoc
	for i, s := range texts {
		e := event{id: i, typ: "line", text: s, textType: "plain", by: "visitor", source: "visitor", subType: "REGULAR"}
		events = append(events, e.doc())
	}
	events = append(events,
		event{id: 20, typ: "state", state: stateChatting}.doc(),
		event{id: 21, typ: "line", text: "x", textType: "plain", by: "info", source: "system", subType: "REGULAR", systemMessageID: 4}.doc(),
		event{id: 22, typ: "line", textType: "rich-content", json: json.RawMessage(`{"type":"vertical","elements":[{"text":"<hi> & \u2028"}]}`), by: "Ann", source: "agent"}.doc(),
		event{id: 23, typ: "line", text: "with json", textType: "rich-content", json: json.RawMessage(`{"a":1}`)}.doc(),
	)
	for _, e := range events {
		check(t, e, e)
	}
	c := &chat{id: "H1234-abc<>K99", visitID: "H1K9", state: stateChatting, visitor: VisitorSpec{Name: "Zoë \"Z\" <z>"},
		agentTyping: typingOff, visitorTyping: typingOn, visitorID: 123456789012345, rtSessionID: 1234567890,
		sharkVisitor: "abc", sharkSession: "def", engagementID: 123456789, campaignID: 987654321}
	for i, e := range events {
		c.events = append(c.events, event{id: i, typ: e.Type, text: texts[min(i, len(texts)-1)]})
	}
	for _, asURL := range []string{"https://lp.example:8443/api/account/55500011/agentSession/123",
		"http://höst\"x\\y/api/account/a\u2028b/agentSession/9"} {
		sc := &sessionCall{call: &call{}, asURL: asURL}
		checkChat(t, sc, c, events)
	}
	sc := &sessionCall{call: &call{}, asURL: "https://lp.example/api/account/1/agentSession/2"}
	for _, n := range []int{0, 1, 3} {
		body := map[string]any{"ringingCount": strconv.Itoa(n)}
		if n > 0 {
			body["link"] = link{sc.asURL + "/incomingRequests", relAccept}
		}
		check(t, map[string]any{"incomingRequests": body}, incomingAnswer{asURL: sc.asURL, ringing: n})
	}
}

// check fails unless appender writes what encoding/json writes for std.
func check(t *testing.T, std any, appender jsonAppender) {
	t.Helper()
	want := stdJSON(t, std)
	got := string(appender.appendJSON(nil)) + "\n"
	if got != want {
		t.Errorf("hand-written JSON differs:\n got %s\nwant %s", got, want)
	}
}

// checkChat compares the chat documents of c read through sc.
func checkChat(t *testing.T, sc *sessionCall, c *chat, events []eventDoc) {
	t.Helper()
	cx := &chatCall{sessionCall: sc, c: c, url: sc.asURL + "/chat/" + c.id}
	for _, holder := range []*agent{nil, {id: "77", nickname: "Ann & Co"}, {id: "not-numeric", nickname: "Bob"}} {
		c.holder = holder
		for _, pid := range []string{"", "guid-1"} {
			c.participantID = pid
			check(t, cx.info(), cx.info())
			check(t, map[string]infoDoc{"info": cx.info()}, keyed{"info", cx.info()})
		}
	}
	for _, from := range []int{0, len(c.events) - 1, len(c.events), 99} {
		doc := cx.document(from)
		check(t, doc, doc)
		check(t, map[string]chatDocument{"chat": doc}, keyed{"chat", doc})
		ev, _ := chatEvents(cx.url, c, from)
		check(t, map[string]eventsDoc{"events": ev}, keyed{"events", ev})
	}
	check(t, map[string]eventDoc{"event": events[2]}, keyed{"event", events[2]})
	odd := map[string]any{"info": map[string]any{"startTime": "the day before yesterday"}, "link": []any{}}
	for _, chats := range [][]any{nil, {cx.document(0)}, {cx.document(1), odd, cx.document(3)}} {
		body := map[string]any{}
		if v := oneOrMany(chats); v != nil {
			body["chat"] = v
		}
		check(t, map[string]any{"chats": body}, multiChatAnswer(chats))
	}
}
