package poller_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/lpchat"
	"github.com/lpbridge/lpbridge/internal/lpsim"
	"github.com/lpbridge/lpbridge/internal/poller"
	"github.com/lpbridge/lpbridge/internal/telemetry"
)

// TestGoneChatRetired: a chat transferred away that the service then
// refuses (410) is reported once with the reason and no longer polled;
// the agent's other chat goes on.
func TestGoneChatRetired(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	w := e.worker(config(nil), nil, nil, nil)
	run(t, w)
	stay := acceptedChat(t, e, col)
	gone := e.startChat(lpsim.VisitorSpec{Name: "Gus"})
	col.waitEvent(events.ChatAccepted, gone, nil)
	e.visitorLine(gone, "before")
	waitLine(col, gone, "before")

	if err := e.sim.SetMovedChatStatus(http.StatusGone); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e.onlineAgent(t, loginTwo)
	if err := sessionOf(t, w).Transfer(ctx, gone, lpchat.Transfer{SkillID: skillBilling}); err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	tr := col.waitEvent(events.ChatTransferred, gone, nil).Data.(events.TransferredData)
	if tr.Reason != events.TransferReasonGone {
		t.Errorf("transferred %+v; want reason %q", tr, events.TransferReasonGone)
	}
	for _, text := range []string{"one", "two", "three"} {
		e.visitorLine(stay, text)
	}
	waitLine(col, stay, "three")
	if got := col.chatLines(stay); !slices.Equal(got[len(got)-3:], []string{"one", "two", "three"}) {
		t.Errorf("lines of the chat that stayed: %q", got)
	}
	if n := len(col.of(events.ChatTransferred, gone)); n != 1 {
		t.Errorf("%d transferred events, want 1", n)
	}
	checkStream(t, col.all())
}

// TestOddScalarKeepsChat: one chat's multi-chat rendering carries a time in
// no known format and an object for a string; its lines still arrive, the
// other chat's too, and the odd values are counted once each.
func TestOddScalarKeepsChat(t *testing.T) {
	e := newEnv(t, lpsim.Config{})
	col := e.collect()
	m := telemetry.NewMetrics()
	w := e.worker(config(func(c *poller.Config) { c.Metrics = m }), nil, nil, nil)
	run(t, w)
	odd := acceptedChat(t, e, col)
	plain := e.startChat(lpsim.VisitorSpec{Name: "Pat"})
	col.waitEvent(events.ChatAccepted, plain, nil)
	e.sim.SetOddScalar(odd, lpsim.OddTime)
	for _, text := range []string{"a1", "a2"} {
		e.visitorLine(odd, text)
		e.visitorLine(plain, "p"+text)
	}
	waitLine(col, odd, "a2")
	waitLine(col, plain, "pa2")
	e.sim.SetOddScalar(odd, lpsim.OddObject)
	e.visitorLine(odd, "a3")
	waitLine(col, odd, "a3")
	e.visitorLine(odd, "a4")
	waitLine(col, odd, "a4")
	if got := col.chatLines(odd); !slices.Equal(got[len(got)-4:], []string{"a1", "a2", "a3", "a4"}) {
		t.Errorf("lines of the odd chat: %q", got)
	}
	want := `# HELP lpbridge_lp_decode_skipped_total Values of LivePerson chat documents that did not decode and were left out, once per chat and field.
# TYPE lpbridge_lp_decode_skipped_total counter
lpbridge_lp_decode_skipped_total{field="info.startTime"} 1
lpbridge_lp_decode_skipped_total{field="info.visitorName"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "lpbridge_lp_decode_skipped_total"); err != nil {
		t.Errorf("odd values not counted once each: %v", err)
	}
	checkStream(t, col.all())
}
