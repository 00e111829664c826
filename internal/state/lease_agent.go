package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"
)

// NewOwnerID returns an id for a lease holder: host name, process id and a
// random part, so that two processes never share one, not even a restarted
// container whose host name and pid are the same as before.
func NewOwnerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// AgentLease is the lease of one agent for one owner, acquired, renewed and
// released again and again over a worker's life; poller.Lease. It is safe
// for concurrent use.
type AgentLease struct {
	leases         *Leases
	account, agent string
	owner          string
	ttl            time.Duration

	mu  sync.Mutex
	cur *Lease // nil while not held
}

// Agent returns the lease of agent (its token) of account for owner, with
// ttl (whole seconds, at least MinLeaseTTL; Acquire checks).
func (ls *Leases) Agent(account, agent, owner string, ttl time.Duration) *AgentLease {
	return &AgentLease{leases: ls, account: account, agent: agent, owner: owner, ttl: ttl}
}

// Owner is the id of this holder.
func (a *AgentLease) Owner() string { return a.owner }

// TTL is how long the lease lasts after each renewal.
func (a *AgentLease) TTL() time.Duration { return a.ttl }

// Acquire takes the lease: ErrLeaseHeld while another owner holds it.
func (a *AgentLease) Acquire(ctx context.Context) error {
	l, err := a.leases.Acquire(ctx, a.account, a.agent, a.owner, a.ttl)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cur = l
	return nil
}

// Renew extends the lease: ErrLeaseLost when it is not held any more.
func (a *AgentLease) Renew(ctx context.Context) error {
	a.mu.Lock()
	l := a.cur
	a.mu.Unlock()
	if l == nil {
		return fmt.Errorf("%w: not acquired", ErrLeaseLost)
	}
	return l.Renew(ctx)
}

// Release gives the lease up so another owner can take it at once; it does
// nothing when the lease is not held.
func (a *AgentLease) Release(ctx context.Context) error {
	a.mu.Lock()
	l := a.cur
	a.mu.Unlock()
	if l == nil {
		return nil
	}
	if err := l.Release(ctx); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == l {
		a.cur = nil
	}
	return nil
}
