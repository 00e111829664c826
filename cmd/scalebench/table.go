package main

import (
	"fmt"
	"io"
	"time"
)

// printTable writes the result as one markdown table row under its header.
func printTable(w io.Writer, o options, r *result) {
	secs := r.window.Seconds()
	ticks := float64(o.agents) * secs / o.poll.Seconds() // polls the agents should have made in the window
	p50, p99, maxD := r.lat.summary()
	scheme := "HTTPS"
	if !o.tls {
		scheme = "HTTP"
	}
	fmt.Fprintln(w, "| agents × chats | LP | bridge CPU | bridge RSS | LP requests / agent / tick | polls on time | line → event p50 / p99 / max | events / s | lines seen / lost / doubled | simulator CPU | NATS CPU |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	fmt.Fprintf(w, "| %d × %d | %s | %.2f core | %s | %.2f | %.0f %% | %s / %s / %s | %.0f | %d / %d / %d | %.2f core | %.2f core |\n",
		o.agents, o.chats, scheme,
		r.bridge.cpu.Seconds()/secs, mib(r.bridge.maxRSS),
		r.lpRequests/max(r.polls, 1), 100*min(r.polls/ticks, 1),
		ms(p50), ms(p99), ms(maxD),
		float64(r.events)/secs,
		r.lineEvents, r.lost, r.duplicates,
		r.sim.cpu.Seconds()/secs, r.nats.cpu.Seconds()/secs)
	fmt.Fprintf(w, "\nwindow %s after %s warm-up; poll %s; a line every %s per chat; RSS is the window's maximum (simulator %s, NATS %s); "+
		"LP requests / agent / tick = requests ÷ polls done; polls on time = polls done ÷ (agents × window ÷ poll); the bench itself (lines, subscriber) used %.2f core; "+
		"raw JetStream async publish on the same server, after the window: %.0f msg/s.\n",
		r.window.Round(time.Second), o.warmup, o.poll, o.lineEvery, mib(r.sim.maxRSS), mib(r.nats.maxRSS), r.benchCPU.Seconds()/secs, r.rawPublish)
	printBurst(w, r.burst, r.rawPublish)
	printPublisherBurst(w, r.pubBurst)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}
