// The timeline: one time axis, one lane per connection, drawn on a canvas
// from the server's tiles (windows.js) with level of detail: messages that
// fall in the same few pixels of a lane are drawn as one mark (the
// tallest, flagged if any had a warning), merged by the server when many.
// Each tile's bars are drawn once into a bitmap, so a frame costs a few
// images per lane and the special marks, whatever the zoom and however
// many events there are. Text drawn on a canvas is never markup, so
// captured paths are safe here.

import { T, OP, F, FROM_CLIENT, FROM_SERVER, opcodeName, HOW, STREAM_HOW, STREAM_RESET, TYPE_NAMES, STATE_LABEL, streamOf, answer } from './data.js';
import { rel, duration, niceStep, bytes, absShort } from './format.js';
import { Tiles, R, COL_PX, TILE_COLS, levelFor, tileUs, colUs, isMessage } from './windows.js';
// boot.js, run before the modules (index.html).
const { mark } = window.wsvizBoot;

export const KIND_COLOR = {
  [OP.text]: '#2563eb', [OP.binary]: '#7c3aed', [OP.ping]: '#0d9488', [OP.pong]: '#65a30d', [OP.close]: '#ea580c',
};
const OTHER_COLOR = '#64748b';
const OPEN_COLOR = '#16a34a';
const TCP_COLOR = '#475569';
const UPGRADE_COLOR = '#ca8a04';
const WARN_COLOR = '#dc2626';
const PLAIN_COLOR = '#0891b2';
// STATE_COLOR matches the .state.NAME pills of style.css.
export const STATE_COLOR = {
  open: '#2563eb', closed: '#16a34a', unclean: '#d97706', ended: '#d97706', reset: '#dc2626', rejected: '#be123c',
  handshake: '#ca8a04', tcp: '#94a3b8', http: PLAIN_COLOR, gap: '#c2410c', midstream: '#7c3aed', tls: '#4f46e5',
  h2: '#0f766e',
};

// LANE_H is the height of a lane: 30 px, taller when few lanes leave room.
let LANE_H = 30;
const AXIS_H = 26;
const GUTTER = 250;
const BUCKET = COL_PX; // pixels merged into one mark
const MARK_W = 3;
// BITMAPS_PER_FRAME bounds the tile bitmaps drawn anew in one frame, so
// that a new zoom level arriving does not make one long frame.
const BITMAPS_PER_FRAME = 16;
// STALE_MS is how often the view is drawn again while a capture is read
// (the tiles' data version changes every 0.7 s: see dataVersion).
const STALE_MS = 350;
// LANE_MARGIN is how many lanes above and below the view are asked for.
const LANE_MARGIN = 3;

