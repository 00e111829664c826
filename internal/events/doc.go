// Package events defines the events lpbridge publishes (DESIGN.md §2–§4):
// their types and payloads, their deterministic ids, the NATS subjects they
// go to, their CloudEvents encoding on NATS, and publishing them to the
// JetStream stream LP_EVENTS.
//
// The package knows nothing of the LivePerson API: the poller maps API
// documents to the *Data payloads here. The JSON Schemas of the payloads live
// in the schemas package, which tests them against these types.
package events
