package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/natstest"
	"github.com/lpbridge/lpbridge/internal/state"
	"github.com/lpbridge/lpbridge/internal/testwait"
)

// cliWait bounds the waits of these tests (shared machine, -race).
const cliWait = 20 * time.Second

// exampleChat is the chat of events.Examples.
var exampleChat = events.Examples()[3].ChatID

// cliServer is an embedded NATS server whose LP_EVENTS stream holds
// events.Examples(), published by the bridge's own publisher.
type cliServer struct {
	url string
	nc  *nats.Conn
	js  jetstream.JetStream
	pub *events.Publisher
}

func startCLIServer(t *testing.T) cliServer {
	t.Helper()
	s, nc, js := natstest.RunServer(t)
	ctx := context.Background()
	if _, err := events.EnsureStream(ctx, js, events.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	pub, err := events.NewPublisher(js, events.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, events.Examples()...); err != nil {
		t.Fatal(err)
	}
	return cliServer{url: s.ClientURL(), nc: nc, js: js, pub: pub}
}

// runCLI runs a subcommand as main does and returns its exit code and output.
func runCLI(ctx context.Context, t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer // NATS callbacks may log after the subcommand returned
	code, ok := runSubcommand(ctx, args, &out, &errb)
	if !ok {
		t.Fatalf("%v: not run as a subcommand", args)
	}
	return code, out.String(), errb.String()
}

// chatExamples are the examples on the chat's own subjects (command.result
// names the chat but is on the agent's subject).
func chatExamples() []events.Event {
	var out []events.Event
	for _, e := range events.Examples() {
		if e.Type.IsChat() {
			out = append(out, e)
		}
	}
	return out
}

func TestCLIChatPrintsEventsInStreamOrderAndTranscript(t *testing.T) {
	srv := startCLIServer(t)
	code, out, errOut := runCLI(t.Context(), t, "chat", "-nats", srv.url, exampleChat)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	want := chatExamples()
	for i, e := range want {
		msg, err := events.Encode(e, events.Binary, events.DefaultDataSchemaBase)
		if err != nil {
			t.Fatal(err)
		}
		if lines[i] != describeEvent(msg) {
			t.Errorf("line %d = %q, want the demo's view %q", i, lines[i], describeEvent(msg))
		}
	}
	for _, s := range []string{
		"transcript of " + exampleChat + ", 3 lines, from chat.transcript:",
		"visitor visitor: hi, my order is late",
		`agent   Helper Bot: {"type":"vertical"`,
		"ended by agent",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestCLIChatJSON(t *testing.T) {
	srv := startCLIServer(t)
	code, out, errOut := runCLI(t.Context(), t, "chat", "-nats", srv.url, "-json", exampleChat)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		ChatID string `json:"chatId"`
		Events []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"events"`
		Transcript events.TranscriptData `json:"transcript"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	want := chatExamples()
	if got.ChatID != exampleChat || len(got.Events) != len(want) || len(got.Transcript.Lines) != 3 {
		t.Fatalf("chat %q, %d events, %d transcript lines; want %q, %d, 3", got.ChatID, len(got.Events), len(got.Transcript.Lines), exampleChat, len(want))
	}
	for i, e := range want {
		if got.Events[i].ID != e.ID || got.Events[i].Type != string(e.Type) {
			t.Errorf("event %d = %s %s, want %s %s", i, got.Events[i].ID, got.Events[i].Type, e.ID, e.Type)
		}
	}
}

func TestCLIChatTranscriptBuiltFromLinesWithoutTranscriptEvent(t *testing.T) {
	srv := startCLIServer(t)
	const open = "H5550001112223334445-0f1e2d3c4b5a69788796a5b4c3d2e1f0K8400002"
	var evs []events.Event
	for _, n := range []int{5, 4} { // stream order is not the service's order
		evs = append(evs, events.Event{
			ID: events.IDForChatEvent("55500011", "helper_bot", open, n, events.ChatLine), Type: events.ChatLine,
			Account: "55500011", Agent: "helper_bot", ChatID: open, Seq: int64(n), Time: time.Now(),
			Data: events.LineData{EventID: n, Text: "line " + string(rune('0'+n)), TextType: "plain", By: "visitor", Source: "visitor"},
		})
	}
	if err := srv.pub.Publish(t.Context(), evs...); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t.Context(), t, "chat", "-nats", srv.url, open)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	i4, i5 := strings.Index(out, "visitor: line 4"), strings.LastIndex(out, "visitor: line 5")
	if !strings.Contains(out, "2 lines, built from the line events") || i4 < 0 || i5 < i4 {
		t.Errorf("want a transcript of 2 lines built from the lines, by event id:\n%s", out)
	}
}

func TestCLIChatUnknownAndBadUsage(t *testing.T) {
	srv := startCLIServer(t)
	code, _, errOut := runCLI(t.Context(), t, "chat", "-nats", srv.url, "nosuchchat")
	if code != exitError || !strings.Contains(errOut, "no events for chat nosuchchat") {
		t.Errorf("unknown chat: exit %d, stderr %q; want %d and no events for chat nosuchchat", code, errOut, exitError)
	}
	if code, _, _ := runCLI(t.Context(), t, "chat", "-nats", srv.url); code != exitUsage {
		t.Errorf("no chat id: exit %d, want %d", code, exitUsage)
	}
	if code, _, errOut := runCLI(t.Context(), t, "chat", "-h"); code != exitOK || !strings.Contains(errOut, "usage: lpbridge chat") {
		t.Errorf("-h: exit %d, stderr %q", code, errOut)
	}
}

func TestCLINoNATSNamesURLWithoutCredentials(t *testing.T) {
	for _, sub := range []string{"tail", "agents", "replay -to x -chat c", "chat c"} {
		args := strings.Fields(sub)
		args = append(args[:1], append([]string{"-nats", "nats://me:s3cret@127.0.0.1:1"}, args[1:]...)...)
		code, _, errOut := runCLI(t.Context(), t, args...)
		if code != exitError || !strings.Contains(errOut, "cannot connect to NATS at nats://redacted@127.0.0.1:1") || strings.Contains(errOut, "s3cret") {
			t.Errorf("%s: exit %d, stderr %q; want %d naming the URL without its password", sub, code, errOut, exitError)
		}
	}
	c := &cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	if err := c.connect(t.Context(), "nats://127.0.0.1:1"); !errorsIsNATS(err) {
		t.Errorf("connect error %v is not ErrNATSUnavailable", err)
	}
}

func errorsIsNATS(err error) bool {
	var e *NATSUnavailableError
	return err != nil && asError(err, &e) && e.URL == "nats://127.0.0.1:1"
}

// startTail runs tail until the test ends and returns its output.
func startTail(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		code, _ := runSubcommand(ctx, append([]string{"tail"}, args...), out, errOut)
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("tail exit %d: %s", code, errOut.String())
		}
	})
	return out
}

