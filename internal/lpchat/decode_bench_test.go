package lpchat

import (
	"fmt"
	"strings"
	"testing"
)

// benchAS is {as} of the benchmark documents.
const benchAS = "http://127.0.0.1:40000/api/account/55500011/agentSession/2038801122"

// benchChatID is the id of the i-th chat of the benchmark documents.
func benchChatID(i int) string {
	return fmt.Sprintf("H%d-0f1e2d3c4b5a69788796a5b4c3d2e1f0K%d", 5550001112223334445+i, 8400001+i)
}

// benchEvents is an events element with two new lines, as BenchmarkPoll's
// canned server sends it.
func benchEvents(id string) string {
	return fmt.Sprintf(`{"link":[{"@href":"%[1]s/chat/%[2]s/events","@rel":"self"},{"@href":"%[1]s/chat/%[2]s/events?from=6","@rel":"next"}],
	  "event":[{"@id":"4","@type":"line","time":"2024-03-04T10:00:15.000+00:00","textType":"plain","text":"hi, my order is late","by":"visitor","source":"visitor","subType":"REGULAR"},
	  {"@id":"5","@type":"line","time":"2024-03-04T10:00:16.000+00:00","textType":"plain","text":"order 42","by":"visitor","source":"visitor","subType":"REGULAR"}]}`,
		benchAS, id)
}

// benchChat is one chat element with the links of the reference's
// (§5.11): nine of the chat, two of its events, four of its info.
func benchChat(i int) string {
	id := benchChatID(i)
	return fmt.Sprintf(`{"link":[{"@href":"%[1]s/chat/%[2]s","@rel":"self"},
	  {"@href":"%[1]s/chat/%[2]s/events","@rel":"events"},
	  {"@href":"%[1]s/chat/%[2]s/info","@rel":"info"},
	  {"@href":"%[1]s/chat/%[2]s?from=6","@rel":"next"},
	  {"@href":"%[1]s/chat/%[2]s/collaborationChannels","@rel":"collaboration-channels"},
	  {"@href":"%[1]s/visits/visit/%[4]s","@rel":"visit-id"},
	  {"@href":"%[1]s/chat/%[2]s/transfer","@rel":"transfer"},
	  {"@href":"%[1]s/chat/%[2]s/transferAccount","@rel":"transfer-account"},
	  {"@href":"%[1]s/chat/%[2]s/survey","@rel":"agent-survey"}],
	  "events":%[3]s,
	  "info":{"link":[{"@href":"%[1]s/chat/%[2]s/info","@rel":"self"},
	    {"@href":"%[1]s/chat/%[2]s/info/visitorName","@rel":"visitor-name"},
	    {"@href":"%[1]s/chat/%[2]s/info/visitorTyping","@rel":"visitor-typing"},
	    {"@href":"%[1]s/chat/%[2]s/info/agentTyping","@rel":"agent-typing"}],
	    "state":"chatting","chatSessionKey":"%[2]s","visitorName":"visitor","agentTyping":"not-typing","visitorTyping":"typing"}}`,
		benchAS, id, benchEvents(id), VisitIDOf(id))
}

// BenchmarkDecodeChats decodes the multi-chat document (§5.12) of n chats,
// two new events each: the body of one poll.
func BenchmarkDecodeChats(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("chats=%d", n), func(b *testing.B) {
			chats := make([]string, n)
			for i := range n {
				chats[i] = benchChat(i)
			}
			doc := []byte(`{"chats":{"chat":[` + strings.Join(chats, ",") + `]}}`)
			if n == 1 { // one chat comes as a bare object
				doc = []byte(`{"chats":{"chat":` + chats[0] + `}}`)
			}
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := decodeChats(doc, benchAS)
				if err != nil || len(got) != n || len(got[n-1].Events) != 2 || got[n-1].ID != benchChatID(n-1) {
					b.Fatalf("decodeChats = %d chats, %v", len(got), err)
				}
			}
		})
	}
}

// BenchmarkDecodeChat decodes a single chat document (§5.11).
func BenchmarkDecodeChat(b *testing.B) {
	doc := []byte(`{"chat":` + benchChat(0) + `}`)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := decodeChat(doc, benchAS)
		if err != nil || len(c.Events) != 2 || c.Info == nil || c.NextFrom != 6 {
			b.Fatalf("decodeChat = %+v, %v", c, err)
		}
	}
}

// BenchmarkDecodeEvents decodes an events document (§5.13).
func BenchmarkDecodeEvents(b *testing.B) {
	doc := []byte(`{"events":` + benchEvents(benchChatID(0)) + `}`)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		evs, next, err := decodeEvents(doc)
		if err != nil || len(evs) != 2 || next != 6 {
			b.Fatalf("decodeEvents = %d events, next %d, %v", len(evs), next, err)
		}
	}
}
