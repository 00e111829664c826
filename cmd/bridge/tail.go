package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
)

// runTail prints events as they are stored, after the last N or those since
// a time when asked, one readable line each (the demo's view) or one
// CloudEvent JSON per line.
func runTail(ctx context.Context, c *cli, args []string) error {
	fs, natsURL := c.flags("tail", "[-agent token] [-chat id] [-type chat.line] [-since 10m | -last N] [-json]")
	f := filterFlags(fs)
	since := fs.String("since", "", "start from this time: RFC 3339 or a duration ago (10m); default: only new events")
	last := fs.Int("last", 0, "start with the last N matching events stored")
	asJSON := fs.Bool("json", false, "print each event as one CloudEvent JSON per line")
	if err := parse(fs, args); err != nil {
		return err
	}
	filter, err := f()
	if err != nil {
		return err
	}
	if *since != "" && *last > 0 {
		return fmt.Errorf("%w: -since and -last exclude each other", errUsage)
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
	if *since != "" {
		t, err := parseTime(*since, time.Now())
		if err != nil {
			return err
		}
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &t}
	}
	if err := c.connect(ctx, *natsURL); err != nil {
		return err
	}
	if _, err := c.stream(ctx); err != nil {
		return err
	}
	print := func(s storedEvent) {
		if filter.match(s.event) {
			printEvent(c.stdout, s, *asJSON)
		}
	}
	subjects := filter.subjects(c.cfg.SubjectPrefix)
	if *last > 0 {
		// The stream cannot count back N among the matching events; read
		// them and keep the last N, then go on live after the newest one.
		var ring []storedEvent
		var next uint64
		err := c.history(ctx, subjects, jetstream.OrderedConsumerConfig{}, func(s storedEvent) bool {
			next = s.seq + 1
			if filter.match(s.event) {
				ring = append(ring, s)
				if len(ring) > *last {
					ring = ring[1:]
				}
			}
			return true
		})
		if err != nil {
			return err
		}
		for _, s := range ring {
			print(s)
		}
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
		if next > 0 {
			cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: next}
		}
	}
	return c.live(ctx, subjects, cfg, print)
}

// filterFlags declares -agent, -chat and -type; the returned function
// checks them once parsed.
func filterFlags(fs *flag.FlagSet) func() (eventFilter, error) {
	agent := fs.String("agent", "", "only this agent (its token: the login name made subject-safe, e.g. bot_one)")
	chat := fs.String("chat", "", "only this chat id")
	typ := fs.String("type", "", "only this event type, e.g. chat.line or lpbridge.chat.line")
	return func() (eventFilter, error) {
		f := eventFilter{agent: *agent, chat: *chat}
		if *typ != "" {
			t := events.Type(*typ)
			if !t.Valid() {
				t = events.Type("lpbridge." + *typ)
			}
			if !t.Valid() {
				return f, fmt.Errorf("%w: unknown -type %q (want one of %v)", errUsage, *typ, events.TypeNames())
			}
			f.typ = t
		}
		return f, nil
	}
}

// printEvent writes one event: the demo's readable line, or its CloudEvent
// as one line of JSON.
func printEvent(w io.Writer, s storedEvent, asJSON bool) {
	if !asJSON {
		fmt.Fprintln(w, describeEvent(s.msg))
		return
	}
	ce, err := events.Decode(s.msg)
	if err != nil {
		return // toStored decoded it already
	}
	line, err := json.Marshal(ce)
	if err != nil {
		fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
		return
	}
	fmt.Fprintln(w, string(line))
}
