// Drives the simulator's visitor console in headless Chromium: starts a
// chat, types a line (the typing reaches the simulator), sends it, and waits
// for the bot's answer on the page; shows the bot's typing and a transfer
// (sent as the bot's commands over NATS); then a second chat side by side,
// and the first one ended. Saves a screenshot either way and exits non-zero
// on failure. run.sh starts the bridge and the bots; alone:
//
//   CONSOLE_URL=http://127.0.0.1:PORT/console/ NATS_URL=nats://127.0.0.1:PORT node test.js
//
// Knobs: CONSOLE_SCREENSHOT (out/console.png), CHROMIUM (/usr/bin/chromium),
// ANSWER_TIMEOUT_MS (60000).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { connect, JSONCodec } = require('nats');
const { chromium } = require('playwright-core');

const consoleURL = process.env.CONSOLE_URL;
const natsURL = process.env.NATS_URL;
const shot = path.resolve(process.env.CONSOLE_SCREENSHOT || path.join(__dirname, 'out', 'console.png'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const answerTimeout = Number(process.env.ANSWER_TIMEOUT_MS || 60000);

function log(msg) {
  console.log(`console test: ${msg}`);
}

// simChat reads one open chat from the control API, as the page does.
async function simChat(account, chatId) {
  const res = await fetch(new URL(`../sim/accounts/${account}`, consoleURL));
  if (!res.ok) throw new Error(`GET account: ${res.status}`);
  const view = await res.json();
  return view.chats.find((c) => c.chatId === chatId);
}

// botCommand runs one bridge command as an agent, the way a bot does.
async function botCommand(nc, account, login, name, body) {
  const jc = JSONCodec();
  const subject = `lp.cmd.${account}.${login.replaceAll('.', '_')}.${name}`;
  const reply = jc.decode((await nc.request(subject, jc.encode(body), { timeout: 10000 })).data);
  if (!reply.ok) throw new Error(`${name}: ${reply.error.code}: ${reply.error.message}`);
  return reply.result;
}

async function waitFor(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function test(page, nc) {
  await page.goto(consoleURL);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  const account = (await page.textContent('#account')).replace(/^account /, '');
  log(`page ready for account ${account}`);

  // Start a chat with a pre-chat survey.
  await page.fill('#visitor-name', 'Jane');
  await page.fill('input[name="email"]', 'jane@example.com');
  await page.fill('input[name="topic"]', 'my order is late');
  await page.click('#start-chat');
  const newest = page.locator('article.chat').first(); // new panes come first
  await newest.waitFor({ timeout: 10000 });
  const chatId = await newest.getAttribute('data-chat-id');
  const chat = page.locator(`article.chat[data-chat-id="${chatId}"]`);
  log(`chat ${chatId} started`);

  // The bridge accepts it; the pane says who took it.
  const badge = chat.locator('.chat-state');
  await waitFor('the chat to be accepted', 30000, async () => /^chatting with /.test(await badge.textContent()));
  const agent = (await badge.textContent()).replace('chatting with ', '');
  log(`accepted by ${agent}`);
  await page.locator(`.agent[data-login="${agent}"] .agent-holds .chip.mine`).waitFor({ timeout: 5000 });

  // Type: the typing state reaches the simulator, where the bot reads it.
  const text = `Hello bot, console test ${Date.now()}`;
  const input = chat.locator('.line-input');
  await input.pressSequentially(text, { delay: 5 });
  await waitFor('visitor typing at the simulator', 5000, async () => (await simChat(account, chatId)).visitorTyping === 'typing');
  log('visitor typing reached the simulator');
  await input.press('Enter');
  await chat.locator('.line.from-visitor', { hasText: text }).waitFor({ timeout: 5000 });
  await waitFor('visitor typing to stop', 5000, async () => (await simChat(account, chatId)).visitorTyping === 'not-typing');

  // The bot's answer appears on the page.
  const answer = chat.locator('.line.from-agent', { hasText: `You said: ${text}` });
  await answer.waitFor({ timeout: answerTimeout });
  log(`bot answered: ${(await answer.locator('.text').textContent()).trim()}`);

  // The bot types: the page shows it while it lasts.
  const typing = chat.locator('.typing');
  await botCommand(nc, account, agent, 'chat.typing', { chatId, typing: true });
  await typing.waitFor({ state: 'visible', timeout: 5000 });
  if (!(await typing.textContent()).includes(`${agent} is typing`)) throw new Error(`typing shows ${await typing.textContent()}`);
  await botCommand(nc, account, agent, 'chat.typing', { chatId, typing: false });
  await typing.waitFor({ state: 'hidden', timeout: 5000 });
  log('bot typing shown and cleared');

  // The bot transfers the chat to the other skill: another agent takes it.
  const skills = await page.$$eval('#skill option', (os) => os.map((o) => o.value).filter(Boolean));
  const current = (await simChat(account, chatId)).skillId;
  const target = skills.find((id) => id !== current);
  await botCommand(nc, account, agent, 'chat.transfer', { chatId, skillId: target, text: 'over to billing' });
  await waitFor('the transfer to reach another agent', 30000, async () => {
    const m = /^chatting with (.+)$/.exec(await badge.textContent());
    return m && m[1] !== agent;
  });
  const agentAfter = (await badge.textContent()).replace('chatting with ', '');
  await chat.locator('.line.from-agent.only-to-rep', { hasText: 'over to billing' }).waitFor({ timeout: 5000 });
  await page.locator(`.agent[data-login="${agentAfter}"] .agent-holds .chip.mine`).waitFor({ timeout: 5000 });
  log(`transferred from ${agent} to ${agentAfter}`);

  // A second chat side by side; then the first one ends.
  await page.fill('#visitor-name', 'Max');
  await page.selectOption('#skill', { index: 2 });
  await page.click('#start-chat');
  await waitFor('a second chat pane', 10000, async () => (await page.locator('article.chat').count()) === 2);
  const second = page.locator('article.chat').first();
  await waitFor('the second chat to be accepted', 30000,
    async () => /^chatting with /.test(await second.locator('.chat-state').textContent()));
  await second.locator('.line-input').pressSequentially('Second visitor here', { delay: 5 });
  await second.locator('.line-input').press('Enter');
  await second.locator('.line.from-agent', { hasText: 'You said: Second visitor here' }).waitFor({ timeout: answerTimeout });
  log('second chat answered');

  await chat.locator('button.end').click();
  await waitFor('the first chat to end', 10000, async () => (await badge.textContent()) === 'ended');
  await chat.locator('.line.from-system', { hasText: 'The visitor has left the chat' }).waitFor({ timeout: 5000 });
  if (await simChat(account, chatId)) throw new Error('the ended chat is still open at the simulator');
  await waitFor('the agents pane to drop the ended chat', 5000,
    async () => (await page.locator('.agent .agent-holds .chip.mine').count()) === 1);
  log('first chat ended');
}

async function main() {
  if (!consoleURL || !natsURL) throw new Error('CONSOLE_URL and NATS_URL must be set');
  const nc = await connect({ servers: natsURL, name: 'lpbridge console test' });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lpbridge-console-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(msg.text()); });
  let failure;
  try {
    await test(page, nc);
    if (pageErrors.length > 0) throw new Error(`errors on the page: ${pageErrors.join('; ')}`);
  } catch (err) {
    failure = err;
  }
  try {
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    log(`screenshot ${shot}`);
  } catch (err) {
    log(`no screenshot: ${err.message}`);
  }
  await context.close();
  await nc.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  if (failure) throw failure;
}

main().then(() => log('OK'), (err) => {
  console.error(`console test: FAIL: ${err.stack || err}`);
  process.exit(1);
});
