package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/lpbridge/lpbridge/internal/harness"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

// visitorFormat is the text of visitor line n of chat i: numbered, so
// that order and loss are visible in any event or transcript.
const visitorFormat = "chaos visitor %03d line %02d"

// settleWait bounds how long a visitor waits for the answers to its lines
// before it ends its chat: longer than a durable command's whole retry
// schedule (1 s, 5 s, 30 s, 2 min, 4 min), or a command still being retried
// would find its chat ended.
const settleWait = 8 * time.Minute

// visitor runs chat i: it opens the chat at its turn (the chats' starts
// spread over the first half of the run), posts its numbered lines over
// half the run, waits until every line was seen and answered, and ends
// the chat.
func (w *world) visitor(ctx context.Context, t0 time.Time, i int) {
	half := w.o.duration / 2
	if harness.Sleep(ctx, time.Until(t0.Add(half*time.Duration(i)/time.Duration(w.o.chats)))) != nil {
		return
	}
	var chat string
	err := retry(ctx, "open a chat", func() error {
		var out struct {
			ChatID string `json:"chatId"`
		}
		err := w.control(ctx, "/chats", map[string]string{"name": fmt.Sprintf("Chaos visitor %03d", i), "skillId": supportSkill}, &out)
		chat = out.ChatID
		return err
	})
	if err != nil {
		return
	}
	w.led.chatOpened(chat)
	gap := half / time.Duration(w.o.lines)
	for n := 1; n <= w.o.lines; n++ {
		if harness.Sleep(ctx, w.between(gap/2, gap*3/2)) != nil {
			return
		}
		text := fmt.Sprintf(visitorFormat, i, n)
		w.led.posting(chat, text, time.Now())
		if err := w.control(ctx, "/chats/"+chat+"/lines", map[string]string{"text": text}, nil); err != nil {
			w.led.unpost(chat, text)
			w.logf("chat %s: line %d not posted: %v", chat, n, err)
		}
	}
	deadline := time.Now().Add(settleWait)
	for !w.led.settled(chat) && time.Now().Before(deadline) {
		if harness.Sleep(ctx, 250*time.Millisecond) != nil {
			return
		}
	}
	if err := retry(ctx, "end the chat", func() error { return w.control(ctx, "/chats/"+chat+"/end", nil, nil) }); err != nil {
		return
	}
	var sc simChat
	if err := retry(ctx, "read the ended chat", func() (err error) { sc, err = w.simChat(ctx, chat); return err }); err != nil {
		return
	}
	w.led.ended(chat, sc.endedQueued)
}

// control POSTs body to the simulator's control API of the account (path
// below /sim/accounts/{acct}) and decodes the answer into out.
func (w *world) control(ctx context.Context, path string, body, out any) error {
	return w.simPost(ctx, w.acct+path, body, out)
}

// simPost POSTs body as JSON to url and decodes the answer into out.
func (w *world) simPost(ctx context.Context, url string, body, out any) error {
	return harness.PostJSON(ctx, w.hc, url, body, out)
}

// simChat is a chat as the simulator holds it at the end.
type simChat struct {
	agentLines []string // a text there twice is a doubled post
	agentAt    []string // when each agent line was posted, and its event id
	// endedQueued: it ended while waiting in the queue (its agent session
	// was reaped and no agent took it yet), so no agent saw it end.
	endedQueued bool
}

// simChats are every chat as the simulator holds it.
func (w *world) simChats(ctx context.Context) (map[string]simChat, error) {
	out := map[string]simChat{}
	for _, chat := range w.led.chatIDs() {
		c, err := w.simChat(ctx, chat)
		if err != nil {
			return nil, err
		}
		out[chat] = c
	}
	return out, nil
}

// simChat is chat as the simulator holds it.
func (w *world) simChat(ctx context.Context, chat string) (simChat, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.acct+"/chats/"+chat+"/events", nil)
	if err != nil {
		return simChat{}, err
	}
	res, err := w.hc.Do(req)
	if err != nil {
		return simChat{}, fmt.Errorf("events of chat %s: %w", chat, err)
	}
	var view struct {
		Events []lpsim.EventView `json:"events"`
	}
	err = json.NewDecoder(res.Body).Decode(&view)
	_ = res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		return simChat{}, fmt.Errorf("events of chat %s: %d %w", chat, res.StatusCode, err)
	}
	return simChatOf(view.Events), nil
}

// simChatOf reads a chat's events.
func simChatOf(evs []lpsim.EventView) simChat {
	var c simChat
	last := "" // the state before the current one
	for _, e := range evs {
		switch {
		case e.Type == "line" && e.Source == "agent":
			c.agentLines = append(c.agentLines, e.Text)
			c.agentAt = append(c.agentAt, fmt.Sprintf("#%d at %s", e.ID, e.Time))
		case e.Type == "state" && e.State == "ended":
			c.endedQueued = last == "waiting"
		case e.Type == "state":
			last = e.State
		}
	}
	return c
}
