package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of Config.
const (
	// DefaultBucket is the KV bucket of cursors and agent states.
	DefaultBucket = "LP_CURSORS"
	// DefaultTTL keeps a finished chat's cursor for a day: long enough that
	// the service stops listing the ended chat before its cursor goes, so
	// it is never mistaken for a new one and published again.
	DefaultTTL = 24 * time.Hour
	// markerTTL is how long the marker of a removed key stays: long enough
	// for watchers to see the removal, short enough that markers of the
	// many finished chats do not pile up.
	markerTTL = 10 * time.Minute
	// minTTL is the server's granularity of per-message TTLs.
	minTTL = time.Second
	// kvRetryFor bounds how long one read or write waits for a bucket that
	// cannot answer: a replicated bucket elects a new leader within a few
	// seconds of losing one; much longer is an outage the caller must see
	// (ErrUnavailable) rather than one call that hangs.
	kvRetryFor = 10 * time.Second
)

// Config configures a Store.
type Config struct {
	// Bucket is the KV bucket name. Default DefaultBucket.
	Bucket string
	// Replicas of the bucket (1..5). Default 1.
	Replicas int
	// TTL is how long the cursor of a finished chat (Cursor.Done) is kept;
	// active cursors and agent states never expire. Default DefaultTTL;
	// negative keeps finished cursors until DeleteCursor. At least 1s.
	TTL time.Duration
	// Storage is file (the zero value, and default) or memory.
	Storage jetstream.StorageType
	// Logger receives a warning for every retry while JetStream is not
	// ready (see Open). Default slog.Default().
	Logger *slog.Logger
	// Metrics counts those retries (lpbridge_jetstream_retries_total).
	// Optional: nil counts nothing.
	Metrics *telemetry.Metrics
}

func (c *Config) setDefaults() {
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
}

// Validate reports every problem of the config, joined.
func (c Config) Validate() error {
	var errs []error
	if !validBucket(c.Bucket) {
		errs = append(errs, fmt.Errorf("bucket %q: only letters, digits, '-' and '_'", c.Bucket))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d: must be 1..5", c.Replicas))
	}
	if c.TTL > 0 && c.TTL < minTTL {
		errs = append(errs, fmt.Errorf("ttl %s: must be at least %s", c.TTL, minTTL))
	}
	if c.Storage != jetstream.FileStorage && c.Storage != jetstream.MemoryStorage {
		errs = append(errs, fmt.Errorf("storage %v: must be file or memory", c.Storage))
	}
	return errors.Join(errs...)
}

// Store keeps cursors and agent states in a NATS KV bucket. It is safe for
// concurrent use.
type Store struct {
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	cfg Config
	// finishedTTL is the per-key TTL of finished cursors; 0 when they are
	// kept (TTL < 0, or a server without per-message TTLs).
	finishedTTL time.Duration
}

// Open creates the bucket, or binds to it and updates its config, and
// returns a Store on it. While JetStream cannot answer (a cluster electing
// its leaders; see jsretry) it retries with backoff until ctx ends. On a server without per-message TTLs (before NATS
// 2.11) the bucket is created without them and finished cursors are kept;
// FinishedTTL then reports 0.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if js == nil {
		return nil, fmt.Errorf("%w: nil JetStream", ErrInvalidConfig)
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	kvcfg := jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "lpbridge chat cursors and agent states",
		History:     1,
		Replicas:    cfg.Replicas,
		Storage:     cfg.Storage,
	}
	if cfg.TTL > 0 {
		kvcfg.LimitMarkerTTL = markerTTL
	}
	kv, keyTTL, err := openBucket(ctx, js, kvcfg, jsretry.Reporter{Logger: cfg.Logger, Metrics: cfg.Metrics})
	if err != nil {
		return nil, fmt.Errorf("state: open bucket %s: %w", cfg.Bucket, err)
	}
	s := &Store{js: js, kv: kv, cfg: cfg}
	if keyTTL {
		s.finishedTTL = cfg.TTL
	}
	return s, nil
}

