package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lpbridge/lpbridge/internal/harness"
)

// progressEvery is how often the wait for quiescence says what it waits for.
const progressEvery = 10 * time.Second

// drive runs visitors, bots and faults for the duration, waits until the
// run is quiescent (every chat ended, every transcript seen, every command
// answered, no new event for quietFor) and judges it.
func (w *world) drive(ctx context.Context) (report, error) {
	ownCtx, stopOwners := context.WithCancel(ctx)
	var owning sync.WaitGroup
	owning.Go(func() { w.followOwners(ownCtx) })
	defer func() { stopOwners(); owning.Wait() }()

	cmdCtx, stopCmds := context.WithCancel(ctx)
	defer stopCmds()
	w.cmdCtx = cmdCtx
	visitCtx, stopVisitors := context.WithTimeout(ctx, w.o.duration+w.o.settle)
	defer stopVisitors()
	var visitors sync.WaitGroup
	t0 := time.Now()
	for i := range w.o.chats {
		visitors.Go(func() { w.visitor(visitCtx, t0, i) })
	}

	faultCtx, stopFaults := context.WithTimeout(ctx, w.o.duration)
	w.injectFaults(ctx, faultCtx)
	stopFaults()
	if err := ctx.Err(); err != nil {
		return report{}, err
	}
	end := time.Now()
	w.logf("faults over after %s; waiting for quiescence (at most %s)", end.Sub(t0).Round(time.Second), w.o.settle)

	quiescent := false
	for next := time.Now(); ; {
		open, noTr, unanswered := w.led.pending()
		if open == 0 && noTr == 0 && unanswered == 0 && w.led.quiet() >= quietFor {
			quiescent = true
			break
		}
		if time.Since(end) > w.o.settle {
			w.logf("not quiescent: %d chats open, %d ended chats without a transcript, %d commands unanswered", open, noTr, unanswered)
			break
		}
		if time.Now().After(next) {
			w.logf("waiting: %d chats open, %d ended chats without a transcript, %d commands unanswered", open, noTr, unanswered)
			next = time.Now().Add(progressEvery)
		}
		if err := harness.Sleep(ctx, 250*time.Millisecond); err != nil {
			return report{}, err
		}
	}
	settled := time.Since(end)
	stopVisitors()
	visitors.Wait()
	stopCmds()
	w.cmds.Wait()
	stopOwners()
	owning.Wait()

	simChats, err := w.simChats(ctx)
	if err != nil {
		return report{}, fmt.Errorf("the simulator's chats: %w", err)
	}
	dlq, err := w.deadLetters(ctx)
	if err != nil {
		return report{}, err
	}
	return report{
		duration:   end.Sub(t0),
		settled:    settled,
		quiescent:  quiescent,
		sum:        w.led.summarize(simChats, dlq),
		recoveries: recoveries(w.faults.all(), w.led.lineTimes()),
		gaps:       w.own.gaps(),
	}, nil
}
