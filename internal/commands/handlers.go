package commands

import (
	"context"
	"errors"
	"time"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// run is one run of a command against the agent session that owns its agent.
type run struct {
	cmd    Command
	sess   *lpchat.AgentSession
	notify AgentNotifier // nil when the session source does not listen
	// started is when the command was first tried (kept across attempts and
	// restarts in the results bucket): an ambiguous send is looked for
	// among the chat's events after it.
	started time.Time
	// recheck is set when an earlier attempt may have acted (its call failed
	// ambiguously, or the bridge died during it): check before acting again.
	recheck bool
	// ambiguousAt is when an earlier run's send failed ambiguously (zero if
	// none did): until window has passed since, a send is not posted again.
	ambiguousAt time.Time
	window      time.Duration
	clockSkew   time.Duration
}

// handler runs one command and returns its reply result.
type handler func(ctx context.Context, r *run) (any, error)

// empty is the result of commands that return nothing: {}.
type empty struct{}

// accept takes the next ringing chat. Accepting is not idempotent (a second
// accept takes a second chat), so the chats held before are read first: an
// accept that failed ambiguously is judged by whether a new one appeared.
// Without that list (its read failed) an ambiguous accept stays ambiguous.
func accept(ctx context.Context, r *run, _ noArgs) (any, error) {
	held, herr := r.sess.HeldChats(ctx)
	var chatID string
	var err error
	if herr == nil {
		chatID, err = r.sess.AcceptVerified(ctx, func(id string) bool { return held[id] })
	} else {
		chatID, err = r.sess.Accept(ctx)
	}
	if err != nil {
		return nil, acceptError(ctx, r.sess, err)
	}
	if r.notify != nil {
		r.notify.Accepted(r.cmd.Account, r.cmd.Agent, chatID)
	}
	return struct {
		ChatID string `json:"chatId"`
	}{chatID}, nil
}

// acceptError maps a failed accept. The API does not say what accepting
// with nothing ringing answers (chat-agent-api.md §15.3); a service may say
// 404, which is also its answer for an unknown agent session. So a 404 is
// told apart by asking for the ringing count: if the session answers, it is
// alive and nothing was ringing.
func acceptError(ctx context.Context, sess *lpchat.AgentSession, err error) error {
	if !errors.Is(err, lpchat.ErrNotFound) || errors.Is(err, lpchat.ErrAmbiguous) {
		return upstreamError(ctx, err, false)
	}
	if _, rerr := sess.IncomingRequests(ctx); rerr != nil {
		return upstreamError(ctx, rerr, false)
	}
	return &Error{Code: CodeNotRinging, Message: "no chat is ringing at this agent", cause: err}
}

func typing(ctx context.Context, r *run, a typingArgs) (any, error) {
	if err := r.sess.SetAgentTyping(ctx, a.ChatID, *a.Typing); err != nil {
		return nil, upstreamError(ctx, err, true)
	}
	return empty{}, nil
}

// closeChat ends a chat. Ending is not idempotent on the service (a second
// end is refused), so a retry after an ambiguous failure first looks
// whether the chat already ended, and so does a failed end (verified by
// lpchat).
func closeChat(ctx context.Context, r *run, a chatArgs) (any, error) {
	if r.recheck {
		if ended, err := r.sess.ChatEnded(ctx, a.ChatID); err == nil && ended {
			return empty{}, nil
		}
	}
	if err := r.sess.EndChatVerified(ctx, a.ChatID); err != nil {
		return nil, upstreamError(ctx, err, true)
	}
	return empty{}, nil
}

// transfer moves a chat away. A second transfer of a chat that already left
// is refused, so a retry after an ambiguous failure first looks whether it
// left since the command's first try, and so does a failed transfer.
func transfer(ctx context.Context, r *run, a transferArgs) (any, error) {
	since := r.started.Add(-r.clockSkew)
	if r.recheck {
		if done, err := r.sess.TransferDone(ctx, a.ChatID, since); err == nil && done {
			return empty{}, nil
		}
	}
	t := lpchat.Transfer{SkillID: string(a.SkillID), AgentID: string(a.AgentID), Text: a.Text}
	if err := r.sess.TransferVerified(ctx, a.ChatID, t, since); err != nil {
		return nil, upstreamError(ctx, err, true)
	}
	return empty{}, nil
}

func setStatus(ctx context.Context, r *run, a statusArgs) (any, error) {
	set := r.sess.SetAvailability
	if r.notify != nil {
		set = func(ctx context.Context, av lpchat.Availability) (lpchat.AgentStatus, error) {
			return r.notify.SetAvailability(ctx, r.cmd.Account, r.cmd.Agent, av)
		}
	}
	st, err := set(ctx, lpchat.Availability(a.Status))
	if err != nil {
		return nil, upstreamError(ctx, err, false)
	}
	status := st.Chat
	if status == "" {
		status = a.Status
	}
	return struct {
		Status lpchat.Availability `json:"status"`
	}{status}, nil
}

// resync re-reads a chat that ended or left from the service and publishes
// the events the stream lacks, through the agent's poller, which maps
// chats to events (and refuses a chat it still polls).
func resync(ctx context.Context, r *run, a chatArgs) (any, error) {
	if r.notify == nil {
		return nil, failf(CodeInternal, "chat.resync needs the agent's poller, which this bridge does not hand to commands")
	}
	published, present, err := r.notify.Resync(ctx, r.cmd.Account, r.cmd.Agent, a.ChatID)
	if err != nil {
		return nil, upstreamError(ctx, err, true)
	}
	return struct {
		Published int `json:"published"`
		Present   int `json:"present"`
	}{published, present}, nil
}
