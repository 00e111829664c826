package commands

import "sync"

// flights runs a function once per key at a time within this process:
// callers that arrive while a call for the same key runs wait for it and
// share its outcome. It guards against the same command id arriving twice
// at once (the results bucket guards across replicas and restarts).
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	out  outcome
}

// do runs fn for key unless a call for key is running; then it waits for
// that call and returns its outcome with shared set.
func (f *flights) do(key string, fn func() outcome) (out outcome, shared bool) {
	f.mu.Lock()
	if f.m == nil {
		f.m = make(map[string]*flight)
	}
	if fl, ok := f.m[key]; ok {
		f.mu.Unlock()
		<-fl.done
		return fl.out, true
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()

	finished := false
	defer func() {
		if !finished {
			// fn panicked: the waiters get an internal failure, the panic
			// goes on to the caller's recovery.
			e := failf(CodeInternal, "command failed unexpectedly")
			fl.out = outcome{reply: errorReply(e), err: e}
		}
		f.mu.Lock()
		delete(f.m, key)
		f.mu.Unlock()
		close(fl.done)
	}()
	fl.out = fn()
	finished = true
	return fl.out, false
}
