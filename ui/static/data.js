// The page's data: the connections and a bounded cache of rows (Store),
// the filter, the index of messages the Messages panel lists, and `api`,
// every request the page makes to the server. The page never holds every
// event: the timeline asks for tiles (windows.js), the panels for pages,
// the inspector for one event. Nothing here holds payloads or notes: those
// are fetched when shown.

// Event type codes (ui/wire.go); the names are the registry's
// (registry.js, from analyze/registry.go): TestPageTablesMatchRegistry.
export const T = { unknown: 0, tcpOpen: 1, tcpClose: 2, tcpGap: 3, httpReq: 4, httpResp: 5, wsOpen: 6, wsFrame: 7, wsMessage: 8, httpError: 9, captureStats: 10, tlsHandshake: 11, tlsMessage: 12, tlsAlert: 13, tlsRecord: 14, ipFragments: 15, h2Close: 16 };
export const TYPE_NAMES = ['unknown', 'tcp.open', 'tcp.close', 'tcp.gap', 'http.request', 'http.response', 'ws.open', 'ws.frame', 'ws.message', 'http.error', 'capture.stats', 'tls.handshake', 'tls.message', 'tls.alert', 'tls.record', 'ip.fragments', 'h2.stream_close'];
// Directions.
export const FROM_CLIENT = 1, FROM_SERVER = 2;
// Opcodes (RFC 6455 §5.2).
export const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };
// How TCP connections close (kind of tcp.close).
export const HOW = ['', 'fin', 'rst', 'end', 'evicted'];
// How an HTTP/2 stream that carried a WebSocket ended (kind of
// h2.stream_close): END_STREAM both ways, RST_STREAM with an error code,
// RST_STREAM NO_ERROR.
export const STREAM_HOW = ['', 'end_stream', 'rst_stream', 'rst_stream NO_ERROR'];
export const STREAM_END = 1, STREAM_RESET = 2, STREAM_RESET_OK = 3;
// Flags. Those other than warning and noDetail are per type: upgrade (on
// http.request and http.response) shares fin's bit.
export const F = { warning: 1, truncated: 2, compressed: 4, fin: 8, upgrade: 8, masked: 16, syn: 32, midstream: 64, noDetail: 128 };

// streamOf returns the HTTP/2 stream of a row (its tenth element: ui/query.go
// rowJSON), 0 for none.
export function streamOf(r) { return r[9] || 0; }

// answer says what an http.response row is to the page: 'accepted' (101
// to an upgrade request, or on HTTP/2 a 2xx to an extended CONNECT, RFC
// 8441 §5), 'refused' (any other answer to such a request), or 'plain'.
export function answer(r) {
  const status = r[2];
  if (!(r[8] & F.upgrade)) return status === 101 ? 'accepted' : 'plain';
  if (status === 101) return 'accepted';
  if (!streamOf(r)) return 'refused';
  // HTTP/2: an interim answer (1xx) leaves the request waiting.
  return status >= 200 && status <= 299 ? 'accepted' : status <= 199 ? 'plain' : 'refused';
}

// knownOpcode reports whether op is one RFC 6455 §5.2 defines.
export function knownOpcode(op) {
  return op === 0 || op === 1 || op === 2 || op === 8 || op === 9 || op === 10;
}

// frameDrawn reports whether a ws.frame is drawn on the timeline and the
// ladder: frames are shown through their message, except those that carry
// a warning and those of a reserved opcode, which make no message.
export function frameDrawn(kind, flags) {
  return (flags & F.warning) !== 0 || !knownOpcode(kind);
}

export function opcodeName(op) {
  switch (op) {
    case 0: return 'continuation';
    case 1: return 'text';
    case 2: return 'binary';
    case 8: return 'close';
    case 9: return 'ping';
    case 10: return 'pong';
    case 255: return 'unknown';
  }
  return 'reserved-' + op;
}

// Store is what the page keeps of the capture: the connections table (from
// the server's stream) and a bounded cache of the rows it was sent (by the
// tiles, lists and event answers), so that an event seen once can be drawn
// and described without asking again. It never holds every event: rows
// are [id, t, size, packet, conn, type, from, kind, flags] and the HTTP/2
// stream of events that have one (windows.js R).
export class Store {
  constructor() { this.reset(); }

