package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lpbridge/lpbridge/internal/jsretry"
	"github.com/lpbridge/lpbridge/internal/telemetry"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Leases: one owner per agent session across replicas (DESIGN.md §4.4).
//
// A lease is the key "lease.<account>.<agent>" (parts escaped like the other
// keys) in a bucket of its own, LP_LEASES, written with a per-key TTL: the
// server removes the key when its holder stops renewing it, so a replica
// that died leaves nothing behind after one TTL, and whether a lease is
// still valid is decided by the server's clock alone, never by comparing the
// clocks of two replicas. Acquire is a KV Create (fails while the key is
// there); Renew and Release are compare-and-set on the revision the holder
// wrote last, so a holder that was overtaken learns it (ErrLeaseLost)
// instead of overwriting the new owner.
//
// Why not the cursor bucket: it keeps cursors for a day and may be created
// without per-message TTLs (Config.TTL < 0); leases live for seconds, are
// rewritten every few seconds, and must not depend on how cursors are kept.
// A bucket of their own also lets operators grant it separately.
//
// On a server without per-message TTLs (before NATS 2.11) the bucket has
// none and an abandoned key stays: Acquire then takes over a lease whose
// recorded expiry (the holder's clock) has passed, which assumes the
// replicas' clocks roughly agree.

// Defaults of LeasesConfig.
const (
	// DefaultLeaseBucket is the KV bucket of agent leases.
	DefaultLeaseBucket = "LP_LEASES"
	// MinLeaseTTL is the shortest lease: the server counts per-message TTLs
	// in whole seconds.
	MinLeaseTTL = time.Second
	// leaseMarkerTTL is how long the marker of a released or expired lease
	// stays: watchers see it go, and markers of agents no longer configured
	// do not pile up.
	leaseMarkerTTL = time.Minute
	leaseKeyPrefix = "lease."
)

// LeasesConfig configures Leases.
type LeasesConfig struct {
	// Bucket is the KV bucket name. Default DefaultLeaseBucket.
	Bucket string
	// Replicas of the bucket (1..5). Default 1.
	Replicas int
	// Storage is file (the zero value, and default) or memory.
	Storage jetstream.StorageType
	// Logger receives a warning for every retry while JetStream is not
	// ready (see OpenLeases). Default slog.Default().
	Logger *slog.Logger
	// Metrics counts those retries (lpbridge_jetstream_retries_total).
	// Optional: nil counts nothing.
	Metrics *telemetry.Metrics
}

