package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// termTimeout bounds a child's graceful stop after SIGTERM before it is
// killed: above the bridge's default shutdown timeout (20 s).
const termTimeout = 30 * time.Second

// errNotRunning is returned when a stopped child is asked to stop again.
var errNotRunning = errors.New("not running")

// proc is one child process that can be killed and started again with the
// same binary, arguments and environment; its output (every start) is
// appended to one log file. It is safe for concurrent use.
type proc struct {
	name string
	bin  string
	args []string
	env  []string
	log  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the running cmd has exited
	starts int
}

// start starts the child; it must not be running.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s: already running", p.name)
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("%s log: %w", p.name, err)
	}
	p.starts++
	fmt.Fprintf(f, "chaos: start #%d of %s at %s\n", p.starts, p.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...) // stopped by kill or term, never by a context
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(f, "chaos: %s (pid %d) ended at %s: %v\n", p.name, cmd.Process.Pid, time.Now().UTC().Format(time.RFC3339Nano), err)
		_ = f.Close()
		p.mu.Lock()
		if p.cmd == cmd {
			p.cmd = nil
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// running reports whether the child runs, and its pid.
func (p *proc) running() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0, false
	}
	return p.cmd.Process.Pid, true
}

// current is the running command and its done channel.
func (p *proc) current() (*exec.Cmd, chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil, nil, fmt.Errorf("%s: %w", p.name, errNotRunning)
	}
	return p.cmd, p.done, nil
}

// kill sends SIGKILL and waits until the child is gone.
func (p *proc) kill() error {
	cmd, done, err := p.current()
	if err != nil {
		return err
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	return nil
}

// term sends SIGTERM and waits, then kills after termTimeout; it reports
// how long the child took to stop and whether it had to be killed.
func (p *proc) term() (time.Duration, bool, error) {
	cmd, done, err := p.current()
	if err != nil {
		return 0, false, err
	}
	t0 := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(termTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return time.Since(t0), false, nil
	case <-timer.C:
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return time.Since(t0), true, nil
	}
}
