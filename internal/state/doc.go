// Package state keeps the bridge's progress in NATS KV (DESIGN.md §4.1): one
// cursor per chat (the last event published, the per-chat sequence, whether
// the transcript went out) and one record per agent (its agent session,
// change counter, status, ringing count and open chats).
//
// A cursor is saved only after JetStream acknowledged the events before it,
// so a restarted or replacing replica resumes exactly where the last
// acknowledged event left off. Secrets never go into the store.
//
// Leases (DESIGN.md §4.4) keep one owner per agent across replicas: a key
// per agent in a bucket of its own with a per-key TTL (see lease.go).
package state
