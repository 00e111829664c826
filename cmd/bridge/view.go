package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/events"
)

// showEvents prints every event on the prefix's event subjects, one readable
// line each, so `make run` shows the flow live.
func showEvents(nc *nats.Conn, prefix string, w io.Writer) (*nats.Subscription, error) {
	var mu sync.Mutex
	sub, err := nc.Subscribe(prefix+".evt.>", func(msg *nats.Msg) {
		line := describeEvent(msg)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, line)
	})
	if err != nil {
		return nil, fmt.Errorf("show events: %w", err)
	}
	return sub, nil
}

// describeEvent renders one event as "time agent [chat] what".
func describeEvent(msg *nats.Msg) string {
	ce, err := events.Decode(msg)
	if err != nil {
		return fmt.Sprintf("%s (undecodable: %v)", msg.Subject, err)
	}
	var data map[string]any
	_ = json.Unmarshal(ce.Data(), &data)
	agent, _ := ce.Extensions()["agent"].(string)
	chat := ""
	if ce.Subject() != "" {
		chat = " chat " + shortChat(ce.Subject())
	}
	what := strings.TrimPrefix(ce.Type(), "lpbridge.")
	switch events.Type(ce.Type()) {
	case events.ChatLine:
		arrow := "→"
		if data["source"] == "visitor" {
			arrow = "←"
		}
		what = fmt.Sprintf("%s %v: %v", arrow, data["source"], data["text"])
	case events.ChatState:
		what = fmt.Sprintf("state %v", data["state"])
	case events.ChatAccepted:
		what = fmt.Sprintf("accepted (%v)", data["acceptedBy"])
	case events.ChatTyping:
		what = fmt.Sprintf("visitor typing=%v", data["typing"])
	case events.ChatInfo:
		what = fmt.Sprintf("visitor %v %v %v", data["visitorName"], data["device"], data["os"])
	case events.ChatEnded:
		what = fmt.Sprintf("ended by %v", data["endedBy"])
	case events.ChatTranscript:
		lines, _ := data["lines"].([]any)
		what = fmt.Sprintf("transcript: %d lines", len(lines))
	case events.AgentSession:
		what = fmt.Sprintf("session %v", data["state"])
	case events.AgentStatus:
		what = fmt.Sprintf("status %v (%v)", data["status"], data["cause"])
	case events.AgentRinging:
		what = fmt.Sprintf("ringing %v", data["count"])
	}
	return fmt.Sprintf("%s %-8s%s %s", ce.Time().Format("15:04:05"), agent, chat, what)
}

// shortChat keeps chat ids readable: H5550001112223334445-0f1e…K8400001 → H…K8400001.
func shortChat(id string) string {
	if i := strings.LastIndexByte(id, 'K'); i > 0 && len(id) > 24 {
		return id[:6] + "…" + id[i:]
	}
	return id
}
