// Package poller runs one Worker per configured agent: it keeps the agent's
// login and agent session alive against the Chat Agent API, polls them, and
// publishes every change as events (DESIGN.md §2–§4).
//
// A tick reads the ringing count (and, with AutoAccept, takes ringing chats)
// and all known chats in ONE multi-chat request (chat-agent-api.md §5.12); every
// SessionSyncEvery ticks it also reads chatSessions (chats taken by someone
// else, chats that left) and the availability (Away after a missed ring).
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
// cost one extra interval; a 401 (or a 404 of the agent session) means the
// session is lost: agent.session "lost", a new login and agent session
// ("restarted"), waiting ReloginBackoff between failed attempts (chat-agent-api.md §9), and
// the chats go on from their cursors. A login the service refuses for good
// (401, 451, another 4xx) publishes agent.session "error" with the reason.
//
// With a Lease (DESIGN.md §4.4) a worker logs in and polls only while it
// holds the agent's lease: it waits for it (no request, no publish), renews
// it every TTL/3, stops at once when it is lost, and then waits again; the
// next holder goes on from the cursors in KV. Stop ends a worker gracefully
// (the tick in progress completes, cursors are saved, the lease released);
// cancelling Run's context is the hard abort.
package poller