// openBucket creates or updates a KV bucket, retrying while JetStream is
// not ready (creating the same config again is idempotent). A server
// without per-message TTLs (before NATS 2.11) refuses LimitMarkerTTL; the
// bucket is then made without it, and keyTTL reports whether per-key TTLs
// are available.
func openBucket(ctx context.Context, js jetstream.JetStream, kvcfg jetstream.KeyValueConfig, r jsretry.Reporter) (kv jetstream.KeyValue, keyTTL bool, err error) {
	err = jsretry.Do(ctx, r, telemetry.JetStreamCreate, "create KV bucket "+kvcfg.Bucket, func(ctx context.Context) error {
		var err error
		kv, err = js.CreateOrUpdateKeyValue(ctx, kvcfg)
		if errors.Is(err, jetstream.ErrLimitMarkerTTLNotSupported) {
			kvcfg.LimitMarkerTTL = 0
			kv, err = js.CreateOrUpdateKeyValue(ctx, kvcfg)
		}
		return err
	})
	return kv, err == nil && kvcfg.LimitMarkerTTL > 0, err
}

// FinishedTTL is how long finished cursors are kept, 0 meaning until
// DeleteCursor.
func (s *Store) FinishedTTL() time.Duration { return s.finishedTTL }

// Bucket is the name of the KV bucket.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// Cursor returns the cursor of a chat; when there is none it returns
// NewCursor() and false.
func (s *Store) Cursor(ctx context.Context, account, agent, chatID string) (Cursor, bool, error) {
	if err := checkIDs(account, agent, chatID); err != nil {
		return NewCursor(), false, err
	}
	var c Cursor
	ok, err := s.get(ctx, chatKey(account, agent, chatID), &c)
	if err != nil || !ok {
		return NewCursor(), false, err
	}
	return c, true, nil
}

// SaveCursor stores the cursor of a chat. A Done cursor expires after
// FinishedTTL (when not 0).
func (s *Store) SaveCursor(ctx context.Context, account, agent, chatID string, c Cursor) error {
	if err := checkIDs(account, agent, chatID); err != nil {
		return err
	}
	if !c.valid() {
		return fmt.Errorf("%w: cursor %+v of chat %s", ErrInvalidArgument, c, chatID)
	}
	var ttl time.Duration
	if c.Done {
		ttl = s.finishedTTL
	}
	return s.put(ctx, chatKey(account, agent, chatID), c, ttl)
}

// DeleteCursor removes the cursor of a chat; removing a missing cursor is
// not an error.
func (s *Store) DeleteCursor(ctx context.Context, account, agent, chatID string) error {
	if err := checkIDs(account, agent, chatID); err != nil {
		return err
	}
	key := chatKey(account, agent, chatID)
	var opts []jetstream.KVDeleteOpt
	if s.finishedTTL > 0 {
		opts = append(opts, jetstream.PurgeTTL(markerTTL))
	}
	// Purging twice removes nothing more: retried like a put.
	if err := retry(ctx, s.cfg.Metrics, true, func(ctx context.Context) error { return s.kv.Purge(ctx, key, opts...) }); err != nil {
		return fmt.Errorf("state: delete %s: %w", key, err)
	}
	return nil
}

// ChatIDs returns the ids of the chats of an agent that have a cursor.
func (s *Store) ChatIDs(ctx context.Context, account, agent string) ([]string, error) {
	if err := checkIDs(account, agent); err != nil {
		return nil, err
	}
	filter := chatKeyFilter(account, agent)
	lister, err := s.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("state: list %s: %w", filter, err)
	}
	var ids []string
	seen := map[string]bool{}
	for key := range lister.Keys() {
		id, err := chatIDFromKey(key)
		if err != nil {
			_ = lister.Stop()
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: list %s: %w", filter, err)
	}
	return ids, nil
}