func TestTailLastNThenLiveFilteredByChatAndType(t *testing.T) {
	srv := startCLIServer(t)
	out := startTail(t, "-nats", srv.url, "-chat", exampleChat, "-last", "2")
	// The last two of the chat: ended and transcript (command.result is on
	// the agent's subject; the agent events have no chat).
	testwait.True(t, cliWait, "the last 2 events", func() bool { return strings.Count(out.String(), "\n") == 2 })
	if got := out.String(); !strings.Contains(got, "ended by agent") || !strings.Contains(got, "transcript: 3 lines") {
		t.Fatalf("last 2 = %q", got)
	}
	lineOnly := startTail(t, "-nats", srv.url, "-type", "chat.line", "-json")
	e := events.Examples()[4] // the visitor's line
	e.ID, e.Seq = e.ID+"-again", 10
	e.Data = events.LineData{EventID: 9, Text: "anyone there?", TextType: "plain", By: "visitor", Source: "visitor"}
	other := events.Examples()[5] // a state event: filtered out by -type
	other.ID += "-again"
	// Publish until the live tails (started without a way to tell they
	// are subscribed) have it; ids differ per try so nothing is deduped.
	testwait.True(t, cliWait, "the new line in both tails", func() bool {
		e.ID, other.ID = e.ID+"x", other.ID+"x"
		if err := srv.pub.Publish(t.Context(), other, e); err != nil {
			t.Fatal(err)
		}
		return strings.Contains(out.String(), "← visitor: anyone there?") && strings.Contains(lineOnly.String(), "anyone there?")
	})
	for _, l := range strings.Split(strings.TrimSpace(lineOnly.String()), "\n") {
		var ce struct {
			Type string `json:"type"`
			Data struct {
				Text string `json:"text"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(l), &ce); err != nil || ce.Type != string(events.ChatLine) || ce.Data.Text != "anyone there?" {
			t.Errorf("-type chat.line -json printed %q (%v)", l, err)
		}
	}
	if !strings.Contains(out.String(), "state chatting") {
		t.Errorf("-chat without -type dropped the chat's state events:\n%s", out.String())
	}
}

func TestTailSinceReadsStoredHistory(t *testing.T) {
	srv := startCLIServer(t)
	out := startTail(t, "-nats", srv.url, "-since", "1h", "-agent", "helper_bot", "-type", "agent.status")
	testwait.True(t, cliWait, "the stored status event", func() bool { return strings.Contains(out.String(), "status Online (startup)") })
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("-type agent.status printed %d lines: %q", n, out.String())
	}
	if code, _, errOut := runCLI(t.Context(), t, "tail", "-nats", srv.url, "-type", "chat.nonsense"); code != exitUsage || !strings.Contains(errOut, "unknown -type") {
		t.Errorf("bad -type: exit %d, %q", code, errOut)
	}
}

func TestReplayChatToAnotherPrefixKeepsHeadersAndOrder(t *testing.T) {
	srv := startCLIServer(t)
	// A stream on the target, as a bot's test setup would have: it must
	// keep every replayed event (not drop them as duplicates of the originals,
	// nor a second replay as duplicates of the first).
	if _, err := srv.js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "TEST", Subjects: []string{"my.test.evt.>"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		code, out, errOut := runCLI(t.Context(), t, "replay", "-nats", srv.url, "-chat", exampleChat, "-to", "my.test")
		if code != exitOK || !strings.Contains(out, "replayed 8 events to my.test.evt.>") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	}
	st, err := srv.js.Stream(t.Context(), "TEST")
	if err != nil {
		t.Fatal(err)
	}
	testwait.True(t, cliWait, "16 replayed events stored", func() bool {
		info, err := st.Info(t.Context())
		return err == nil && info.State.Msgs == 16
	})
	want := chatExamples()
	for i, e := range want {
		m, err := st.GetMsg(t.Context(), uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		wantSubject := "my.test" + strings.TrimPrefix(events.Subject("lp", e), "lp")
		if m.Subject != wantSubject || m.Header.Get("ce-id") == "" || m.Header.Get("ce-type") != string(e.Type) ||
			m.Header.Get("ce-seq") == "" || m.Header.Get(nats.MsgIdHdr) == e.ID {
			t.Errorf("replayed %d: subject %s, headers %v; want %s with the ce-* headers and a new Nats-Msg-Id", i, m.Subject, m.Header, wantSubject)
		}
		if id, _ := events.DecodeHeaderValue(m.Header.Get("ce-id")); id != e.ID {
			t.Errorf("replayed %d: ce-id %q, want %q", i, id, e.ID)
		}
	}
}

func TestReplayRefusesTheBridgeSubjectsAndWindow(t *testing.T) {
	srv := startCLIServer(t)
	for _, to := range []string{"lp", "lp.evt.x"} {
		code, _, errOut := runCLI(t.Context(), t, "replay", "-nats", srv.url, "-chat", exampleChat, "-to", to)
		if code != exitUsage || !strings.Contains(errOut, "-force") {
			t.Errorf("-to %s: exit %d, %q; want a usage error naming -force", to, code, errOut)
		}
	}
	sub, err := srv.nc.SubscribeSync("win.evt.>")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t.Context(), t, "replay", "-nats", srv.url, "-since", "1h", "-to", "win")
	if n := len(events.Examples()); code != exitOK || !strings.Contains(out, "replayed 12 events") || n != 12 {
		t.Fatalf("window replay: exit %d, %q %q (examples %d)", code, out, errOut, n)
	}
	for i, e := range events.Examples() {
		m, err := sub.NextMsg(cliWait)
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := events.DecodeHeaderValue(m.Header.Get("ce-id")); id != e.ID {
			t.Errorf("window event %d = %s, want %s (stream order)", i, id, e.ID)
		}
	}
	code, _, errOut = runCLI(t.Context(), t, "replay", "-nats", srv.url, "-since", "2h", "-until", "1h", "-to", "win")
	if code != exitError || !strings.Contains(errOut, "no events between") {
		t.Errorf("empty window: exit %d, %q", code, errOut)
	}
}

func TestAgentsShowsOwnerStateAndCursorLag(t *testing.T) {
	srv := startCLIServer(t)
	ctx := t.Context()
	const account, agent = "55500011", "helper_bot"
	store, err := state.Open(ctx, srv.js, state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveAgentState(ctx, account, agent, state.AgentState{Status: "Online", Ringing: 1, Chats: []string{exampleChat}}); err != nil {
		t.Fatal(err)
	}
	// The cursor saved seq 5; the stream's newest event of the chat has seq 9.
	if err := store.SaveCursor(ctx, account, agent, exampleChat, state.Cursor{LastEventID: 4, Seq: 5}); err != nil {
		t.Fatal(err)
	}
	leases, err := state.OpenLeases(ctx, srv.js, state.LeasesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Acquire(ctx, account, agent, "replica-7", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(ctx, t, "agents", "-nats", srv.url)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{"55500011", "helper_bot", "replica-7 (lease expires in", "Online", "H55500…K8400001 (4)"} {
		if !strings.Contains(out, s) {
			t.Errorf("agents lacks %q:\n%s", s, out)
		}
	}
	code, out, _ = runCLI(ctx, t, "agents", "-nats", srv.url, "-json")
	var got []agentReport
	if err := json.Unmarshal([]byte(out), &got); code != exitOK || err != nil || len(got) != 1 {
		t.Fatalf("json: exit %d, %v: %s", code, err, out)
	}
	r := got[0]
	if r.Owner != "replica-7" || r.LastEvent.IsZero() || len(r.Chats) != 1 || r.Chats[0].CursorSeq != 5 || r.Chats[0].StreamSeq != 9 || r.Chats[0].Lag != 4 {
		t.Errorf("report = %+v", r)
	}
}

func TestAgentsWithoutBucketsCreatesNone(t *testing.T) {
	srv := startCLIServer(t)
	code, out, errOut := runCLI(t.Context(), t, "agents", "-nats", srv.url)
	if code != exitOK || !strings.Contains(out, "helper_bot") || !strings.Contains(out, "none") {
		t.Fatalf("exit %d, %q, %q", code, out, errOut)
	}
	if _, err := srv.js.KeyValue(t.Context(), "LP_CURSORS"); err == nil {
		t.Error("agents created the cursors bucket")
	}
}

func asError(err error, target **NATSUnavailableError) bool { return errors.As(err, target) }
