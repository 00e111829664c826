package poller

import (
	"context"
	"errors"
	"fmt"

	"github.com/lpbridge/lpbridge/internal/events"
)

// publishChats publishes the events of many chats' batches (one tick's
// multi-chat read) in ONE Publish call: a burst costs one round of acks,
// not one per chat. The batches stay in order and each chat's events stay
// contiguous and in order, so per-chat order holds (DESIGN.md §4.2).
//
// Only then are the chats committed, and only those whose events were all
// acknowledged: on a *events.PublishError, the chats wholly before its
// Index. The chat that failed and those after it do not move, so the next
// poll builds the same events with the same ids again (JetStream drops
// those already stored) — DESIGN.md §4.1. Their cursors are saved one by
// one: JetStream's KeyValue has no pipelined put.
func (w *Worker) publishChats(ctx context.Context, bs []*batch) []error {
	if len(bs) == 0 {
		return nil
	}
	if len(bs) == 1 {
		return w.publishEach(ctx, bs)
	}
	evs := w.evs[:0]
	for _, b := range bs {
		evs = append(evs, b.evs...)
	}
	w.evs = evs
	defer clear(w.evs) // keep no event alive past the tick
	err := w.pub.Publish(ctx, evs...)
	acked := len(evs)
	var pe *events.PublishError
	switch {
	case err == nil:
	case errors.Is(err, events.ErrInvalidEvent):
		// Refused before anything was sent (Index is the bad event, but
		// none before it went out). A chat's bad event must not hold
		// back the others for good: each chat on its own.
		w.log.Warn("an event of the tick's batch is invalid; publishing chat by chat", "err", err)
		return w.publishEach(ctx, bs)
	case errors.As(err, &pe):
		acked = pe.Index
	default:
		acked = 0 // a publisher that does not say how far it got
	}
	var errs []error
	for i, b := range bs {
		if len(b.evs) > acked {
			if rest := len(bs) - i - 1; rest > 0 {
				w.log.Debug("chats after a failed publish wait for the next poll", "chats", rest)
			}
			return append(errs, fmt.Errorf("poller: publish events of chat %s: %w", b.of.id, err))
		}
		acked -= len(b.evs)
		if err := w.commitChat(ctx, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// publishEach publishes and commits the batches chat by chat.
func (w *Worker) publishEach(ctx context.Context, bs []*batch) []error {
	var errs []error
	for _, b := range bs {
		if err := w.pub.Publish(ctx, b.evs...); err != nil {
			errs = append(errs, fmt.Errorf("poller: publish events of chat %s: %w", b.of.id, err))
			continue
		}
		if err := w.commitChat(ctx, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