export class Timeline {
  constructor(app, canvas, overview, tooltip) {
    this.app = app;
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.ov = overview;
    this.octx = overview.getContext('2d');
    this.tooltip = tooltip;
    this.v0 = 0;
    this.v1 = 1e6;
    this.scrollY = 0;
    this.userMoved = false;
    this.pending = false;
    this.hover = null; // {x, y}
    this.drag = null;
    this.ovBins = null;
    this.ovBitmap = null;
    this.ovKey = '';
    this.labels = new Map(); // lane label cache: text + width -> clipped text
    this.stats = { marks: 0, ids: null, drawMs: 0, frames: 0, level: 0 };
    this.firstMarksAt = 0;
    this.firstMarksShown = false; // the frame with the first marks is out
    this.firstLanesMarks = -1; // the marks of the first frame with lanes
    this.tiles = new Tiles(() => this.request(), (row) => app.store.remember(row));
    this.bindEvents();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    new ResizeObserver(() => this.resize()).observe(overview);
    this.resize();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.ov]) {
      const r = c.getBoundingClientRect();
      // Unchanged sizes are not set again: that would clear the canvas.
      const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
      if (c.width !== w) c.width = w;
      if (c.height !== h) c.height = h;
    }
    this.dpr = dpr;
    this.ovKey = '';
    this.ovBitmap = null;
    this.request();
  }

  get width() { return this.canvas.width / this.dpr; }
  get height() { return this.canvas.height / this.dpr; }
  get plotW() { return Math.max(10, this.width - GUTTER - 8); }
  scale() { return this.plotW / Math.max(1e-3, this.v1 - this.v0); }
  xOf(t) { return GUTTER + (t - this.v0) * this.scale(); }
  tOf(x) { return this.v0 + (x - GUTTER) / this.scale(); }

  // later draws again in ms milliseconds (once, whatever the calls).
  later(ms) {
    if (this.laterTimer) return;
    this.laterTimer = setTimeout(() => { this.laterTimer = 0; this.request(); }, ms);
  }

  // refresh draws again for what the server's stream says (status,
  // connections): at once when it first has lanes to draw (it then asks
  // for their tiles) or when the capture has been read, else in STALE_MS
  // at most. While a capture is read the stream speaks every 50 ms, and
  // drawing each time (and asking again for tiles a level coarser as the
  // view widened) kept the page busy while its first tiles were on their
  // way; the view looks again every STALE_MS anyway (see draw).
  refresh() {
    const st = this.app.status;
    if (!st) return; // nothing to draw before the status
    if (!this.hadLanes && this.lanes().length > 0) {
      this.hadLanes = true;
      this.request();
    } else if (!st.done && this.hadLanes) this.later(STALE_MS);
    else this.request();
  }

  request() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  // fullRange is the whole capture, from the summary, with a margin.
  fullRange() {
    const st = this.app.status;
    let a = 0, b = st && st.events > 0 ? st.duration : NaN;
    if (!(b >= a)) return [0, 1e6];
    if (b - a < 1) { a -= 500; b += 500; }
    const pad = (b - a) * 0.02;
    return [a - pad, b + pad];
  }

  fit() {
    [this.v0, this.v1] = this.fullRange();
    this.userMoved = false;
    this.request();
    if (this.onViewChange) this.onViewChange();
  }

  setView(a, b) {
    if (!(b > a)) return;
    const minSpan = 0.01; // 10 ns
    if (b - a < minSpan) { const m = (a + b) / 2; a = m - minSpan / 2; b = m + minSpan / 2; }
    this.v0 = a; this.v1 = b;
    this.userMoved = true;
    this.request();
    if (this.onViewChange) this.onViewChange();
  }

  zoom(factor, x) {
    const t = this.tOf(x === undefined ? GUTTER + this.plotW / 2 : x);
    this.setView(t - (t - this.v0) * factor, t + (this.v1 - t) * factor);
  }

  pan(dxPx) {
    const dt = dxPx / this.scale();
    this.setView(this.v0 - dt, this.v1 - dt);
  }

  lanes() { return this.app.visibleLanes(); }

  laneTop(li) { return AXIS_H + li * LANE_H - this.scrollY; }

  clampScroll() {
    const max = Math.max(0, this.lanes().length * LANE_H - (this.height - AXIS_H));
    this.scrollY = Math.min(Math.max(0, this.scrollY), max);
  }

  // scrollToConn makes the lane of connection c visible.
  scrollToConn(c) {
    const li = this.lanes().indexOf(c);
    if (li < 0) return;
    const top = li * LANE_H, bottom = top + LANE_H, h = this.height - AXIS_H;
    if (top < this.scrollY) this.scrollY = top;
    else if (bottom > this.scrollY + h) this.scrollY = bottom - h;
    this.request();
  }

  // showEvent scrolls and pans so that the event of row r is in view.
  showEvent(r) {
    this.scrollToConn(r[R.conn]);
    const t = r[R.t];
    if (t < this.v0 || t > this.v1) {
      const span = this.v1 - this.v0;
      this.setView(t - span / 2, t + span / 2);
    }
  }

  // syncView makes the view fit all events unless the user moved it: the
  // range grows as events arrive, and the view follows it at the next draw.
  syncView() {
    if (!this.userMoved) [this.v0, this.v1] = this.fullRange();
  }

  // level returns the tile level drawn at the current zoom.
  level() { return levelFor((this.v1 - this.v0) / this.plotW); }

  // dataVersion changes when new events may have arrived: while a file
  // is read or a capture runs, every 0.7 s.
  dataVersion() {
    const st = this.app.status;
    return !st ? '0' : st.done ? 'done:' + st.events : 'live:' + Math.floor(performance.now() / 700);
  }

  draw() {
    const start = performance.now();
    const app = this.app, s = app.store, filter = app.filter;
    // Nothing to draw before the status, nor between a status that counts
    // connections and their table, which the server sends right after it
    // (with the first tiles between them): an empty frame drawn then (the
    // canvas's first text and bitmaps, 60–300 ms on this machine) held up
    // the messages that bring what the first marks need. The stream's
    // messages draw when they come (refresh).
    if (!app.status || (app.status.conns > 0 && s.connOrder.length === 0)) return;
    if (!this.tookOver) {
      // boot.js's frame (the first marks, drawn before the app started)
      // gives way to this one: the page's elements are shown and laid out
      // now, and the boot frame removed, in the same frame; the first
      // marks are the boot frame's when it drew them.
      this.tookOver = true;
      const b = window.wsvizBoot;
      b.handOver();
      if (b.boot.drawn) { this.firstMarksAt = b.boot.at; this.firstMarksStatus = b.boot.status; }
      this.resize();
    }
    this.syncView();
    this.clampScroll();
    const ctx = this.ctx, dpr = this.dpr, W = this.width, H = this.height;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    const lanes = this.lanes();
    LANE_H = Math.max(30, Math.min(56, Math.floor((H - AXIS_H) / Math.max(1, lanes.length))));
    this.clampScroll();
    const scale = this.scale();
    const v0 = this.v0, v1 = this.v1;
    const first = Math.max(0, Math.floor(this.scrollY / LANE_H));
    const last = Math.min(lanes.length, Math.ceil((this.scrollY + H - AXIS_H) / LANE_H));
    const selRow = app.selRow;
    const selConn = app.selectedConn;

    // Ask the server for the tiles in view and one on each side, of these
    // lanes and a few more above and below (so that panning and scrolling
    // draw from memory).
    const L = this.level();
    const span = tileUs(L);
    const i0 = Math.floor(v0 / span), i1 = Math.floor(v1 / span);
    const st = app.status;
    const version = this.dataVersion();
    const settled = st && st.done ? Infinity : st ? st.duration - 1e6 : -Infinity;
    const fparams = filter.params();
    // Tiles are keyed by the filter's parameters alone: the connection
    // filter chooses lanes, not what a lane's tiles hold, and it changes
    // with every update of the connections while a capture is read (keying
    // by it threw away every answer that took longer than an update).
    // Without a status there is no capture range or data version to ask
    // for yet.
    if (st) {
      this.tiles.request(L, i0 - 1, i1 + 1, lanes.slice(Math.max(0, first - LANE_MARGIN), Math.min(lanes.length, last + LANE_MARGIN)),
        fparams, fparams, version, settled);
    }

    let marks = 0;
    this.bitmapBudget = BITMAPS_PER_FRAME;
    // What was drawn where: the tiles in view (a few dozen), from which
    // hitAt and the frame's ids are worked out when asked, so that a frame
    // allocates nothing per mark.
    this.drawn = [];
    this.drawnView = { v0, scale, lo: v0 - 20 / scale, hi: v1 + 20 / scale, W };
    this.tileCounts = [0, 0]; // tiles in view with events one by one, merged
    let incomplete = false;

    // Grid lines behind the lanes.
    const step = niceStep(90 / scale);
    const tick0 = Math.ceil(v0 / step) * step;
    ctx.strokeStyle = '#eef1f4';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let t = tick0; t <= v1; t += step) {
      const x = Math.round(GUTTER + (t - v0) * scale) + 0.5;
      ctx.moveTo(x, AXIS_H); ctx.lineTo(x, H);
    }
    ctx.stroke();

    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, W, H - AXIS_H);
    ctx.clip();
    ctx.imageSmoothingEnabled = false;
    for (let li = first; li < last; li++) {
      const c = lanes[li];
      const top = this.laneTop(li);
      const mid = top + LANE_H / 2;
      const info = s.conns.get(c);
      // Lane background and label.
      if (c === selConn) {
        ctx.fillStyle = '#eff6ff';
        ctx.fillRect(0, top, W, LANE_H);
      } else if (li % 2 === 1) {
        ctx.fillStyle = '#fafbfc';
        ctx.fillRect(0, top, W, LANE_H);
      }
      ctx.fillStyle = '#f1f5f9';
      ctx.fillRect(0, top, GUTTER - 6, LANE_H);
      const state = info ? info.state : 'tcp';
      ctx.fillStyle = STATE_COLOR[state] || '#94a3b8';
      ctx.fillRect(0, top + 3, 4, LANE_H - 6);
      ctx.fillStyle = '#64748b';
      ctx.fillText('#' + c, 9, mid - 6);
      ctx.fillStyle = '#1f2933';
      ctx.fillText(this.clipped(ctx, info ? shortEnds(info) : 'connection ' + c, GUTTER - 48), 40, mid - 6);
      ctx.fillStyle = '#64748b';
      ctx.fillText(this.clipped(ctx, info ? subLabel(info) : '', GUTTER - 20), 9, mid + 7);
      // Life line from the first to the last event.
      if (info && info.events > 0) {
        const xa = Math.max(GUTTER, GUTTER + (info.first - v0) * scale), xb = Math.min(W, GUTTER + (info.last - v0) * scale);
        if (xb >= GUTTER && xa <= W) {
          ctx.fillStyle = '#cbd5e1';
          ctx.fillRect(xa, mid - 0.5, Math.max(1, xb - xa), 1);
        }
      }
      for (let i = i0; i <= i1; i++) {
        const ts = this.tiles.forDraw(L, i, c);
        if (ts.length === 0) { incomplete = true; continue; }
        for (const tile of ts) {
          marks += this.drawTile(ctx, tile, li, top, mid, scale, v0, v1, W);
          if (tile.L !== L || !Tiles.fresh(tile, version)) incomplete = true;
        }
      }
    }
    ctx.restore();
    if (this.bitmapBudget < 0) incomplete = true;

    // Selection: ring and a vertical line.
    if (selRow) {
      const x = GUTTER + (selRow[R.t] - v0) * scale;
      if (x >= GUTTER && x <= W) {
        ctx.strokeStyle = 'rgba(234, 179, 8, .9)';
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(Math.round(x) + 0.5, AXIS_H);
        ctx.lineTo(Math.round(x) + 0.5, H);
        ctx.stroke();
        ctx.setLineDash([]);
        const li = lanes.indexOf(selRow[R.conn]);
        if (li >= 0) {
          const top = this.laneTop(li);
          if (top + LANE_H > AXIS_H) {
            ctx.strokeStyle = '#111827';
            ctx.lineWidth = 2;
            ctx.strokeRect(Math.round(x) - 4, top + 2, 9, LANE_H - 4);
            ctx.lineWidth = 1;
          }
        }
      }
    }

    // Range being selected.
    if (this.drag && this.drag.mode === 'range') {
      const a = Math.min(this.drag.x0, this.drag.x), b = Math.max(this.drag.x0, this.drag.x);
      ctx.fillStyle = 'rgba(37, 99, 235, .12)';
      ctx.fillRect(a, AXIS_H, b - a, H - AXIS_H);
      ctx.strokeStyle = 'rgba(37, 99, 235, .6)';
      ctx.strokeRect(a + 0.5, AXIS_H + 0.5, b - a, H - AXIS_H - 1);
    }

    // Axis on top.
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, W, AXIS_H);
    ctx.strokeStyle = '#cbd5e1';
    ctx.beginPath();
    ctx.moveTo(0, AXIS_H - 0.5); ctx.lineTo(W, AXIS_H - 0.5);
    ctx.stroke();
    ctx.fillStyle = '#475569';
    ctx.textBaseline = 'middle';
    ctx.beginPath();
    const abs = app.timeMode === 'abs' && app.status && app.status.t0;
    for (let t = tick0; t <= v1; t += step) {
      const x = Math.round(GUTTER + (t - v0) * scale) + 0.5;
      ctx.moveTo(x, AXIS_H - 6); ctx.lineTo(x, AXIS_H);
      const tt = Math.abs(t) < step / 1e6 ? 0 : t;
      ctx.fillText(abs ? absLabel(app.status, tt, step) : rel(tt), x + 3, AXIS_H / 2);
    }
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, GUTTER - 6, AXIS_H - 1);
    ctx.fillStyle = '#64748b';
    const spanText = 'view ' + duration(v1 - v0) + ' · ' + lanes.length + ' lanes' + (abs ? ' · UTC' : '');
    ctx.fillText(spanText, 9, AXIS_H / 2);

    // Hover line.
    if (this.hover && !this.drag && this.hover.x >= GUTTER) {
      ctx.strokeStyle = 'rgba(100, 116, 139, .5)';
      ctx.beginPath();
      ctx.moveTo(Math.round(this.hover.x) + 0.5, AXIS_H);
      ctx.lineTo(Math.round(this.hover.x) + 0.5, H);
      ctx.stroke();
    }

    if (lanes.length === 0) {
      ctx.fillStyle = '#64748b';
      ctx.font = '14px system-ui, sans-serif';
      ctx.fillText(!st || st.events === 0 ? 'Waiting for events…' : 'No connection matches the filter.', GUTTER + 20, AXIS_H + 30);
    }

    this.drawOverview();
    const ms = performance.now() - start;
    // complete: every tile in view was drawn, as the server has it now.
    const tl = this;
    // ids (the events drawn, at most 20,000) is worked out when read.
    this.stats = {
      marks, drawMs: ms, frames: this.stats.frames + 1, v0, v1, level: L, tiles: this.tileCounts, complete: !incomplete && !!st && (lanes.length > 0 || st.conns === 0),
      get ids() { return tl.drawnIds(); },
    };
    if (lanes.length > 0 && this.firstLanesMarks < 0) this.firstLanesMarks = marks;
    if (marks > 0 && !this.firstMarksDrawn) {
      this.firstMarksDrawn = true;
      if (!this.firstMarksAt) this.firstMarksAt = performance.now();
      mark('first-marks');
      // The panels waited for these (App.panelsReady): they render once
      // this frame is out, not in it (their rows, laid out at once, held
      // up the frame that shows the first marks by 100–300 ms).
      setTimeout(() => { this.firstMarksShown = true; app.schedule(); }, 0);
      // What the summary said then: still reading, and how far.
      if (!this.firstMarksStatus) this.firstMarksStatus = st ? { done: !!st.done, read: st.read || 0, total: st.total || 0, events: st.events } : null;
    }
    // The whole capture is drawn: every tile in view came with the
    // capture read to its end.
    if (!incomplete && st && st.done && !app.axisCompleteAt && !this.userMoved && lanes.length > 0) {
      app.axisCompleteAt = performance.now();
    }
    // Draw again next frame only for the bitmaps this frame had no time
    // for. Tiles on their way draw when they arrive (Tiles.onChange); tiles
    // of a capture still being read grow stale as time passes: look again
    // in a while. (Drawing every frame until all was fresh kept a core
    // busy for as long as a capture was read, slowing the reading.)
    if (this.bitmapBudget < 0) this.request();
    else if (incomplete || (st && !st.done)) this.later(STALE_MS);
    if (this.onDraw) this.onDraw(ms);
  }

  clipped(ctx, text, w) {
    const k = w + ':' + text;
    let v = this.labels.get(k);
    if (v === undefined) {
      v = clip(ctx, text, w);
      if (this.labels.size > 4000) this.labels.clear();
      this.labels.set(k, v);
    }
    return v;
  }

  // drawTile draws one tile of a lane: its bitmap of message bars, then
  // its special and warned events one by one. It returns the marks drawn
  // in view.
  drawTile(ctx, tile, li, top, mid, scale, v0, v1, W) {
    const tu = tileUs(tile.L);
    const x0 = GUTTER + (tile.t0 - v0) * scale;
    const wpx = tu * scale;
    if (x0 > W + 20 || x0 + wpx < GUTTER - 20) return 0;
    if (x0 < W && x0 + wpx > GUTTER && (tile.nb > 0 || tile.rows.length > 0)) this.tileCounts[tile.merged ? 1 : 0]++;
    this.drawn.push({ tile, li, x0, wpx });
    let marks = 0;
    const bm = this.tileBitmap(tile);
    if (bm === NO_BARS) { /* nothing to draw */ } else if (bm) ctx.drawImage(bm, x0, top, wpx, LANE_H);
    else {
      this.bitmapBudget--;
      // Not drawn yet (a few are drawn each frame): its half of the
      // coarser tile's bitmap meanwhile, if that one is at hand.
      const up = this.tiles.peek(tile.L + 1, Math.floor(tile.i / 2), tile.conn);
      const ub = up && up.bitmapKey === LANE_H + ':' + this.dpr ? up.bitmap : null;
      if (ub && ub !== NO_BARS) {
        const half = ub.width / 2;
        ctx.drawImage(ub, (tile.i - 2 * Math.floor(tile.i / 2)) * half, 0, half, ub.height, x0, top, wpx, LANE_H);
      }
    }
    const lo = v0 - 20 / scale, hi = v1 + 20 / scale;
    for (const r of tile.rows) {
      const t = r[R.t];
      if (t < lo || t > hi) continue;
      marks++;
      if (r[R.type] === T.wsMessage) continue; // in the bitmap
      const x = GUTTER + (t - v0) * scale;
      if (x < GUTTER - 8) continue;
      drawOther(ctx, r, x, top, mid, LANE_H);
      if (r[R.flags] & F.warning) warnMark(ctx, x, top + 1);
    }
    if (tile.merged) {
      const cw = wpx / TILE_COLS;
      for (let k = 0; k < tile.nb; k++) {
        const x = x0 + (tile.bCol(k) + 0.5) * cw;
        if (x >= GUTTER - MARK_W && x <= W) marks++;
      }
    }
    return marks;
  }

  // eachHit calls fn with each mark the last frame drew (of lane li only,
  // unless li is undefined): {li, x, from, id, row, msg} for an event drawn
  // on its own, {li, x, from, id, n, warn, kind, size, msg} for merged
  // messages (id the largest of them). fn returns false to stop.
  eachHit(fn, li) {
    const v = this.drawnView;
    if (!this.drawn || !v) return;
    for (const d of this.drawn) {
      if (li !== undefined && d.li !== li) continue;
      const tile = d.tile;
      for (const r of tile.rows) {
        const t = r[R.t];
        if (t < v.lo || t > v.hi) continue;
        if (fn({ li: d.li, x: GUTTER + (t - v.v0) * v.scale, from: r[R.from], id: r[R.id], row: r, msg: r[R.type] === T.wsMessage }) === false) return;
      }
      if (tile.merged) {
        const cw = d.wpx / TILE_COLS;
        for (let k = 0; k < tile.nb; k++) {
          const x = d.x0 + (tile.bCol(k) + 0.5) * cw;
          if (x < GUTTER - MARK_W || x > v.W) continue;
          if (fn({ li: d.li, x, from: tile.bDir(k), id: tile.bId(k), n: tile.bN(k), warn: tile.bWarn(k), kind: tile.bKind(k), size: tile.bSize(k), msg: true }) === false) return;
        }
      }
    }
  }

  // drawnIds returns the ids of the events the last frame drew (at most
  // 20,000; a merged column counts as its largest message).
  drawnIds() {
    const ids = [];
    this.eachHit((h) => { ids.push(h.id); return ids.length < 20000; });
    return ids;
  }

  // tileBitmap returns the bitmap of a tile's message bars (drawn at COL_PX
  // pixels a column, scaled when drawn), drawing it if this frame's budget
  // allows; null when not drawn yet.
  tileBitmap(tile) {
    const dpr = this.dpr;
    const key = LANE_H + ':' + dpr;
    if (tile.bitmapKey === key) return tile.bitmap;
    // Most tiles of a deep zoom hold no message: no bitmap to make.
    if (tile.merged ? tile.nb === 0 : !tile.rows.some(isMessage)) {
      tile.bitmap = NO_BARS;
      tile.bitmapKey = key;
      return NO_BARS;
    }
    if (this.bitmapBudget <= 0) return tile.bitmap; // an older one, or null
    this.bitmapBudget--;
    const w = TILE_COLS * COL_PX, h = LANE_H;
    const cv = newCanvas(Math.ceil(w * dpr), Math.ceil(h * dpr));
    const c = cv.getContext('2d');
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    const mid = h / 2, maxH = h / 2 - 3;
    const height = (size) => Math.min(maxH, 3 + Math.log2(1 + size) * (maxH - 3) / 16);
    const bar = (x, from, hh, kind, warn) => {
      c.fillStyle = KIND_COLOR[kind] || OTHER_COLOR;
      if (from === FROM_SERVER) c.fillRect(x, mid + 1, MARK_W, hh);
      else c.fillRect(x, mid - 1 - hh, MARK_W, hh);
      if (warn) warnMark(c, x + MARK_W / 2, 1);
    };
    if (tile.merged) {
      for (let k = 0; k < tile.nb; k++) bar(tile.bCol(k) * COL_PX, tile.bDir(k), height(tile.bSize(k)), tile.bKind(k), tile.bWarn(k) > 0);
    } else {
      // One by one: messages merged per BUCKET pixels and direction.
      const cu = colUs(tile.L), t0 = tile.t0;
      const pend = [null, null];
      const flush = (d) => { const p = pend[d]; if (p) bar(p.b * BUCKET, d === 1 ? FROM_SERVER : FROM_CLIENT, p.h, p.k, p.w); pend[d] = null; };
      for (const r of tile.rows) {
        if (r[R.type] !== T.wsMessage) continue;
        const b = Math.floor((r[R.t] - t0) / cu);
        const d = r[R.from] === FROM_SERVER ? 1 : 0;
        const hh = height(r[R.size]);
        const warn = (r[R.flags] & F.warning) !== 0;
        let p = pend[d];
        if (p && p.b !== b) { flush(d); p = null; }
        if (!p) p = pend[d] = { b, h: 0, k: 0, w: false };
        if (hh >= p.h) { p.h = hh; p.k = r[R.kind]; }
        p.w = p.w || warn;
      }
      flush(0); flush(1);
    }
    tile.bitmap = cv;
    tile.bitmapKey = key;
    return cv;
  }

  // drawOverview draws the density of the shown events over the whole
  // capture (/api/overview, drawn once into a bitmap), and the window of
  // the main view.
  drawOverview() {
    const filter = this.app.filter;
    const c = this.octx, dpr = this.dpr;
    const W = this.ov.width / dpr, H = this.ov.height / dpr;
    const [a, b] = this.fullRange();
    const plot = Math.max(10, W - GUTTER - 8);
    const fp = filter.params();
    const key = fp + ':' + W + ':' + a + ':' + b + ':' + this.dataVersion();
    // The strip is asked for once the lanes have their first marks (see
    // App.panelsReady): it waits for them, as the panels do.
    if (key !== this.ovKey && !this.ovBusy && this.app.panelsReady()) {
      this.ovKey = key;
      this.ovBusy = true;
      const n = Math.max(1, Math.floor(plot));
      fetch('/api/overview?t0=' + a + '&t1=' + b + '&w=' + n + (fp ? '&' + fp : ''))
        .then((r) => (r.ok ? r.json() : null))
        .then((o) => { if (o) { this.ovBins = { bins: o.n, warn: o.warn, a, b }; this.ovBitmap = null; } })
        .catch(() => {})
        .finally(() => { this.ovBusy = false; this.request(); });
    }
    if (!this.ovBitmap) {
      const bm = newCanvas(this.ov.width, this.ov.height);
      const o = bm.getContext('2d');
      o.setTransform(dpr, 0, 0, dpr, 0, 0);
      o.fillStyle = '#f8fafc';
      o.fillRect(0, 0, W, H);
      o.fillStyle = '#64748b';
      o.font = '11px system-ui, sans-serif';
      o.textBaseline = 'middle';
      o.fillText('overview', 9, 12);
      o.fillText('drag to zoom, click to centre', 9, 28);
      const ob = this.ovBins;
      if (ob) {
        let max = 1;
        for (const v of ob.bins) if (v > max) max = v;
        const lm = Math.log1p(max);
        const bw = plot / ob.bins.length;
        for (let k = 0; k < ob.bins.length; k++) {
          if (ob.bins[k] === 0) continue;
          const h = 3 + (H - 8) * Math.log1p(ob.bins[k]) / lm;
          o.fillStyle = ob.warn[k] ? '#f87171' : '#60a5fa';
          o.fillRect(GUTTER + k * bw, H - h, Math.max(1, bw), h);
        }
      }
      this.ovBitmap = bm;
      this.ovBitmapRange = ob ? [ob.a, ob.b] : [a, b];
    }
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.clearRect(0, 0, this.ov.width, this.ov.height);
    // The bitmap of the range it was drawn for, placed in today's range.
    const [ba, bb] = this.ovBitmapRange;
    const sx = (bb - ba) / (b - a);
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.fillStyle = '#f8fafc';
    c.fillRect(0, 0, W, H);
    c.drawImage(this.ovBitmap, 0, 0, GUTTER * dpr, this.ov.height, 0, 0, GUTTER, H);
    c.drawImage(this.ovBitmap, GUTTER * dpr, 0, plot * dpr, this.ov.height, GUTTER + (ba - a) * plot / (b - a), 0, plot * sx, H);
    // View window.
    const sc = plot / (b - a);
    const wa = GUTTER + (this.v0 - a) * sc, wb = GUTTER + (this.v1 - a) * sc;
    c.fillStyle = 'rgba(15, 23, 42, .08)';
    c.fillRect(GUTTER, 0, Math.max(0, wa - GUTTER), H);
    c.fillRect(wb, 0, Math.max(0, GUTTER + plot - wb), H);
    c.strokeStyle = '#1d4ed8';
    c.lineWidth = 1.5;
    c.strokeRect(Math.max(GUTTER, wa), 1, Math.max(2, Math.min(GUTTER + plot, wb) - Math.max(GUTTER, wa)), H - 2);
    c.lineWidth = 1;
    if (this.ovDrag) {
      const x0 = Math.min(this.ovDrag.x0, this.ovDrag.x), x1 = Math.max(this.ovDrag.x0, this.ovDrag.x);
      c.fillStyle = 'rgba(37, 99, 235, .2)';
      c.fillRect(x0, 0, x1 - x0, H);
    }
  }

  // markXY returns where event i is drawn, in page coordinates, or null
  // when its row is not at hand or its lane is out of view.
  markXY(i) {
    const r = this.app.store.row(i);
    if (!r) return null;
    this.syncView();
    const li = this.lanes().indexOf(r[R.conn]);
    if (li < 0) return null;
    const top = this.laneTop(li);
    if (top < AXIS_H || top + LANE_H > this.height) return null;
    let y = top + LANE_H / 2;
    const msg = r[R.type] === T.wsMessage;
    if (msg) y += r[R.from] === FROM_SERVER ? 4 : -4;
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + this.xOf(r[R.t]) + (msg ? MARK_W / 2 : 0), y: rect.top + y };
  }

  // hitAt returns what is drawn nearest to (x, y) within a few pixels in
  // the last frame: {id, row} for an event drawn on its own, {id, n, ...}
  // for merged messages (id the largest of them); or null.
  hitAt(x, y) {
    if (y < AXIS_H || x < GUTTER - 8 || !this.drawn) return null;
    const li = Math.floor((y - AXIS_H + this.scrollY) / LANE_H);
    const mid = this.laneTop(li) + LANE_H / 2;
    const wantFrom = y < mid - 1 ? FROM_CLIENT : y > mid + 1 ? FROM_SERVER : 0;
    let best = null, bestD = 7;
    this.eachHit((h) => {
      let d = Math.abs(h.x - x);
      if (h.msg && wantFrom !== 0 && h.from !== wantFrom) d += 4;
      if (d < bestD) { bestD = d; best = h; }
    }, li);
    return best;
  }

  // hit returns the id of the event drawn nearest to (x, y), or -1.
  hit(x, y) {
    const h = this.hitAt(x, y);
    return h ? h.id : -1;
  }

  bindEvents() {
    const cv = this.canvas;
    cv.addEventListener('wheel', (e) => {
      e.preventDefault();
      if (e.shiftKey) {
        this.scrollY += e.deltaY || e.deltaX;
        this.request();
        return;
      }
      const r = cv.getBoundingClientRect();
      const f = Math.exp(Math.max(-1, Math.min(1, e.deltaY * 0.0015)));
      this.zoom(f, Math.max(GUTTER, e.clientX - r.left));
    }, { passive: false });
    cv.addEventListener('pointerdown', (e) => {
      const r = cv.getBoundingClientRect();
      const x = e.clientX - r.left, y = e.clientY - r.top;
      cv.setPointerCapture(e.pointerId);
      cv.focus();
      this.drag = { mode: e.shiftKey ? 'range' : 'pan', x0: x, y0: y, x, y, moved: false };
      if (this.drag.mode === 'pan') cv.classList.add('dragging');
    });
    cv.addEventListener('pointermove', (e) => {
      const r = cv.getBoundingClientRect();
      const x = e.clientX - r.left, y = e.clientY - r.top;
      this.hover = { x, y };
      const d = this.drag;
      if (d) {
        if (Math.abs(x - d.x0) + Math.abs(y - d.y0) > 3) d.moved = true;
        if (d.mode === 'pan' && d.moved) {
          this.pan(x - d.x);
          this.scrollY -= y - d.y;
        }
        d.x = x; d.y = y;
        this.hideTooltip();
        this.request();
        return;
      }
      this.showTooltip(x, y);
      this.request();
    });
    cv.addEventListener('pointerup', () => {
      const d = this.drag;
      this.drag = null;
      cv.classList.remove('dragging');
      if (!d) return;
      if (!d.moved) {
        // A mark: the event drawn there, or the largest of the messages
        // merged there.
        const h = this.hitAt(d.x0, d.y0);
        if (h) this.app.select(h.id, { from: 'timeline', row: h.row });
        else {
          const lanes = this.lanes();
          const li = Math.floor((d.y0 - AXIS_H + this.scrollY) / LANE_H);
          if (d.y0 >= AXIS_H && li >= 0 && li < lanes.length) this.app.selectConn(lanes[li], { from: 'timeline' });
        }
      } else if (d.mode === 'range') {
        const a = Math.max(GUTTER, Math.min(d.x0, d.x)), b = Math.max(d.x0, d.x);
        if (b - a > 3) this.setView(this.tOf(a), this.tOf(b));
      }
      this.request();
    });
    cv.addEventListener('pointerleave', () => { this.hover = null; this.hideTooltip(); this.request(); });

    const ov = this.ov;
    const ovT = (x) => {
      const [a, b] = this.fullRange();
      const plot = Math.max(10, ov.width / this.dpr - GUTTER - 8);
      return a + (x - GUTTER) * (b - a) / plot;
    };
    ov.addEventListener('pointerdown', (e) => {
      const r = ov.getBoundingClientRect();
      ov.setPointerCapture(e.pointerId);
      const x = e.clientX - r.left;
      this.ovDrag = { x0: x, x };
    });
    ov.addEventListener('pointermove', (e) => {
      if (!this.ovDrag) return;
      const r = ov.getBoundingClientRect();
      this.ovDrag.x = e.clientX - r.left;
      this.request();
    });
    ov.addEventListener('pointerup', () => {
      const d = this.ovDrag;
      this.ovDrag = null;
      if (!d) return;
      if (Math.abs(d.x - d.x0) > 3) {
        this.setView(ovT(Math.min(d.x0, d.x)), ovT(Math.max(d.x0, d.x)));
      } else {
        const t = ovT(d.x0), span = this.v1 - this.v0;
        this.setView(t - span / 2, t + span / 2);
      }
    });
  }

  showTooltip(x, y) {
    const app = this.app;
    if (x < GUTTER || y < AXIS_H) { this.hideTooltip(); return; }
    const t = this.tOf(x);
    const lines = [];
    const h = this.hitAt(x, y);
    if (h) {
      const id = h.id;
      const r = h.row || app.store.row(id);
      if (h.n > 1) {
        lines.push(h.n.toLocaleString('en-US') + ' ' + (h.from === FROM_SERVER ? 'server → client' : 'client → server') + ' messages merged here' +
          (h.warn ? ', ' + h.warn.toLocaleString('en-US') + ' with warnings' : '') + '; zoom in to see each');
        lines.push('the largest: ' + opcodeName(h.kind) + ', ' + bytes(h.size) + ' (click to inspect it)');
      } else if (r) {
        lines.push(describe(r));
        lines.push(rel(r[R.t]) + '   ' + app.absTime(r[R.t]));
      }
      // The note in full, and the warnings, once the details are here.
      const d = app.details.get(id);
      if (d) {
        if (!r && !(h.n > 1) && d.row) { lines.push(describe(d.row)); lines.push(rel(d.row[R.t]) + '   ' + app.absTime(d.row[R.t])); }
        if (d.event.note) lines.push(d.event.note);
        for (const w of d.event.warnings || []) lines.push('⚠ ' + w.code + ': ' + w.msg);
      } else {
        app.details.want([id], () => { if (this.hover) { const hh = this.hitAt(this.hover.x, this.hover.y); if (hh && hh.id === id) this.showTooltip(this.hover.x, this.hover.y); } });
      }
      if (!(h.n > 1)) lines.push('click to inspect');
    } else {
      lines.push(rel(t) + '   ' + app.absTime(t));
    }
    const tip = this.tooltip;
    tip.textContent = lines.join('\n');
    tip.hidden = false;
    const W = this.width;
    tip.style.left = Math.max(0, Math.min(x + 14, W - 430)) + 'px';
    tip.style.top = (y + 16) + 'px';
  }

  hideTooltip() { this.tooltip.hidden = true; }
}

