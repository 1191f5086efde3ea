// Tiles: what the timeline draws, asked of the server (/api/tiles,
// ui/query.go) as the view moves, so the page never needs every event.
//
// The time axis is cut into tiles. At level L a column is 2^L ns wide and
// a tile 256 columns; the timeline draws the level whose columns are about
// COL_PX pixels wide, so that zooming by two moves one level and panning
// needs only the tiles that come into view. Each tile of each lane comes
// back either as its events one by one (few in it) or as its messages
// merged per column (per direction: the count, the warnings, the largest
// message) with the special and warned events one by one. The answer is
// binary: nothing to parse, the page reads it in place with a DataView.
//
// Tiles are kept (the most recently used TILE_CACHE of them) with a
// bitmap of their message bars, drawn once: a frame is then a few
// drawImage calls per lane whatever the zoom. While a level's tiles are
// on their way, the next coarser (or finer) level's are drawn scaled.
// A tile fetched while the capture is still being read is asked again
// when new events may have fallen in it: those that end before the time
// read so far, less a second, are final.

import { T, F } from './data.js';
// boot.js, run before the modules (index.html).
const { mark } = window.wsvizBoot;

// Row fields, as the server sends them (ui/query.go rowJSON); stream, the
// HTTP/2 stream, only on the rows of events that have one.
export const R = { id: 0, t: 1, size: 2, packet: 3, conn: 4, type: 5, from: 6, kind: 7, flags: 8, stream: 9 };

// COL_PX is the width of a merged column in pixels at its own level.
export const COL_PX = 3;
export const TILE_COLS = 256;
const MAX_LEVEL = 54;
const TILE_CACHE = 4000;
const MAX_INFLIGHT = 2;
// FINER is how many levels finer than the view tiles may be drawn from
// while the view's own are on their way (forDraw).
const FINER = 3;
const MAX_TILES_PER_REQUEST = 32;
const MAX_LANES_PER_REQUEST = 100;
const ENTRY = 32, ROW = 40, BUCKET = 24;
// SETTLE is how long (µs of capture time) before the last event a tile must
// end to be final while the capture is read: events come in capture order,
// but a message is dated by its first packet and ends later.
const SETTLE = 1e6;

// colUs returns the width of a column of level L in microseconds.
export function colUs(L) { return Math.pow(2, L) / 1000; }
export function tileUs(L) { return colUs(L) * TILE_COLS; }

// levelFor returns the level whose columns are closest to COL_PX pixels
// at usPerPx microseconds a pixel.
export function levelFor(usPerPx) {
  const L = Math.round(Math.log2(COL_PX * usPerPx * 1000));
  return Math.max(0, Math.min(MAX_LEVEL, Number.isFinite(L) ? L : 0));
}

// Tile is one lane's tile: rows (arrays, R), buckets read in place.
export class Tile {
  constructor(L, i, conn, merged, rows, dv, bOff, nb, more, count, version, final) {
    this.L = L; this.i = i; this.conn = conn; this.merged = merged;
    this.rows = rows; this.dv = dv; this.bOff = bOff; this.nb = nb;
    this.more = more; this.count = count; this.version = version; this.final = final;
    this.bitmap = null; this.bitmapKey = '';
  }
  get t0() { return this.i * tileUs(this.L); }
  // Bucket k: column, direction, kind, count, warnings, id, size.
  bCol(k) { return this.dv.getUint16(this.bOff + k * BUCKET, true); }
  bDir(k) { return this.dv.getUint8(this.bOff + k * BUCKET + 2); }
  bKind(k) { return this.dv.getUint8(this.bOff + k * BUCKET + 3); }
  bN(k) { return this.dv.getUint32(this.bOff + k * BUCKET + 4, true); }
  bWarn(k) { return this.dv.getUint32(this.bOff + k * BUCKET + 8, true); }
  bId(k) { return this.dv.getUint32(this.bOff + k * BUCKET + 12, true); }
  bSize(k) { return this.dv.getFloat64(this.bOff + k * BUCKET + 16, true); }
}

export class Tiles {
  constructor(onChange, remember) {
    this.onChange = onChange;
    this.remember = remember || (() => {});
    this.cache = new Map(); // key -> Tile, least recently used first
    this.inflight = 0;
    this.busy = new Set(); // keys asked for
    this.want = null;
    this.firstAt = 0;
    this.requests = 0;
    this.bytes = 0; // bytes received, for the benchmark
    this.search = null; // {matches, done, error} of the last answer with a search
    this.fkey = '';
    this.firstEntries = 0; // the entries of the first tiles (readFirst)
  }