  reset() {
    this.conns = new Map(); // conn id -> summary from the server
    this.connOrder = []; // conn ids, ascending
    this.rows = new Map(); // event id -> row, least recently seen first
    this.version = 0; // bumped on every change of the connections
  }

  // remember keeps row (most recently seen last), forgetting the oldest
  // past ROW_CACHE.
  remember(row) {
    const id = row[0];
    if (this.rows.has(id)) this.rows.delete(id);
    this.rows.set(id, row);
    if (this.rows.size > Store.ROW_CACHE) {
      for (const k of this.rows.keys()) {
        this.rows.delete(k);
        if (this.rows.size <= Store.ROW_CACHE * 0.9) break;
      }
    }
  }

  row(id) { return this.rows.get(id); }

  addConnId(c) {
    if (this.connOrder.length === 0 || c > this.connOrder[this.connOrder.length - 1]) {
      this.connOrder.push(c);
      return;
    }
    let lo = 0, hi = this.connOrder.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.connOrder[m] < c) lo = m + 1; else hi = m; }
    if (this.connOrder[lo] !== c) this.connOrder.splice(lo, 0, c);
  }

  setConns(list) {
    for (const c of list) {
      if (!this.conns.has(c.id)) this.addConnId(c.id);
      this.conns.set(c.id, c);
    }
    this.version++;
  }
}
Store.ROW_CACHE = 50000;

// Filter decides which events are shown and exported.
export class Filter {
  constructor(store) {
    this.store = store;
    this.dir = 0; // 0 both, 1 client → server, 2 server → client
    this.kinds = { text: true, binary: true, ping: true, pong: true, close: true, tcp: true };
    this.warnOnly = false;
    this.connText = '';
    this.connOK = new Uint8Array(0); // by conn id, 1 when it passes connText
    this.query = ''; // the search text: the server keeps the matches (q=)
    this.regex = false; // the search text is a regular expression (RE2 syntax, as Go's regexp)
    this.version = 0;
  }

  kindOK(type, kind) {
    const k = this.kinds;
    if (type === T.wsMessage || type === T.wsFrame) {
      switch (kind) {
        case OP.cont: return k.text || k.binary;
        case OP.text: return k.text;
        case OP.binary: return k.binary;
        case OP.close: return k.close;
        case OP.ping: return k.ping;
        case OP.pong: return k.pong;
      }
      return true;
    }
    return k.tcp;
  }

  connPasses(c) {
    if (this.connText === '') return true;
    return c < this.connOK.length && this.connOK[c] === 1;
  }

  // passesRow reports whether a row is shown (the server applies the same
  // filter to what it sends; this is for rows the page already has).
  passesRow(r) {
    const type = r[5], from = r[6], kind = r[7], flags = r[8];
    if (this.warnOnly && !(flags & F.warning)) return false;
    if (this.dir !== 0 && from !== this.dir) return false;
    if (!this.kindOK(type, kind)) return false;
    if (this.query && type !== T.wsMessage) return false;
    return this.connPasses(r[4]);
  }

  active() {
    const k = this.kinds;
    return this.dir !== 0 || this.warnOnly || this.connText !== '' || this.query !== '' ||
      !(k.text && k.binary && k.ping && k.pong && k.close && k.tcp);
  }

  // params is the filter as query parameters of the server's APIs (the
  // connection filter is the page's: see only()).
  params() {
    const p = [];
    if (this.dir) p.push('dir=' + this.dir);
    const k = this.kinds;
    if (!(k.text && k.binary && k.ping && k.pong && k.close && k.tcp)) {
      const on = ['other'];
      for (const name of ['text', 'binary', 'ping', 'pong', 'close', 'tcp']) if (k[name]) on.push(name);
      p.push('kinds=' + on.join(','));
    }
    if (this.warnOnly) p.push('warn=1');
    if (this.query) p.push('q=' + encodeURIComponent(this.query) + (this.regex ? '&re=1' : ''));
    return p.join('&');
  }

  // only lists the connections shown when the connection filter hides
  // some, for the step and export APIs; '' when it hides none.
  only() {
    if (this.connText === '') return '';
    return this.store.connOrder.filter((c) => this.connPasses(c)).join(',');
  }

  // updateConns recomputes which connections match connText.
  updateConns() {
    const s = this.store;
    let max = 0;
    for (const c of s.connOrder) if (c > max) max = c;
    this.connOK = new Uint8Array(max + 1);
    const q = this.connText.toLowerCase();
    for (const c of s.connOrder) {
      if (q === '' || connMatches(s.conns.get(c), c, q)) this.connOK[c] = 1;
    }
    this.version++;
  }
}

