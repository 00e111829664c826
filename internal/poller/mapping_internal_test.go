package poller

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

func TestEndedBy(t *testing.T) {
	line := func(id int, sys lpchat.SystemMessage) lpchat.Event {
		return lpchat.Event{ID: id, Type: lpchat.EventLine, Source: lpchat.SourceSystem, SystemMessageID: sys}
	}
	ended := func(id int) lpchat.Event {
		return lpchat.Event{ID: id, Type: lpchat.EventState, State: lpchat.ChatEnded}
	}
	visitor := lpchat.Event{ID: 1, Type: lpchat.EventLine, Source: lpchat.SourceVisitor}
	for _, tc := range []struct {
		name string
		evs  []lpchat.Event
		id   int
		want string
	}{
		{"agent line before", []lpchat.Event{visitor, line(2, lpchat.SysAgentEnded), ended(3)}, 3, "agent"},
		{"agent line after", []lpchat.Event{visitor, ended(2), line(3, lpchat.SysAgentEnded)}, 2, "agent"},
		{"visitor left", []lpchat.Event{visitor, line(2, lpchat.SysDisconnected), ended(3)}, 3, "visitor"},
		{"no system line", []lpchat.Event{visitor, ended(2)}, 2, "unknown"},
		{"other system line", []lpchat.Event{line(1, 23), ended(2)}, 2, "unknown"},
		{"ended not found", []lpchat.Event{visitor}, 7, "unknown"},
	} {
		if got := endedBy(tc.evs, tc.id); got != tc.want {
			t.Errorf("%s: endedBy = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNewEventsSortsAndDropsSeen(t *testing.T) {
	in := []lpchat.Event{{ID: 4}, {ID: 2}, {ID: 5}, {ID: 3}, {ID: 4}}
	got := newEvents(in, 2)
	var ids []int
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if len(ids) != 3 || ids[0] != 3 || ids[1] != 4 || ids[2] != 5 {
		t.Errorf("newEvents ids = %v, want [3 4 5]", ids)
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Account: "1", Agent: AgentConfig{LoginName: "bot.one"}}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.PollInterval != DefaultPollInterval || c.Jitter != DefaultJitter || c.RefreshEvery != DefaultRefreshEvery ||
		c.SessionSyncEvery != DefaultSessionSyncEvery || len(c.ReloginBackoff) != 3 {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.Agent.Token != "bot_one" || c.Agent.Credentials.Username != "bot.one" {
		t.Errorf("token/username = %q/%q, want bot_one/bot.one", c.Agent.Token, c.Agent.Credentials.Username)
	}
	if w := c.reloginWait(7); w != c.ReloginBackoff[2] {
		t.Errorf("reloginWait past the end = %v, want the last backoff", w)
	}
}

func TestNewEventsInOrderAreNotCopied(t *testing.T) {
	in := []lpchat.Event{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 5}}
	got := newEvents(in, 2)
	if len(got) != 2 || got[0].ID != 3 || got[1].ID != 5 {
		t.Fatalf("newEvents = %v, want ids [3 5]", got)
	}
	if &got[0] != &in[2] {
		t.Errorf("events in order were copied")
	}
	if got := newEvents(in, 5); len(got) != 0 {
		t.Errorf("newEvents after the last = %v, want none", got)
	}
	if got := newEvents(in, -1); len(got) != 4 {
		t.Errorf("newEvents(-1) = %v, want all 4", got)
	}
}

// TestInfoHashUnchanged: cursors in KV hold the digest, so it is the one of
// the first release (SHA-256 of the fields, each ended by a 0 byte; 8 bytes
// in hex), for short and long fields alike, and comparing allocates nothing.
func TestInfoHashUnchanged(t *testing.T) {
	for _, info := range []*lpchat.ChatInfo{
		{},
		{VisitorName: "Ada", VisitorID: "132119554465005", Language: "en-US", SkillID: "31100810", SkillName: "Support"},
		{VisitorName: strings.Repeat("long name ", 40), SkillName: "Billing"},
	} {
		h := sha256.New()
		for _, s := range []string{info.VisitorName, info.VisitorID, info.Language, info.SkillID, info.SkillName} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		want := hex.EncodeToString(h.Sum(nil)[:8])
		if got := infoHash(info); got != want {
			t.Errorf("infoHash(%+v) = %s, want %s", info, got, want)
		}
		if !infoHashIs(info, want) || infoHashIs(info, want[:15]+"x") {
			t.Errorf("infoHashIs(%+v) disagrees with infoHash", info)
		}
	}
	info := &lpchat.ChatInfo{VisitorName: "Ada", SkillName: "Support"}
	h := infoHash(info)
	if n := testing.AllocsPerRun(100, func() { infoHashIs(info, h) }); n != 0 {
		t.Errorf("infoHashIs allocates %v times", n)
	}
}
