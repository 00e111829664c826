package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter. The body is the original message body and the
// original headers are kept, so a dead letter can be inspected and
// republished as it came.
const (
	HeaderDLQCode       = "Lpbridge-Dlq-Code"       // the error code, e.g. bad_request
	HeaderDLQReason     = "Lpbridge-Dlq-Reason"     // the error message
	HeaderDLQSubject    = "Lpbridge-Dlq-Subject"    // the subject the command came on
	HeaderDLQDeliveries = "Lpbridge-Dlq-Deliveries" // tries: deliveries that ran, not those handed back (durable commands)
	HeaderDLQTime       = "Lpbridge-Dlq-Time"       // when it was dead-lettered (RFC 3339)
	HeaderCommandID     = "Lpbridge-Command-Id"     // the command id (on replies too)
)

// maxHeaderValue bounds a header value we write.
const maxHeaderValue = 1024

// deadLettered sends the messages that cannot run (bad input, a bug) or
// that used up their tries to the dead-letter subject, with the reason in
// headers. A durable message whose dead letter could not be stored comes
// back later, so it is not lost; a request has nothing to come back.
func (c *Consumer) deadLettered(next step) step {
	return func(ctx context.Context, d *delivery) outcome {
		out := next(ctx, d)
		if !out.deadLetter || out.redeliver {
			return out
		}
		if err := c.dead.send(ctx, d.msg, out.cmd, out.err, d.tries); err != nil {
			c.logger.Error("dead letter not published", "subject", d.msg.Subject, "err", err)
			if d.mode == modeDurable {
				out.redeliver, out.delay = true, c.cfg.backoff(d.tries)
			}
			return out
		}
		c.cfg.Metrics.CommandDeadLettered(out.cmd.Name, string(out.err.Code))
		return out
	}
}

// deadLetters publishes dead letters into the dead-letter stream.
type deadLetters struct {
	js       jetstream.JetStream
	subjects subjects
}

// send dead-letters m, which failed with e after deliveries tries (0 for
// request-reply).
func (d *deadLetters) send(ctx context.Context, m *nats.Msg, cmd Command, e *Error, deliveries uint64) error {
	dl := nats.NewMsg(d.subjects.deadLetter(cmd.Agent, cmd.Name))
	for k, v := range m.Header {
		dl.Header[k] = append([]string(nil), v...)
	}
	dl.Header.Set(HeaderDLQCode, string(e.Code))
	dl.Header.Set(HeaderDLQReason, headerSafe(e.Message))
	dl.Header.Set(HeaderDLQSubject, m.Subject)
	dl.Header.Set(HeaderDLQTime, time.Now().UTC().Format(time.RFC3339Nano))
	if deliveries > 0 {
		dl.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(deliveries, 10))
	}
	if cmd.ID != "" && cmd.IDSource != idSourceGenerated {
		dl.Header.Set(HeaderCommandID, headerSafe(cmd.ID))
	}
	dl.Data = m.Data
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultPublishTimeout)
	defer cancel()
	if _, err := d.js.PublishMsg(pctx, dl); err != nil {
		return fmt.Errorf("dead letter to %s: %w", dl.Subject, err)
	}
	return nil
}

// headerSafe makes s a one-line header value of bounded length.
func headerSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxHeaderValue {
		s = strings.ToValidUTF8(s[:maxHeaderValue], "") + "..."
	}
	return s
}
