package poller

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
// those already stored) — DESIGN.md §4.1. The cursors of the chats
// acknowledged are saved together (saveChats).
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
	case errors.Is(err, events.ErrInvalidEvent), errors.Is(err, events.ErrInvalidConfig):
		// Refused while encoding, before anything was sent: Index is the
		// bad event, but none before it went out. A chat's bad event must
		// not hold back the others for good: each chat on its own.
		w.log.Warn("an event of the tick's batch is invalid; publishing chat by chat", "err", err)
		return w.publishEach(ctx, bs)
	case errors.As(err, &pe):
		acked = pe.Index
	default:
		acked = 0 // a publisher that does not say how far it got
	}
	done := 0 // the batches acknowledged whole
	for done < len(bs) && len(bs[done].evs) <= acked {
		acked -= len(bs[done].evs)
		advance(bs[done])
		done++
	}
	errs := w.saveChats(ctx, bs[:done])
	if done < len(bs) {
		w.log.Debug("chats not acknowledged wait for the next poll", "chats", len(bs)-done)
		errs = append(errs, fmt.Errorf("poller: publish events of chat %s: %w", bs[done].of.id, err))
	}
	return errs
}

// saveChats saves the cursors of the batches' chats (saveChat) with their
// puts in flight together: a tick's cursors cost about one KV round trip,
// not one per chat. A chat whose put failed stays unsaved, to be saved
// again with its next poll.
func (w *Worker) saveChats(ctx context.Context, bs []*batch) []error {
	if len(bs) <= 1 {
		var errs []error
		for _, b := range bs {
			if err := w.saveChat(ctx, b.of); err != nil {
				errs = append(errs, err)
			}
		}
		return errs
	}
	failed := make([]error, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		if b.of.unsaved {
			wg.Go(func() { failed[i] = w.putCursor(ctx, b.of) })
		}
	}
	wg.Wait()
	var errs []error
	for i, b := range bs {
		if failed[i] != nil {
			errs = append(errs, failed[i])
			continue
		}
		w.savedChat(b.of)
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