export function connMatches(info, id, q) {
  if (('#' + id) === q || String(id) === q) return true;
  if (!info) return false;
  const hay = [info.client, info.server, info.host, info.path, info.subprotocol, info.extensions, info.state,
    STATE_LABEL[info.state] || '', info.midstream ? 'mid-stream' : '', info.gaps ? 'gap' : '', info.tls ? 'tls ' + info.tls : '', info.sni,
    info.status ? String(info.status) : '', info.h2 ? 'http/2 h2' : ''].join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => w === '' || hay.includes(w));
}

// Connection states (ui/conns.go) in words. The colours are the CSS classes
// .state.NAME and STATE_COLOR in timeline.js.
export const STATE_LABEL = {
  tcp: 'TCP only', handshake: 'upgrade asked', http: 'plain HTTP', rejected: 'refused', reset: 'reset',
  gap: 'damaged by a gap', midstream: 'mid-stream', open: 'upgraded, open', closed: 'closed cleanly',
  unclean: 'closed, no Close', ended: 'capture ended', tls: 'TLS, no keys', h2: 'HTTP/2',
};
export const STATE_TITLE = {
  tcp: 'a TCP connection that carried no HTTP and no WebSocket',
  handshake: 'the client asked for a WebSocket (an upgrade request, or on HTTP/2 an extended CONNECT); no answer was captured',
  http: 'plain HTTP: requests answered by responses, no upgrade (RFC 9112)',
  rejected: 'the server answered the upgrade request with another status than 101 (RFC 6455 §4.2.2), or on HTTP/2 the extended CONNECT with another than 2xx (RFC 8441 §5)',
  reset: 'the connection ended with a TCP RST, or a WebSocket\'s HTTP/2 stream was reset with an error code (RST_STREAM other than NO_ERROR)',
  gap: 'bytes of this connection were never captured (tcp.gap): what follows a gap may be incomplete',
  midstream: 'no handshake captured: the connection was recognised from its frames',
  open: 'upgraded to WebSocket (101, or a 2xx on an HTTP/2 stream) and not closed when last seen',
  closed: 'Close frames both ways, then TCP FIN (RFC 6455 §7.1.1); on HTTP/2, every WebSocket\'s Close both ways and its stream ended (END_STREAM, or RST_STREAM NO_ERROR)',
  unclean: 'TCP closed (on HTTP/2, a WebSocket\'s stream ended) without the Close handshake (RFC 6455 §7.1.5)',
  ended: 'the capture ended while the WebSocket was open',
  tls: 'TLS whose keys were not found (--keylog, SSLKEYLOGFILE, or secrets in the pcapng): only its records, their sizes and times, are known',
  h2: 'HTTP/2 (ALPN h2, prior knowledge, or 101 to h2c) that carried no WebSocket: its requests and responses are decoded',
};