// newCanvas returns an offscreen canvas of w × h pixels.
// NO_BARS stands for the bitmap of a tile without message bars.
const NO_BARS = Symbol('no bars');

function newCanvas(w, h) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(Math.max(1, w), Math.max(1, h));
  const c = document.createElement('canvas');
  c.width = Math.max(1, w);
  c.height = Math.max(1, h);
  return c;
}

function drawOther(ctx, r, x, top, mid, laneH) {
  const type = r[R.type];
  x = Math.round(x);
  switch (type) {
    case T.tcpOpen:
      ctx.fillStyle = OPEN_COLOR;
      ctx.fillRect(x - 1, mid - 11, 2, 22);
      ctx.fillRect(x - 1, mid - 11, 6, 2);
      ctx.fillRect(x - 1, mid + 9, 6, 2);
      break;
    case T.tcpClose: {
      const how = HOW[r[R.kind]];
      ctx.fillStyle = how === 'rst' ? WARN_COLOR : TCP_COLOR;
      if (how === 'end' || how === 'evicted') {
        for (let y = mid - 11; y < mid + 11; y += 4) ctx.fillRect(x - 1, y, 2, 2);
      } else {
        ctx.fillRect(x - 1, mid - 11, 2, 22);
        ctx.fillRect(x - 5, mid - 11, 6, 2);
        ctx.fillRect(x - 5, mid + 9, 6, 2);
      }
      break;
    }
    case T.httpReq:
      ctx.fillStyle = (r[R.flags] & F.upgrade) ? UPGRADE_COLOR : PLAIN_COLOR;
      ctx.fillRect(x, mid - 9, 1, 8);
      break;
    case T.httpResp: {
      // The answer as a labelled pill, readable at any zoom: 101 (the
      // upgrade), a refused upgrade in red, plain HTTP in its own colour.
      // A 2xx that opens a WebSocket on an HTTP/2 stream (RFC 8441) is
      // the upgrade too.
      const status = r[R.size];
      const a = answer(r);
      const color = a === 'accepted' ? UPGRADE_COLOR : a === 'refused' ? STATE_COLOR.rejected : PLAIN_COLOR;
      const text = a === 'accepted' ? status + ' ⇄' : String(status);
      ctx.font = '600 10px system-ui, sans-serif';
      const w = ctx.measureText(text).width + 8;
      const y = laneH >= 40 ? mid + 5 : mid + 2;
      ctx.fillStyle = color;
      roundRect(ctx, x + 2, y, w, 13, 6);
      ctx.fillStyle = '#fff';
      ctx.fillText(text, x + 6, y + 7);
      ctx.font = '11px system-ui, sans-serif';
      break;
    }
    case T.wsOpen:
      ctx.fillStyle = UPGRADE_COLOR;
      ctx.beginPath();
      ctx.moveTo(x, mid - 6); ctx.lineTo(x + 6, mid); ctx.lineTo(x, mid + 6); ctx.lineTo(x - 6, mid);
      ctx.closePath();
      ctx.fill();
      break;
    case T.httpError:
      ctx.fillStyle = WARN_COLOR;
      ctx.fillRect(x - 3, mid - 3, 7, 7);
      break;
    case T.h2Close:
      // A WebSocket's HTTP/2 stream ended: a short bracket, as a TCP close
      // but half its height (the connection goes on); red when reset with
      // an error code.
      ctx.fillStyle = r[R.kind] === STREAM_RESET ? WARN_COLOR : TCP_COLOR;
      ctx.fillRect(x - 1, mid - 6, 2, 12);
      ctx.fillRect(x - 4, mid - 6, 5, 2);
      ctx.fillRect(x - 4, mid + 4, 5, 2);
      break;
    case T.tcpGap:
      ctx.fillStyle = STATE_COLOR.gap;
      ctx.fillRect(x - 1, mid - 8, 3, 16);
      ctx.fillRect(x - 4, mid - 1, 9, 2);
      break;
    case T.wsFrame: {
      // A frame drawn on its own (a warning, or a reserved opcode that
      // makes no message): a hollow square on its side of the line.
      const color = KIND_COLOR[r[R.kind]] || OTHER_COLOR;
      const y = r[R.from] === FROM_SERVER ? mid + 3 : mid - 10;
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.strokeRect(x - 3, y, 7, 7);
      ctx.lineWidth = 1;
      break;
    }
    default:
      ctx.fillStyle = OTHER_COLOR;
      ctx.fillRect(x, mid - 2, 2, 4);
  }
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
  ctx.fill();
}

