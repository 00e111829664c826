package commands_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lpbridge/lpbridge/internal/commands"
	"github.com/lpbridge/lpbridge/internal/lpchat"
)

// BenchmarkCommandRoundTrip measures a chat.send from a NATS client's view
// (request → consumer → dedupe in KV → lpchat → simulator → reply, plus
// the command.result event) against the same send made with lpchat
// directly, in the same run. It reports p50 and p99 latencies.
//
//	go test -run '^$' -bench CommandRoundTrip -benchtime 2000x ./internal/commands/
func BenchmarkCommandRoundTrip(b *testing.B) {
	e := newEnv(b)
	e.start(b, baseConfig())
	chatID := e.chattingChat(b, agentOne, skillA)
	sess := e.sessions.get(agentOne)

	b.Run("bare-lpchat", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			if _, err := sess.SendLine(context.Background(), chatID, lpchat.Line{Text: "bare " + strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportPercentiles(b, lat)
	})

	b.Run("nats-request", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		subject := commands.RequestSubject("lp", account, agentOne, commands.ChatSend)
		for i := 0; b.Loop(); i++ {
			body, _ := json.Marshal(map[string]any{"id": run + "-" + strconv.Itoa(i), "chatId": chatID, "text": "nats " + strconv.Itoa(i)})
			start := time.Now()
			res, err := e.nc.Request(subject, body, waitFor)
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			var r commands.Reply
			if err := json.Unmarshal(res.Data, &r); err != nil || !r.OK {
				b.Fatalf("reply %s: %v", res.Data, err)
			}
		}
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
