// The inspector: every field of the selected event, its frame headers drawn
// bit by bit (RFC 6455 §5.2), the packets it came from, its warnings, and
// the payload as text, pretty JSON or a hex dump. The payload is fetched
// when shown. Everything captured is put in with textContent only.

import { F } from './data.js';
import { rel, bytes, hexDump } from './format.js';

const MAX_TEXT = 1 << 20; // characters of payload shown as text
const MAX_HEX = 64 << 10; // bytes of payload shown as hex

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class Inspector {
  constructor(app, root, title) {
    this.app = app;
    this.root = root;
    this.title = title;
    this.id = -1;
    this.seq = 0;
    this.view = ''; // payload view chosen by the user: text, json, hex
    this.clear();
  }

  clear() {
    this.id = -1;
    this.root.replaceChildren(el('p', 'muted', 'Click a mark on the timeline or a step of the ladder to see everything about it: its fields, its frame header bit by bit, and its payload.'));
    this.title.textContent = 'select an event';
  }

  async show(id) {
    if (id === this.id) return;
    this.id = id;
    const seq = ++this.seq;
    this.title.textContent = 'event ' + id;
    let d;
    try {
      const r = await fetch('/api/event?id=' + id);
      if (!r.ok) throw new Error(await r.text());
      d = await r.json();
    } catch (err) {
      if (seq === this.seq) this.root.replaceChildren(el('p', 'muted', 'Could not load event ' + id + ': ' + err.message));
      return;
    }
    if (seq !== this.seq) return;
    this.render(id, d, seq);
  }

  render(id, d, seq) {
    const app = this.app, s = app.store;
    const ev = d.event;
    const root = this.root;
    root.replaceChildren();
    const dir = ev.from === 'client' ? 'client → server' : ev.from === 'server' ? 'server → client' : '';
    const kind = ev.type === 'ws.message' || ev.type === 'ws.frame' ? ' · ' + opcodeLabel(ev.opcode) : '';
    this.title.textContent = '#' + ev.conn + ' ' + ev.type + kind + (dir ? ' · ' + dir : '');

    root.appendChild(el('div', 'insp-note', ev.note || ''));
    for (const w of ev.warnings || []) {
      const box = el('div', 'insp-warn');
      box.appendChild(el('code', '', w.code));
      box.appendChild(document.createTextNode(' ' + w.msg));
      root.appendChild(box);
    }

    const when = el('dl', 'fields');
    const t = id < s.n ? s.t[id] : NaN;
    addField(when, 'time', (isNaN(t) ? '' : rel(t) + ' after the start · ') + ev.t);
    addField(when, 'packet', ev.packets && ev.packets.length ? 'packets ' + ev.packets.join(', ') : String(ev.packet));
    root.appendChild(when);

    const frames = ev.type === 'ws.frame' ? [{ id, event: ev }] : (d.frames || []);
    if (frames.length) {
      root.appendChild(el('h3', '', frames.length === 1 ? 'Frame header (RFC 6455 §5.2)' : 'Frame headers (RFC 6455 §5.2)'));
      for (const f of frames.slice(0, 16)) root.appendChild(frameBits(f.event, f.id));
      if (frames.length > 16) root.appendChild(el('p', 'muted', (frames.length - 16) + ' more frames'));
    }

    if (ev.type === 'ws.message' || d.payload_len > 0) {
      root.appendChild(el('h3', '', 'Payload'));
      const holder = el('div');
      root.appendChild(holder);
      this.payload(holder, id, ev, d, seq);
    }

    root.appendChild(el('h3', '', 'All fields'));
    const all = el('dl', 'fields');
    addField(all, 'id', String(id));
    for (const [k, v] of Object.entries(ev)) {
      if (k === 'text' || k === 'base64' || k === 'warnings') continue;
      addField(all, k, fieldText(k, v));
    }
    if (id < s.n && (s.flags[id] & F.noDetail)) addField(all, 'details', 'not kept: the spill file reached its limit');
    root.appendChild(all);
  }

  async payload(holder, id, ev, d, seq) {
    const info = el('div', 'muted');
    const len = ev.len !== undefined ? ev.len : d.payload_len;
    let what = bytes(len);
    if (ev.wire_len !== undefined && ev.compressed) what += ' (' + bytes(ev.wire_len) + ' on the wire, deflated)';
    if (d.payload_len < len || ev.truncated) what += ' · ' + bytes(d.payload_len) + ' kept';
    info.textContent = what;
    holder.appendChild(info);
    if (d.payload_len === 0) return;
    let buf;
    try {
      const r = await fetch('/api/payload?id=' + id);
      if (!r.ok) throw new Error(await r.text());
      buf = new Uint8Array(await r.arrayBuffer());
    } catch (err) {
      holder.appendChild(el('p', 'muted', 'Could not load the payload: ' + err.message));
      return;
    }
    if (seq !== this.seq) return;
    let text = null, json = null;
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch { text = null; }
    if (text !== null) {
      const tt = text.trim();
      if ((tt.startsWith('{') || tt.startsWith('[')) && tt.length < 4 * MAX_TEXT) {
        try { json = JSON.stringify(JSON.parse(tt), null, 2); } catch { json = null; }
      }
    }
    const views = [];
    if (json !== null) views.push('json');
    if (text !== null) views.push('text');
    views.push('hex');
    let view = views.includes(this.view) ? this.view : views[0];
    if (ev.opcode === 'close' && text !== null) view = this.view === 'hex' ? 'hex' : 'text';
    const tabs = el('div', 'tabs');
    const pre = el('pre', 'payload');
    pre.id = 'payload';
    const labels = { json: 'JSON', text: 'Text', hex: 'Hex' };
    const show = (v) => {
      view = v;
      for (const b of tabs.children) b.classList.toggle('active', b.dataset.view === v);
      pre.classList.toggle('hex', v === 'hex');
      pre.dataset.view = v;
      if (v === 'json') pre.textContent = json;
      else if (v === 'text') pre.textContent = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + '\n… (' + bytes(buf.length) + ' in all)' : text;
      else pre.textContent = hexDump(buf, MAX_HEX) + (buf.length > MAX_HEX ? '\n… (' + bytes(buf.length) + ' in all)' : '');
    };
    for (const v of views) {
      const b = el('button', '', labels[v]);
      b.type = 'button';
      b.dataset.view = v;
      b.addEventListener('click', () => { this.view = v; show(v); });
      tabs.appendChild(b);
    }
    holder.appendChild(tabs);
    holder.appendChild(pre);
    show(view);
  }
}

