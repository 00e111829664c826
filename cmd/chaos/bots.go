package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/harness"
	"github.com/lpbridge/lpbridge/internal/lpsim"
)

const (
	// requestTimeout bounds one request-reply try: a takeover (a lease
	// TTL) leaves a command unanswered; the retry, with the same id, goes
	// to the new owner.
	requestTimeout = 10 * time.Second
	// publishTimeout bounds one publish of a durable command.
	publishTimeout = 5 * time.Second
	maxBackoff     = 2 * time.Second
	// rerouteAfter is the pause before a command whose chat left its agent
	// is sent to the chat's new one.
	rerouteAfter = 2 * time.Second
	// rerouteWaits bounds the checks for the chat's new agent: a chat
	// requeued back to the same agent brings no new agent's events.
	rerouteWaits = 15
)

// retryable are the reply codes after which a command is sent again with
// the same id (README, Replies and error codes).
var retryable = map[string]bool{"session_lost": true, "rate_limited": true, "upstream_error": true, "timeout": true}

// answer is the bot: it answers visitor line text of chat (owned by agent)
// with a chat.send of a unique id and text, lines of even number by
// request-reply, odd ones durable. It returns at once; the command runs
// until it succeeds or the run ends.
func (w *world) answer(agent, chat, text string) {
	var i, n int
	if _, err := fmt.Sscanf(text, visitorFormat, &i, &n); err != nil {
		return // not one of ours
	}
	w.send(command{id: fmt.Sprintf("chaos-%03d-%02d", i, n), chat: chat, agent: agent,
		text: fmt.Sprintf("chaos bot %03d-%02d %08x", i, n, w.intN(1<<31)), durable: n%2 == 1})
}

// send records and sends c; it returns at once.
func (w *world) send(c command) {
	body, err := json.Marshal(map[string]string{"id": c.id, "chatId": c.chat, "text": c.text})
	if err != nil {
		return
	}
	w.led.commandSent(c)
	verb := "cmd"
	if c.durable {
		verb = "dcmd"
	}
	subject := fmt.Sprintf("lp.%s.%s.%s.chat.send", verb, lpsim.DemoAccountID, c.agent)
	w.cmds.Go(func() {
		if c.durable {
			w.sendDurable(w.cmdCtx, subject, c.id, body)
			return
		}
		w.sendRequest(w.cmdCtx, subject, c.id, body)
	})
}

// rerouteLater sends command id again, under a new id, to the agent that
// holds its chat, when it failed because the chat left its agent: once
// the chat's events come from its new agent (checked every rerouteAfter),
// or after rerouteWaits checks.
func (w *world) rerouteLater(id string) {
	w.cmds.Go(func() {
		for n := 1; ; n++ {
			if harness.Sleep(w.cmdCtx, rerouteAfter) != nil {
				return
			}
			c, posted, wait, ok := w.led.reroute(id, n < rerouteWaits)
			switch {
			case wait:
				continue // the chat waits for its new agent
			case ok && posted:
				w.logf("command %s: chat_not_found at its agent, but its line is in the chat's history: posted before the chat moved", id)
			case ok:
				w.logf("command %s: chat_not_found at its agent; sent again as %s to %s", id, c.id, c.agent)
				w.send(c)
			}
			return
		}
	})
}

// sendRequest sends a request-reply command until it is answered ok or
// with a final error, retrying with the same id on a timeout, no
// responders or a transient error code.
func (w *world) sendRequest(ctx context.Context, subject, id string, body []byte) {
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		m, err := w.nc.RequestWithContext(rctx, subject, body)
		cancel()
		if err == nil {
			var rep struct {
				OK    bool `json:"ok"`
				Error *struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(m.Data, &rep); err == nil {
				code := ""
				if rep.Error != nil {
					code = rep.Error.Code
				}
				w.led.commandOutcome(id, rep.OK, code)
				if rep.OK || !retryable[code] {
					return
				}
			}
		}
		if harness.Sleep(ctx, backoff) != nil {
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// sendDurable publishes a durable command (its id also the Nats-Msg-Id,
// so a publish retried after a lost ack is stored once) until the stream
// acknowledges it; its outcome is the command.result event.
func (w *world) sendDurable(ctx context.Context, subject, id string, body []byte) {
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		_, err := w.js.Publish(pctx, subject, body, jetstream.WithMsgID(id))
		cancel()
		if err == nil {
			return
		}
		if harness.Sleep(ctx, backoff) != nil {
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}
