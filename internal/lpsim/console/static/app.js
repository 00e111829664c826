// The visitor console: plays visitors through the simulator's control API
// (../sim/, documented in internal/lpsim/doc.go) and polls it for what the
// agents do. Everything it does, a test can do with the same calls.
'use strict';

const API = '../sim/';
const POLL_MS = 500; // fast enough to watch a bot type and answer
const TYPING_IDLE_MS = 3000; // the visitor stops "typing" after this pause

const consoleState = {
  account: '',
  skills: new Map(), // id → name
  chats: new Map(), // chatId → chat (the ones this page plays)
  visitors: 0,
};

async function call(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, init);
  const text = await res.text();
  let doc = {};
  try {
    doc = text ? JSON.parse(text) : {};
  } catch {
    doc = { error: text };
  }
  if (!res.ok) {
    throw new Error(`${method} ${path}: ${res.status} ${doc.error || ''}`.trim());
  }
  return doc;
}

function acctPath(rest) {
  return `accounts/${encodeURIComponent(consoleState.account)}${rest}`;
}

function showStatus(text, isError) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.classList.toggle('error', Boolean(isError));
}

// shortID keeps chat ids readable: H5550001112223334445-0f1e…K8400001 → H55500…K8400001.
function shortID(id) {
  const k = id.lastIndexOf('K');
  return k > 6 && id.length > 24 ? `${id.slice(0, 6)}…${id.slice(k)}` : id;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- starting a chat ----

async function startChat(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const data = new FormData(form);
  const name = String(data.get('name')).trim() || nextVisitorName();
  const survey = [];
  const email = String(data.get('email')).trim();
  const topic = String(data.get('topic')).trim();
  if (email) survey.push({ questionId: '1', label: 'Email', value: email });
  if (topic) survey.push({ questionId: '2', label: 'Topic', value: topic });
  const spec = { name, skillId: String(data.get('skill')), survey, device: 'DESKTOP', browser: 'lpsim console' };
  try {
    const { chatId } = await call('POST', acctPath('/chats'), spec);
    addChat(chatId, name, spec.skillId);
    form.elements.name.value = nextVisitorName();
    form.elements.email.value = '';
    form.elements.topic.value = '';
    showStatus(`chat ${shortID(chatId)} started`);
  } catch (err) {
    showStatus(err.message, true);
  }
}

function nextVisitorName() {
  consoleState.visitors += 1;
  return `Visitor ${consoleState.visitors}`;
}

// ---- one chat pane ----

function addChat(chatId, name, skillId) {
  const node = document.getElementById('chat-template').content.firstElementChild.cloneNode(true);
  node.dataset.chatId = chatId;
  node.querySelector('.chat-visitor').textContent = name;
  const skill = skillId ? consoleState.skills.get(skillId) || skillId : 'any agent';
  node.querySelector('.chat-id').textContent = `${shortID(chatId)} · ${skill}`;
  node.querySelector('.chat-id').title = chatId;
  const chat = {
    id: chatId, node, lastEvent: -1, ended: false, typing: false, typingTimer: 0, agent: '',
    transcript: node.querySelector('.transcript'),
    input: node.querySelector('.line-input'),
  };
  consoleState.chats.set(chatId, chat);
  node.querySelector('.compose').addEventListener('submit', (ev) => { ev.preventDefault(); sendLine(chat); });
  chat.input.addEventListener('input', () => visitorTyping(chat));
  node.querySelector('.end').addEventListener('click', () => endChat(chat));
  node.querySelector('.close').addEventListener('click', () => {
    consoleState.chats.delete(chatId);
    node.remove();
  });
  setChatState(chat, 'waiting', '', '');
  document.getElementById('chats').prepend(node);
  chat.input.focus();
}

async function setTyping(chat, typing) {
  if (chat.typing === typing || chat.ended) return;
  chat.typing = typing;
  try {
    await call('POST', acctPath(`/chats/${chat.id}/typing`), { typing });
  } catch (err) {
    showStatus(err.message, true);
  }
}

// visitorTyping tells the simulator the visitor types (the bot sees it in the
// chat info) and that they stopped after a pause or an emptied box.
function visitorTyping(chat) {
  clearTimeout(chat.typingTimer);
  if (chat.input.value === '') {
    setTyping(chat, false);
    return;
  }
  setTyping(chat, true);
  chat.typingTimer = setTimeout(() => setTyping(chat, false), TYPING_IDLE_MS);
}

async function sendLine(chat) {
  const text = chat.input.value.trim();
  if (!text || chat.ended) return;
  clearTimeout(chat.typingTimer);
  try {
    await call('POST', acctPath(`/chats/${chat.id}/lines`), { text });
    chat.input.value = '';
    await setTyping(chat, false);
    await pollChat(chat);
  } catch (err) {
    showStatus(err.message, true);
  }
}

async function endChat(chat) {
  clearTimeout(chat.typingTimer);
  try {
    await call('POST', acctPath(`/chats/${chat.id}/end`));
    await pollChat(chat);
  } catch (err) {
    showStatus(err.message, true);
  }
}

function setChatState(chat, state, agent, ringingAt) {
  const badge = chat.node.querySelector('.chat-state');
  let text = state;
  if (state === 'chatting' && agent) text = `chatting with ${agent}`;
  if (state === 'waiting' && ringingAt) text = `ringing at ${ringingAt}`;
  badge.textContent = text;
  badge.dataset.state = state;
  chat.agent = agent;
}

function markEnded(chat) {
  chat.ended = true;
  setChatState(chat, 'ended', '', '');
  chat.node.classList.add('ended');
  chat.input.disabled = true;
  chat.node.querySelector('.send').disabled = true;
  chat.node.querySelector('.end').hidden = true;
  chat.node.querySelector('.close').hidden = false;
  chat.node.querySelector('.typing').hidden = true;
}

// renderEvent adds one chat event (a line or a state change) to the transcript.
function renderEvent(chat, e) {
  let li;
  if (e.type === 'state') {
    li = el('li', 'event-state', `state: ${e.state}`);
  } else if (e.source === 'system' || e.by === 'info') {
    li = el('li', 'line from-system', e.text);
  } else if (e.source === 'visitor') {
    li = el('li', 'line from-visitor');
    li.append(el('span', 'who', 'you'), el('span', 'text', e.text));
  } else {
    li = el('li', 'line from-agent');
    if (e.subType === 'ONLY_TO_REP') li.classList.add('only-to-rep');
    const who = e.subType === 'ONLY_TO_REP' ? `${e.by || 'agent'} (note to agents)` : e.by || 'agent';
    li.append(el('span', 'who', who), el('span', 'text', e.text || `[${e.textType}]`));
  }
  li.dataset.eventId = String(e.id);
  li.title = e.time;
  chat.transcript.append(li);
}

async function pollChat(chat) {
  const { events } = await call('GET', acctPath(`/chats/${chat.id}/events`));
  const fresh = (events || []).filter((e) => e.id > chat.lastEvent);
  if (fresh.length === 0) return;
  for (const e of fresh) {
    renderEvent(chat, e);
    chat.lastEvent = e.id;
    if (e.type === 'state' && e.state === 'ended') markEnded(chat);
  }
  chat.transcript.scrollTop = chat.transcript.scrollHeight;
}

// applyChatView updates a pane's header and the bot's typing from the
// account snapshot; a chat missing from it has ended.
function applyChatView(chat, view) {
  if (chat.ended || !view) return;
  setChatState(chat, view.state, view.agent || '', view.ringingAt || '');
  const typing = chat.node.querySelector('.typing');
  typing.hidden = view.agentTyping !== 'typing';
  typing.textContent = `${view.agent || 'the agent'} is typing…`;
}

// ---- the agents pane ----

function chatLabel(id) {
  const mine = consoleState.chats.get(id);
  const label = el('span', mine ? 'chip mine' : 'chip', shortID(id));
  label.title = id;
  if (mine) label.textContent += ` (${mine.node.querySelector('.chat-visitor').textContent})`;
  return label;
}

function renderAgents(view) {
  const box = document.getElementById('agents');
  const cards = view.agents.map((a) => {
    const card = el('div', 'agent');
    card.dataset.login = a.loginName;
    const head = el('div', 'agent-head');
    const badge = el('span', 'badge', a.availability);
    badge.dataset.availability = a.availability;
    const max = a.maxChats < 0 ? '∞' : String(a.maxChats);
    head.append(el('strong', '', a.nickname), el('span', 'muted', ` ${a.loginName}`), badge);
    const facts = el('div', 'muted', `${a.sessions} session${a.sessions === 1 ? '' : 's'} · load ${a.chats.length + a.ringing.length}/${max} · skills ${a.skillIds.map((s) => consoleState.skills.get(s) || s).join(', ')}`);
    card.append(head, facts);
    for (const [label, ids, cls] of [['ringing', a.ringing, 'ringing'], ['chats', a.chats, 'holds']]) {
      const row = el('div', `agent-${cls}`);
      row.append(el('span', 'label', `${label}: `));
      if (ids.length === 0) row.append(el('span', 'muted', '—'));
      for (const id of ids) row.append(chatLabel(id));
      card.append(row);
    }
    return card;
  });
  box.replaceChildren(...cards);

  const rows = view.chats.map((c) => {
    const tr = el('tr');
    tr.dataset.chatId = c.chatId;
    if (consoleState.chats.has(c.chatId)) tr.className = 'mine';
    const state = c.state === 'waiting' && c.ringingAt ? 'ringing' : c.state;
    tr.append(el('td', '', shortID(c.chatId)), el('td', '', c.visitorName), el('td', '', state),
      el('td', '', c.agent || c.ringingAt || '—'));
    return tr;
  });
  document.querySelector('#open-chats tbody').replaceChildren(...rows);
  document.getElementById('open-count').textContent = `(${view.chats.length})`;
}

// ---- polling ----

async function poll() {
  try {
    const view = await call('GET', acctPath(''));
    const open = new Map(view.chats.map((c) => [c.chatId, c]));
    const live = [...consoleState.chats.values()].filter((c) => !c.ended);
    await Promise.all(live.map((c) => pollChat(c)));
    for (const c of live) applyChatView(c, open.get(c.id));
    renderAgents(view);
    if (document.getElementById('status').classList.contains('error')) showStatus('');
  } catch (err) {
    showStatus(`simulator unreachable: ${err.message}`, true);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function init() {
  document.getElementById('new-chat').addEventListener('submit', startChat);
  document.getElementById('visitor-name').value = nextVisitorName();
  try {
    const wanted = new URLSearchParams(location.search).get('account');
    const { accounts } = await call('GET', 'accounts');
    consoleState.account = wanted || (accounts || [])[0] || '';
    if (!consoleState.account) throw new Error('the simulator has no account');
    const view = await call('GET', acctPath(''));
    const select = document.getElementById('skill');
    for (const s of view.skills) {
      consoleState.skills.set(s.id, s.name);
      const opt = el('option', '', `${s.name} (${s.id})`);
      opt.value = s.id;
      select.append(opt);
    }
    if (view.skills.length > 0) select.value = view.skills[0].id;
    document.getElementById('account').textContent = `account ${consoleState.account}`;
    document.body.dataset.ready = 'true';
  } catch (err) {
    showStatus(err.message, true);
    return;
  }
  poll();
}

init();
