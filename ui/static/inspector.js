// The inspector: every field of the selected event, its frame headers drawn
// bit by bit from the bytes on the wire (RFC 6455 §5.2), the packets it came
// from, its warnings, and the payload as a JSON tree, text, hex dump, base64
// or UTF-8. The payload is fetched when shown. Everything captured is put in
// with textContent only.

import { F, api } from './data.js';
import { bytes, hexDump } from './format.js';
import { recordsList, recordsText } from './tls.js';

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
      d = await api.event(id);
    } catch (err) {
      if (seq === this.seq) this.root.replaceChildren(el('p', 'muted', 'Could not load event ' + id + ': ' + err.message));
      return;
    }
    if (seq !== this.seq) return;
    this.render(id, d, seq);
  }

  render(id, d, seq) {
    const app = this.app;
    const ev = d.event;
    const root = this.root;
    root.replaceChildren();
    const dir = ev.from === 'client' ? 'client → server' : ev.from === 'server' ? 'server → client' : '';
    const kind = ev.type === 'ws.message' || ev.type === 'ws.frame' ? ' · ' + opcodeLabel(ev.opcode) : '';
    this.title.textContent = '#' + ev.conn + (ev.stream ? ' stream ' + ev.stream : '') + ' ' + ev.type + kind + (dir ? ' · ' + dir : '');

    root.appendChild(el('div', 'insp-note', ev.note || ''));
    for (const w of ev.warnings || []) {
      const box = el('div', 'insp-warn');
      box.appendChild(el('code', '', w.code));
      box.appendChild(document.createTextNode(' ' + w.msg));
      root.appendChild(box);
    }

    const when = el('dl', 'fields');
    const t = d.row ? d.row[1] : NaN;
    addField(when, 'time', (isNaN(t) ? '' : app.fmtTime(t) + ' · ') + ev.t);
    addField(when, 'packet', ev.packets && ev.packets.length ? 'packets ' + ev.packets.join(', ') : String(ev.packet));
    if (ev.stream) addField(when, 'stream', 'HTTP/2 stream ' + ev.stream);
    root.appendChild(when);

    const frames = ev.type === 'ws.frame' ? [{ id, event: ev }] : (d.frames || []);
    if (frames.length) {
      root.appendChild(el('h3', '', frames.length === 1 ? 'Frame header (RFC 6455 §5.2)' : 'Frame headers (RFC 6455 §5.2)'));
      for (const f of frames.slice(0, 16)) root.appendChild(frameBits(f.event, f.id));
      if (frames.length > 16) root.appendChild(el('p', 'muted', (frames.length - 16) + ' more frames'));
    }

    // What TLS carried it in: all that the network saw of it.
    const recs = recordsList(ev, addField);
    if (recs) {
      root.appendChild(el('h3', '', 'On the wire: TLS records'));
      root.appendChild(el('p', 'muted', (ev.type === 'tls.message' && !ev.encrypted ? 'In clear, in ' : 'Encrypted, in ') + recordsText(ev) +
        ': their sizes and times are what the network sees of this step.'));
      root.appendChild(recs);
    }

    for (const [name, list] of [['TCP handshake packets', ev.handshake], ['TCP teardown packets', ev.teardown]]) {
      if (!Array.isArray(list) || list.length === 0) continue;
      root.appendChild(el('h3', '', name));
      const dl = el('dl', 'fields packets');
      for (const p of list) addField(dl, String(p.flags), (p.from === 'server' ? 'server → client' : 'client → server') + ' · packet ' + p.packet + ' · ' + app.fmtTime(app.relOf(p.t)));
      root.appendChild(dl);
    }
    if (Array.isArray(ev.tunnel) && ev.tunnel.length) {
      root.appendChild(el('h3', '', 'Tunnel (outermost first)'));
      const dl = el('dl', 'fields');
      for (const tn of ev.tunnel) {
        const rest = Object.entries(tn).filter(([k]) => k !== 'kind').map(([k, v]) => k + ' ' + v).join(' · ');
        addField(dl, String(tn.kind), rest);
      }
      root.appendChild(dl);
    }

    if (ev.undecodable) {
      root.appendChild(el('h3', '', 'Payload'));
      root.appendChild(el('p', 'insp-unknown', 'The bytes of this message cannot be known' + (ev.wire_len !== undefined ? ' (' + bytes(ev.wire_len) + ' on the wire)' : '') + ': its length is unknown, not zero. ' + (ev.note || '')));
    } else if (ev.type === 'ws.message' || d.payload_len > 0) {
      root.appendChild(el('h3', '', 'Payload'));
      const holder = el('div');
      root.appendChild(holder);
      this.payload(holder, id, ev, d, seq);
    }

    root.appendChild(el('h3', '', 'All fields'));
    const all = el('dl', 'fields');
    addField(all, 'id', String(id));
    for (const [k, v] of Object.entries(ev)) {
      if (k === 'text' || k === 'base64' || k === 'warnings' || k === 'note') continue;
      addField(all, k, fieldText(k, v));
    }
    if (d.row && (d.row[8] & F.noDetail)) addField(all, 'details', 'not kept: the spill file reached its limit');
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
      buf = await api.payload(id);
    } catch (err) {
      holder.appendChild(el('p', 'muted', 'Could not load the payload: ' + err.message));
      return;
    }
    if (seq !== this.seq) return;
    let text = null, json, hasJSON = false;
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch { text = null; }
    if (text !== null) {
      const tt = text.trim();
      if ((tt.startsWith('{') || tt.startsWith('[')) && tt.length < 4 * MAX_TEXT) {
        try { json = JSON.parse(tt); hasJSON = true; } catch { hasJSON = false; }
      }
    }
    // A text message reads as JSON or text; a binary one as hex, base64,
    // or UTF-8 (invalid sequences shown as U+FFFD).
    const views = [];
    if (hasJSON) views.push('json');
    if (text !== null) views.push('text');
    views.push('hex', 'base64');
    if (text === null) views.push('utf8');
    let view = views.includes(this.view) ? this.view : views[0];
    if (ev.opcode === 'close' && text !== null && this.view !== 'hex') view = 'text';
    const tabs = el('div', 'tabs');
    const pre = el('div', 'payload');
    pre.id = 'payload';
    const labels = { json: 'JSON tree', text: 'Text', hex: 'Hex', base64: 'Base64', utf8: 'UTF-8' };
    const more = (n) => '\n… (' + bytes(buf.length) + ' in all, ' + bytes(n) + ' shown)';
    const show = (v) => {
      view = v;
      for (const b of tabs.children) b.classList.toggle('active', b.dataset.view === v);
      pre.className = 'payload ' + v;
      pre.dataset.view = v;
      pre.replaceChildren();
      switch (v) {
        case 'json': pre.appendChild(jsonTree(json)); break;
        case 'text': pre.textContent = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + more(MAX_TEXT) : text; break;
        case 'hex': pre.textContent = hexDump(buf, MAX_HEX) + (buf.length > MAX_HEX ? more(MAX_HEX) : ''); break;
        case 'base64': pre.textContent = base64(buf.subarray(0, MAX_TEXT)) + (buf.length > MAX_TEXT ? more(MAX_TEXT) : ''); break;
        case 'utf8': pre.textContent = new TextDecoder('utf-8').decode(buf.subarray(0, MAX_TEXT)) + (buf.length > MAX_TEXT ? more(MAX_TEXT) : ''); break;
      }
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

function base64(b) {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(s);
}

// MAX_OPEN_DEPTH is how deep a JSON tree opens at first; deeper (and long)
// objects are built when opened.
const MAX_OPEN_DEPTH = 3;

// jsonTree draws v as a collapsible tree: objects and arrays are <details>
// (open to a few levels, built lazily below), keys and values are text.
// Its textContent is v as JSON, so selecting and copying it gives JSON.
function jsonTree(v) {
  const root = el('div', 'jtree');
  root.appendChild(jsonNode(v, '', true, 0));
  return root;
}

function jsonNode(v, key, last, depth) {
  const comma = last ? '' : ',';
  if (v === null || typeof v !== 'object') {
    const line = el('div', 'jline');
    if (key) line.appendChild(el('span', 'jkey', key));
    line.appendChild(el('span', 'j' + (v === null ? 'null' : typeof v), JSON.stringify(v)));
    if (comma) line.appendChild(document.createTextNode(comma));
    return line;
  }
  const isArr = Array.isArray(v);
  const entries = isArr ? v.map((x, i) => [String(i), x]) : Object.entries(v);
  const det = el('details', 'jnode');
  const sum = el('summary');
  if (key) sum.appendChild(el('span', 'jkey', key));
  sum.appendChild(document.createTextNode(isArr ? '[' : '{'));
  // The count is drawn by CSS (attr), so that it is not in the text.
  sum.dataset.count = entries.length + (isArr ? (entries.length === 1 ? ' item' : ' items') : (entries.length === 1 ? ' key' : ' keys'));
  det.appendChild(sum);
  const body = el('div', 'jbody');
  const fill = () => {
    if (body.dataset.built) return;
    body.dataset.built = '1';
    entries.forEach(([k, x], i) => body.appendChild(jsonNode(x, isArr ? '' : JSON.stringify(k) + ': ', i === entries.length - 1, depth + 1)));
  };
  det.appendChild(body);
  det.appendChild(el('div', 'jclose', (isArr ? ']' : '}') + comma));
  if (depth < MAX_OPEN_DEPTH && entries.length <= 200) { fill(); det.open = true; }
  det.addEventListener('toggle', () => { if (det.open) fill(); });
  return det;
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

// frameBits draws one frame header as a row of bit fields in wire order:
// FIN, RSV1-3, opcode (4 bits), MASK, payload length (7 bits), the extended
// length (16 or 64 bits) and the masking key (32 bits). They are read from
// the header bytes as captured ("header"), so what is drawn is what was
// sent: a 16-bit length for 5 bytes shows as 126 and then 5.
function frameBits(f, id) {
  const box = el('div');
  const op = f.opcode;
  const wire = parseHeader(f.header);
  box.appendChild(el('div', 'bit-caption', 'frame ' + id + ' · ' + opcodeLabel(op) + ' · ' + bytes(f.len) + (f.fin ? ' · final' : ' · more to come')));
  const row = el('div', 'bits');
  const cell = (name, value, bits, cls) => {
    const c = el('span', 'bit' + (cls ? ' ' + cls : '') + (name === 'opcode' ? ' op' : ''));
    c.appendChild(el('b', '', name));
    c.title = name + ': ' + bits + (bits === 1 ? ' bit' : ' bits');
    c.appendChild(document.createTextNode(value));
    c.style.flex = String(Math.min(bits, 16)) + ' 1 0';
    row.appendChild(c);
    return c;
  };
  if (wire) {
    const b0 = wire.bytes[0], b1 = wire.bytes[1];
    const opw = b0 & 0x0f;
    cell('FIN', b0 & 0x80 ? '1' : '0', 1, b0 & 0x80 ? 'on' : '');
    cell('RSV1', b0 & 0x40 ? '1' : '0', 1, b0 & 0x40 ? 'on' : '');
    cell('RSV2', b0 & 0x20 ? '1' : '0', 1, b0 & 0x20 ? 'on' : '');
    cell('RSV3', b0 & 0x10 ? '1' : '0', 1, b0 & 0x10 ? 'on' : '');
    cell('opcode', opw.toString(2).padStart(4, '0') + ' ' + opcodeLabel(opw), 4, '');
    cell('MASK', b1 & 0x80 ? '1' : '0', 1, b1 & 0x80 ? 'on' : '');
    const len7 = b1 & 0x7f;
    cell('length', String(len7), 7, '');
    if (wire.ext !== null) {
      const minimal = len7 === 126 ? wire.ext >= 126n : wire.ext > 65535n;
      const c = cell('extended length', String(wire.ext), len7 === 126 ? 16 : 64, minimal ? '' : 'bad');
      if (!minimal) c.title += ': not the shortest form (RFC 6455 §5.2: the minimal number of bytes must be used)';
    }
    if (wire.mask) cell('masking key', wire.mask, 32, 'on');
    box.appendChild(row);
    const raw = el('div', 'bit-raw');
    raw.textContent = 'on the wire: ' + wire.hex.match(/../g).join(' ') + ' (' + wire.bytes.length + ' header bytes)';
    box.appendChild(raw);
    return box;
  }
  // Without the captured bytes, the header is rebuilt from the decoded
  // fields in the minimal form, and says so.
  const len = f.len;
  const len7 = len > 65535 ? 127 : len > 125 ? 126 : len;
  const rsv = f.rsv || 0;
  cell('FIN', f.fin ? '1' : '0', 1, f.fin ? 'on' : '');
  cell('RSV1', rsv & 4 ? '1' : '0', 1, rsv & 4 ? 'on' : '');
  cell('RSV2', rsv & 2 ? '1' : '0', 1, rsv & 2 ? 'on' : '');
  cell('RSV3', rsv & 1 ? '1' : '0', 1, rsv & 1 ? 'on' : '');
  cell('opcode', op.toString(2).padStart(4, '0') + ' ' + opcodeLabel(op), 4, '');
  cell('MASK', f.masked ? '1' : '0', 1, f.masked ? 'on' : '');
  cell('length', String(len7), 7, '');
  if (len7 === 126) cell('extended length', String(len), 16, '');
  if (len7 === 127) cell('extended length', String(len), 64, '');
  if (f.masked) cell('masking key', f.mask || '', 32, 'on');
  box.appendChild(row);
  box.appendChild(el('div', 'bit-raw muted', 'rebuilt from the decoded fields: this event does not carry the header bytes'));
  return box;
}

// parseHeader reads a frame header from its hex form (RFC 6455 §5.2), or
// returns null when there is none or it is malformed.
function parseHeader(hex) {
  if (typeof hex !== 'string' || !/^([0-9a-f]{2}){2,14}$/.test(hex)) return null;
  const bytes = hex.match(/../g).map((h) => parseInt(h, 16));
  const len7 = bytes[1] & 0x7f;
  let off = 2, ext = null;
  const extLen = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  if (bytes.length < off + extLen) return null;
  if (extLen) {
    ext = 0n;
    for (let i = 0; i < extLen; i++) ext = (ext << 8n) | BigInt(bytes[off + i]);
    off += extLen;
  }
  let mask = '';
  if (bytes[1] & 0x80) {
    if (bytes.length < off + 4) return null;
    mask = hex.slice(off * 2, off * 2 + 8);
  }
  return { bytes, hex, ext, mask };
}