  // filterParams turns the page's filter into query parameters.
  static filterParams(f) {
    const p = [];
    if (f.dir) p.push('dir=' + f.dir);
    const k = f.kinds;
    if (!(k.text && k.binary && k.ping && k.pong && k.close && k.tcp)) {
      const on = ['other'];
      for (const name of ['text', 'binary', 'ping', 'pong', 'close', 'tcp']) if (k[name]) on.push(name);
      p.push('kinds=' + on.join(','));
    }
    if (f.warnOnly) p.push('warn=1');
    if (f.query) p.push('q=' + encodeURIComponent(f.query) + (f.regex ? '&re=1' : ''));
    return p.join('&');
  }

  key(L, i, conn) { return this.fkey + '|' + L + '|' + i + '|' + conn; }

  // get returns the tile if it is at hand, marking it recently used.
  get(L, i, conn) {
    const k = this.key(L, i, conn);
    const t = this.cache.get(k);
    if (t) { this.cache.delete(k); this.cache.set(k, t); }
    return t;
  }

  // peek returns the tile if it is at hand, without marking it used.
  peek(L, i, conn) { return this.cache.get(this.key(L, i, conn)); }

  // fresh reports whether tile t needs no asking again at version. A
  // tile of a search still scanning is asked again every 300 ms.
  static fresh(t, version) {
    if (t.partial) return performance.now() - t.at < 300;
    return t.final || t.version === version;
  }

  // request makes sure the tiles i0..i1 of level L of lanes are (or will
  // be) at hand for the filter fkey (fparams) and data version; settled
  // is the time before which tiles are final.
  request(L, i0, i1, lanes, fkey, fparams, version, settled) {
    if (fkey !== this.fkey) {
      this.fkey = fkey;
      this.want = null;
    }
    const missing = new Map(); // conn -> [lo, hi]
    for (const c of lanes) {
      for (let i = i0; i <= i1; i++) {
        const k = this.key(L, i, c);
        const t = this.cache.get(k);
        if ((t && Tiles.fresh(t, version)) || this.busy.has(k)) continue;
        const m = missing.get(c);
        if (m) { m[0] = Math.min(m[0], i); m[1] = Math.max(m[1], i); } else missing.set(c, [i, i]);
      }
    }
    if (missing.size === 0) { this.want = null; return; }
    // One request per tile range, for the lanes that miss some of it.
    const byRange = new Map();
    for (const [c, [lo, hi]] of missing) {
      const rk = lo + ':' + hi;
      if (!byRange.has(rk)) byRange.set(rk, { lo, hi, lanes: [] });
      byRange.get(rk).lanes.push(c);
    }
    this.want = { L, ranges: [...byRange.values()], fkey, fparams, version, settled };
    this.pump();
  }

  pump() {
    while (this.inflight < MAX_INFLIGHT && this.want) {
      const w = this.want;
      const r = w.ranges.shift();
      if (w.ranges.length === 0) this.want = null;
      if (!r) break;
      for (let lo = r.lo; lo <= r.hi; lo += MAX_TILES_PER_REQUEST) {
        const hi = Math.min(r.hi, lo + MAX_TILES_PER_REQUEST - 1);
        for (let a = 0; a < r.lanes.length; a += MAX_LANES_PER_REQUEST) {
          this.fetch(w, lo, hi, r.lanes.slice(a, a + MAX_LANES_PER_REQUEST));
        }
      }
    }
  }

  async fetch(w, lo, hi, lanes) {
    const keys = [];
    for (const c of lanes) for (let i = lo; i <= hi; i++) keys.push(this.key(w.L, i, c));
    for (const k of keys) this.busy.add(k);
    this.inflight++;
    mark('tiles-asked');
    const url = '/api/tiles?l=' + w.L + '&i0=' + lo + '&i1=' + hi + '&conns=' + lanes.join(',') + (w.fparams ? '&' + w.fparams : '');
    try {
      const r = await fetch(url);
      if (r.ok) {
        const buf = await r.arrayBuffer();
        this.bytes += buf.byteLength;
        if (w.fkey === this.fkey) this.read(buf, w);
        this.requests++;
        if (!this.firstAt) this.firstAt = performance.now();
        mark('tiles-answered');
      }
    } catch { /* the next view change asks again */ }
    for (const k of keys) this.busy.delete(k);
    this.inflight--;
    this.onChange();
    this.pump();
  }

