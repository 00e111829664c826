package state_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/testwait"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	testTimeout = 10 * time.Second
	acct        = "55500011"
	agent       = "helper_bot"
	chat        = "H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400001"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func openStore(t *testing.T, js jetstream.JetStream, cfg state.Config) *state.Store {
	t.Helper()
	s, err := state.Open(testContext(t), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCursorRoundTrip(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	s := openStore(t, js, state.Config{})

	c, ok, err := s.Cursor(ctx, acct, agent, chat)
	if err != nil || ok {
		t.Fatalf("missing cursor: ok=%v err=%v", ok, err)
	}
	if c != state.NewCursor() || c.LastEventID != -1 {
		t.Errorf("missing cursor = %+v, want NewCursor()", c)
	}

	want := state.Cursor{LastEventID: 0, Seq: 1, Accepted: true, Typing: true, TypingVersion: 2, InfoVersion: 1, InfoHash: "abc"}
	if err := s.SaveCursor(ctx, acct, agent, chat, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Cursor(ctx, acct, agent, chat)
	if err != nil || !ok || got != want {
		t.Errorf("Cursor = %+v, %v, %v; want %+v", got, ok, err, want)
	}

	want.LastEventID, want.Seq = 7, 9
	if err := s.SaveCursor(ctx, acct, agent, chat, want); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Cursor(ctx, acct, agent, chat); got != want {
		t.Errorf("after update Cursor = %+v, want %+v", got, want)
	}

	// Another agent's cursor of the same chat id is separate.
	if _, ok, _ := s.Cursor(ctx, acct, "other", chat); ok {
		t.Error("cursor leaked to another agent")
	}

	if err := s.DeleteCursor(ctx, acct, agent, chat); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Cursor(ctx, acct, agent, chat); ok || err != nil {
		t.Errorf("after delete: ok=%v err=%v", ok, err)
	}
	if err := s.DeleteCursor(ctx, acct, agent, "never-existed"); err != nil {
		t.Errorf("deleting a missing cursor: %v", err)
	}
}

func TestAgentStateRoundTrip(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	s := openStore(t, js, state.Config{})
	if _, ok, err := s.AgentState(ctx, acct, agent); ok || err != nil {
		t.Fatalf("missing state: ok=%v err=%v", ok, err)
	}
	want := state.AgentState{AgentSessionID: "2038801122", Change: 4, Status: "Online", Ringing: 1, Chats: []string{chat, "H2-xK3"}}
	if err := s.SaveAgentState(ctx, acct, agent, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.AgentState(ctx, acct, agent)
	if err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("AgentState = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	// The agent state is not a chat cursor.
	if ids, err := s.ChatIDs(ctx, acct, agent); err != nil || len(ids) != 0 {
		t.Errorf("ChatIDs = %v, %v; want none", ids, err)
	}
}

func TestKeysAreSanitisedAndDistinct(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	s := openStore(t, js, state.Config{Storage: jetstream.MemoryStorage})
	agents := []string{"a.b", "a_b", "a=2Eb", "bot één", "a*b>c", "x/y"}
	chats := []string{"c.1", "c_1", "chat with spaces", "😀", "="}
	for i, ag := range agents {
		for j, ch := range chats {
			if err := s.SaveCursor(ctx, acct, ag, ch, state.Cursor{LastEventID: i, Seq: int64(j)}); err != nil {
				t.Fatalf("save %q/%q: %v", ag, ch, err)
			}
		}
		if err := s.SaveAgentState(ctx, acct, ag, state.AgentState{Change: int64(i)}); err != nil {
			t.Fatalf("save agent %q: %v", ag, err)
		}
	}
	for i, ag := range agents {
		for j, ch := range chats {
			c, ok, err := s.Cursor(ctx, acct, ag, ch)
			if err != nil || !ok || c.LastEventID != i || c.Seq != int64(j) {
				t.Errorf("cursor %q/%q = %+v, %v, %v", ag, ch, c, ok, err)
			}
		}
		a, ok, err := s.AgentState(ctx, acct, ag)
		if err != nil || !ok || a.Change != int64(i) {
			t.Errorf("agent %q = %+v, %v, %v", ag, a, ok, err)
		}
		ids, err := s.ChatIDs(ctx, acct, ag)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		want := slices.Clone(chats)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("ChatIDs(%q) = %q, want %q", ag, ids, want)
		}
	}
}

func TestFinishedCursorExpires(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	s := openStore(t, js, state.Config{TTL: time.Second, Storage: jetstream.MemoryStorage})
	if s.FinishedTTL() != time.Second {
		t.Fatalf("FinishedTTL = %s, want 1s", s.FinishedTTL())
	}
	if err := s.SaveCursor(ctx, acct, agent, "active", state.Cursor{LastEventID: 3, Seq: 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCursor(ctx, acct, agent, chat, state.Cursor{LastEventID: 9, Seq: 12, Done: true}); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s.Cursor(ctx, acct, agent, chat); err != nil || !ok || !c.Done {
		t.Fatalf("finished cursor right after save: %+v %v %v", c, ok, err)
	}
	testwait.Until(t, testTimeout, func() error {
		if _, ok, err := s.Cursor(ctx, acct, agent, chat); ok || err != nil {
			return errors.New("finished cursor still there")
		}
		return nil
	})
	if _, ok, err := s.Cursor(ctx, acct, agent, "active"); !ok || err != nil {
		t.Errorf("active cursor expired too: ok=%v err=%v", ok, err)
	}
}

func TestKeepFinishedCursors(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	s := openStore(t, js, state.Config{TTL: -1})
	if s.FinishedTTL() != 0 {
		t.Errorf("FinishedTTL = %s, want 0", s.FinishedTTL())
	}
	if err := s.SaveCursor(ctx, acct, agent, chat, state.Cursor{LastEventID: 1, Done: true}); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s.Cursor(ctx, acct, agent, chat); err != nil || !ok || !c.Done {
		t.Errorf("Cursor = %+v %v %v", c, ok, err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	s := openStore(t, js, state.Config{})
	if err := s.SaveCursor(ctx, acct, agent, chat, state.Cursor{LastEventID: 5, Seq: 6}); err != nil {
		t.Fatal(err)
	}
	again := openStore(t, js, state.Config{})
	if c, ok, err := again.Cursor(ctx, acct, agent, chat); err != nil || !ok || c.LastEventID != 5 {
		t.Errorf("after reopen Cursor = %+v %v %v", c, ok, err)
	}
	if again.Bucket() != state.DefaultBucket {
		t.Errorf("bucket = %q", again.Bucket())
	}
}

func TestCorruptValue(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	openStore(t, js, state.Config{})
	kv, err := js.KeyValue(ctx, state.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "agent.55500011.helper_bot", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, js, state.Config{})
	if _, _, err := s.AgentState(ctx, acct, agent); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("err = %v, want ErrCorrupt", err)
	}
}

func TestInvalidInput(t *testing.T) {
	ctx := testContext(t)
	_, _, js := natstest.RunServer(t)
	for _, cfg := range []state.Config{{Bucket: "a.b"}, {Replicas: 7}, {TTL: time.Millisecond}, {Storage: 9}} {
		if _, err := state.Open(ctx, js, cfg); !errors.Is(err, state.ErrInvalidConfig) {
			t.Errorf("Open(%+v) err = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := state.Open(ctx, nil, state.Config{}); !errors.Is(err, state.ErrInvalidConfig) {
		t.Errorf("nil js: err = %v", err)
	}
	s := openStore(t, js, state.Config{})
	checks := map[string]error{
		"empty chat":     s.SaveCursor(ctx, acct, agent, "", state.NewCursor()),
		"empty account":  s.SaveAgentState(ctx, "", agent, state.AgentState{}),
		"bad cursor":     s.SaveCursor(ctx, acct, agent, chat, state.Cursor{LastEventID: -2}),
		"negative seq":   s.SaveCursor(ctx, acct, agent, chat, state.Cursor{Seq: -1}),
		"bad agent":      s.SaveAgentState(ctx, acct, agent, state.AgentState{Ringing: -1}),
		"delete no chat": s.DeleteCursor(ctx, acct, agent, ""),
	}
	for name, err := range checks {
		if !errors.Is(err, state.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, _, err := s.Cursor(ctx, acct, "", chat); !errors.Is(err, state.ErrInvalidArgument) {
		t.Errorf("Cursor with empty agent: err = %v", err)
	}
}
