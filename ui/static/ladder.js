// The ladder of the selected connection: the client and the server as two
// vertical lines and every step between them as an arrow, in time order,
// each with its note in plain words. Rows are virtual (only those in view
// exist) and their details are fetched from /api/events when they scroll in.
// Captured text goes in with textContent only.

import { T, OP, F, FROM_CLIENT, FROM_SERVER, HOW, opcodeName } from './data.js';
import { rel, bytes } from './format.js';

const ROW_H = 30;

// Sub-steps of a tcp.open whose SYN was captured: the three-way handshake
// (RFC 9293 §3.5), drawn as three arrows.
const HANDSHAKE = [
  { label: 'SYN', dir: 'right', note: null }, // the event's own note
  { label: 'SYN-ACK', dir: 'left', note: 'the server agrees to open the connection (SYN-ACK)' },
  { label: 'ACK', dir: 'right', note: 'the client acknowledges: the TCP connection is open (ACK)' },
];

export class Ladder {
  constructor(app, list, title, ends, clientEl, serverEl) {
    this.app = app;
    this.list = list;
    this.spacer = list.firstElementChild;
    this.title = title;
    this.ends = ends;
    this.clientEl = clientEl;
    this.serverEl = serverEl;
    this.conn = 0;
    this.ids = new Uint32Array(0);
    this.subs = new Uint8Array(0);
    this.n = 0;
    this.builtKey = '';
    this.rows = new Map(); // row index -> element
    this.details = app.details;
    list.addEventListener('scroll', () => this.render());
    new ResizeObserver(() => this.render()).observe(list);
  }

  setConn(c) {
    if (c === this.conn) return;
    this.conn = c;
    this.builtKey = '';
    this.list.scrollTop = 0;
    this.update();
  }

  // update rebuilds the steps when the connection's events or the filter
  // changed, and redraws.
  update() {
    const app = this.app, s = app.store;
    const lane = this.conn ? s.lane(this.conn) : null;
    const key = this.conn + ':' + (lane ? lane.n : 0) + ':' + app.filter.version;
    if (key !== this.builtKey) {
      this.builtKey = key;
      const steps = (i) => (s.type[i] === T.tcpOpen && (s.flags[i] & F.syn) ? 3 : 1);
      let cap = 0;
      const m = lane ? lane.n : 0;
      for (let k = 0; k < m; k++) if (app.filter.passes(lane.a[k])) cap += steps(lane.a[k]);
      const ids = new Uint32Array(cap), subs = new Uint8Array(cap);
      let n = 0;
      for (let k = 0; k < m && n < cap; k++) {
        const i = lane.a[k];
        if (!app.filter.passes(i)) continue;
        const st = steps(i);
        for (let j = 0; j < st && n < cap; j++) { ids[n] = i; subs[n] = st === 3 ? j + 1 : 0; n++; }
      }
      this.ids = ids; this.subs = subs; this.n = n;
      this.spacer.style.height = (n * ROW_H) + 'px';
      for (const el of this.rows.values()) el.remove();
      this.rows.clear();
    }
    const info = this.conn ? s.conns.get(this.conn) : null;
    if (!this.conn) {
      this.title.textContent = 'select a connection';
      this.ends.hidden = true;
    } else {
      this.ends.hidden = false;
      this.clientEl.textContent = 'client ' + (info && info.client ? info.client : '?');
      this.serverEl.textContent = 'server ' + (info && info.server ? info.server : '?');
      const parts = ['#' + this.conn];
      if (info && info.path) parts.push(info.path);
      parts.push(this.n + ' steps');
      this.title.textContent = parts.join(' · ');
    }
    this.render();
  }

  // rowOf returns the first row of event id, or -1.
  rowOf(id) {
    for (let r = 0; r < this.n; r++) if (this.ids[r] === id) return r;
    return -1;
  }

  scrollTo(id) {
    const r = this.rowOf(id);
    if (r < 0) return;
    const top = r * ROW_H, h = this.list.clientHeight;
    if (top < this.list.scrollTop || top + ROW_H > this.list.scrollTop + h) {
      this.list.scrollTop = Math.max(0, top - h / 3);
    }
    this.render();
  }

