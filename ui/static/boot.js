// The page's first step. index.html loads it as a classic script after
// the module requests and before the stylesheet (which would make it
// wait); the server inlines it there (ui/routes.go, allowed by its hash in
// the CSP), so it runs as soon as the parser reaches it, with no request
// of its own (as a file, it queued behind the modules'). It opens the
// WebSocket (the status, the first tiles and the connections table,
// app.js), so that what the timeline's first frame needs arrives while
// the browser lays the page out and fetches and compiles the modules, and
// keeps what arrives until the app takes the socket over (takeSocket).
// The modules reach it as window.wsvizBoot. Without it, the socket was
// opened only once the page's layout was done (an async module ran no
// earlier) or every module had been fetched and run, and the first marks
// waited for both one after the other.
'use strict';
window.wsvizBoot = (() => {
  // openSocket opens the page's WebSocket to its own server. With first,
  // and when the address asks for no other view or filter than fit-all,
  // it asks for the first tiles too (ui/firsttiles.go): the tiles of the
  // view that fits the whole capture so far, for as many lanes as the
  // timeline can show, sent between the first status and connections
  // table, so that the timeline's first frame with lanes has marks. The
  // plot's width is guessed before the page's layout (the timeline takes
  // about 70% of the window, less its 258 px of labels), on the wide
  // side: tiles a few levels finer than the view are drawn as well as its
  // own (windows.js forDraw).
  function openSocket(first) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let q = '';
    const h = new URLSearchParams(location.hash.slice(1));
    if (first && !['view', 'dir', 'hide', 'warn', 'conns', 'q'].some((k) => h.has(k))) {
      // outerWidth, not innerWidth: reading innerWidth lays the page out.
      const w = Math.max(100, Math.round(window.outerWidth * 0.75 - 258));
      const lanes = Math.min(100, Math.ceil(window.outerHeight / 30) + 3);
      q = '?fit=' + w + '&lanes=' + lanes;
    }
    const ws = new WebSocket(proto + '//' + location.host + '/ws' + q);
    ws.binaryType = 'arraybuffer';
    return ws;
  }

  // mark records a moment of the start-up (performance.mark) the first
  // time it happens: browsertests/cmd/uibench reads them to say where the
  // time to the first marks goes.
  const marked = new Set();
  function mark(name) {
    if (marked.has(name)) return;
    marked.add(name);
    performance.mark('wsviz:' + name);
  }

  // early is the socket opened at start-up and what it received before
  // the app took it: null once taken.
  let early = null;

  // takeSocket returns the socket opened at start-up with the messages it
  // received so far (oldest first) and whether it closed, once; null
  // after.
  function takeSocket() {
    const e = early;
    early = null;
    if (e) e.ws.onmessage = e.ws.onclose = e.ws.onopen = null;
    return e;
  }

  mark('boot');
  const ws = openSocket(true);
  early = { ws, messages: [], closed: false };
  ws.onopen = () => mark('ws-open');
  ws.onmessage = (m) => {
    if (typeof m.data !== 'string') mark('first-tiles');
    early.messages.push(m.data);
  };
  ws.onclose = () => { early.closed = true; };
  return { openSocket, takeSocket, mark };
})();
