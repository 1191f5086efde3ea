// The ladder of the selected connection: the client and the server as two
// vertical lines and every step between them as an arrow, in time order,
// each with its note in plain words (two lines in the row, in full in the
// row's tooltip and the inspector). TCP packets are drawn as captured: the
// handshake packets a tcp.open carries ("handshake") and the FIN/RST
// packets of a tcp.close ("teardown"), each with its own time and packet
// number; nothing is drawn that the capture did not show. A connection's
// tcp.close is its last step, but its packets are drawn in packet order
// among the steps after the first of them (mergeTail): a peer's messages
// after the other side's FIN, or that crossed a RST on the wire (tcp.close's
// note counts those bytes). The steps are
// the server's (/api/list?list=steps&conn=C): their count and pages of
// them as they scroll into view, so a connection of millions of messages
// costs the rows in view. Rows are virtual (only those in view exist) and
// their details are fetched when they scroll in. On a TLS connection the
// handshake is drawn message by message and every decoded step says it
// travelled encrypted; a toggle shows instead what the network sees of it:
// records, their sizes and times (tls.js). On HTTP/2 (RFC 8441) a
// connection may carry several WebSockets, one per stream, among plain
// requests: every step of a stream says which ("stream 3", a button that
// shows that stream's steps alone: /api/list?list=steps&stream=S), and
// each WebSocket's stream ends with its own h2.stream_close step. Captured
// text goes in with textContent only.

import { T, OP, F, FROM_CLIENT, FROM_SERVER, HOW, STREAM_END, STREAM_RESET, opcodeName, streamOf, answer, api } from './data.js';
import { R } from './windows.js';
import { bytes } from './format.js';
import { isTLSType, onWire, tlsStep, wireStep, sentNote } from './tls.js';

const ROW_H = 36;
const PAGE = 100;
const MAX_PAGES = 200;
// MAX_PX caps the spacer's height (browsers cap an element's): past it the
// scroll position maps onto the rows proportionally, as vlist.js does.
const MAX_PX = 8_000_000;

// What each TCP packet kind means (RFC 9293 §3.5, §3.6).
const PACKET_NOTE = {
  SYN: (from) => 'the ' + from + ' asks to open a TCP connection (SYN)',
  'SYN-ACK': (from) => 'the ' + from + ' agrees to open the connection and acknowledges the SYN (SYN-ACK)',
  ACK: (from) => 'the ' + from + ' acknowledges: the TCP connection is open',
  FIN: (from) => 'the ' + from + ' has nothing more to send (FIN)',
  'FIN-ACK': (from) => 'the ' + from + ' has nothing more to send and acknowledges the other side (FIN-ACK)',
  RST: (from) => 'the ' + from + ' aborts the connection (RST): data in flight is lost',
  'RST-ACK': (from) => 'the ' + from + ' aborts the connection (RST)',
};

// noteSub returns the packet (1-based) of a tcp.open's handshake or a
// tcp.close's teardown list that carries the event's note: a tcp.close's
// first RST, else its last packet (the FIN that closed it); a tcp.open's
// first.
function noteSub(type, list) {
  if (type !== T.tcpClose) return 1;
  const rst = list.findIndex((q) => String(q.flags || '').startsWith('RST'));
  return rst >= 0 ? rst + 1 : list.length;
}