  // readFirst takes the first tiles the server sent over the WebSocket
  // (ui/firsttiles.go): the level is in the answer, and they are never
  // fresh (the view asks for its own at once) and kept only under the
  // filter they were cut for, the default one.
  readFirst(buf) {
    if (buf.byteLength < 16 || this.fkey !== '') return;
    const dv = new DataView(buf);
    this.read(buf, { L: dv.getUint8(13), version: 'first', settled: -Infinity });
    this.firstEntries = dv.getUint32(4, true);
    mark('tiles-answered');
  }

  // read takes the tiles of an answer (ui/query.go serveTiles).
  read(buf, w) {
    const dv = new DataView(buf);
    if (buf.byteLength < 16 || dv.getUint32(0, true) !== 0x57535654) return;
    const n = dv.getUint32(4, true);
    const matches = dv.getInt32(8, true);
    const sflags = dv.getUint8(12);
    if (matches >= 0) this.search = { matches, done: (sflags & 1) !== 0, error: (sflags & 2) !== 0 };
    const partial = matches >= 0 && (sflags & 1) === 0;
    if (partial) setTimeout(() => this.onChange(), 320);
    const at = performance.now();
    let o = 16;
    const span = tileUs(w.L);
    for (let e = 0; e < n; e++) {
      const i = dv.getFloat64(o, true);
      const conn = dv.getUint32(o + 8, true);
      const merged = dv.getUint8(o + 12) === 1;
      const nr = dv.getUint32(o + 16, true), nb = dv.getUint32(o + 20, true);
      const more = dv.getUint32(o + 24, true), count = dv.getUint32(o + 28, true);
      o += ENTRY;
      const rows = new Array(nr);
      for (let k = 0; k < nr; k++, o += ROW) {
        const row = [dv.getUint32(o + 24, true), dv.getFloat64(o, true), dv.getFloat64(o + 8, true), dv.getFloat64(o + 16, true),
          dv.getUint32(o + 28, true), dv.getUint8(o + 32), dv.getUint8(o + 33), dv.getUint8(o + 34), dv.getUint8(o + 35)];
        const stream = dv.getUint32(o + 36, true);
        if (stream) row.push(stream);
        rows[k] = row;
        this.remember(row);
      }
      const final = (i + 1) * span < w.settled;
      const t = new Tile(w.L, i, conn, merged, rows, dv, o, nb, more, count, w.version, final && !partial);
      t.partial = partial;
      t.at = at;
      o += nb * BUCKET;
      const k = this.key(w.L, i, conn);
      this.cache.delete(k);
      this.cache.set(k, t);
    }
    while (this.cache.size > TILE_CACHE) this.cache.delete(this.cache.keys().next().value);
  }

  // forDraw returns what to draw for tile i of level L of lane conn: the
  // tile, or while it is on its way the coarser tile over it, or those of
  // the finer tiles under it that are at hand, down to FINER levels finer
  // ([] when none is). While a capture is read, the view that fits it
  // widens as it grows: at first it doubles in less time than a tile takes
  // to come, so the tiles asked arrive a level or three finer than the
  // view has become, and they are drawn (what they hold is what the
  // server had) until the view's own arrive.
  forDraw(L, i, conn) {
    const t = this.get(L, i, conn);
    if (t) return [t];
    if (L < MAX_LEVEL) {
      const up = this.get(L + 1, Math.floor(i / 2), conn);
      if (up) return [up];
    }
    for (let d = 1; d <= FINER && d <= L; d++) {
      const n = 1 << d, out = [];
      for (let k = 0; k < n; k++) {
        const f = this.get(L - d, i * n + k, conn);
        if (f) out.push(f);
      }
      if (out.length > 0) return out;
    }
    return [];
  }
}

// isMessage reports whether row r is a message (drawn as a bar).
export function isMessage(r) { return r[R.type] === T.wsMessage; }

// warned reports whether row r carries a warning.
export function warned(r) { return (r[R.flags] & F.warning) !== 0; }