// absLabel writes an axis tick as UTC time of day, to the precision the
// tick step needs.
function absLabel(st, us, step) {
  const full = absShort(st.t0_sec, st.t0_nsec, us); // 12:34:56.123456
  if (step >= 1e6) return full.slice(0, 8);
  if (step >= 1e3) return full.slice(0, 12);
  return full;
}

function warnMark(ctx, x, y) {
  ctx.fillStyle = WARN_COLOR;
  ctx.beginPath();
  ctx.moveTo(x - 4, y + 6); ctx.lineTo(x + 4, y + 6); ctx.lineTo(x, y);
  ctx.closePath();
  ctx.fill();
}

function clip(ctx, text, w) {
  if (ctx.measureText(text).width <= w) return text;
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const m = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, m) + '…').width <= w) lo = m; else hi = m - 1;
  }
  return text.slice(0, lo) + '…';
}

// shortEnds names a lane's ends, keeping both ports: the shared address once
// (loopback captures), both ends otherwise.
function shortEnds(info) {
  if (!info.client) return 'connection ' + info.id;
  const split = (a) => { const i = a.lastIndexOf(':'); return [a.slice(0, i), a.slice(i + 1)]; };
  const [ch, cp] = split(info.client), [sh, sp] = split(info.server);
  return ch === sh ? ':' + cp + ' → :' + sp + '  ' + ch : info.client + ' → ' + info.server;
}

