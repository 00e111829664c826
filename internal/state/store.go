package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
// returns a Store on it. On a server without per-message TTLs (before NATS
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
	kv, keyTTL, err := openBucket(ctx, js, kvcfg)
	if err != nil {
		return nil, fmt.Errorf("state: open bucket %s: %w", cfg.Bucket, err)
	}
	s := &Store{js: js, kv: kv, cfg: cfg}
	if keyTTL {
		s.finishedTTL = cfg.TTL
	}
	return s, nil
}

// openBucket creates or updates a KV bucket. A server without per-message
// TTLs (before NATS 2.11) refuses LimitMarkerTTL; the bucket is then made
// without it, and keyTTL reports whether per-key TTLs are available.
func openBucket(ctx context.Context, js jetstream.JetStream, kvcfg jetstream.KeyValueConfig) (kv jetstream.KeyValue, keyTTL bool, err error) {
	kv, err = js.CreateOrUpdateKeyValue(ctx, kvcfg)
	if errors.Is(err, jetstream.ErrLimitMarkerTTLNotSupported) {
		kvcfg.LimitMarkerTTL = 0
		kv, err = js.CreateOrUpdateKeyValue(ctx, kvcfg)
	}
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
	if err := s.kv.Purge(ctx, key, opts...); err != nil {
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
	entry, err := s.kv.Get(ctx, key)
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
// does, with the Nats-TTL header).
func (s *Store) put(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state: encode %s: %w", key, err)
	}
	if ttl <= 0 {
		if _, err := s.kv.Put(ctx, key, b); err != nil {
			return fmt.Errorf("state: put %s: %w", key, err)
		}
		return nil
	}
	msg := &nats.Msg{Subject: "$KV." + s.cfg.Bucket + "." + key, Data: b}
	if _, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgTTL(ttl)); err != nil {
		return fmt.Errorf("state: put %s with ttl %s: %w", key, ttl, err)
	}
	return nil
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
