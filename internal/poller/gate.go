package poller

import "context"

// StartGate bounds how many workers establish an agent session (log in,
// start or resume the session, read its first status) at the same time.
// A fleet that starts together — a bridge booting, a replica taking over a
// dead one's agents — would otherwise open a connection per agent to the
// Login and Chat Agent APIs at once: thousands of agents meet the open-file
// limit of the bridge (or of a proxy, or of the simulator) and the login
// service's rate limits at the same moment. Spread over time, their tick
// schedules are spread over the poll interval too. The workers of a bridge
// share one; a nil *StartGate does not bound anything.
type StartGate struct {
	slots chan struct{}
}

// DefaultLoginsAtOnce is how many agents of a bridge establish their
// session at once by default: at LivePerson's few hundred milliseconds a
// login, a thousand agents are up in a few seconds.
const DefaultLoginsAtOnce = 32

// NewStartGate returns a gate that lets n workers through at once; n ≤ 0
// means no bound (nil).
func NewStartGate(n int) *StartGate {
	if n <= 0 {
		return nil
	}
	return &StartGate{slots: make(chan struct{}, n)}
}

// enter waits for a slot, or for ctx's end or stop to be closed
// (errStopped); leave gives the slot back.
func (g *StartGate) enter(ctx context.Context, stop <-chan struct{}) (leave func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-stop:
		return nil, errStopped
	}
}
