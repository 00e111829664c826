package lpsim

import (
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Streams of the seeded generator. Each kind of id draws from its own stream
// so that, say, an extra agent session does not shift the chat ids: a seed
// and the same sequence of chats give the same chat ids.
const (
	streamSetup uint64 = iota + 1
	streamSessions
	streamChats
	streamScripts
	streamFaults // the draws of faults with a Rate
)

// newStream returns the generator of one stream of a seed.
func newStream(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream*0x9e3779b97f4a7c15))
}

// idGen holds the seeded streams; guarded by Simulator.mu.
type idGen struct {
	setup    *rand.Rand // agent and skill ids
	sessions *rand.Rand // agent session ids
	chats    *rand.Rand // chat ids and the per-chat visitor numbers
}

func newIDGen(seed int64) *idGen {
	return &idGen{
		setup:    newStream(seed, streamSetup),
		sessions: newStream(seed, streamSessions),
		chats:    newStream(seed, streamChats),
	}
}

// digits returns n random decimal digits, the first one not zero.
func digits(r *rand.Rand, n int) string {
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(byte('1' + r.IntN(9)))
	for i := 1; i < n; i++ {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

// number returns a random n-digit number (n ≤ 15 keeps it exact in JSON
// readers that use float64).
func number(r *rand.Rand, n int) int64 {
	v, _ := strconv.ParseInt(digits(r, n), 10, 64)
	return v
}

// hexDigits returns n random lower-case hex digits.
func hexDigits(r *rand.Rand, n int) string {
	const hexChars = "0123456789abcdef"
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(hexChars[r.IntN(16)])
	}
	return b.String()
}

// chatID returns an id shaped like H<19 digits>-<32 hex>K<7 digits> and the
// visit id made of its H and K parts (chat-agent-api.md §2.4).
func chatID(r *rand.Rand) (id, visitID string) {
	h := "H" + digits(r, 19)
	k := "K" + digits(r, 7)
	return h + "-" + hexDigits(r, 32) + k, h + k
}

// guid returns a random GUID-shaped string.
func guid(r *rand.Rand) string {
	h := hexDigits(r, 32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// secretHex returns 2n hex digits from crypto/rand: bearer, csrf and cookie
// values are secrets and are not derived from the (public) seed.
func secretHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b)
}

// isNumeric reports whether s is 1 to 15 decimal digits.
func isNumeric(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
