// The ladder of the selected connection: the client and the server as two
// vertical lines and every step between them as an arrow, in time order,
// each with its note in plain words (two lines in the row, in full in the
// row's tooltip and the inspector). TCP packets are drawn as captured: the
// handshake packets a tcp.open carries ("handshake") and the FIN/RST
// packets of a tcp.close ("teardown"), each with its own time and packet
// number; nothing is drawn that the capture did not show. Rows are virtual
// (only those in view exist) and their details are fetched when they scroll
// in. Captured text goes in with textContent only.

import { T, OP, F, FROM_CLIENT, FROM_SERVER, HOW, opcodeName } from './data.js';
import { bytes } from './format.js';

const ROW_H = 36;

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
    this.subs = new Uint16Array(0);
    this.n = 0;
    this.builtKey = '';
    this.rows = new Map(); // row index -> element
    this.details = app.details;
    this.active = -1;
    list.addEventListener('scroll', () => this.render());
    list.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.render()).observe(list);
  }

  setConn(c) {
    if (c === this.conn) return;
    this.conn = c;
    this.builtKey = '';
    this.list.scrollTop = 0;
    this.update();
  }

  // refresh rebuilds every row (the time format changed).
  refresh() {
    this.builtKey = '';
    this.update();
  }

  // packets returns the TCP packets drawn for event id: the handshake of a
  // tcp.open or the teardown of a tcp.close, when its details carry them.
  packets(id) {
    const s = this.app.store;
    const t = s.type[id];
    if (t !== T.tcpOpen && t !== T.tcpClose) return null;
    const d = this.details.get(id);
    if (!d) return null;
    const list = t === T.tcpOpen ? d.event.handshake : d.event.teardown;
    return Array.isArray(list) && list.length ? list : null;
  }

  // update rebuilds the steps when the connection's events, their details
  // or the filter changed, and redraws.
  update() {
    const app = this.app, s = app.store;
    const lane = this.conn ? s.lane(this.conn) : null;
    const m = lane ? lane.n : 0;
    // The TCP events are fetched first: how many rows they take depends
    // on the packets they carry.
    const tcp = [];
    let loaded = 0;
    for (let k = 0; k < m; k++) {
      const i = lane.a[k];
      if (s.type[i] === T.tcpOpen || s.type[i] === T.tcpClose) {
        if (this.details.get(i)) loaded++; else tcp.push(i);
      }
    }
    if (tcp.length) this.details.want(tcp, () => this.update());
    const key = this.conn + ':' + m + ':' + app.filter.version + ':' + loaded;
    if (key !== this.builtKey) {
      this.builtKey = key;
      let cap = 0;
      for (let k = 0; k < m; k++) {
        const i = lane.a[k];
        if (!app.filter.passes(i)) continue;
        const p = this.packets(i);
        cap += p ? p.length : 1;
      }
      const ids = new Uint32Array(cap), subs = new Uint16Array(cap);
      let n = 0;
      for (let k = 0; k < m && n < cap; k++) {
        const i = lane.a[k];
        if (!app.filter.passes(i)) continue;
        const p = this.packets(i);
        if (p) {
          for (let j = 0; j < p.length && n < cap; j++) { ids[n] = i; subs[n] = j + 1; n++; }
        } else {
          ids[n] = i; subs[n] = 0; n++;
        }
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
    this.active = r;
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
      const el = this.rows.get(r);
      const key = (d ? 'd' : 'c') + (id === this.app.selected ? 's' : '') + (r === this.active ? 'a' : '');
      if (el && el.dataset.key === key) continue;
      const fresh = this.rowElement(r, d);
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
      case 'Enter': if (r >= 0) this.app.select(this.ids[r], { from: 'ladder' }); break;
      default: return;
    }
    e.preventDefault();
    e.stopPropagation();
    this.active = r;
    const top = r * ROW_H, h = this.list.clientHeight;
    if (top < this.list.scrollTop) this.list.scrollTop = top;
    else if (top + ROW_H > this.list.scrollTop + h) this.list.scrollTop = top + ROW_H - h;
    if (this.ids[r] !== this.app.selected) this.app.select(this.ids[r], { from: 'ladder' });
    this.render();
  }

  rowElement(r, d) {
    const app = this.app, s = app.store;
    const id = this.ids[r], sub = this.subs[r];
    const row = document.createElement('div');
    row.className = 'vrow ladder-row' + (id === app.selected ? ' selected' : '') + (r === this.active ? ' active' : '');
    row.style.top = (r * ROW_H) + 'px';
    row.dataset.id = String(id);
    if (sub) row.dataset.sub = String(sub);
    row.addEventListener('click', () => { this.active = r; app.select(id, { from: 'ladder' }); });
    const step = this.step(id, sub, d);

    const time = document.createElement('span');
    time.className = 'lr-time';
    time.textContent = app.fmtTime(step.t !== undefined ? step.t : s.t[id]);
    if (step.packet) {
      const pk = document.createElement('span');
      pk.className = 'lr-pkt';
      pk.textContent = 'pkt ' + step.packet;
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
    diagram.appendChild(label);
    row.appendChild(diagram);

    const note = document.createElement('span');
    note.className = 'lr-note';
    if (s.flags[id] & F.warning && sub <= 1) {
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

  // step says how to draw event id (packet sub of its TCP packets), from
  // its details d when they are loaded, else from the columns.
  step(id, sub, d) {
    const s = this.app.store;
    const ev = d ? d.event : null;
    const from = s.from[id];
    const dir = from === FROM_CLIENT ? 'right' : from === FROM_SERVER ? 'left' : 'both';
    const note = ev && ev.note ? ev.note : '';
    const type = s.type[id];
    if (sub > 0 && ev) {
      const p = (type === T.tcpOpen ? ev.handshake : ev.teardown)[sub - 1];
      const side = p.from === 'server' ? 'server' : 'client';
      const flags = String(p.flags || '');
      const rst = flags.startsWith('RST');
      const explain = PACKET_NOTE[flags] ? PACKET_NOTE[flags](side) : 'the ' + side + ' sent ' + flags;
      return {
        dir: side === 'server' ? 'left' : 'right',
        color: rst ? 'c-rst' : type === T.tcpOpen ? 'c-open' : 'c-tcp',
        dashed: type === T.tcpClose && !rst,
        label: flags,
        packet: p.packet,
        t: this.app.relOf(p.t),
        // The event's own note says what the packets mean together: it
        // goes with the first of them.
        note: sub === 1 && note ? note + ' — ' + explain : explain,
      };
    }
    switch (type) {
      case T.tcpOpen:
        if (s.flags[id] & F.syn) return { dir: 'right', color: 'c-open', label: 'SYN', packet: s.packet[id], note: note || 'the client asks to open a TCP connection (SYN)' };
        return { dir: 'band', color: 'c-open', label: 'TCP already open when the capture started', note };
      case T.tcpClose: {
        const how = HOW[s.kind[id]];
        if (how === 'rst') return { dir: 'both', color: 'c-rst', label: 'RST', packet: s.packet[id], note: note || 'the connection was reset' };
        if (how === 'fin') return { dir: 'both', color: 'c-tcp', dashed: true, label: 'FIN', packet: s.packet[id], note: note || 'TCP connection closed' };
        return { dir: 'band', color: 'c-tcp', label: how === 'evicted' ? 'no longer tracked' : 'capture ended', note };
      }
      case T.tcpGap:
        return { dir, color: 'c-gap', dashed: true, label: 'gap: ' + bytes(s.size[id]) + ' not captured', note };
      case T.httpReq: {
        let label = (s.flags[id] & F.upgrade) ? 'HTTP upgrade request' : 'HTTP request';
        if (ev) {
          label = (ev.method || 'GET') + ' ' + (ev.target || '') + ' ' + (ev.proto || '');
          const up = ev.headers && ev.headers.Upgrade;
          if (up) label += ' · Upgrade: ' + up.join(', ');
        }
        return { dir: 'right', color: 'c-http', label, note };
      }
      case T.httpResp: {
        const label = ev ? ev.status + ' ' + (ev.reason || '') : 'HTTP ' + s.size[id];
        const refused = (s.flags[id] & F.upgrade) && s.size[id] !== 101;
        const color = s.size[id] === 101 ? 'c-http' : refused ? 'c-rst' : 'c-plain';
        return { dir: 'left', color, label, note };
      }
      case T.httpError:
        return { dir, color: 'c-rst', dashed: true, label: 'HTTP decoding stopped', note };
      case T.wsOpen: {
        let label = (s.flags[id] & F.midstream) ? 'WebSocket found mid-stream' : 'WebSocket open';
        if (ev) {
          if (ev.subprotocol) label += ' · ' + ev.subprotocol;
          if (ev.extensions) label += ' · ' + ev.extensions;
        }
        return { dir: 'band', color: 'c-ws', label, note };
      }
      case T.wsFrame: {
        // Drawn on its own for its warnings (or a reserved opcode): the
        // label names what is wrong.
        const name = opcodeName(s.kind[id]);
        let label = name + ' frame ' + bytes(s.size[id]);
        if (ev && ev.warnings && ev.warnings.length) label += ' · ⚠ ' + ev.warnings.map((w) => w.code).join(', ');
        return { dir, color: 'c-frame', dashed: true, label, note };
      }
      case T.wsMessage: {
        const op = s.kind[id];
        const name = opcodeName(op);
        let label = name + ' ' + (ev && ev.undecodable ? '(bytes unknown)' : bytes(s.size[id]));
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
