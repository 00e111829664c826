package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lpbridge/lpbridge/internal/harness"
)

const (
	// burstLines is what every chat gets at once in the burst.
	burstLines = 5
	// burstWorkers bound the parallel control calls of the burst: enough to
	// post every chat's lines within a poll interval at 1000 × 5 chats.
	burstWorkers = 32
	// burstTimeout bounds the wait for every burst line to reach the subscriber.
	burstTimeout = time.Minute
	// burstSettle is how long after the last line event the bench waits before
	// it reads the busy time again, so the last Publish calls have returned
	// (the counter includes a publish in flight, so this only trims noise).
	burstSettle = 200 * time.Millisecond
	// busyMetric is the time with at least one publish in flight.
	busyMetric = "lpbridge_event_publish_busy_seconds_total"
	// publishedMetric counts the events JetStream acknowledged.
	publishedMetric = "lpbridge_events_published_total"
)

// burstResult is what the burst measured.
type burstResult struct {
	chats  int
	lines  int           // burst lines the subscriber saw (every one posted)
	events int           // events the bridge published meanwhile (its counter's increase)
	wall   time.Duration // first line posted → last line event seen
	busy   time.Duration // publisher busy time meanwhile
}

// busyRate is the bridge's publish rate while publishing: events ÷ busy time.
func (b burstResult) busyRate() float64 {
	if b.busy <= 0 {
		return 0
	}
	return float64(b.events) / b.busy.Seconds()
}

// runBurst posts burstLines lines to every chat at once (in parallel
// through the visitor control endpoint, the lines of one chat back to
// back), waits until the subscriber saw the line event of each, and reads
// from the bridge's metrics how many events it published and how long its
// publisher was busy meanwhile. Polls spread over the poll interval, so the
// subscriber's events per second measure poll spreading; the busy time
// measures publishing alone.
func runBurst(ctx context.Context, hc *http.Client, acct string, chatIDs []string, sub *subscriber, metricsURL string, bridge *child, logw io.Writer) (burstResult, error) {
	res := burstResult{chats: len(chatIDs)}
	before, err := scrape(metricsURL)
	if err != nil {
		return res, fmt.Errorf("burst: %w", err)
	}
	texts := make([][]string, len(chatIDs))
	var all []string
	for i := range chatIDs {
		for j := range burstLines {
			texts[i] = append(texts[i], fmt.Sprintf("%sburst %d-%d", lineMarker, i, j))
		}
		all = append(all, texts[i]...)
	}
	fmt.Fprintf(logw, "scalebench: burst: %d lines to each of %d chats at once\n", burstLines, len(chatIDs))

	start := time.Now()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		errs = make([]error, len(chatIDs))
	)
	for range burstWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(chatIDs); i = int(next.Add(1) - 1) {
				for _, text := range texts[i] {
					sub.posted(text, time.Now())
					if err := harness.PostJSON(ctx, hc, acct+"/chats/"+chatIDs[i]+"/lines", map[string]string{"text": text}, nil); err != nil {
						errs[i] = err
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("burst: post lines: %w", err)
	}

	waitCtx, cancel := context.WithTimeout(ctx, burstTimeout)
	defer cancel()
	for sub.unseen(all) > 0 {
		if err := bridge.exited(); err != nil {
			return res, err
		}
		if err := harness.Sleep(waitCtx, 5*time.Millisecond); err != nil {
			return res, fmt.Errorf("burst: %d of %d line events not seen: %w", sub.unseen(all), len(all), err)
		}
	}
	res.wall = time.Since(start)
	res.lines = len(all)

	_ = harness.Sleep(ctx, burstSettle)
	after, err := scrape(metricsURL)
	if err != nil {
		return res, fmt.Errorf("burst: %w", err)
	}
	res.events = int(metricSum(after, publishedMetric) - metricSum(before, publishedMetric))
	res.busy = time.Duration((metricSum(after, busyMetric) - metricSum(before, busyMetric)) * float64(time.Second))
	return res, nil
}

// unseen counts the texts whose line event the subscriber has not seen.
func (s *subscriber) unseen(texts []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range texts {
		if !s.seen[t] {
			n++
		}
	}
	return n
}

// printBurst writes the burst as a table of its own: the bridge's publish
// rate while publishing, as a ratio to raw JetStream async publishing on
// the same server in the same run.
func printBurst(w io.Writer, b burstResult, rawPublish float64) {
	ratio := 0.0
	if rawPublish > 0 {
		ratio = b.busyRate() / rawPublish
	}
	fmt.Fprintf(w, "\n| burst (%d lines × %d chats) | events published | burst wall time | publisher busy | events / busy s | raw JetStream async msg/s | ratio |\n", burstLines, b.chats)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	fmt.Fprintf(w, "| %d line events seen | %d | %s | %s | %.0f | %.0f | %.2f |\n",
		b.lines, b.events, ms(b.wall), ms(b.busy), b.busyRate(), rawPublish, ratio)
	fmt.Fprintln(w, "\npublisher busy = time with at least one Publish call in flight (lpbridge_event_publish_busy_seconds_total); "+
		"the wall time includes posting the lines and the polls that pick them up, spread over the poll interval.")
}

// printPublisherBurst writes the publisher burst: the bridge's publish
// path when a burst reaches every agent's poll at once, against raw async
// publishing alternating with it on the same server.
func printPublisherBurst(w io.Writer, r harness.BurstRate) {
	ratio := func(of float64) float64 {
		if of <= 0 {
			return 0
		}
		return r.Bridge / of
	}
	fmt.Fprintf(w, "\n| publisher burst (%d chats × %d lines per agent, every agent at once) | bridge events/s | raw JetStream async msg/s | ratio | the same events published raw /s | ratio |\n",
		harness.BurstChats, harness.BurstLines)
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	fmt.Fprintf(w, "| median of %d rounds, up to %d agents | %.0f | %.0f | %.2f | %.0f | %.2f |\n", burstRounds, burstMaxAgents,
		r.Bridge, r.Raw, ratio(r.Raw), r.RawEvents, ratio(r.RawEvents))
	fmt.Fprintln(w, "\npublisher burst = the bridge's events.Publisher (encode, async publish, every ack awaited, per-chat order) "+
		"in the bench process, one Publish call per agent, all at once; the raw publishes (messages of the same size without headers, "+
		"then the same events with their headers and subjects, from one goroutine) alternate with it on the same server.")
}
