package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Command results live in a KV bucket, one key per command id, so that a
// command seen again — redelivered, retried by its client, or sent to
// another replica or after a restart — returns the stored result instead of
// running twice. A key also serves as a claim (a lease) so that one run at
// a time owns a command id across replicas.

// Record states.
const (
	stateRunning = "running" // a run owns the id until LeaseUntil
	stateFailed  = "failed"  // the last run failed transiently; the next one may run
	stateDone    = "done"    // Reply is final
)

// record is the stored state of one command id.
type record struct {
	ID         string    `json:"id"`
	Command    string    `json:"command"`
	State      string    `json:"state"`
	Started    time.Time `json:"started"` // first run's start
	Attempts   int       `json:"attempts"`
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
	Ambiguous  bool      `json:"ambiguous,omitempty"` // an earlier run may have acted
	// AmbiguousAt is when the last run that may have acted failed.
	AmbiguousAt time.Time       `json:"ambiguousAt,omitzero"`
	Reply       json.RawMessage `json:"reply,omitempty"` // the reply, once done
}

// results is the results bucket.
type results struct {
	kv    jetstream.KeyValue
	owner string        // this consumer's id
	lease time.Duration // how long a claim holds
	now   func() time.Time
}

// openResults creates or binds the results bucket.
func openResults(ctx context.Context, js jetstream.JetStream, cfg Config, owner string) (*results, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.ResultsBucket,
		Description: "lpbridge command results, by command id (deduplication)",
		History:     1,
		TTL:         cfg.ResultTTL,
		Replicas:    cfg.Replicas,
		Storage:     cfg.Storage,
	})
	if err != nil {
		return nil, fmt.Errorf("results bucket %s: %w", cfg.ResultsBucket, err)
	}
	return &results{kv: kv, owner: owner, lease: cfg.lease(), now: time.Now}, nil
}

// resultKey is the KV key of a command id of an agent. Ids may hold any
// character, so the key is a hash.
func resultKey(account, agent, id string) string {
	sum := sha256.Sum256([]byte(account + "\x00" + agent + "\x00" + id))
	return "c." + hex.EncodeToString(sum[:20])
}

// claimKind says what claim found.
type claimKind int

const (
	claimed   claimKind = iota // the caller owns the id now and must run it
	claimDone                  // the id has a final result: rec.Reply
	claimBusy                  // another run owns the id until rec.LeaseUntil
)

// claim is the outcome of results.claim.
type claim struct {
	kind claimKind
	rec  record
	rev  uint64
	// recheck: an earlier run may have acted (it failed ambiguously, or its
	// owner died while running it).
	recheck bool
}

// maxClaimRaces bounds the compare-and-set retries of a claim.
const maxClaimRaces = 8

// claim takes the id for a run, or reports its final result or its owner.
func (r *results) claim(ctx context.Context, key string, cmd Command) (claim, error) {
	for range maxClaimRaces {
		now := r.now()
		entry, err := r.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			rec := record{ID: cmd.ID, Command: cmd.Name, State: stateRunning, Started: now, Attempts: 1,
				Owner: r.owner, LeaseUntil: now.Add(r.lease)}
			rev, err := r.kv.Create(ctx, key, mustJSON(rec))
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			if err != nil {
				return claim{}, fmt.Errorf("create result %s: %w", key, err)
			}
			return claim{kind: claimed, rec: rec, rev: rev}, nil
		}
		if err != nil {
			return claim{}, fmt.Errorf("read result %s: %w", key, err)
		}
		var rec record
		if json.Unmarshal(entry.Value(), &rec) != nil {
			rec = record{ID: cmd.ID, Command: cmd.Name, State: stateFailed, Started: now} // unreadable: start over
		}
		if rec.Command != cmd.Name {
			return claim{}, failf(CodeBadRequest, "command id %q was already used for %s", cmd.ID, rec.Command)
		}
		switch {
		case rec.State == stateDone:
			return claim{kind: claimDone, rec: rec}, nil
		case rec.State == stateRunning && rec.Owner != r.owner && now.Before(rec.LeaseUntil):
			return claim{kind: claimBusy, rec: rec}, nil
		}
		// A run still marked running died (its lease ran out) and may have
		// acted. That stays in the record, so a run that fails before it
		// could look (no agent session, say) leaves it for the next one,
		// which would otherwise post a second line.
		rec.Ambiguous = rec.Ambiguous || rec.State == stateRunning
		recheck := rec.Ambiguous
		rec.State, rec.Owner, rec.LeaseUntil = stateRunning, r.owner, now.Add(r.lease)
		rec.Attempts++
		rev, err := r.kv.Update(ctx, key, mustJSON(rec), entry.Revision())
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			continue
		}
		if err != nil {
			return claim{}, fmt.Errorf("claim result %s: %w", key, err)
		}
		return claim{kind: claimed, rec: rec, rev: rev, recheck: recheck}, nil
	}
	return claim{kind: claimBusy}, nil
}

// done stores the final reply of a run. A final reply is true whoever
// stores it, so it overwrites (even a run that took the id over).
func (r *results) done(ctx context.Context, key string, rec record, reply []byte) error {
	rec.State, rec.Reply, rec.Owner, rec.LeaseUntil = stateDone, reply, "", time.Time{}
	if _, err := r.kv.Put(ctx, key, mustJSON(rec)); err != nil {
		return fmt.Errorf("store result %s: %w", key, err)
	}
	return nil
}

// final is the record of key if its reply is final.
func (r *results) final(ctx context.Context, key string) (record, bool, error) {
	entry, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, fmt.Errorf("read result %s: %w", key, err)
	}
	var rec record
	if json.Unmarshal(entry.Value(), &rec) != nil || rec.State != stateDone {
		return record{}, false, nil
	}
	return rec, true, nil
}

// failed records a transient failure and frees the id for the next run. If
// another run took the id over meanwhile, its record stays.
func (r *results) failed(ctx context.Context, key string, rec record, rev uint64, ambiguous bool) error {
	rec.State, rec.Owner, rec.LeaseUntil = stateFailed, "", time.Time{}
	if ambiguous {
		rec.Ambiguous, rec.AmbiguousAt = true, r.now()
	}
	_, err := r.kv.Update(ctx, key, mustJSON(rec), rev)
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("store failure %s: %w", key, err)
	}
	return nil
}

// awaitPoll is how often a run waiting for another run's result looks.
const awaitPoll = 50 * time.Millisecond

// await waits until the run owning key ends (its record is no longer a
// live running claim) or ctx is done, and returns the record then.
func (r *results) await(ctx context.Context, key string) (record, error) {
	t := time.NewTicker(awaitPoll)
	defer t.Stop()
	for {
		entry, err := r.kv.Get(ctx, key)
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted) {
			return record{}, fmt.Errorf("read result %s: %w", key, err)
		}
		var rec record
		if err == nil && json.Unmarshal(entry.Value(), &rec) == nil &&
			rec.State == stateRunning && r.now().Before(rec.LeaseUntil) {
			select {
			case <-ctx.Done():
				return rec, ctx.Err()
			case <-t.C:
				continue
			}
		}
		return rec, nil
	}
}

// mustJSON marshals values that cannot fail to marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("commands: marshal %T: %v", v, err))
	}
	return b
}
