// Package poller runs one Worker per configured agent: it keeps the agent's
// login and agent session alive against the Chat Agent API, polls them, and
// publishes every change as events (DESIGN.md §2–§4).
//
// A tick reads the ringing count (and, with AutoAccept, takes ringing chats)
// and all known chats in ONE multi-chat request (chat-agent-api.md §5.12):
// two requests per tick whatever the chat count. Every SessionSyncEvery
// ticks a sync read takes the ringing count's place, in turn chatSessions
// (chats taken by someone else, chats that left) and the availability (Away
// after a missed ring). Ticks are fixed-rate, every PollInterval.
// A chat seen for the first time is read whole once (links, info, all
// events), with its visit for chat.info.
//
// Nothing lost, nothing doubled (§4.1): a chat's events are published in the
// service's order and its cursor is saved in KV only after JetStream acked
// them. Every event has a deterministic id (events.IDFor*), so events
// published again after a crash (published, cursor not saved) carry the same
// ids and JetStream's duplicate window drops them. Every chat event gets the
// next per-chat seq from the cursor, so seq only grows along a chat; the
// service's own event id is in the data (eventId).
//
// Failures never stop a Worker: 429/5xx are retried by the client and then
// cost one extra interval. The session is lost when lpchat says so
// (lpchat.ErrSessionLost: a 401, or any 4xx but 429 on the agent session's
// own reads, on a tick, a sync or a resume) or after 5xx past the retry
// policy on 5 ticks (2 resumes) in a row: agent.session "lost", a new login
// and agent session ("restarted"), waiting ReloginBackoff between failed
// attempts (chat-agent-api.md §9), and the chats go on from their cursors
// (lost.go). The login is renewed at 90 % of its sessionTTl (ADR 0007). A
// login refused for good (401, 451) publishes agent.session "error" with
// the reason and the worker is Failed: it is not tried again until a new
// configuration or a restart. Another 4xx on login is published the same
// way but retried on the slow loop.
//
// With a Lease (DESIGN.md §4.4) a worker logs in and polls only while it
// holds the agent's lease: it waits for it (no request, no publish), renews
// it every TTL/3, stops at once when it is lost, and then waits again; the
// next holder goes on from the cursors in KV. Stop ends a worker gracefully
// (the tick in progress completes, cursors are saved, the lease released);
// cancelling Run's context is the hard abort.
package poller
