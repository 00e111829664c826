package state

import "errors"

var (
	// ErrInvalidConfig means a Config is unusable.
	ErrInvalidConfig = errors.New("state: invalid config")
	// ErrInvalidArgument means an empty account, agent or chat id, or a
	// cursor or agent state with impossible values.
	ErrInvalidArgument = errors.New("state: invalid argument")
	// ErrCorrupt means a stored value could not be decoded.
	ErrCorrupt = errors.New("state: corrupt value")
	// ErrUnavailable means JetStream could not answer for a while (a KV
	// bucket electing a new leader, NATS unreachable): nothing is known to
	// be wrong with the request, and a later try may succeed. A write that
	// failed with it may or may not have been applied.
	ErrUnavailable = errors.New("state: jetstream unavailable")
)

var (
	// ErrLeaseHeld means another owner holds the lease (Leases.Acquire).
	ErrLeaseHeld = errors.New("state: lease held by another owner")
	// ErrLeaseLost means the lease expired or another owner took it
	// (Lease.Renew): the former holder must stop working at once.
	ErrLeaseLost = errors.New("state: lease lost")
)