function subLabel(info) {
  const parts = [];
  let state = STATE_LABEL[info.state] || info.state;
  if ((info.state === 'rejected' || info.state === 'http') && info.status) state += ' ' + info.status;
  parts.push(state);
  if (info.path) parts.push(info.path);
  if (info.ws_streams > 1) parts.push(info.ws_streams + ' WebSockets');
  parts.push(info.messages[0] + '↑ ' + info.messages[1] + '↓');
  return parts.join(' · ');
}


// describe says in a few words what the event of row r is.
export function describe(r) {
  const type = r[R.type], from = r[R.from], kind = r[R.kind], flags = r[R.flags], size = r[R.size];
  const dir = from === FROM_CLIENT ? 'client → server' : from === FROM_SERVER ? 'server → client' : '';
  let what;
  switch (type) {
    case T.wsMessage:
      what = opcodeName(kind) + ' message, ' + bytes(size) + ', ' + dir;
      break;
    case T.wsFrame:
      what = opcodeName(kind) + ' frame, ' + bytes(size) + ', ' + dir;
      break;
    case T.tcpOpen: what = (flags & F.syn) ? 'TCP open (SYN seen)' : 'TCP already open when the capture started'; break;
    case T.tcpClose: what = 'TCP close (' + HOW[kind] + ')'; break;
    case T.httpReq:
      if (streamOf(r)) what = (flags & F.upgrade) ? 'HTTP/2 extended CONNECT (a WebSocket request)' : 'HTTP/2 request';
      else what = (flags & F.upgrade) ? 'HTTP upgrade request' : 'HTTP request (plain HTTP)';
      break;
    case T.httpResp: {
      const a = answer(r);
      if (!streamOf(r)) what = 'HTTP response ' + size + (size === 101 ? ': switching to WebSocket' : (flags & F.upgrade) ? ': upgrade refused' : ' (plain HTTP)');
      else what = 'HTTP/2 response ' + size + (a === 'accepted' ? ': WebSocket accepted' : a === 'refused' ? ': WebSocket refused' : '');
      break;
    }
    case T.h2Close: what = 'HTTP/2 stream end (' + (STREAM_HOW[kind] || 'unknown') + ')'; break;
    case T.wsOpen: what = (flags & F.midstream) ? 'WebSocket found mid-stream' : 'WebSocket open'; break;
    case T.httpError: what = 'HTTP decoding stopped' + (dir ? ', ' + dir : ''); break;
    case T.tcpGap: what = 'TCP gap of ' + bytes(size) + (dir ? ', ' + dir : ''); break;
    default: what = TYPE_NAMES[type] || 'event';
  }
  if (flags & F.warning) what = '⚠ ' + what;
  const stream = streamOf(r);
  return '#' + r[R.conn] + (stream ? ' stream ' + stream : '') + ' ' + what + ' · packet ' + r[R.packet];
}
