package lpchat_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// BenchmarkPoll measures the client's own cost of one poll cycle: one
// multi-chat GET of N chats (two new events each) plus one incomingRequests
// GET, against a loopback handler that serves canned documents.
func BenchmarkPoll(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("canned/chats=%d", n), func(b *testing.B) {
			f := newFake(b)
			cursors := make([]lpchat.ChatCursor, n)
			var chats []string
			for i := range n {
				id := fmt.Sprintf("H%d-0f1e2d3c4b5a69788796a5b4c3d2e1f0K%d", 5550001112223334445+i, 8400001+i)
				cursors[i] = lpchat.ChatCursor{ChatID: id, LastEventID: 3}
				chats = append(chats, fmt.Sprintf(`{"link":[{"@href":"%[1]s/chat/%[2]s","@rel":"self"},
				  {"@href":"%[1]s/chat/%[2]s/events","@rel":"events"}],
				  "events":{"link":[{"@href":"%[1]s/chat/%[2]s/events","@rel":"self"},{"@href":"%[1]s/chat/%[2]s/events?from=6","@rel":"next"}],
				  "event":[{"@id":"4","@type":"line","time":"2024-03-04T10:00:15.000+00:00","textType":"plain","text":"hi, my order is late","by":"visitor","source":"visitor","subType":"REGULAR"},
				  {"@id":"5","@type":"line","time":"2024-03-04T10:00:16.000+00:00","textType":"plain","text":"order 42","by":"visitor","source":"visitor","subType":"REGULAR"}]},
				  "info":{"state":"chatting","chatSessionKey":"%[2]s","visitorName":"visitor","agentTyping":"not-typing","visitorTyping":"typing"}}`,
					f.as(), id))
			}
			multi := []byte(`{"chats":{"chat":[` + strings.Join(chats, ",") + `]}}`)
			ringing := []byte(`{"incomingRequests":{"ringingCount":"0"}}`)
			f.handle("GET /agentSession/"+testASID+"/chat", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(multi)
			})
			f.handle("GET /agentSession/"+testASID+"/incomingRequests", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(ringing)
			})
			c, err := lpchat.New(lpchat.Config{DomainURL: f.srv.URL, Account: testAccount, AllowInsecureHTTP: true})
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			if _, err := c.Login(ctx, lpchat.Credentials{Username: testUser, Password: testPassword}); err != nil {
				b.Fatal(err)
			}
			s, err := c.StartAgentSession(ctx)
			if err != nil {
				b.Fatal(err)
			}
			pollLoop(b, s, cursors)
		})
	}
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("lpsim/chats=%d", n), func(b *testing.B) {
			e := newSim(b, lpsim.Config{Seed: 3})
			s := e.online(b, simBot)
			cursors := make([]lpchat.ChatCursor, n)
			for i := range n {
				id, err := e.sim.StartChat(simAccount, lpsim.VisitorSpec{SkillID: skillSup})
				must(b, err)
				if got := acceptNext(b, s); got != id {
					b.Fatalf("accepted %q, want %q", got, id)
				}
				_, err = e.sim.VisitorLine(simAccount, id, "hi, my order is late")
				must(b, err)
				last, err := e.sim.VisitorLine(simAccount, id, "order 42")
				must(b, err)
				cursors[i] = lpchat.ChatCursor{ChatID: id, LastEventID: last - 2}
			}
			pollLoop(b, s, cursors)
		})
	}
}

// pollLoop times one multi-chat poll (two new events per chat) plus one
// incomingRequests per iteration.
func pollLoop(b *testing.B, s *lpchat.AgentSession, cursors []lpchat.ChatCursor) {
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Chats(ctx, cursors)
		if err != nil || len(got) != len(cursors) || len(got[0].Events) != 2 {
			b.Fatalf("Chats = %d chats, %v", len(got), err)
		}
		if _, err := s.IncomingRequests(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
