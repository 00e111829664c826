package lpchat_test

import (
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// TestVisitIDOf pins the one rule of chat-agent-api.md §2.4. The ids marked
// "lenient" got a visit id from the poller's old copy of the rule (any dash
// followed later by a K) and none from lpchat's: the two had drifted apart.
func TestVisitIDOf(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400001", "H5550001112223334445K8400001"},
		{"H1-abcK2", "H1K2"},
		{"H1-aK-bK22", "H1K22"}, // the last K starts the K part
		{"H1K2", ""},            // no token
		{"", ""},
		{"plain", ""},
		{"X1-aK2", ""},       // lenient: X1K2 (not an H part)
		{"H1-aK", ""},        // lenient: H1K (no K digits)
		{"H-aK2", ""},        // lenient: HK2 (no H digits)
		{"H1-a/bK2", ""},     // lenient: H1K2 (a '/' is no path segment's id)
		{"Habc-tokKdef", ""}, // lenient: HabcKdef (letters, not digits)
		{"H1-aK2x", ""},      // lenient: H1K2x (the K part does not end the id)
	} {
		if got := lpchat.VisitIDOf(tc.in); got != tc.want {
			t.Errorf("VisitIDOf(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUnknownWordsDecode: words the reference does not name (an event type
// the agent side is not documented to send, a new source, text type or
// state) decode as they came instead of failing the document, and a chat id
// of another shape gets no guessed visit id.
func TestUnknownWordsDecode(t *testing.T) {
	f := newFake(t)
	s := session(t, f)
	f.serveDoc("GET /agentSession/"+testASID+"/chat/"+testChatID+"/events", 200, `{ "events": {
  "link": { "@href": "{chat}/events?from=3", "@rel": "next" },
  "event": [
    { "@id": "1", "@type": "resource", "time": "2024-03-04T10:00:15.000+00:00" },
    { "@id": "2", "@type": "line", "time": "2024-03-04T10:00:16.000+00:00", "text": "**hi**",
      "textType": "markdown", "source": "bot", "systemMessageId": "99", "subType": "WHISPER" },
    { "@id": "3", "@type": "state", "time": "2024-03-04T10:00:17.000+00:00", "state": "paused" } ] } }`)
	evs, _, err := s.ChatEvents(testCtx(t), testChatID, 1)
	if err != nil {
		t.Fatalf("ChatEvents: %v", err)
	}
	assertEvents(t, evs, []lpchat.Event{
		{ID: 1, Type: "resource", Time: mustTime("2024-03-04T10:00:15.000+00:00")},
		{ID: 2, Type: lpchat.EventLine, Time: mustTime("2024-03-04T10:00:16.000+00:00"), Text: "**hi**",
			TextType: "markdown", Source: "bot", SystemMessageID: 99, SubType: "WHISPER"},
		{ID: 3, Type: lpchat.EventState, Time: mustTime("2024-03-04T10:00:17.000+00:00"), State: "paused"},
	})

	const odd = "chat-17K9"
	f.serveDoc("GET /agentSession/"+testASID+"/chat/"+odd, 200,
		`{"chat":{"link":{"@href":"{as}/chat/`+odd+`","@rel":"self"},"info":{"state":"chatting","chatSessionKey":"`+odd+`"}}}`)
	c, err := s.Chat(testCtx(t), odd)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if c.ID != odd || c.VisitID != "" || c.Info == nil || c.Info.State != string(lpchat.ChatChatting) {
		t.Errorf("chat %q: id %q, visit %q, info %+v; want its id, no visit id, state chatting", odd, c.ID, c.VisitID, c.Info)
	}
}