func (c *LeasesConfig) setDefaults() {
	if c.Bucket == "" {
		c.Bucket = DefaultLeaseBucket
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
}

// Validate reports every problem of the config, joined.
func (c LeasesConfig) Validate() error {
	var errs []error
	if !validBucket(c.Bucket) {
		errs = append(errs, fmt.Errorf("bucket %q: only letters, digits, '-' and '_'", c.Bucket))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d: must be 1..5", c.Replicas))
	}
	if c.Storage != jetstream.FileStorage && c.Storage != jetstream.MemoryStorage {
		errs = append(errs, fmt.Errorf("storage %v: must be file or memory", c.Storage))
	}
	return errors.Join(errs...)
}

// LeaseRecord is the value of a lease key. Times are the holder's clock.
type LeaseRecord struct {
	// Owner names the holder (see NewOwnerID).
	Owner string `json:"owner"`
	// Acquired is when the holder took the lease; with Owner it tells one
	// holding from the next.
	Acquired time.Time `json:"acquired"`
	// Renewed is when the holder last wrote the lease.
	Renewed time.Time `json:"renewed"`
	// Expires is Renewed plus the lease's TTL.
	Expires time.Time `json:"expires"`
}

// Leases hands out agent leases kept in a NATS KV bucket. It is safe for
// concurrent use.
type Leases struct {
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	cfg LeasesConfig
	// keyTTL: the bucket has per-key TTLs, so the server removes a lease
	// nobody renews.
	keyTTL bool
}

// OpenLeases creates the lease bucket, or binds to it and updates its
// config, and returns Leases on it; like Open, it waits for a JetStream
// that is not ready yet until ctx ends.
func OpenLeases(ctx context.Context, js jetstream.JetStream, cfg LeasesConfig) (*Leases, error) {
	if js == nil {
		return nil, fmt.Errorf("%w: nil JetStream", ErrInvalidConfig)
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	kvcfg := jetstream.KeyValueConfig{
		Bucket:         cfg.Bucket,
		Description:    "lpbridge agent leases: one owner per agent across replicas",
		History:        1,
		Replicas:       cfg.Replicas,
		Storage:        cfg.Storage,
		LimitMarkerTTL: leaseMarkerTTL,
	}
	kv, keyTTL, err := openBucket(ctx, js, kvcfg, jsretry.Reporter{Logger: cfg.Logger, Metrics: cfg.Metrics})
	if err != nil {
		return nil, fmt.Errorf("state: open lease bucket %s: %w", cfg.Bucket, err)
	}
	return &Leases{js: js, kv: kv, cfg: cfg, keyTTL: keyTTL}, nil
}

// Bucket is the name of the KV bucket.
func (ls *Leases) Bucket() string { return ls.cfg.Bucket }

// Holder returns the record of an agent's lease, or false when nobody holds it.
func (ls *Leases) Holder(ctx context.Context, account, agent string) (LeaseRecord, bool, error) {
	if err := checkIDs(account, agent); err != nil {
		return LeaseRecord{}, false, err
	}
	rec, _, ok, err := ls.get(ctx, leaseKey(account, agent))
	return rec, ok, err
}

// Acquire takes the lease of an agent for owner, valid for ttl unless
// renewed. It fails with ErrLeaseHeld while another owner holds it. A lease
// that owner itself holds (say, from before a lost connection) is taken
// over at once. ttl must be whole seconds, at least MinLeaseTTL.
func (ls *Leases) Acquire(ctx context.Context, account, agent, owner string, ttl time.Duration) (*Lease, error) {
	if err := checkIDs(account, agent, owner); err != nil {
		return nil, err
	}
	if ttl < MinLeaseTTL || ttl%time.Second != 0 {
		return nil, fmt.Errorf("%w: lease ttl %s: must be whole seconds, at least %s", ErrInvalidArgument, ttl, MinLeaseTTL)
	}
	key := leaseKey(account, agent)
	now := time.Now().UTC()
	rec := LeaseRecord{Owner: owner, Acquired: now, Renewed: now, Expires: now.Add(ttl)}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("state: encode %s: %w", key, err)
	}
	var opts []jetstream.KVCreateOpt
	if ls.keyTTL {
		opts = append(opts, jetstream.KeyTTL(ttl))
	}
	var rev uint64
	err = retry(ctx, ls.cfg.Metrics, false, func(ctx context.Context) error {
		var err error
		rev, err = ls.kv.Create(ctx, key, b, opts...)
		return err
	})
	if err == nil {
		return &Lease{ls: ls, key: key, ttl: ttl, rec: rec, rev: rev}, nil
	}
	ambiguous := errors.Is(err, ErrUnavailable) && jsretry.Ambiguous(err)
	if !errors.Is(err, jetstream.ErrKeyExists) && !ambiguous {
		return nil, fmt.Errorf("state: acquire lease %s: %w", key, err)
	}
	// The key exists, or our create timed out and may have made it: read
	// it back rather than create again.
	cur, curRev, ok, gerr := ls.get(ctx, key)
	switch {
	case gerr != nil:
		return nil, gerr
	case !ok && ambiguous:
		return nil, fmt.Errorf("state: acquire lease %s: %w", key, err)
	case !ok:
		// Released or expired just now: the caller's next try gets it.
		return nil, fmt.Errorf("%w: %s changed while acquiring", ErrLeaseHeld, key)
	case cur.Owner == owner && cur.Acquired.Equal(rec.Acquired):
		// Our create was applied though its answer was lost.
		return &Lease{ls: ls, key: key, ttl: ttl, rec: cur, rev: curRev}, nil
	case cur.Owner != owner && (ls.keyTTL || !now.After(cur.Expires)):
		return nil, fmt.Errorf("%w: %s held by %s", ErrLeaseHeld, key, cur.Owner)
	}
	// Ours from before, or abandoned on a bucket without key TTLs.
	rev, err = ls.write(ctx, key, rec, curRev, ttl)
	if wrongRevision(err) {
		return nil, fmt.Errorf("%w: %s taken meanwhile", ErrLeaseHeld, key)
	}
	if err != nil {
		// A write that timed out is settled by the next Acquire, which
		// finds the key ours either way and takes it over again.
		return nil, fmt.Errorf("state: acquire lease %s: %w", key, err)
	}
	return &Lease{ls: ls, key: key, ttl: ttl, rec: rec, rev: rev}, nil
}

// get reads and decodes a lease key.
func (ls *Leases) get(ctx context.Context, key string) (LeaseRecord, uint64, bool, error) {
	entry, err := getEntry(ctx, ls.cfg.Metrics, ls.kv, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return LeaseRecord{}, 0, false, nil
	}
	if err != nil {
		return LeaseRecord{}, 0, false, fmt.Errorf("state: get %s: %w", key, err)
	}
	var rec LeaseRecord
	if err := json.Unmarshal(entry.Value(), &rec); err != nil {
		return LeaseRecord{}, 0, false, fmt.Errorf("%w: %s: %w", ErrCorrupt, key, err)
	}
	return rec, entry.Revision(), true, nil
}

// write stores rec under key if the key's last revision is rev; with key
// TTLs the key expires ttl after this write (the KV API sets a TTL only on
// Create, so this publishes to the bucket's subject the way Update does).
// It is retried while the bucket cannot answer, except after a timeout
// (ErrUnavailable and jsretry.Ambiguous): the write may have been applied,
// and the caller reads the key back to know.
func (ls *Leases) write(ctx context.Context, key string, rec LeaseRecord, rev uint64, ttl time.Duration) (uint64, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("state: encode %s: %w", key, err)
	}
	var next uint64
	err = retry(ctx, ls.cfg.Metrics, false, func(ctx context.Context) error {
		if !ls.keyTTL {
			var err error
			next, err = ls.kv.Update(ctx, key, b, rev)
			return err
		}
		msg := &nats.Msg{Subject: "$KV." + ls.cfg.Bucket + "." + key, Data: b}
		ack, err := ls.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(rev), jetstream.WithMsgTTL(ttl))
		if err != nil {
			return err
		}
		next = ack.Sequence
		return nil
	})
	return next, err
}

