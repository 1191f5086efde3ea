// The Messages panel, like the WebSocket table of browser developer tools:
// one row per message (direction, time, connection and HTTP/2 stream, type,
// size, the start of the data), listing the messages that pass the filters. Rows are
// virtual over ServerMessageIndex (data.js), which pages through the
// server's list, so every message of any capture is listed; previews are
// fetched for the rows in view. Captured text goes in with textContent only.

import { OP, F, FROM_CLIENT, opcodeName, streamOf, ServerMessageIndex } from './data.js';
import { bytes } from './format.js';
import { VList } from './vlist.js';

const ROW_H = 22;

export class Messages {
  constructor(app, root, countEl) {
    this.app = app;
    this.index = new ServerMessageIndex(app, (id) => {
      if (!this.visible) return;
      if (this.index.count() !== this.list.n) this.list.setCount(this.index.count());
      this.countEl.textContent = this.index.count() ? String(this.index.count()) : '';
      if (id !== undefined && id === this.app.selected) this.reveal(id);
      this.render();
    });
    this.countEl = countEl;
    this.list = new VList(root, ROW_H, (k) => this.row(k));
    this.list.keyOf = (k) => {
      const id = this.index.id(k);
      return id + (this.app.details.get(id) ? 'd' : '') + (id === this.app.selected ? 's' : '') + this.app.timeMode;
    };
    this.visible = false;
    // Rows that scroll in fetch their previews (a few hundred at a time).
    this.list.onScroll = () => this.fetchPreviews();
    root.addEventListener('keydown', (e) => this.onKey(e));
  }

  // update refreshes the index and, when shown, the rows.
  update() {
    const changed = this.index.update();
    this.countEl.textContent = this.index.count() ? String(this.index.count()) : '';
    if (!this.visible) return;
    if (changed) this.list.setCount(this.index.count());
    this.render();
  }

  render() {
    if (!this.visible) return;
    this.list.render();
    this.fetchPreviews();
  }

  fetchPreviews() {
    const missing = [];
    for (const k of this.list.rows.keys()) {
      const id = this.index.id(k);
      if (id >= 0 && !this.app.details.get(id)) missing.push(id);
    }
    if (missing.length) this.app.details.want(missing, () => this.list.render());
  }

  show(on) {
    this.visible = on;
    if (on) {
      this.index.update();
      this.list.setCount(this.index.count());
      this.list.reset();
      this.render();
      this.reveal(this.app.selected);
    }
  }

  // reveal scrolls to message id when it is listed.
  reveal(id) {
    if (!this.visible || id < 0) return;
    const k = this.index.rowOf(id);
    if (k >= 0) { this.list.active = k; this.list.scrollTo(k); this.render(); }
  }

  row(k) {
    const app = this.app;
    const r = this.index.row(k);
    const row = document.createElement('div');
    if (!r) {
      row.className = 'msg-row';
      add(row, 'm-preview', '…');
      return row;
    }
    // The row's columns, as the store's are read (s.kind[id] and so on).
    const id = r[0];
    const s = { t: { [id]: r[1] }, size: { [id]: r[2] }, conn: { [id]: r[4] }, from: { [id]: r[6] }, kind: { [id]: r[7] }, flags: { [id]: r[8] } };
    const d = app.details.get(id);
    const op = s.kind[id];
    row.className = 'msg-row' + (id === app.selected ? ' selected' : '') + (s.flags[id] & F.warning ? ' warned' : '');
    row.dataset.id = String(id);
    row.addEventListener('click', () => { this.list.active = k; app.select(id, { from: 'messages', row: r }); });
    const up = s.from[id] === FROM_CLIENT;
    add(row, 'm-dir ' + (up ? 'up' : 'down'), up ? '↑' : '↓', up ? 'client → server (sent)' : 'server → client (received)');
    add(row, 'm-time', app.fmtTime(s.t[id]));
    const conn = add(row, 'm-conn', '#' + s.conn[id]);
    const stream = streamOf(r);
    if (stream) {
      // The message's HTTP/2 stream: one WebSocket of its connection's.
      add(conn, 'm-stream', 's' + stream);
      conn.title = 'connection ' + s.conn[id] + ', HTTP/2 stream ' + stream;
    }
    const name = opcodeName(op);
    add(row, 'm-type k-' + name, (s.flags[id] & F.warning ? '⚠ ' : '') + name);
    const size = d && d.event.undecodable ? 'unknown' : bytes(s.size[id]);
    add(row, 'm-size', size, s.flags[id] & F.compressed && d ? bytes(d.event.wire_len) + ' on the wire (deflated)' : '');
    let prev = '';
    if (d) {
      const ev = d.event;
      if (ev.undecodable) prev = '(bytes unknown) ' + (ev.note || '');
      else if (op === OP.close) prev = (ev.code ? ev.code + ' ' : '') + (ev.reason || '');
      else if (op === OP.binary) prev = hexPreview(d.preview_hex) || '(binary)';
      else prev = (d.preview || '').replace(/\s+/g, ' ');
      if (ev.truncated) prev += ' …';
    }
    add(row, 'm-preview', prev || (d ? '' : '…'), prev.length > 80 ? prev.slice(0, 500) : '');
    return row;
  }

  onKey(e) {
    const n = this.index.count();
    if (n === 0) return;
    let k = this.list.active;
    switch (e.key) {
      case 'ArrowDown': case 'j': k = Math.min(n - 1, k + 1); break;
      case 'ArrowUp': case 'k': k = Math.max(0, k - 1); break;
      case 'PageDown': k = Math.min(n - 1, k + 10); break;
      case 'PageUp': k = Math.max(0, k - 10); break;
      case 'Home': k = 0; break;
      case 'End': k = n - 1; break;
      case 'Enter': if (k >= 0) this.app.select(this.index.id(k), { from: 'messages' }); e.preventDefault(); e.stopPropagation(); return;
      default: return;
    }
    e.preventDefault();
    e.stopPropagation();
    this.list.active = k;
    this.list.scrollTo(k);
    if (this.index.id(k) >= 0) this.app.select(this.index.id(k), { from: 'messages', row: this.index.row(k) });
  }
}

function add(row, cls, text, title) {
  const e = document.createElement('span');
  e.className = cls;
  e.textContent = text;
  if (title) e.title = title;
  row.appendChild(e);
  return e;
}

function hexPreview(h) {
  if (!h) return '';
  return h.match(/../g).slice(0, 32).join(' ');
}
