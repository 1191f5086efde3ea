// The page's first step: it opens the WebSocket (the status and the
// connections table, app.js) as soon as the page starts, while the other
// modules are still on their way, and keeps what arrives until the app
// takes the socket over (takeSocket). index.html loads it on its own,
// async, before app.js; app.js imports it too, and gets the same module.
// Without it, the socket was opened only once every module had been
// fetched and run, and the first marks waited for both one after the
// other.

// early is the socket opened at start-up and what it received before the
// app took it: null once taken.
let early = null;

// openSocket opens the page's WebSocket to its own server.
export function openSocket() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return new WebSocket(proto + '//' + location.host + '/ws');
}

// takeSocket returns the socket opened at start-up with the messages it
// received so far (oldest first) and whether it closed, once; null after.
export function takeSocket() {
  const e = early;
  early = null;
  if (e) e.ws.onmessage = e.ws.onclose = e.ws.onopen = null;
  return e;
}

// mark records a moment of the start-up (performance.mark) the first time
// it happens: browsertests/cmd/uibench reads them to say where the time to
// the first marks goes.
const marked = new Set();
export function mark(name) {
  if (marked.has(name)) return;
  marked.add(name);
  performance.mark('wsviz:' + name);
}

mark('boot');
{
  const ws = openSocket();
  const e = { ws, messages: [], closed: false };
  ws.onopen = () => mark('ws-open');
  ws.onmessage = (m) => e.messages.push(m.data);
  ws.onclose = () => { e.closed = true; };
  early = e;
}
