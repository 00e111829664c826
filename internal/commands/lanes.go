package commands

import "sync"

// lanes runs the request-reply commands of each agent one at a time, in
// arrival order, and the commands of different agents in parallel: a bot
// that sends "typing" and then a line without waiting for the first reply
// still sees them happen in that order, and one slow agent does not hold
// up the others.
type lanes struct {
	max int // commands queued per lane

	mu sync.Mutex
	m  map[string]*lane
	wg sync.WaitGroup
}

type lane struct {
	queue []func()
}

// dispatch queues fn on the lane of key; false when the lane is full.
func (l *lanes) dispatch(key string, fn func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]*lane)
	}
	ln, running := l.m[key]
	if !running {
		ln = &lane{}
		l.m[key] = ln
	}
	if len(ln.queue) >= l.max {
		return false
	}
	ln.queue = append(ln.queue, fn)
	if !running {
		l.wg.Add(1)
		go l.drain(key, ln)
	}
	return true
}

// drain runs a lane's queue until it is empty, then retires the lane.
func (l *lanes) drain(key string, ln *lane) {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		if len(ln.queue) == 0 {
			delete(l.m, key)
			l.mu.Unlock()
			return
		}
		fn := ln.queue[0]
		ln.queue[0] = nil
		ln.queue = ln.queue[1:]
		l.mu.Unlock()
		fn()
	}
}

// wait blocks until every queued function has run.
func (l *lanes) wait() { l.wg.Wait() }
