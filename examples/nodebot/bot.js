// nodebot: a chat bot on lpbridge with nothing but a plain NATS client
// (the npm "nats" package). It accepts the chats that ring at its agent and
// answers every visitor line, like examples/gobot.
//
//   node bot.js --nats nats://127.0.0.1:4222 --account 55500011 --agent bot_one --max 3
//
// Events are CloudEvents. In the bridge's default binary mode the body is the
// event's data and the attributes are ce-* headers (ce-type, ce-id,
// ce-chatid, ...), read here from msg.headers; structured mode
// (Content-Type: application/cloudevents+json) is read too.
// Commands go by request-reply to lp.cmd.<account>.<agent>.<command> and are
// answered {"ok": true, "result": ...} or {"ok": false, "error": {"code", "message"}}.
"use strict";

const { connect, JSONCodec } = require("nats");

function parseArgs(argv) {
  const o = {
    nats: process.env.NATS_URL || "nats://127.0.0.1:4222",
    account: process.env.LP_ACCOUNT || "55500011",
    agent: process.env.LP_AGENT || "bot_one",
    prefix: "lp",
    max: 0,
    timeout: 10000,
  };
  for (let i = 2; i < argv.length; i++) {
    const name = argv[i].replace(/^--?/, "");
    const value = argv[++i];
    if (!(name in o) || value === undefined) {
      console.error(`usage: node bot.js [--nats URL] [--account ID] [--agent TOKEN] [--prefix lp] [--max N] [--timeout MS]`);
      process.exit(2);
    }
    o[name] = typeof o[name] === "number" ? Number(value) : value;
  }
  return o;
}

const jc = JSONCodec();

// header returns a message header, case-insensitively ("" when absent).
function header(msg, name) {
  if (!msg.headers) return "";
  for (const [key, values] of msg.headers) {
    if (key.toLowerCase() === name && values.length > 0) return values[0];
  }
  return "";
}

// cloudEvent returns the event's attributes and data, in either mode.
function cloudEvent(msg) {
  const body = msg.data.length > 0 ? jc.decode(msg.data) : {};
  if (header(msg, "content-type").startsWith("application/cloudevents+json")) {
    return { type: body.type, id: body.id, chatId: body.chatid || body.subject || "", data: body.data || {} };
  }
  return {
    type: decodeURIComponent(header(msg, "ce-type")),
    id: decodeURIComponent(header(msg, "ce-id")),
    chatId: decodeURIComponent(header(msg, "ce-chatid")),
    data: body,
  };
}

async function main() {
  const o = parseArgs(process.argv);
  const nc = await connect({ servers: o.nats, name: "lpbridge nodebot", maxReconnectAttempts: -1 });
  const evt = `${o.prefix}.evt.${o.account}.${o.agent}`;

  async function command(name, body) {
    const m = await nc.request(`${o.prefix}.cmd.${o.account}.${o.agent}.${name}`, jc.encode(body), { timeout: o.timeout });
    const reply = jc.decode(m.data);
    if (!reply.ok) {
      const err = new Error(`${reply.error.code}: ${reply.error.message}`);
      err.code = reply.error.code;
      throw err;
    }
    return reply.result;
  }

  let answered = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));

  nc.subscribe(`${evt}.agent.ringing`, {
    callback: async (err, msg) => {
      if (err) return;
      const ev = cloudEvent(msg);
      if (ev.type !== "lpbridge.agent.ringing" || !(ev.data.count > 0)) return;
      try {
        const res = await command("chat.accept", {});
        console.log(`nodebot: accepted chat ${res.chatId}`);
      } catch (e) {
        // A bridge that auto-accepts may have taken it already.
        if (e.code !== "not_ringing") console.error(`nodebot: chat.accept: ${e.message}`);
      }
    },
  });

  nc.subscribe(`${evt}.chat.*.line`, {
    callback: async (err, msg) => {
      if (err) return;
      const ev = cloudEvent(msg);
      if (ev.type !== "lpbridge.chat.line" || ev.data.source !== "visitor" || !ev.chatId) return;
      try {
        const res = await command("chat.send", {
          // Derived from the line: the same line never gets two answers.
          id: `nodebot/${ev.chatId}/${ev.data.eventId}`,
          chatId: ev.chatId,
          text: `You said: ${ev.data.text}`,
        });
        answered++;
        console.log(`nodebot: answered line ${ev.data.eventId} of chat ${ev.chatId} (event ${res.eventId}, cloudevent ${ev.id})`);
        if (o.max > 0 && answered >= o.max) finish();
      } catch (e) {
        console.error(`nodebot: chat.send: ${e.message}`);
      }
    },
  });

  await nc.flush();
  console.log(`nodebot: agent ${o.agent} of account ${o.account} listening on ${evt}.>`);
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, finish);
  await done;
  if (o.max > 0 && answered >= o.max) console.log(`nodebot: answered ${answered} lines, done`);
  await nc.drain();
}

main().catch((e) => {
  console.error(`nodebot: ${e.message}`);
  process.exit(1);
});
