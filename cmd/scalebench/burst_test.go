package main

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/harness"
)

func TestBurstRateAndTable(t *testing.T) {
	b := burstResult{chats: 100, lines: 500, events: 500, wall: 2 * time.Second, busy: 250 * time.Millisecond}
	if got := b.busyRate(); got != 2000 {
		t.Errorf("busy rate = %v, want 2000 events/s", got)
	}
	if got := (burstResult{events: 5}).busyRate(); got != 0 {
		t.Errorf("busy rate without busy time = %v, want 0", got)
	}
	var out strings.Builder
	printBurst(&out, b, 40000)
	text := out.String()
	for _, want := range []string{"burst (5 lines × 100 chats)", "| 500 line events seen | 500 | 2000 ms | 250 ms | 2000 | 40000 | 0.05 |"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

func TestSubscriberCountsUnseenLines(t *testing.T) {
	s := newSubscriber()
	texts := []string{lineMarker + "burst 0-0", lineMarker + "burst 0-1"}
	for _, text := range texts {
		s.posted(text, time.Now())
	}
	if got := s.unseen(texts); got != 2 {
		t.Fatalf("unseen = %d, want 2", got)
	}
	s.handle(&nats.Msg{Subject: "lp.evt.a.b.chat.c.line", Data: []byte(`{"text":"` + texts[1] + `"}`)})
	if got := s.unseen(texts); got != 1 {
		t.Errorf("unseen after one line event = %d, want 1", got)
	}
}

func TestPublisherBurstTable(t *testing.T) {
	var out strings.Builder
	printPublisherBurst(&out, harness.BurstRate{Bridge: 60000, Raw: 120000, RawEvents: 75000})
	if want := "| 60000 | 120000 | 0.50 | 75000 | 0.80 |"; !strings.Contains(out.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, out.String())
	}
}
