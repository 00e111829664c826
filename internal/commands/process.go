package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/schemas"
)

// idSourceGenerated marks a command id made up by the consumer because the
// message carried none: such a command cannot be deduplicated.
const idSourceGenerated = "generated"

// decode decodes a command message (see Decode); a command without an id
// gets a generated one, which cannot be deduplicated.
func (c *Consumer) decode(m *nats.Msg) (Command, error) {
	cmd, err := Decode(m, c.decodeOpts)
	if cmd.ID == "" {
		cmd.ID, cmd.IDSource = nuid.Next(), idSourceGenerated
	}
	return cmd, err
}

// process is the core step of both modes: validate, deduplicate and run
// the decoded command. Every known command has a schema in
// schemas/commands; one without is a bridge bug (internal), never run
// unchecked. It never panics and never blocks longer than about twice the
// command timeout.
func (c *Consumer) process(ctx context.Context, d *delivery) outcome {
	cmd := d.cmd
	if d.decodeErr != nil {
		return reject(cmd, d.decodeErr)
	}
	switch err := c.validator.ValidateCommand(cmd.Name, cmd.Body); {
	case errors.Is(err, schemas.ErrUnknownSchema):
		return reject(cmd, &Error{Code: CodeInternal,
			Message: fmt.Sprintf("command %q has no schema in schemas/commands", cmd.Name), cause: err})
	case err != nil:
		return reject(cmd, &Error{Code: CodeBadRequest,
			Message: fmt.Sprintf("body does not match schemas/commands/%s.json: %s", cmd.Name, trimError(err)), cause: err})
	}
	if _, err := c.session(cmd); errors.Is(err, ErrUnknownAgent) || errors.Is(err, ErrInternal) {
		return reject(cmd, err)
	}
	if cmd.IDSource == idSourceGenerated {
		return c.execute(ctx, cmd, record{Started: time.Now(), Attempts: 1}, false)
	}
	key := resultKey(cmd.Account, cmd.Agent, cmd.ID)
	out, shared := c.flights.do(key, func() outcome { return c.runOnce(ctx, key, cmd) })
	if shared {
		out.cmd, out.replayed, out.deadLetter = cmd, true, false
	}
	return out
}

// reject is the outcome of a command refused before its id was claimed:
// nothing is stored under the id, so a corrected command may reuse it.
func reject(cmd Command, err error) outcome {
	out := failure(cmd, err, 1)
	out.rejected = true
	return out
}

// runOnce runs a command that has an id at most once: it claims the id in
// the results bucket, returns a stored result, waits for a run elsewhere,
// or runs the command and stores its outcome.
func (c *Consumer) runOnce(ctx context.Context, key string, cmd Command) outcome {
	for {
		cl, err := c.results.claim(ctx, key, cmd)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Code: CodeUpstreamError, Message: "results store: " + err.Error(), cause: err}
			}
			return failure(cmd, e, 1)
		}
		switch cl.kind {
		case claimDone:
			return replay(cmd, cl.rec)
		case claimBusy:
			if cmd.Durable {
				// Let JetStream bring it back later rather than hold the stream.
				return failure(cmd, failf(CodeTimeout, "command %q is being run by another bridge", cmd.ID), cl.rec.Attempts)
			}
			wctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			_, err := c.results.await(wctx, key)
			cancel()
			if err != nil {
				return failure(cmd, failf(CodeTimeout, "command %q is still being run by another bridge", cmd.ID), cl.rec.Attempts)
			}
			continue
		}
		out := c.execute(ctx, cmd, cl.rec, cl.recheck)
		if out.final {
			err = c.results.done(ctx, key, cl.rec, mustJSON(out.reply))
		} else {
			err = c.results.failed(ctx, key, cl.rec, cl.rev, out.err.Ambiguous)
		}
		if err != nil {
			// The reply still goes out. A retry finds the claim and, once
			// its lease ran out, runs again with recheck set, so a send is
			// looked for before it is posted again.
			c.logger.Error("command result not stored", "command", cmd.Name, "agent", cmd.Agent, "id", cmd.ID, "err", err)
		}
		return out
	}
}

// replay is the outcome of a command whose result was stored before.
func replay(cmd Command, rec record) outcome {
	out := outcome{cmd: cmd, final: true, replayed: true, attempt: rec.Attempts}
	if err := json.Unmarshal(rec.Reply, &out.reply); err != nil || !out.reply.OK && out.reply.Error == nil {
		out.reply = errorReply(failf(CodeInternal, "stored result of %q is unreadable", cmd.ID))
	}
	if !out.reply.OK {
		out.err = &Error{Code: Code(out.reply.Error.Code), Message: out.reply.Error.Message}
	}
	return out
}

// execute runs the command's handler once against the agent's session,
// bounded by the command timeout; a panic becomes an internal error.
func (c *Consumer) execute(ctx context.Context, cmd Command, rec record, recheck bool) outcome {
	attempt := rec.Attempts
	sess, err := c.session(cmd)
	if err != nil {
		return failure(cmd, err, attempt)
	}
	h, ok := c.handlers[cmd.Name]
	if !ok {
		return failure(cmd, failf(CodeUnknownCommand, "unknown command %q", cmd.Name), attempt)
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	res, err := c.call(rctx, h, &run{cmd: cmd, sess: sess, notify: c.notifier(), started: rec.Started, recheck: recheck,
		ambiguousAt: rec.AmbiguousAt, window: c.cfg.AmbiguityWindow, clockSkew: c.cfg.ClockSkew})
	if err != nil {
		return failure(cmd, err, attempt)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return failure(cmd, fail(CodeInternal, err), attempt)
	}
	return outcome{cmd: cmd, reply: okReply(raw), final: true, attempt: attempt}
}

// notifier is the SessionSource as an AgentNotifier, or nil.
func (c *Consumer) notifier() AgentNotifier {
	n, _ := c.sessions.(AgentNotifier)
	return n
}

// session looks up the agent's session: unknown_agent when the bridge does
// not run the agent, session_lost when it has none right now, internal when
// the lookup panicked (a wiring bug must not take the consumer down).
func (c *Consumer) session(cmd Command) (sess *lpchat.AgentSession, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.logger.Error("session lookup panicked", "agent", cmd.Agent, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			sess, err = nil, failf(CodeInternal, "looking up agent %q failed unexpectedly", cmd.Agent)
		}
	}()
	sess, known := c.sessions.Session(cmd.Account, cmd.Agent)
	switch {
	case !known:
		return nil, failf(CodeUnknownAgent, "agent %q is not run by this bridge for account %s", cmd.Agent, cmd.Account)
	case sess == nil:
		return nil, failf(CodeSessionLost, "agent %q has no agent session right now", cmd.Agent)
	}
	return sess, nil
}

// call runs h, turning a panic into an internal error.
func (c *Consumer) call(ctx context.Context, h handler, r *run) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.logger.Error("command handler panicked", "command", r.cmd.Name, "agent", r.cmd.Agent,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = failf(CodeInternal, "command %s failed unexpectedly", r.cmd.Name)
		}
	}()
	return h(ctx, r)
}