export class Ladder {
  constructor(app, list, title, ends, clientEl, serverEl, viewEl, allStreamsEl) {
    this.app = app;
    this.list = list;
    this.spacer = list.firstElementChild;
    this.title = title;
    this.ends = ends;
    this.clientEl = clientEl;
    this.serverEl = serverEl;
    this.conn = 0;
    this.total = 0; // steps, from the server
    this.pages = new Map(); // page -> rows
    this.busy = new Set();
    this.key = ''; // conn and filter of the pages at hand
    this.version = '';
    this.head = 0; // rows the first step takes (its TCP packets), 1 if plain
    this.tail = 0; // rows the last step takes
    this.n = 0; // rows
    this.rows = new Map(); // row index -> element
    this.details = app.details;
    this.active = -1;
    this.want = -1; // an event to scroll to once its place is known
    // wire: draw what the network sees instead of what the application
    // sent; tls: the connection is TLS (its summary says so).
    this.wire = false;
    this.tls = false;
    // stream: the HTTP/2 stream whose steps alone are shown, 0 for all.
    this.stream = 0;
    this.wantStream = 0; // the address's, for the next connection selected
    this.allStreamsEl = allStreamsEl;
    if (allStreamsEl) allStreamsEl.addEventListener('click', () => { this.setStream(0); app.updateHash(); });
    this.viewEl = viewEl;
    if (viewEl) {
      for (const b of viewEl.querySelectorAll('button')) {
        b.addEventListener('click', () => { this.setWire(b.dataset.wire === '1'); app.updateHash(); });
      }
    }
    list.addEventListener('scroll', () => this.render());
    list.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.render()).observe(list);
  }

  setConn(c) {
    if (c === this.conn) return;
    this.conn = c;
    this.stream = this.wantStream;
    this.wantStream = 0;
    this.key = '';
    this.list.scrollTop = 0;
    this.active = -1;
    this.update();
  }

  // setWire chooses what the ladder draws: what the network sees (true)
  // or what the application sent.
  setWire(on) {
    on = !!on;
    if (this.viewEl) {
      for (const b of this.viewEl.querySelectorAll('button')) b.setAttribute('aria-pressed', String((b.dataset.wire === '1') === on));
    }
    if (on === this.wire) return;
    this.wire = on;
    this.refresh();
  }

  // setStream shows the steps of one HTTP/2 stream of the connection (a
  // WebSocket of several), or with 0 every step.
  setStream(s) {
    s = Number(s) > 0 ? Number(s) : 0;
    if (s === this.stream) return;
    this.stream = s;
    this.list.scrollTop = 0;
    this.active = -1;
    this.update();
  }

  // refresh rebuilds every row (the time format changed).
  refresh() {
    for (const el of this.rows.values()) el.remove();
    this.rows.clear();
    this.update();
  }

  params() {
    const fp = this.app.filter.params();
    return 'list=steps&conn=' + this.conn + (this.stream ? '&stream=' + this.stream : '') + (fp ? '&' + fp : '');
  }

  // update starts over when the connection or the filter changed, asks
  // again for the count and the last page while events arrive, and
  // redraws.
  update() {
    const key = this.conn + '|' + this.params();
    const st = this.app.status;
    const version = !st ? '' : st.done ? 'done:' + st.events : String(st.events);
    if (key !== this.key) {
      this.key = key;
      this.version = version;
      this.pages.clear();
      this.total = 0;
      this.head = this.tail = 0;
      for (const el of this.rows.values()) el.remove();
      this.rows.clear();
      if (this.conn) this.fetch(0);
    } else if (version !== this.version && this.conn) {
      // New events: the count, and the last page again.
      this.version = version;
      this.fetch(0, true);
      if (this.total > PAGE) this.fetch(Math.floor((this.total - 1) / PAGE), true);
    }
    this.layout();
    const info = this.conn ? this.app.store.conns.get(this.conn) : null;
    const tls = !!(info && info.tls);
    if (tls !== this.tls) {
      this.tls = tls;
      for (const el of this.rows.values()) el.remove();
      this.rows.clear();
    }
    if (!this.conn) {
      this.title.textContent = 'select a connection';
      this.ends.hidden = true;
    } else {
      this.ends.hidden = false;
      this.clientEl.textContent = 'client ' + (info && info.client ? info.client : '?');
      this.serverEl.textContent = 'server ' + (info && info.server ? info.server : '?');
      const parts = ['#' + this.conn];
      if (this.stream) parts.push('HTTP/2 stream ' + this.stream + ' only');
      else if (info && info.path) parts.push(info.path);
      if (!this.stream && info && info.ws_streams > 1) parts.push(info.ws_streams + ' WebSockets on HTTP/2 streams');
      if (this.tls) parts.push(this.wire ? 'TLS: what the network sees' : info && info.tls_keys ? 'TLS, decrypted' : 'TLS, no keys');
      else if (this.wire) parts.push('not encrypted: the network sees all of it');
      parts.push(this.total.toLocaleString('en-US') + ' steps');
      this.title.textContent = parts.join(' · ');
    }
    if (this.allStreamsEl) this.allStreamsEl.hidden = !this.conn || !this.stream;
    this.render();
  }

  async fetch(page, again) {
    const key = this.key;
    const bk = key + '#' + page;
    if (this.busy.has(bk) || (this.pages.has(page) && !again)) return;
    this.busy.add(bk);
    try {
      const a = await api.list(this.params() + '&offset=' + page * PAGE + '&limit=' + PAGE);
      if (key === this.key) this.take(a);
    } catch { /* asked again when the rows are drawn */ }
    this.busy.delete(bk);
  }

  // take keeps a page of the server's answer and redraws.
  take(a) {
    const page = Math.floor(a.offset / PAGE);
    this.total = a.total;
    this.pages.set(page, a.rows);
    for (const r of a.rows) this.app.store.remember(r);
    while (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value);
    // The TCP events first: how many rows they take depends on the
    // packets they carry.
    const tcp = a.rows.filter((r) => (r[R.type] === T.tcpOpen || r[R.type] === T.tcpClose) && !this.details.get(r[R.id]));
    if (tcp.length) this.details.want(tcp.map((r) => r[R.id]), () => this.update());
    this.update();
    if (this.want >= 0) this.scrollTo(this.want);
  }

  // step returns the row of step k, or null (asking for its page).
  step(k) {
    if (k < 0 || k >= this.total) return null;
    const p = this.pages.get(Math.floor(k / PAGE));
    if (!p) { this.fetch(Math.floor(k / PAGE)); return null; }
    return p[k % PAGE] || null;
  }

  // packets returns the TCP packets drawn for a row: the handshake of a
  // tcp.open or the teardown of a tcp.close, when its details carry them.
  packets(r) {
    if (!r) return null;
    const t = r[R.type];
    if (t !== T.tcpOpen && t !== T.tcpClose) return null;
    const d = this.details.get(r[R.id]);
    if (!d) return null;
    const list = t === T.tcpOpen ? d.event.handshake : d.event.teardown;
    return Array.isArray(list) && list.length ? list : null;
  }

  // layout counts the rows: one per step, the first and last steps as
  // many as the TCP packets they carry (a connection's tcp.open comes
  // first and its tcp.close last).
  layout() {
    const pk = (k) => { const p = this.packets(this.step(k)); return p ? p.length : 1; };
    this.head = this.total > 0 ? pk(0) : 0;
    this.tail = this.total > 1 ? pk(this.total - 1) : 0;
    const n = this.total === 0 ? 0 : this.total === 1 ? this.head : this.total - 2 + this.head + this.tail;
    if (n !== this.n) {
      this.n = n;
      this.spacer.style.height = Math.min(n * ROW_H, MAX_PX) + 'px';
      for (const el of this.rows.values()) el.remove();
      this.rows.clear();
    }
    this.mergeTail();
  }

  // mergeTail puts the teardown's packets in time order among the steps
  // before the close that came after the first of them: a peer's messages
  // after the other side's FIN, or that crossed a RST on the wire. Those
  // rows (this.merged, from step this.mergedFrom's row this.mergedAt) are
  // then in packet order;
  // only steps whose page is at hand take part (at most a page of them).
  mergeTail() {
    this.merged = null;
    const last = this.total - 1;
    const close = last >= 1 ? this.peek(last) : null;
    const pk = close && close[R.type] === T.tcpClose ? this.packets(close) : null;
    if (!pk) return;
    const steps = [];
    for (let k = last - 1; k >= 1 && last - k <= PAGE; k--) {
      const s = this.peek(k);
      if (!s || !(s[R.packet] > pk[0].packet)) break;
      steps.push({ k, sub: 0, packet: s[R.packet] });
    }
    if (!steps.length) return;
    steps.reverse();
    const entries = steps.concat(pk.map((p, i) => ({ k: last, sub: this.tail > 1 ? i + 1 : 0, packet: p.packet })));
    // Stable: a message and the FIN that carried its last bytes share a
    // packet, the message first.
    entries.sort((a, b) => a.packet - b.packet);
    this.merged = entries;
    this.mergedFrom = steps[0].k;
    this.mergedAt = this.head + steps[0].k - 1;
  }

  // peek returns the row of step k when its page is at hand, else null.
  peek(k) {
    const p = this.pages.get(Math.floor(k / PAGE));
    return p ? p[k % PAGE] || null : null;
  }

  // at returns the step and packet (0: the event itself) of row r.
  at(r) {
    const m = this.merged;
    if (m && r >= this.mergedAt && r < this.mergedAt + m.length) return [m[r - this.mergedAt].k, m[r - this.mergedAt].sub];
    if (r < this.head) return [0, this.head > 1 ? r + 1 : 0];
    const k = r - this.head + 1;
    if (this.total > 1 && k >= this.total - 1) {
      const sub = r - (this.head + this.total - 2);
      return [this.total - 1, this.tail > 1 ? sub + 1 : 0];
    }
    return [k, 0];
  }

  // rowOfStep returns the first row of step k.
  rowOfStep(k) {
    const m = this.merged;
    if (m && k >= this.mergedFrom) {
      const i = m.findIndex((e) => e.k === k);
      if (i >= 0) return this.mergedAt + i;
    }
    return k === 0 ? 0 : this.head + k - 1;
  }

  // rowOf returns the first row of event id when its page is at hand, or -1.
  rowOf(id) {
    for (const [p, rows] of this.pages) {
      const i = rows.findIndex((r) => r[R.id] === id);
      if (i >= 0) return this.rowOfStep(p * PAGE + i);
    }
    return -1;
  }

  // idAt returns the event id of row r, or -1 while its page is coming.
  idAt(r) {
    const s = this.step(this.at(r)[0]);
    return s ? s[R.id] : -1;
  }

  // scrollTo scrolls to event id, asking the server where it is when its
  // page is not at hand.
  scrollTo(id) {
    let r = this.rowOf(id);
    if (r < 0) {
      this.want = id;
      const key = this.key;
      api.list(this.params() + '&limit=' + PAGE + '&id=' + id).then((a) => {
        if (key !== this.key || this.want !== id) return;
        if (!a.found) { this.want = -1; return; }
        this.take(a);
      }).catch(() => {});
      return;
    }
    this.want = -1;
    this.active = r;
    const top = this.rowTop(r), h = this.list.clientHeight;
    if (top < this.list.scrollTop || top + ROW_H > this.list.scrollTop + h) {
      this.list.scrollTop = Math.max(0, top - h / 3);
    }
    this.render();
  }

  // firstRow is the (fractional) row at the top of the view.
  firstRow() {
    const total = this.n * ROW_H, max = Math.min(total, MAX_PX) - this.list.clientHeight;
    if (total <= MAX_PX || max <= 0) return this.list.scrollTop / ROW_H;
    return Math.min(1, this.list.scrollTop / max) * Math.max(0, this.n - this.list.clientHeight / ROW_H);
  }

  // rowTop is where row r is (or would be) drawn in the spacer.
  rowTop(r) {
    if (this.n * ROW_H <= MAX_PX) return r * ROW_H;
    const max = MAX_PX - this.list.clientHeight;
    return max * r / Math.max(1, this.n - this.list.clientHeight / ROW_H);
  }

  render() {
    const h = this.list.clientHeight;
    const f = this.firstRow();
    const top = this.list.scrollTop;
    const first = Math.max(0, Math.floor(f) - 3);
    const last = Math.min(this.n, Math.ceil(f + h / ROW_H) + 3);
    for (const [r, el] of this.rows) {
      if (r < first || r >= last) { el.remove(); this.rows.delete(r); }
    }
    const missing = [];
    for (let r = first; r < last; r++) {
      const [k, sub] = this.at(r);
      const row = this.step(k);
      const el = this.rows.get(r);
      if (!row) {
        if (el && el.dataset.key === 'none') continue;
        const fresh = document.createElement('div');
        fresh.className = 'vrow ladder-row';
        fresh.style.top = (top + (r - f) * ROW_H) + 'px';
        fresh.dataset.key = 'none';
        if (el) el.replaceWith(fresh); else this.list.appendChild(fresh);
        this.rows.set(r, fresh);
        continue;
      }
      const id = row[R.id];
      const d = this.details.get(id);
      if (!d) missing.push(id);
      const key = id + ':' + sub + (d ? 'd' : 'c') + (id === this.app.selected ? 's' : '') + (r === this.active ? 'a' : '') + (this.wire ? 'w' : '');
      if (el && el.dataset.key === key) { el.style.top = (top + (r - f) * ROW_H) + 'px'; continue; }
      const fresh = this.rowElement(r, row, sub, d);
      fresh.style.top = (top + (r - f) * ROW_H) + 'px';
      fresh.dataset.key = key;
      if (el) el.replaceWith(fresh); else this.list.appendChild(fresh);
      this.rows.set(r, fresh);
    }
    if (missing.length) this.details.want(missing, () => this.render());
  }

  onKey(e) {
    if (this.n === 0) return;
    let r = this.active;
    switch (e.key) {
      case 'ArrowDown': case 'j': r = Math.min(this.n - 1, r + 1); break;
      case 'ArrowUp': case 'k': r = Math.max(0, r - 1); break;
      case 'Enter': if (r >= 0 && this.idAt(r) >= 0) this.app.select(this.idAt(r), { from: 'ladder' }); break;
      default: return;
    }
    e.preventDefault();
    e.stopPropagation();
    this.active = r;
    const top = this.rowTop(r), h = this.list.clientHeight;
    if (top < this.list.scrollTop) this.list.scrollTop = top;
    else if (top + ROW_H > this.list.scrollTop + h) this.list.scrollTop = top + ROW_H - h;
    const id = this.idAt(r);
    if (id >= 0 && id !== this.app.selected) this.app.select(id, { from: 'ladder', row: this.step(this.at(r)[0]) });
    this.render();
  }

  rowElement(r, ev, sub, d) {
    const app = this.app;
    const id = ev[R.id];
    const step = this.drawn(ev, sub, d);
    const row = document.createElement('div');
    row.className = 'vrow ladder-row' + (id === app.selected ? ' selected' : '') + (r === this.active ? ' active' : '') + (step.faint ? ' faint' : '');
    row.style.top = (r * ROW_H) + 'px';
    row.dataset.id = String(id);
    if (sub) row.dataset.sub = String(sub);
    row.addEventListener('click', () => { this.active = r; app.select(id, { from: 'ladder', row: ev }); });

    const time = document.createElement('span');
    time.className = 'lr-time';
    time.textContent = app.fmtTime(step.t !== undefined ? step.t : ev[R.t]);
    // Every step says its packet (a message's last), to find it in
    // Wireshark; a TCP packet row, its own.
    const packet = step.packet || ev[R.packet];
    if (packet > 0) {
      const pk = document.createElement('span');
      pk.className = 'lr-pkt';
      pk.textContent = 'pkt ' + packet;
      time.appendChild(pk);
    }
    row.appendChild(time);

    const diagram = document.createElement('span');
    diagram.className = 'lr-diagram';
    const shape = document.createElement('span');
    if (step.dir === 'band') {
      shape.className = 'band ' + step.color;
    } else {
      shape.className = 'arrow ' + step.dir + ' ' + step.color + (step.dashed ? ' dashed' : '');
    }
    diagram.appendChild(shape);
    const label = document.createElement('span');
    label.className = 'alabel';
    label.textContent = step.label;
    label.title = step.label;
    if (step.lock) {
      // Drawn, not a glyph: the page needs no emoji font.
      const lock = document.createElement('span');
      lock.className = 'lock';
      lock.setAttribute('aria-label', 'encrypted');
      label.prepend(lock);
      label.title = step.label + ' (travelled encrypted)';
    }
    diagram.appendChild(label);
    row.appendChild(diagram);

    const note = document.createElement('span');
    note.className = 'lr-note';
    const stream = streamOf(ev);
    if (stream) {
      // The HTTP/2 stream the step belongs to: a click shows its steps
      // alone (again: every stream's).
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'lr-stream' + (this.stream === stream ? ' on' : '');
      b.textContent = 'stream ' + stream;
      b.title = this.stream === stream ? 'Show the steps of every stream of the connection' : 'HTTP/2 stream ' + stream + ': show its steps alone';
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        this.setStream(this.stream === stream ? 0 : stream);
        app.updateHash();
      });
      note.appendChild(b);
    }
    if (ev[R.flags] & F.warning && sub <= 1) {
      const w = document.createElement('span');
      w.className = 'w';
      w.textContent = '⚠';
      note.appendChild(w);
    }
    note.appendChild(document.createTextNode(step.note));
    let title = step.note;
    if (d && sub <= 1) for (const w of d.event.warnings || []) title += '\n⚠ ' + w.code + ': ' + w.msg;
    note.title = title;
    row.appendChild(note);
    return row;
  }

  // drawn says how to draw the event of row r (packet sub of its TCP
  // packets), from its details d when they are loaded, else from the row:
  // as the network sees it when the ladder says so and the connection is
  // TLS, else as sent, saying that it travelled encrypted when it did.
  drawn(r, sub, d) {
    const ev = d ? d.event : null;
    const from = r[R.from];
    const dir = from === FROM_CLIENT ? 'right' : from === FROM_SERVER ? 'left' : 'both';
    const type = r[R.type];
    const side = from === FROM_CLIENT ? 'client' : from === FROM_SERVER ? 'server' : 'connection';
    if (this.tls && this.wire && sub === 0) {
      if (!onWire(type)) {
        // Decoded from the plaintext, with nothing of its own on the wire.
        const s = this.sentStep(r, sub, d);
        return { ...s, faint: true, dashed: true, note: 'nothing of its own on the wire: ' + s.label + ' was decoded from the records of the steps around it' };
      }
      const w = wireStep(type, ev, dir, side);
      if (w) return w;
    }
    if (isTLSType(type)) return tlsStep(type, ev, dir, ev && ev.note ? ev.note : '', side);
    const step = this.sentStep(r, sub, d);
    if (this.tls && (type === T.httpReq || type === T.httpResp || type === T.wsMessage)) {
      step.lock = true;
      if (ev) step.note = (step.note ? step.note + ' — ' : '') + sentNote(ev);
    }
    if (this.tls && type === T.h2Close) {
      // Its frame travelled encrypted; the record it came in is listed
      // with the next step of the same side (analyze.Carried).
      step.lock = true;
      step.note = (step.note ? step.note + ' — ' : '') + 'travelled encrypted, in a record listed with the ' + (r[R.from] === FROM_CLIENT ? 'client' : 'server') + '\'s next request, response, message or alert';
    }
    return step;
  }

  // sentStep says how to draw row r as the application sent it.
  sentStep(r, sub, d) {
    const ev = d ? d.event : null;
    const from = r[R.from];
    const dir = from === FROM_CLIENT ? 'right' : from === FROM_SERVER ? 'left' : 'both';
    const note = ev && ev.note ? ev.note : '';
    const type = r[R.type];
    if (sub > 0 && ev) {
      const list = type === T.tcpOpen ? ev.handshake : ev.teardown;
      const p = list[sub - 1];
      const side = p.from === 'server' ? 'server' : 'client';
      const flags = String(p.flags || '');
      const rst = flags.startsWith('RST');
      // A RST after one of the same side's: its host no longer has the
      // connection and answers what still arrives for it (RFC 9293 §3.10.7.1).
      const again = rst && list.slice(0, sub - 1).some((q) => q.from === p.from && String(q.flags || '').startsWith('RST'));
      const explain = again ? 'the ' + side + ' resets again (RST): it no longer has the connection, and what still arrived for it is discarded'
        : PACKET_NOTE[flags] ? PACKET_NOTE[flags](side) : 'the ' + side + ' sent ' + flags;
      return {
        dir: side === 'server' ? 'left' : 'right',
        color: rst ? 'c-rst' : type === T.tcpOpen ? 'c-open' : 'c-tcp',
        dashed: type === T.tcpClose && !rst,
        label: flags,
        packet: p.packet,
        t: this.app.relOf(p.t),
        // The event's own note says what the packets mean together: it
        // goes with the first of them, or for a tcp.close with the packet
        // that ended the connection (its first RST; its last FIN), which
        // the time order may put after others.
        note: sub === noteSub(type, list) && note ? note + ' — ' + explain : explain,
      };
    }
    switch (type) {
      case T.tcpOpen:
        if (r[R.flags] & F.syn) return { dir: 'right', color: 'c-open', label: 'SYN', packet: r[R.packet], note: note || 'the client asks to open a TCP connection (SYN)' };
        return { dir: 'band', color: 'c-open', label: 'TCP already open when the capture started', note };
      case T.tcpClose: {
        const how = HOW[r[R.kind]];
        if (how === 'rst') return { dir: 'both', color: 'c-rst', label: 'RST', packet: r[R.packet], note: note || 'the connection was reset' };
        if (how === 'fin') return { dir: 'both', color: 'c-tcp', dashed: true, label: 'FIN', packet: r[R.packet], note: note || 'TCP connection closed' };
        return { dir: 'band', color: 'c-tcp', label: how === 'evicted' ? 'no longer tracked' : 'capture ended', note };
      }
      case T.tcpGap:
        return { dir, color: 'c-gap', dashed: true, label: 'gap: ' + bytes(r[R.size]) + ' not captured', note };
      case T.httpReq: {
        let label = (r[R.flags] & F.upgrade) ? 'HTTP upgrade request' : 'HTTP request';
        if (ev) {
          label = (ev.method || 'GET') + ' ' + (ev.target || '') + ' ' + (ev.proto || '');
          const up = ev.headers && ev.headers.Upgrade;
          if (up) label += ' · Upgrade: ' + up.join(', ');
          // RFC 8441 §4: an extended CONNECT names its protocol.
          const protocol = ev.headers && ev.headers[':protocol'];
          if (protocol) label += ' · :protocol ' + protocol.join(', ');
        }
        return { dir: 'right', color: 'c-http', label, note };
      }
      case T.httpResp: {
        // HTTP/2 has no reason phrase (RFC 9113 §8.3.2).
        let label = 'HTTP ' + r[R.size];
        if (ev) label = streamOf(r) ? ev.status + ' ' + (ev.proto || '') : ev.status + ' ' + (ev.reason || '');
        const a = answer(r);
        const color = a === 'accepted' ? 'c-http' : a === 'refused' ? 'c-rst' : 'c-plain';
        return { dir: 'left', color, label, note };
      }
      case T.httpError:
        return { dir, color: 'c-rst', dashed: true, label: 'HTTP decoding stopped', note };
      case T.wsOpen: {
        let label = (r[R.flags] & F.midstream) ? 'WebSocket found mid-stream' : 'WebSocket open';
        if (ev) {
          if (ev.subprotocol) label += ' · ' + ev.subprotocol;
          if (ev.extensions) label += ' · ' + ev.extensions;
        }
        return { dir: 'band', color: 'c-ws', label, note };
      }
      case T.h2Close: {
        // The end of a WebSocket's HTTP/2 stream (RFC 9113 §5.1): both
        // sides' END_STREAM, drawn as a connection's FIN is; or one
        // side's RST_STREAM, red unless NO_ERROR.
        const kind = r[R.kind];
        if (kind === STREAM_END) return { dir: 'both', color: 'c-tcp', dashed: true, label: 'END_STREAM both ways', packet: r[R.packet], note: note || 'the stream ended' };
        const code = ev && ev.error_code ? ev.error_code : kind === STREAM_RESET ? '' : 'NO_ERROR';
        return { dir, color: kind === STREAM_RESET ? 'c-rst' : 'c-tcp', label: 'RST_STREAM' + (code ? ' ' + code : ''), packet: r[R.packet], note: note || 'the stream was reset' };
      }
      case T.wsFrame: {
        // Drawn on its own for its warnings (or a reserved opcode): the
        // label names what is wrong.
        const name = opcodeName(r[R.kind]);
        let label = name + ' frame ' + bytes(r[R.size]);
        if (ev && ev.warnings && ev.warnings.length) label += ' · ⚠ ' + ev.warnings.map((w) => w.code).join(', ');
        return { dir, color: 'c-frame', dashed: true, label, note };
      }
      case T.wsMessage: {
        const op = r[R.kind];
        const name = opcodeName(op);
        let label = name + ' ' + (ev && ev.undecodable ? '(bytes unknown)' : bytes(r[R.size]));
        if (ev) {
          if (ev.frames > 1) label += ' in ' + ev.frames + ' frames';
          if (ev.compressed) label += ' (deflated)';
          if (op === OP.close) {
            if (ev.code) label += ' · ' + ev.code;
            if (ev.reason) label += ' ' + ev.reason;
          } else if (d.preview && (op === OP.text || op === OP.ping || op === OP.pong)) {
            label += ' · ' + d.preview.replace(/\s+/g, ' ');
          }
        }
        return { dir, color: 'c-' + (['text', 'binary', 'close', 'ping', 'pong'].includes(name) ? name : 'tcp'), label, note };
      }
    }
    return { dir, color: 'c-tcp', label: ev ? ev.type : 'event', note };
  }
}