// ServerMessageIndex lists the messages that pass the filter, in capture
// order: the rows of the Messages panel, answered by the server
// (/api/list): the count and pages of 100 rows, fetched as the list scrolls and
// forgotten past a few hundred, so the Messages panel lists every message
// of any capture in bounded memory. Rows are the server's arrays
// ([id, t, size, packet, conn, type, from, kind, flags], windows.js R).
// Until a page arrives, id(k) is -1 and row(k) null.
export class ServerMessageIndex {
  constructor(app, onChange) {
    this.app = app;
    this.onChange = onChange;
    this.pages = new Map(); // page number -> rows
    this.total = 0;
    this.key = null;
    this.busy = new Set();
    this.locating = -1;
  }
  params() {
    const f = this.app.filter;
    const p = ['list=messages'];
    if (f.dir) p.push('dir=' + f.dir);
    const k = f.kinds;
    const on = ['other'];
    for (const name of ['text', 'binary', 'ping', 'pong', 'close']) if (k[name]) on.push(name);
    p.push('kinds=' + on.join(','));
    if (f.warnOnly) p.push('warn=1');
    if (f.query) p.push('q=' + encodeURIComponent(f.query) + (f.regex ? '&re=1' : ''));
    return p.join('&');
  }
  // update starts over when the filter or the events changed; it reports
  // whether the count may have changed.
  update() {
    const st = this.app.status, f = this.app.filter;
    const version = !st ? 0 : st.done ? 'done:' + st.events : Math.floor(performance.now() / 1000);
    const key = this.params() + ':' + f.version + ':' + version;
    if (key === this.key) return false;
    const filterChanged = !this.key || this.key.split(':')[0] !== key.split(':')[0];
    this.key = key;
    if (filterChanged) {
      this.pages.clear();
      this.fetch(0);
      return true;
    }
    // New events: the rows at hand stay shown while the count and the
    // last page are asked again (a live list does not flicker).
    this.fetch(0, true);
    const lastPage = Math.floor(Math.max(0, this.total - 1) / ServerMessageIndex.PAGE);
    if (lastPage > 0) this.fetch(lastPage, true);
    return true;
  }
  async fetch(page, again) {
    const key = this.key;
    const bk = key + '#' + page; // a request of an older filter does not hold up this one
    if (this.busy.has(bk) || (this.pages.has(page) && !again)) return;
    this.busy.add(bk);
    try {
      const r = await fetch('/api/list?' + this.params() + '&offset=' + page * ServerMessageIndex.PAGE + '&limit=' + ServerMessageIndex.PAGE);
      if (r.ok && key === this.key) {
        const a = await r.json();
        this.total = a.total;
        this.pages.set(page, a.rows);
        for (const row of a.rows) this.app.store.remember(row);
        while (this.pages.size > 300) this.pages.delete(this.pages.keys().next().value);
        // A search still scanning: start over soon with what it found.
        if (a.search && !a.search.done) setTimeout(() => { if (this.key === key) { this.key = null; this.update(); } }, 300);
      }
    } catch { /* asked again when the row is drawn */ }
    this.busy.delete(bk);
    this.onChange();
  }
  count() { return this.total; }
  row(k) {
    const p = this.pages.get(Math.floor(k / ServerMessageIndex.PAGE));
    if (!p) { this.fetch(Math.floor(k / ServerMessageIndex.PAGE)); return null; }
    return p[k % ServerMessageIndex.PAGE] || null;
  }
  id(k) { const r = this.row(k); return r ? r[0] : -1; }
  // rowOf returns the row of message id when it is in a page at hand;
  // else it asks the server where it is, and onChange is called when known.
  rowOf(id) {
    for (const [p, rows] of this.pages) {
      const i = rows.findIndex((r) => r[0] === id);
      if (i >= 0) return p * ServerMessageIndex.PAGE + i;
    }
    if (this.locating !== id) {
      this.locating = id;
      fetch('/api/list?' + this.params() + '&limit=' + ServerMessageIndex.PAGE + '&id=' + id)
        .then((r) => (r.ok ? r.json() : null))
        .then((a) => {
          if (!a || !a.found) return;
          this.total = a.total;
          this.pages.set(a.offset / ServerMessageIndex.PAGE, a.rows);
          this.onChange(id);
        }).catch(() => {});
    }
    return -1;
  }
}
ServerMessageIndex.PAGE = 100;

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
  return r.json();
}

// api is every request the page makes to the server (ui/api.go).
export const api = {
  // events returns the JSON form and a payload preview of each id.
  events: (ids) => getJSON('/api/events?ids=' + ids.join(',')),
  // event returns one event with, for a message, its frames.
  event: (id) => getJSON('/api/event?id=' + id),
  payload: async (id) => {
    const r = await fetch('/api/payload?id=' + id);
    if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
    return new Uint8Array(await r.arrayBuffer());
  },
  // step returns the row of the drawn event after (back: before) event
  // from that passes the filter (from < 0: the first, or the last):
  // within connection conn when given, else of the connections only lists
  // ('' for all); warned keeps to events with warnings. null when none.
  step: async (from, back, conn, only, warned, fparams) => {
    const p = [];
    if (from >= 0) p.push('from=' + from);
    if (back) p.push('back=1');
    if (conn) p.push('conn=' + conn);
    else if (only) p.push('only=' + only);
    if (warned) p.push('warned=1');
    if (fparams) p.push(fparams);
    return (await getJSON('/api/step?' + p.join('&'))).row;
  },
  // list returns a page of a list: {total, offset, found, rows, previews}.
  list: (params) => getJSON('/api/list?' + params),
  // warnings returns every warning code with its count.
  warnings: () => getJSON('/api/warnings'),
};
