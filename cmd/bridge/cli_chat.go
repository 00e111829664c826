package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
)

// ErrNoEvents is returned when the stream holds nothing for what was asked.
var ErrNoEvents = errors.New("no events")

// runChat prints one chat's events from the stream in stream order, then
// its transcript.
func runChat(ctx context.Context, c *cli, args []string) error {
	fs, natsURL := c.flags("chat", "[-json] <chat id>")
	asJSON := fs.Bool("json", false, `print {"chatId", "events": [CloudEvents], "transcript": {...}} as JSON`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want one chat id, got %d arguments", errUsage, fs.NArg())
	}
	chatID := fs.Arg(0)
	if err := c.connect(ctx, *natsURL); err != nil {
		return err
	}
	evs, err := c.chatEvents(ctx, chatID)
	if err != nil {
		return err
	}
	transcript, fromEvent := chatTranscript(chatID, evs)
	if *asJSON {
		return writeChatJSON(c.stdout, chatID, evs, transcript)
	}
	for _, s := range evs {
		fmt.Fprintln(c.stdout, describeEvent(s.msg))
	}
	from := "built from the line events (no chat.transcript in the stream)"
	if fromEvent {
		from = "from chat.transcript"
	}
	fmt.Fprintf(c.stdout, "\ntranscript of %s, %d lines, %s:\n", chatID, len(transcript.Lines), from)
	for _, l := range transcript.Lines {
		text := l.Text
		if text == "" && len(l.JSON) > 0 {
			text = string(l.JSON)
		}
		fmt.Fprintf(c.stdout, "%s %-7s %s: %s\n", l.Time.Format("15:04:05"), l.Source, l.By, text)
	}
	if transcript.EndedBy != "" {
		fmt.Fprintf(c.stdout, "ended by %s\n", transcript.EndedBy)
	}
	return nil
}

// chatEvents reads every event of the chat the stream holds, in stream
// order; ErrNoEvents when there is none.
func (c *cli) chatEvents(ctx context.Context, chatID string) ([]storedEvent, error) {
	if _, err := c.stream(ctx); err != nil {
		return nil, err
	}
	filter := eventFilter{chat: chatID}
	var evs []storedEvent
	err := c.history(ctx, filter.subjects(c.cfg.SubjectPrefix), jetstream.OrderedConsumerConfig{}, func(s storedEvent) bool {
		if filter.match(s.event) {
			evs = append(evs, s)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("%w for chat %s", ErrNoEvents, chatID)
	}
	return evs, nil
}

// chatTranscript is the chat's last chat.transcript event, or, when the
// stream has none (the chat is open, or the transcript aged out), one built
// from its line events ordered by the service's event id, each line once.
func chatTranscript(chatID string, evs []storedEvent) (events.TranscriptData, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		if t, ok := evs[i].event.Data.(events.TranscriptData); ok {
			return t, true
		}
	}
	t := events.TranscriptData{ChatID: chatID}
	for _, s := range evs {
		switch d := s.event.Data.(type) {
		case events.LineData:
			t.Lines = append(t.Lines, d)
		case events.InfoData:
			t.Info = &d
			t.StartTime = d.StartTime
		case events.EndedData:
			t.EndedBy, t.EndTime = d.EndedBy, s.event.Time
		}
	}
	// A chat transferred between two agents of this bridge has its lines on
	// both agents' subjects.
	slices.SortStableFunc(t.Lines, func(a, b events.LineData) int { return a.EventID - b.EventID })
	t.Lines = slices.CompactFunc(t.Lines, func(a, b events.LineData) bool { return a.EventID == b.EventID })
	return t, false
}

func writeChatJSON(w io.Writer, chatID string, evs []storedEvent, t events.TranscriptData) error {
	out := struct {
		ChatID     string                `json:"chatId"`
		Events     []event.Event         `json:"events"`
		Transcript events.TranscriptData `json:"transcript"`
	}{ChatID: chatID, Transcript: t}
	for _, s := range evs {
		ce, err := events.Decode(s.msg)
		if err != nil {
			return fmt.Errorf("chat %s: %w", chatID, err)
		}
		out.Events = append(out.Events, ce)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("chat %s: %w", chatID, err)
	}
	return nil
}