  render() {
    const h = this.list.clientHeight;
    const first = Math.max(0, Math.floor(this.list.scrollTop / ROW_H) - 3);
    const last = Math.min(this.n, Math.ceil((this.list.scrollTop + h) / ROW_H) + 3);
    for (const [r, el] of this.rows) {
      if (r < first || r >= last) { el.remove(); this.rows.delete(r); }
    }
    const missing = [];
    for (let r = first; r < last; r++) {
      const id = this.ids[r];
      const d = this.details.get(id);
      if (!d) missing.push(id);
      let el = this.rows.get(r);
      const key = (d ? 'd' : 'c') + (id === this.app.selected ? 's' : '');
      if (el && el.dataset.key === key) continue;
      const fresh = this.rowElement(r, d);
      fresh.dataset.key = key;
      if (el) el.replaceWith(fresh); else this.list.appendChild(fresh);
      this.rows.set(r, fresh);
    }
    if (missing.length) this.details.want(missing, () => this.render());
  }

  rowElement(r, d) {
    const s = this.app.store;
    const id = this.ids[r], sub = this.subs[r];
    const row = document.createElement('div');
    row.className = 'vrow ladder-row' + (id === this.app.selected ? ' selected' : '');
    row.style.top = (r * ROW_H) + 'px';
    row.dataset.id = String(id);
    row.addEventListener('click', () => this.app.select(id, { from: 'ladder' }));

    const time = document.createElement('span');
    time.className = 'lr-time';
    time.textContent = rel(s.t[id]);
    row.appendChild(time);

    const diagram = document.createElement('span');
    diagram.className = 'lr-diagram';
    const step = this.step(id, sub, d);
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
    diagram.appendChild(label);
    row.appendChild(diagram);

    const note = document.createElement('span');
    note.className = 'lr-note';
    if (s.flags[id] & F.warning) {
      const w = document.createElement('span');
      w.className = 'w';
      w.textContent = '⚠';
      note.appendChild(w);
    }
    note.appendChild(document.createTextNode(step.note));
    note.title = step.note;
    row.appendChild(note);
    return row;
  }

  // step says how to draw event id (sub-step sub of a handshake), from
  // its details d when they are loaded, else from the columns.
  step(id, sub, d) {
    const s = this.app.store;
    const ev = d ? d.event : null;
    const from = s.from[id];
    const dir = from === FROM_CLIENT ? 'right' : from === FROM_SERVER ? 'left' : 'both';
    const note = ev && ev.note ? ev.note : '';
    switch (s.type[id]) {
      case T.tcpOpen:
        if (sub > 0) {
          const h = HANDSHAKE[sub - 1];
          return { dir: h.dir, color: 'c-open', label: h.label, note: h.note || note || 'the client asks to open a TCP connection (SYN)' };
        }
        return { dir: 'band', color: 'c-open', label: 'TCP already open when the capture started', note };
      case T.tcpClose: {
        const how = HOW[s.kind[id]];
        if (how === 'rst') return { dir: 'both', color: 'c-rst', label: 'RST', note: note || 'the connection was reset' };
        if (how === 'fin') return { dir: 'both', color: 'c-tcp', dashed: true, label: 'FIN', note: note || 'TCP connection closed' };
        return { dir: 'band', color: 'c-tcp', label: how === 'evicted' ? 'no longer tracked' : 'capture ended', note };
      }
      case T.tcpGap:
        return { dir, color: 'c-gap', dashed: true, label: 'gap: ' + bytes(s.size[id]) + ' not captured', note };
      case T.httpReq: {
        let label = 'HTTP upgrade request';
        if (ev) {
          label = (ev.method || 'GET') + ' ' + (ev.target || '') + ' ' + (ev.proto || '');
          const up = ev.headers && ev.headers.Upgrade;
          if (up) label += ' · Upgrade: ' + up.join(', ');
        }
        return { dir: 'right', color: 'c-http', label, note };
      }
      case T.httpResp: {
        const label = ev ? ev.status + ' ' + (ev.reason || '') : 'HTTP ' + s.size[id];
        return { dir: 'left', color: s.size[id] === 101 ? 'c-http' : 'c-rst', label, note };
      }
      case T.wsOpen: {
        let label = (s.flags[id] & F.midstream) ? 'WebSocket found mid-stream' : 'WebSocket open';
        if (ev) {
          if (ev.subprotocol) label += ' · ' + ev.subprotocol;
          if (ev.extensions) label += ' · ' + ev.extensions;
        }
        return { dir: 'band', color: 'c-ws', label, note };
      }
      case T.wsMessage: {
        const op = s.kind[id];
        const name = opcodeName(op);
        let label = name + ' ' + bytes(s.size[id]);
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
