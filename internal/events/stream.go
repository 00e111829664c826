package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream defaults.
const (
	// DefaultStreamName is the stream that captures every event subject.
	DefaultStreamName = "LP_EVENTS"
	// DefaultMaxAge keeps a week of events: a consumer that was down over a
	// weekend can still catch up, and transcripts make long-term storage
	// someone else's job.
	DefaultMaxAge = 7 * 24 * time.Hour
	// DefaultDuplicateWindow must cover a restart: a replica that crashes
	// after publishing but before saving its cursor republishes the same ids
	// when it (or another replica) resumes, and JetStream drops them only
	// within this window. A pod rescheduled onto another node, pulling its
	// image and logging its agents in again, can take minutes; 10m covers
	// that with room, and costs JetStream only the ids of 10 minutes.
	DefaultDuplicateWindow = 10 * time.Minute
	// DefaultReplicas is one copy: a single server, or a cluster that
	// accepts losing the stream with its node; set 3 in production clusters.
	DefaultReplicas = 1
)

// StreamConfig describes the JetStream stream of events.
type StreamConfig struct {
	// Name of the stream. Default DefaultStreamName.
	Name string
	// Prefix of the subjects; the stream captures "<prefix>.evt.>". Default DefaultPrefix.
	Prefix string
	// Replicas of the stream (1, 3 or 5 in a cluster). Default DefaultReplicas.
	Replicas int
	// MaxAge is how long events are kept. Default DefaultMaxAge.
	MaxAge time.Duration
	// DuplicateWindow is how long JetStream remembers Nats-Msg-Id values.
	// Default DefaultDuplicateWindow; must not exceed MaxAge.
	DuplicateWindow time.Duration
	// Storage is file (the zero value, and default) or memory.
	Storage jetstream.StorageType
	// Logger receives a warning for every retry while JetStream is not
	// ready (see EnsureStream). Default slog.Default().
	Logger *slog.Logger
	// Metrics counts those retries (lpbridge_jetstream_retries_total).
	// Optional: nil counts nothing.
	Metrics *telemetry.Metrics
}

func (c *StreamConfig) setDefaults() {
	if c.Name == "" {
		c.Name = DefaultStreamName
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
}

// Validate reports every problem of the config, joined.
func (c StreamConfig) Validate() error {
	var errs []error
	if c.Name == "" || strings.ContainsAny(c.Name, ".*> \t\r\n/\\") {
		errs = append(errs, fmt.Errorf("stream name %q: must be non-empty, without '.', '*', '>', '/', '\\' or whitespace", c.Name))
	}
	if err := ValidatePrefix(c.Prefix); err != nil {
		errs = append(errs, err)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d: must be 1..5", c.Replicas))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("max age %s: must not be negative", c.MaxAge))
	}
	if c.DuplicateWindow < 0 {
		errs = append(errs, fmt.Errorf("duplicate window %s: must not be negative", c.DuplicateWindow))
	}
	if c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge {
		errs = append(errs, fmt.Errorf("duplicate window %s exceeds max age %s", c.DuplicateWindow, c.MaxAge))
	}
	if c.Storage != jetstream.FileStorage && c.Storage != jetstream.MemoryStorage {
		errs = append(errs, fmt.Errorf("storage %v: must be file or memory", c.Storage))
	}
	return errors.Join(errs...)
}

// ValidatePrefix checks a subject prefix: one or more non-empty tokens
// separated by '.', without wildcards or whitespace.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return errors.New("prefix is empty")
	}
	for _, tok := range strings.Split(prefix, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("prefix %q: tokens must be non-empty, without '*', '>' or whitespace", prefix)
		}
	}
	return nil
}

// EnsureStream creates the events stream, or updates it to cfg when it
// exists, and returns it. While JetStream cannot answer (a cluster still
// electing its leaders, too few nodes up yet for the replicas; see
// jsretry) it retries with backoff, logging each retry, until ctx ends: a
// bridge started with its NATS cluster waits for it instead of failing.
// Creating or updating to the same config is idempotent, so a request that
// timed out after the server applied it is simply sent again.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: stream: %w", ErrInvalidConfig, err)
	}
	scfg := jetstream.StreamConfig{
		Name:        cfg.Name,
		Description: "lpbridge events (CloudEvents, one subject per event type)",
		Subjects:    StreamSubjects(cfg.Prefix),
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Storage:     cfg.Storage,
		Replicas:    cfg.Replicas,
		MaxAge:      cfg.MaxAge,
		Duplicates:  cfg.DuplicateWindow,
	}
	var st jetstream.Stream
	err := jsretry.Do(ctx, jsretry.Reporter{Logger: cfg.Logger, Metrics: cfg.Metrics}, telemetry.JetStreamCreate, "create stream "+cfg.Name, func(ctx context.Context) error {
		var err error
		st, err = js.CreateOrUpdateStream(ctx, scfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("events: ensure stream %s: %w", cfg.Name, err)
	}
	return st, nil
}