// wrongRevision reports whether err is a failed compare-and-set: the key's
// last revision was not the one expected (10071, or 10164 on replicated
// streams).
func wrongRevision(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

func leaseKey(account, agent string) string {
	return leaseKeyPrefix + escapePart(account) + "." + escapePart(agent)
}

// Lease is one holding of an agent's lease, from Acquire until it is
// released or lost. It is safe for concurrent use.
type Lease struct {
	ls  *Leases
	key string
	ttl time.Duration

	mu       sync.Mutex
	rec      LeaseRecord
	rev      uint64 // the revision this holder wrote last
	released bool
}

// Owner is the holder's id.
func (l *Lease) Owner() string { return l.rec.Owner }

// TTL is how long the lease lasts after each renewal.
func (l *Lease) TTL() time.Duration { return l.ttl }

// Renew extends the lease by its TTL. It returns ErrLeaseLost when the
// lease expired or another owner holds it now (or it was released); other
// errors (NATS unreachable) leave it unknown whether the lease still holds,
// and it ends TTL after the last successful renewal.
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("%w: %s was released", ErrLeaseLost, l.key)
	}
	for conflicts := 0; ; {
		now := time.Now().UTC()
		rec := l.rec
		rec.Renewed, rec.Expires = now, now.Add(l.ttl)
		rev, err := l.ls.write(ctx, l.key, rec, l.rev, l.ttl)
		if err == nil {
			l.rec, l.rev = rec, rev
			return nil
		}
		ambiguous := errors.Is(err, ErrUnavailable) && jsretry.Ambiguous(err)
		if !wrongRevision(err) && !ambiguous {
			return fmt.Errorf("state: renew lease %s: %w", l.key, err)
		}
		// A renewal stored though its answer was lost leaves our own record
		// at a revision we did not see: read it back, never write blindly.
		cur, rev, ok, gerr := l.ls.get(ctx, l.key)
		switch {
		case gerr != nil && ambiguous:
			return fmt.Errorf("state: renew lease %s: %w (reading it back: %w)", l.key, err, gerr)
		case gerr != nil:
			return fmt.Errorf("state: renew lease %s: %w", l.key, gerr)
		case !ok:
			return fmt.Errorf("%w: %s expired", ErrLeaseLost, l.key)
		case cur.Owner != l.rec.Owner || !cur.Acquired.Equal(l.rec.Acquired):
			return fmt.Errorf("%w: %s now held by %s", ErrLeaseLost, l.key, cur.Owner)
		case cur.Renewed.Equal(rec.Renewed):
			// This very renewal was applied.
			l.rec, l.rev = cur, rev
			return nil
		}
		l.rev = rev
		if !ambiguous {
			if conflicts++; conflicts == 2 {
				return fmt.Errorf("%w: %s keeps changing", ErrLeaseLost, l.key)
			}
		}
	}
}

// Release gives the lease up, so another owner can take it at once.
// Releasing a lease lost meanwhile, or released before, does nothing.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	for range 2 {
		opts := []jetstream.KVDeleteOpt{jetstream.LastRevision(l.rev)}
		if l.ls.keyTTL {
			opts = append(opts, jetstream.PurgeTTL(leaseMarkerTTL))
		}
		err := retry(ctx, l.ls.cfg.Metrics, false, func(ctx context.Context) error { return l.ls.kv.Purge(ctx, l.key, opts...) })
		if err == nil {
			break
		}
		if !wrongRevision(err) && (!errors.Is(err, ErrUnavailable) || !jsretry.Ambiguous(err)) {
			return fmt.Errorf("state: release lease %s: %w", l.key, err)
		}
		// Lost, released by the purge whose answer was lost, or still ours
		// at a revision whose ack was lost (see Renew): read it back.
		cur, rev, ok, gerr := l.ls.get(ctx, l.key)
		if gerr != nil {
			return fmt.Errorf("state: release lease %s: %w", l.key, gerr)
		}
		if !ok || cur.Owner != l.rec.Owner || !cur.Acquired.Equal(l.rec.Acquired) {
			break
		}
		l.rev = rev
	}
	l.released = true
	return nil
}
