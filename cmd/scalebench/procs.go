package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// stopTimeout bounds each child's graceful stop before it is killed.
const stopTimeout = 30 * time.Second

// child is one process the bench started.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan error
	log  string
}

// startChild starts bin with args and env, its stdout and stderr into
// dir/<name>.log, and waits until a line of its stdout or stderr matches
// ready; it returns the last submatch of that line. A nil ready does not wait.
func startChild(ctx context.Context, dir, name string, ready *regexp.Regexp, env []string, bin string, args ...string) (*child, string, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", fmt.Errorf("%s log: %w", name, err)
	}
	pr, pw := io.Pipe()
	cmd := exec.Command(bin, args...) // stopped by stop, not by ctx: it must get SIGTERM, then time
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, "", fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan error, 1), log: logPath}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			if ready == nil {
				continue
			}
			if m := ready.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[len(m)-1]:
				default:
				}
			}
		}
		_, _ = io.Copy(logFile, pr)
		_ = logFile.Close()
	}()
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		c.done <- err
		close(c.done)
	}()
	if ready == nil {
		return c, "", nil
	}
	select {
	case v := <-found:
		return c, v, nil
	case err := <-c.done:
		return nil, "", fmt.Errorf("%s exited before it was ready (%w); log %s", name, err, logPath)
	case <-ctx.Done():
		c.stop()
		return nil, "", fmt.Errorf("%s not ready: %w", name, ctx.Err())
	}
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports an early end of the child.
func (c *child) exited() error {
	select {
	case err, ok := <-c.done:
		if !ok {
			return fmt.Errorf("%s has exited", c.name)
		}
		return fmt.Errorf("%s exited: %w; log %s", c.name, err, c.log)
	default:
		return nil
	}
}

// stop sends SIGTERM and waits, then kills after stopTimeout.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case err := <-c.done:
		c.logEnd(err)
	case <-timer.C:
		_ = c.cmd.Process.Kill()
		c.logEnd(<-c.done)
	}
}

// logEnd leaves how the child ended at the end of its log, for -keep.
func (c *child) logEnd(err error) {
	if f, ferr := os.OpenFile(c.log, os.O_APPEND|os.O_WRONLY, 0); ferr == nil {
		fmt.Fprintf(f, "scalebench: %s ended: %v\n", c.name, err)
		_ = f.Close()
	}
}