// AgentState returns the state of an agent, or false when there is none.
func (s *Store) AgentState(ctx context.Context, account, agent string) (AgentState, bool, error) {
	if err := checkIDs(account, agent); err != nil {
		return AgentState{}, false, err
	}
	var a AgentState
	ok, err := s.get(ctx, agentKey(account, agent), &a)
	if err != nil || !ok {
		return AgentState{}, false, err
	}
	return a, true, nil
}

// SaveAgentState stores the state of an agent.
func (s *Store) SaveAgentState(ctx context.Context, account, agent string, a AgentState) error {
	if err := checkIDs(account, agent); err != nil {
		return err
	}
	if !a.valid() {
		return fmt.Errorf("%w: agent state change %d ringing %d", ErrInvalidArgument, a.Change, a.Ringing)
	}
	return s.put(ctx, agentKey(account, agent), a, 0)
}

func (s *Store) get(ctx context.Context, key string, v any) (bool, error) {
	entry, err := getEntry(ctx, s.cfg.Metrics, s.kv, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: get %s: %w", key, err)
	}
	if err := json.Unmarshal(entry.Value(), v); err != nil {
		return false, fmt.Errorf("%w: %s: %w", ErrCorrupt, key, err)
	}
	return true, nil
}

// put writes v under key; ttl > 0 makes the key expire (the KV API sets a
// TTL only on Create, so this publishes to the bucket's subject the way Put
// does, with the Nats-TTL header). A put is retried while the bucket cannot
// answer, even after a timeout that may have stored it: the key has one
// writer (the agent's owner), so storing the same value twice only costs a
// revision.
func (s *Store) put(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state: encode %s: %w", key, err)
	}
	if ttl <= 0 {
		if err := retry(ctx, s.cfg.Metrics, true, func(ctx context.Context) error {
			_, err := s.kv.Put(ctx, key, b)
			return err
		}); err != nil {
			return fmt.Errorf("state: put %s: %w", key, err)
		}
		return nil
	}
	if err := retry(ctx, s.cfg.Metrics, true, func(ctx context.Context) error {
		msg := &nats.Msg{Subject: "$KV." + s.cfg.Bucket + "." + key, Data: b}
		_, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgTTL(ttl))
		return err
	}); err != nil {
		return fmt.Errorf("state: put %s with ttl %s: %w", key, ttl, err)
	}
	return nil
}

// getEntry reads key, retrying while the bucket cannot answer.
func getEntry(ctx context.Context, m *telemetry.Metrics, kv jetstream.KeyValue, key string) (jetstream.KeyValueEntry, error) {
	var entry jetstream.KeyValueEntry
	err := retry(ctx, m, true, func(ctx context.Context) error {
		var err error
		entry, err = kv.Get(ctx, key)
		return err
	})
	return entry, err
}

// retry runs op again while JetStream cannot answer (jsretry.Unavailable),
// with backoff, for up to kvRetryFor or until ctx ends, and counts each
// retry in m. When idempotent is
// false, an Ambiguous failure (the write may have been applied) is not
// retried but returned, for the caller to read the key back. An error
// JetStream was unavailable with is returned wrapped in ErrUnavailable.
func retry(ctx context.Context, m *telemetry.Metrics, idempotent bool, op func(context.Context) error) error {
	deadline := time.Now().Add(kvRetryFor)
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if !jsretry.Unavailable(ctx, err) {
			if ctx.Err() != nil && jsretry.Ambiguous(err) {
				return fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			return err
		}
		wait := jsretry.Wait(attempt)
		if (!idempotent && jsretry.Ambiguous(err)) || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		m.JetStreamRetried(telemetry.JetStreamKV)
		if !jsretry.Sleep(ctx, wait) {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
}

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if id == "" {
			return fmt.Errorf("%w: empty account, agent or chat id", ErrInvalidArgument)
		}
	}
	return nil
}

func validBucket(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
