package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
)

// replayIDSuffix ends the Nats-Msg-Id of a replayed event: its own id plus
// the run's, so a stream capturing the target keeps every replay run (the
// ce-id, which consumers dedupe on, stays the original).
const replayIDSuffix = "/replay/"

// replayFlushTimeout bounds the wait for the server to have every replayed
// message: a few thousand messages take well under a second on loopback.
const replayFlushTimeout = 10 * time.Second

// runReplay re-publishes one chat's or one time window's events, in stream
// order, with their CloudEvent headers, under another subject prefix.
func runReplay(ctx context.Context, c *cli, args []string) error {
	fs, natsURL := c.flags("replay", "-to my.test.prefix (-chat id | -since 1h [-until 10m]) [-force]")
	to := fs.String("to", "", "subject prefix to publish under: lp.evt.A.B.chat.C.line goes to <to>.evt.A.B.chat.C.line (required)")
	chat := fs.String("chat", "", "replay this chat's events")
	sinceFlag := fs.String("since", "", "replay events stored since: RFC 3339 or a duration ago (1h)")
	untilFlag := fs.String("until", "", "with -since: up to this time (default now)")
	force := fs.Bool("force", false, "allow a -to that puts the events back onto the bridge's own event subjects")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return fmt.Errorf("%w: -to is required", errUsage)
	}
	if err := events.ValidatePrefix(*to); err != nil {
		return fmt.Errorf("%w: -to: %w", errUsage, err)
	}
	if (*chat == "") == (*sinceFlag == "") {
		return fmt.Errorf("%w: give -chat or -since (one of them)", errUsage)
	}
	if *untilFlag != "" && *sinceFlag == "" {
		return fmt.Errorf("%w: -until needs -since", errUsage)
	}
	prefix := c.cfg.SubjectPrefix
	own := prefix + ".evt."
	if strings.HasPrefix(*to+".evt.", own) && !*force {
		return fmt.Errorf("%w: -to %s would publish onto %s> (the bridge's own events); use -force to do it anyway", errUsage, *to, own)
	}
	now := time.Now()
	cfg := jetstream.OrderedConsumerConfig{}
	var until time.Time
	if *sinceFlag != "" {
		since, err := parseTime(*sinceFlag, now)
		if err != nil {
			return err
		}
		until = now
		if *untilFlag != "" {
			if until, err = parseTime(*untilFlag, now); err != nil {
				return err
			}
		}
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since}
	}
	if err := c.connect(ctx, *natsURL); err != nil {
		return err
	}
	var evs []storedEvent
	if *chat != "" {
		var err error
		if evs, err = c.chatEvents(ctx, *chat); err != nil {
			return err
		}
	} else {
		if _, err := c.stream(ctx); err != nil {
			return err
		}
		err := c.history(ctx, []string{own + ">"}, cfg, func(s storedEvent) bool {
			if s.at.After(until) {
				return false
			}
			evs = append(evs, s)
			return true
		})
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return fmt.Errorf("%w between %s and %s", ErrNoEvents, cfg.OptStartTime.Format(time.RFC3339), until.Format(time.RFC3339))
		}
	}
	run := strconv.FormatInt(now.UnixNano(), 36)
	for i, s := range evs {
		msg := replayMsg(s, prefix, *to, run)
		if err := c.nc.PublishMsg(msg); err != nil {
			return fmt.Errorf("replayed %d of %d, then %s: %w", i, len(evs), msg.Subject, err)
		}
	}
	if err := c.nc.FlushTimeout(replayFlushTimeout); err != nil {
		return fmt.Errorf("replay: flush: %w", err)
	}
	fmt.Fprintf(c.stdout, "replayed %d events to %s.evt.>\n", len(evs), *to)
	return nil
}

// replayMsg is stored under the prefix to instead of from, with every
// header kept (ce-*, Content-Type) but a Nats-Msg-Id of its own.
func replayMsg(s storedEvent, from, to, run string) *nats.Msg {
	msg := nats.NewMsg(to + strings.TrimPrefix(s.msg.Subject, from))
	for k, v := range s.msg.Header {
		msg.Header[k] = append([]string(nil), v...)
	}
	msg.Header.Set(nats.MsgIdHdr, s.event.ID+replayIDSuffix+run)
	msg.Data = s.msg.Data
	return msg
}