function opcodeLabel(op) {
  if (typeof op === 'string') return op;
  const names = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
  return names[op] || 'reserved-' + op;
}

function addField(dl, name, value) {
  dl.appendChild(el('dt', '', name));
  dl.appendChild(el('dd', '', value));
}

function fieldText(k, v) {
  if (k === 'headers' && v && typeof v === 'object') {
    return Object.entries(v).map(([n, vals]) => vals.map((x) => n + ': ' + x).join('\n')).join('\n');
  }
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// frameBits draws one frame header as a row of bit fields, in wire order:
// FIN, RSV1-3, opcode (4 bits), MASK, payload length (7 bits), the extended
// length (16 or 64 bits) and the masking key (32 bits).
function frameBits(f, id) {
  const box = el('div');
  const op = f.opcode;
  const len = f.len;
  const len7 = len > 65535 ? 127 : len > 125 ? 126 : len;
  box.appendChild(el('div', 'bit-caption', 'frame ' + id + ' · ' + opcodeLabel(op) + ' · ' + bytes(len) + (f.fin ? ' · final' : ' · more to come')));
  const row = el('div', 'bits');
  const cell = (name, value, bits, on) => {
    const c = el('span', 'bit' + (on ? ' on' : '') + (name === 'opcode' ? ' op' : ''));
    c.appendChild(el('b', '', name));
    c.title = name + ': ' + bits + (bits === 1 ? ' bit' : ' bits');
    c.appendChild(document.createTextNode(value));
    c.style.flex = String(Math.min(bits, 16)) + ' 1 0';
    row.appendChild(c);
  };
  const rsv = f.rsv || 0;
  cell('FIN', f.fin ? '1' : '0', 1, f.fin);
  cell('RSV1', rsv & 4 ? '1' : '0', 1, rsv & 4);
  cell('RSV2', rsv & 2 ? '1' : '0', 1, rsv & 2);
  cell('RSV3', rsv & 1 ? '1' : '0', 1, rsv & 1);
  cell('opcode', op.toString(2).padStart(4, '0') + ' ' + opcodeLabel(op), 4, false);
  cell('MASK', f.masked ? '1' : '0', 1, f.masked);
  cell('length', String(len7), 7, false);
  if (len7 === 126) cell('extended length', String(len), 16, false);
  if (len7 === 127) cell('extended length', String(len), 64, false);
  if (f.masked) cell('masking key', f.mask || '', 32, true);
  box.appendChild(row);
  return box;
}

