package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// dlqMaxAge is how long dead letters are kept for inspection.
const dlqMaxAge = 7 * 24 * time.Hour

// durableDuplicateWindow lets JetStream drop a durable command published
// twice with the same Nats-Msg-Id (a publisher's retry) before it is stored.
const durableDuplicateWindow = 2 * time.Minute

// ensureDeadLetterStream creates or updates the stream keeping dead letters
// (<prefix>.dlq.>), so they outlive the moment and can be inspected with
// `nats stream view`.
func ensureDeadLetterStream(ctx context.Context, js jetstream.JetStream, cfg Config) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.DLQStreamName,
		Description: "lpbridge dead-lettered commands",
		Subjects:    []string{cfg.subjects().everyAccount(kindDLQ)},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      dlqMaxAge,
		Replicas:    cfg.Replicas,
		Storage:     cfg.Storage,
		Duplicates:  durableDuplicateWindow,
	})
	if err != nil {
		return fmt.Errorf("dead-letter stream %s: %w", cfg.DLQStreamName, err)
	}
	return nil
}

// ensureCommandStream creates or updates the stream capturing durable
// commands (<prefix>.dcmd.>). It is a work queue: a command is removed once
// a bridge acknowledged it, and waits while no bridge runs.
func ensureCommandStream(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.StreamName,
		Description: "lpbridge durable commands",
		Subjects:    []string{cfg.subjects().everyAccount(kindDurable)},
		Retention:   jetstream.WorkQueuePolicy,
		MaxAge:      cfg.StreamMaxAge,
		Replicas:    cfg.Replicas,
		Storage:     cfg.Storage,
		Duplicates:  durableDuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("command stream %s: %w", cfg.StreamName, err)
	}
	return s, nil
}

// durableConsumerConfig is the account's durable consumer of the command
// stream. It allows one delivery more than MaxDeliver: a bridge that died
// during the last try still sees the command once more, and dead-letters it.
// Routed by ownership, it has no delivery limit: replicas standing by hand
// commands back without trying them, and the handler counts the tries.
func durableConsumerConfig(cfg Config, routed bool) jetstream.ConsumerConfig {
	name := "lpbridge_commands_" + safeName(cfg.Account)
	maxDeliver := cfg.MaxDeliver + 1
	if routed {
		maxDeliver = -1
	}
	return jetstream.ConsumerConfig{
		Name:          name,
		Durable:       name,
		Description:   "lpbridge command consumer for account " + cfg.Account,
		FilterSubject: cfg.subjects().wildcard(kindDurable, ""),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait(cfg),
		MaxDeliver:    maxDeliver,
		MaxAckPending: maxAckPending,
	}
}

// ackWait covers the longest a durable command can take before it is
// acknowledged: its run, the check of an ambiguous post after the run's time
// ran out (lpchat.VerifyTimeout), the command.result publication, and the KV writes. A shorter one
// would redeliver a command that is still being run.
func ackWait(cfg Config) time.Duration {
	return cfg.Timeout + lpchat.VerifyTimeout + resultPublishTimeout + leaseMargin
}

// maxAckPending bounds the durable commands out at once. They are handled
// one at a time, but a command handed back by a standby (NAK with a delay)
// or waiting for its backoff stays pending until it is delivered again, and
// at the bound no new command is delivered to any replica, the owner's
// included. So the bound is well above the commands that can wait so.
const maxAckPending = 1000

// safeName maps s to letters, digits, '-' and '_' for consumer names.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if nameRune(r) {
			return r
		}
		return '_'
	}, s)
}
