package poller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/state"
)

var errInjected = errors.New("injected ack failure")

// failingPublisher hands every Publish call to inner, except that a call in
// which at finds an index fails there: the events before it are published
// (acknowledged), the failed one and those after it are not, as when an ack
// fails. With invalid, the failure is an invalid event instead: nothing of
// the call is published, as the publisher encodes all before it sends any.
type failingPublisher struct {
	inner   Publisher
	at      func(evs []events.Event) int // where a call fails; -1: it does not
	invalid bool
	calls   [][]events.Event // each call's events, copied
}

func (p *failingPublisher) Publish(ctx context.Context, evs ...events.Event) error {
	p.calls = append(p.calls, slices.Clone(evs))
	i := -1
	if p.at != nil {
		i = p.at(evs)
	}
	switch {
	case i < 0:
		return p.inner.Publish(ctx, evs...)
	case p.invalid:
		return &events.PublishError{Index: i, EventID: evs[i].ID, Err: fmt.Errorf("%w: injected", events.ErrInvalidEvent)}
	}
	if err := p.inner.Publish(ctx, evs[:i]...); err != nil {
		return err
	}
	return &events.PublishError{Index: i, EventID: evs[i].ID, Err: errInjected}
}

// chatCalls returns the calls from the n-th on that carry chat events.
func (p *failingPublisher) chatCalls(n int) [][]events.Event {
	var out [][]events.Event
	for _, evs := range p.calls[n:] {
		if slices.ContainsFunc(evs, func(e events.Event) bool { return e.ChatID != "" }) {
			out = append(out, evs)
		}
	}
	return out
}

// eventOf returns a function finding the n-th event (from 0) of chat.
func eventOf(chat string, n int) func([]events.Event) int {
	return func(evs []events.Event) int {
		for i, e := range evs {
			if e.ChatID != chat {
				continue
			}
			if n == 0 {
				return i
			}
			n--
		}
		return -1
	}
}

