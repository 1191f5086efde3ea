// Windows: what the timeline draws, asked of the server (ui/query.go) as
// the view moves, so the page never needs every event. A window is a time
// range of some lanes at a pixel resolution: each lane comes back either as
// its events one by one (few in range) or merged per column (counts, the
// largest message of each direction, warnings), with the special events
// (open, close, upgrade, gaps) and the warned ones one by one.
//
// The cache holds the last answer and covers three views' width, so that
// panning redraws from memory; a new window is asked for when the view
// leaves the covered range, the zoom changes the column width by more than
// half, the lanes in view change, or the filters change. At most one
// request is in flight; the newest wish wins.

import { T } from './data.js';

// Row fields, as the server sends them (ui/query.go rowJSON).
export const R = { id: 0, t: 1, size: 2, packet: 3, conn: 4, type: 5, from: 6, kind: 7, flags: 8 };
// Bucket fields.
export const B = { col: 0, dir: 1, n: 2, warn: 3, size: 4, id: 5, kind: 6 };

// COL_PX is the width of a merged column in pixels.
export const COL_PX = 3;

export class Windows {
  constructor(onChange) {
    this.onChange = onChange;
    this.win = null; // {t0, t1, cols, lanes: Map conn -> lane, key}
    this.inflight = null;
    this.want = null;
    this.seq = 0;
    this.firstAt = 0;
    this.requests = 0;
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

  // covers reports whether the cached window can draw [v0, v1] at px
  // pixels for these lanes and filter.
  covers(v0, v1, px, lanes, fkey, version) {
    const w = this.win;
    if (!w || w.fkey !== fkey || w.version !== version) return false;
    // A search still scanning: ask again now and then for its new matches.
    if (w.search && !w.search.done && performance.now() - w.at > 300) return false;
    if (v0 < w.t0 || v1 > w.t1) return false;
    const colT = COL_PX * (v1 - v0) / px;
    if (colT < w.colT / 1.6 || colT > w.colT * 1.6) return false;
    for (const c of lanes) if (!w.lanes.has(c)) return false;
    return true;
  }

  // request makes sure a window for [v0, v1] at px pixels over lanes will
  // be (or is) in the cache. version changes when new events may have
  // arrived (a live capture, a file being read).
  request(v0, v1, px, lanes, fkey, fparams, version) {
    if (this.covers(v0, v1, px, lanes, fkey, version)) return;
    const span = v1 - v0;
    const cols = Math.max(1, Math.min(8000, Math.round(3 * px / COL_PX)));
    this.want = { t0: v0 - span, t1: v1 + span, cols, colT: 3 * span / cols, lanes: lanes.slice(), fkey, fparams, version };
    this.pump();
  }

  async pump() {
    if (this.inflight || !this.want) return;
    const w = this.want;
    this.want = null;
    this.inflight = w;
    const seq = ++this.seq;
    const url = '/api/window?t0=' + w.t0 + '&t1=' + w.t1 + '&w=' + w.cols + '&conns=' + w.lanes.join(',') +
      (w.fparams ? '&' + w.fparams : '');
    try {
      const r = await fetch(url);
      if (r.ok) {
        const a = await r.json();
        if (seq === this.seq || !this.win) {
          const lanes = new Map();
          for (const l of a.lanes) lanes.set(l.conn, l);
          this.win = { t0: w.t0, t1: w.t1, cols: w.cols, colT: w.colT, lanes, fkey: w.fkey, version: w.version, search: a.search, at: performance.now() };
          this.requests++;
          if (!this.firstAt) this.firstAt = performance.now();
        }
      }
    } catch { /* the next view change asks again */ }
    this.inflight = null;
    this.onChange();
    // A search still scanning: look again soon (covers says when).
    if (this.win && this.win.search && !this.win.search.done) setTimeout(() => this.onChange(), 350);
    this.pump();
  }

  lane(c) { return this.win ? this.win.lanes.get(c) : undefined; }

  // colTime returns the start time of column k of the cached window.
  colTime(k) { return this.win.t0 + k * (this.win.t1 - this.win.t0) / this.win.cols; }
}

// isMessage reports whether row r is a message (drawn as a bar).
export function isMessage(r) { return r[R.type] === T.wsMessage; }
