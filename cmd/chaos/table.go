package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// report is everything the table shows.
type report struct {
	duration   time.Duration // of the faults
	settled    time.Duration // from the end of the faults to quiescence
	quiescent  bool
	sum        summary
	recoveries map[string]*recovery
	gaps       map[string]time.Duration
}

// printTable writes the run's one table (markdown) and the verdict.
func printTable(w io.Writer, r report) {
	s := r.sum
	row := func(what string, v any) { fmt.Fprintf(w, "| %s | %v |\n", what, v) }
	fmt.Fprintln(w, "| chaos run | figure |")
	fmt.Fprintln(w, "| --- | --- |")
	row("faults for / quiescent after", fmt.Sprintf("%s / %s%s", r.duration.Round(time.Second), r.settled.Round(time.Second), map[bool]string{false: " (NOT quiescent)", true: ""}[r.quiescent]))
	row("chats opened / ended", fmt.Sprintf("%d / %d", s.chats, s.chatsEnded))
	row("visitor lines posted", s.posted)
	row("line events seen (unique by CloudEvent id)", s.lineEvents)
	row("visitor lines seen / missing", fmt.Sprintf("%d / %d", s.visitorSeen, s.missing))
	row("duplicates at a non-deduping consumer (same id stored twice)", s.dupIDs)
	row("visitor lines stored again under another id", s.dupTexts)
	row("redeliveries of a stream sequence (consumer restarts, not duplicates)", s.redelivered)
	row("per-chat order violations (seq, event id)", s.orderViolation)
	row("transcripts: exactly one / missing / several / incomplete", fmt.Sprintf("%d / %d / %d / %d", s.transcripts, s.trMissing, s.trDoubled, s.trIncomplete))
	if s.endedQueued > 0 {
		row("chats that ended waiting in the queue (no agent saw the end: no transcript owed)", s.endedQueued)
	}
	row("commands sent (durable) / answered ok", fmt.Sprintf("%d (%d) / %d", s.cmdsSent, s.cmdsDurable, s.cmdsOK))
	if s.cmdsRerouted > 0 || s.postedBeforeMove > 0 {
		row("commands sent again to a requeued chat's new agent (chat_not_found)", s.cmdsRerouted)
		row("commands whose chat moved after their line was posted (found in its history, not sent again)", s.postedBeforeMove)
	}
	if len(s.failedCodes) > 0 {
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(s.failedCodes)) {
			parts = append(parts, fmt.Sprintf("%s %d", code, s.failedCodes[code]))
		}
		row("commands never answered ok, by last error", strings.Join(parts, ", "))
	}
	row("doubled posts at the simulator / ok without a post", fmt.Sprintf("%d / %d", s.doubledPosts, s.missingPosts))
	row("dead letters", len(s.deadLetters))
	row("longest gap with no owner per agent", gapList(r.gaps))
	for _, kind := range faultKinds {
		rec := r.recoveries[kind]
		if rec == nil {
			continue
		}
		p50, worst := p50Max(rec.measured)
		row(fmt.Sprintf("%s ×%d: events flow again p50 / max (%d measured)", kind, rec.count, len(rec.measured)),
			fmt.Sprintf("%s / %s", p50.Round(10*time.Millisecond), worst.Round(10*time.Millisecond)))
	}
	if f := s.failures(); len(f) > 0 {
		fmt.Fprintf(w, "\nchaos: FAILED: %s\n", strings.Join(f, "; "))
		for _, c := range s.doubledChats {
			fmt.Fprintf(w, "chaos: several transcripts: %s\n", c)
		}
		for _, t := range s.doubledTexts {
			fmt.Fprintf(w, "chaos: posted twice: %s\n", t)
		}
		for _, dl := range s.deadLetters {
			fmt.Fprintf(w, "chaos: dead letter: %s\n", dl)
		}
		return
	}
	fmt.Fprintln(w, "\nchaos: OK: nothing lost, doubled or out of order")
}

// gapList is the longest gap of each agent, the worst first.
func gapList(gaps map[string]time.Duration) string {
	if len(gaps) == 0 {
		return "-"
	}
	agents := slices.Sorted(maps.Keys(gaps))
	slices.SortStableFunc(agents, func(a, b string) int { return int(gaps[b] - gaps[a]) })
	parts := make([]string, len(agents))
	for i, a := range agents {
		parts[i] = fmt.Sprintf("%s %s", a, gaps[a].Round(100*time.Millisecond))
	}
	return strings.Join(parts, ", ")
}