// burst writes two visitor lines into every chat of r and returns the
// chats in the worker's order with their cursors before the burst.
func burst(t *testing.T, r *tickRig) ([]string, map[string]state.Cursor) {
	t.Helper()
	var ids []string
	before := map[string]state.Cursor{}
	for _, c := range r.w.sortedChats() {
		ids = append(ids, c.id)
		before[c.id] = c.cur
		for j := range 2 {
			if _, err := r.sim.VisitorLine(r.acct, c.id, fmt.Sprintf("line %d of %s", j, c.id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids, before
}

// savedCursor returns the chat's cursor in KV.
func savedCursor(t *testing.T, r *tickRig, chat string) state.Cursor {
	t.Helper()
	cur, found, err := r.w.store.Cursor(context.Background(), r.acct, r.w.cfg.Agent.Token, chat)
	if err != nil || !found {
		t.Fatalf("cursor of chat %s: found %v, %v", chat, found, err)
	}
	return cur
}

// checkSaved fails unless the chat moved past its cursor before and the
// worker's cursor is the one in KV.
func checkSaved(t *testing.T, r *tickRig, chat string, before state.Cursor) {
	t.Helper()
	c := r.w.chats[chat]
	switch kv := savedCursor(t, r, chat); {
	case c == nil:
		t.Errorf("chat %s: no longer polled", chat)
	case c.cur.LastEventID <= before.LastEventID || c.cur.Seq <= before.Seq:
		t.Errorf("chat %s: cursor %+v did not move past %+v", chat, c.cur, before)
	case c.unsaved || kv != c.cur:
		t.Errorf("chat %s: cursor %+v (unsaved %v) not the one in KV, %+v", chat, c.cur, c.unsaved, kv)
	}
}

// checkUnmoved fails unless the chat's cursor, in the worker and in KV, is
// the one before.
func checkUnmoved(t *testing.T, r *tickRig, chat string, before state.Cursor) {
	t.Helper()
	if c := r.w.chats[chat]; c == nil || c.cur != before || c.unsaved {
		t.Errorf("chat %s: state moved though its events were not acknowledged: %+v", chat, c)
	}
	if kv := savedCursor(t, r, chat); kv != before {
		t.Errorf("chat %s: KV cursor %+v, want the old %+v", chat, kv, before)
	}
}

// chatOrder lists the chats of evs in the order their events come, failing
// when a chat's events are not contiguous.
func chatOrder(t *testing.T, evs []events.Event) []string {
	t.Helper()
	var order []string
	for _, e := range evs {
		if len(order) > 0 && order[len(order)-1] == e.ChatID {
			continue
		}
		if slices.Contains(order, e.ChatID) {
			t.Errorf("events of chat %s not contiguous in the batch", e.ChatID)
		}
		order = append(order, e.ChatID)
	}
	return order
}

// storedSeqs returns the Seq of every event of chat in the stream, in
// stream order.
func storedSeqs(t *testing.T, r *tickRig, chat string) []int64 {
	t.Helper()
	ctx := context.Background()
	s, err := r.js.Stream(ctx, events.DefaultStreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("stream message %d: %v", seq, err)
		}
		ce, err := events.Decode(&nats.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data})
		if err != nil {
			t.Fatalf("decode %s: %v", m.Subject, err)
		}
		ev, err := events.FromCloudEvent(ce)
		if err != nil {
			t.Fatalf("from cloudevent %s: %v", m.Subject, err)
		}
		if ev.ChatID == chat {
			seqs = append(seqs, ev.Seq)
		}
	}
	return seqs
}

// TestTickPublishFailureSavesChatsBefore: a tick publishes the new events
// of all its chats in one call, chat after chat in the worker's order. When
// that call fails in the middle of a chat, exactly the chats before it are
// saved; that chat and those after it keep their state, and the next tick
// publishes their events again with the same ids, in the same order, and
// each chat's events stand in the stream once each, in order.
func TestTickPublishFailureSavesChatsBefore(t *testing.T) {
	const chats, failed = 5, 2 // the failure falls on the 2nd event of the 3rd chat
	r := newTickRig(t, chats, false, nil)
	ctx := context.Background()
	ids, before := burst(t, r)
	p := &failingPublisher{inner: r.w.pub, at: eventOf(ids[failed], 1)}
	r.w.pub = p

	err := r.w.tick(ctx, r.as, false)
	if !errors.Is(err, events.ErrPublish) || !errors.Is(err, errInjected) {
		t.Fatalf("tick: %v, want the injected publish failure", err)
	}
	calls := p.chatCalls(0)
	if len(calls) != 1 {
		t.Fatalf("%d Publish calls with chat events, want 1 for all %d chats", len(calls), chats)
	}
	first := calls[0]
	if got := chatOrder(t, first); !slices.Equal(got, ids) {
		t.Fatalf("chats in the batch: %q, want %q", got, ids)
	}
	for i, id := range ids {
		if i < failed {
			checkSaved(t, r, id, before[id])
		} else {
			checkUnmoved(t, r, id, before[id])
		}
	}

	p.at = nil
	mark := len(p.calls)
	if err := r.w.tick(ctx, r.as, false); err != nil {
		t.Fatalf("tick after the failure: %v", err)
	}
	calls = p.chatCalls(mark)
	if len(calls) != 1 {
		t.Fatalf("%d Publish calls with chat events on the next tick, want 1", len(calls))
	}
	again := calls[0]
	rest := first[eventOf(ids[failed], 0)(first):]
	if len(again) != len(rest) {
		t.Fatalf("next tick published %d events, want the %d not acknowledged", len(again), len(rest))
	}
	for i := range rest {
		if again[i].ID != rest[i].ID || again[i].Seq != rest[i].Seq || again[i].Type != rest[i].Type {
			t.Errorf("event %d published again as %s #%d (%s), want %s #%d (%s)",
				i, again[i].ID, again[i].Seq, again[i].Type, rest[i].ID, rest[i].Seq, rest[i].Type)
		}
	}
	for _, id := range ids {
		checkSaved(t, r, id, before[id])
		seqs := storedSeqs(t, r, id)
		want := make([]int64, r.w.chats[id].cur.Seq)
		for i := range want {
			want[i] = int64(i + 1)
		}
		if !slices.Equal(seqs, want) {
			t.Errorf("chat %s: seqs in the stream %v, want each of 1..%d once, in order", id, seqs, len(want))
		}
	}
}

// TestTickInvalidEventPublishesChatByChat: an invalid event fails the
// tick's call before anything is sent; the chats are then published one by
// one, so that only the chat with the bad event stays where it was.
func TestTickInvalidEventPublishesChatByChat(t *testing.T) {
	const chats, bad = 4, 1
	r := newTickRig(t, chats, false, nil)
	ctx := context.Background()
	ids, before := burst(t, r)
	p := &failingPublisher{inner: r.w.pub, at: eventOf(ids[bad], 0), invalid: true}
	r.w.pub = p

	if err := r.w.tick(ctx, r.as, false); !errors.Is(err, events.ErrInvalidEvent) {
		t.Fatalf("tick: %v, want the invalid event", err)
	}
	if calls := p.chatCalls(0); len(calls) != 1+chats {
		t.Errorf("%d Publish calls with chat events, want the tick's one and then one per chat (%d)", len(calls), 1+chats)
	}
	for i, id := range ids {
		if i == bad {
			checkUnmoved(t, r, id, before[id])
		} else {
			checkSaved(t, r, id, before[id])
		}
	}
}

// failingStore fails every cursor save of one chat while failing is set.
type failingStore struct {
	Store
	chat    string
	failing atomic.Bool
}

func (s *failingStore) SaveCursor(ctx context.Context, account, agent, chatID string, c state.Cursor) error {
	if chatID == s.chat && s.failing.Load() {
		return errInjected
	}
	return s.Store.SaveCursor(ctx, account, agent, chatID, c)
}

// TestTickCursorSaveFailure: the cursors of a tick's chats are saved
// together; one that fails to save leaves only its chat unsaved (its
// events are out, so its cursor moved), the others are saved, and the next
// tick saves it without publishing anything again.
func TestTickCursorSaveFailure(t *testing.T) {
	const chats, bad = 4, 2
	r := newTickRig(t, chats, false, nil)
	ctx := context.Background()
	ids, before := burst(t, r)
	store := &failingStore{Store: r.w.store, chat: ids[bad]}
	store.failing.Store(true)
	r.w.store = store
	p := &failingPublisher{inner: r.w.pub}
	r.w.pub = p

	if err := r.w.tick(ctx, r.as, false); !errors.Is(err, errInjected) {
		t.Fatalf("tick: %v, want the failed save", err)
	}
	for i, id := range ids {
		if i != bad {
			checkSaved(t, r, id, before[id])
			continue
		}
		if c := r.w.chats[id]; c.cur.LastEventID <= before[id].LastEventID || !c.unsaved {
			t.Errorf("chat %s: cursor %+v (unsaved %v), want it past %+v and unsaved", id, c.cur, c.unsaved, before[id])
		}
		if kv := savedCursor(t, r, id); kv != before[id] {
			t.Errorf("chat %s: KV cursor %+v, want the old %+v", id, kv, before[id])
		}
	}

	store.failing.Store(false)
	mark := len(p.calls)
	if err := r.w.tick(ctx, r.as, false); err != nil {
		t.Fatalf("tick after the failure: %v", err)
	}
	checkSaved(t, r, ids[bad], before[ids[bad]])
	if calls := p.chatCalls(mark); len(calls) != 0 {
		t.Errorf("next tick published %d calls of chat events, want none", len(calls))
	}
}
