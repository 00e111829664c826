// Package commands runs the commands bots send over NATS against the
// LivePerson agent sessions of the bridge (DESIGN.md §2, §4.3, §4.6).
//
// A command arrives on <prefix>.cmd.<account>.<agent>.<command> (request-
// reply, queue group, answered on msg.Reply) or, in durable mode, on
// <prefix>.dcmd.<account>.<agent>.<command>, captured by the JetStream
// stream LP_COMMANDS and consumed with nats.go's jetstream API
// (docs/adr/0006). Each one goes through one pipeline of steps
// (pipeline.go) and is
//
//   - decoded (Decode): plain JSON or a CloudEvent (structured or binary),
//     at most MaxBodyBytes, with an id from the body, the Nats-Msg-Id header
//     or the CloudEvent;
//   - validated against schemas/commands/<command>.json, then decoded
//     strictly by its handler;
//   - deduplicated: its id is claimed in the KV bucket LP_COMMAND_RESULTS, so
//     a command seen before returns the stored result and runs at most once,
//     across redeliveries, replicas and restarts; copies arriving at once
//     within a process share one run;
//   - run on the agent's session (SessionSource) through lpchat, bounded by
//     Timeout, with chat.send guarded against doubled lines after ambiguous
//     failures;
//   - answered ({"ok":true,"result":...} or {"ok":false,"error":{code,message}}
//     with a Code), published as a command.result event, and, when it is bad
//     input, a bug, or a durable command that failed on every try, sent to
//     <prefix>.dlq.<account>.<agent>.<command> with the reason in headers.
//
// Request-reply commands of one agent run one at a time in arrival order;
// different agents run in parallel. Durable commands run one at a time in
// stream order and are redelivered with Backoff on transient failures.
//
// For users, the "Commands" section of the repository's README.md documents
// subjects, bodies, error codes, ids and durable mode, and
// docs/chat-agent-api.md the Chat Agent API the commands call. A new
// command is a row of the command table (command.go), its body type
// (args.go), its handler, and its schema in schemas/commands.
package commands
