// The timeline: one time axis, one lane per connection, drawn on a canvas
// with level of detail: messages that fall in the same few pixels of a lane
// are drawn as one mark (the tallest, flagged if any had a warning), so a
// frame costs at most a few thousand rectangles however many events there
// are. Text drawn on a canvas is never markup, so captured paths are safe
// here.

import { T, OP, F, FROM_CLIENT, FROM_SERVER, opcodeName, HOW, TYPE_NAMES, STATE_LABEL } from './data.js';
import { rel, duration, niceStep, bytes, absShort } from './format.js';
import { Windows, R, B, COL_PX } from './windows.js';

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
  handshake: '#ca8a04', tcp: '#94a3b8', http: PLAIN_COLOR, gap: '#c2410c', midstream: '#7c3aed',
};

// LANE_H is the height of a lane: 30 px, taller when few lanes leave room.
let LANE_H = 30;
const AXIS_H = 26;
const GUTTER = 250;
const BUCKET = 3; // pixels merged into one mark
const MARK_W = 3;

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
    this.ovKey = '';
    this.ovAt = 0;
    this.stats = { marks: 0, ids: null, drawMs: 0, frames: 0 };
    this.firstMarksAt = 0;
    this.bindEvents();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    new ResizeObserver(() => this.resize()).observe(overview);
    this.resize();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.ov]) {
      const r = c.getBoundingClientRect();
      c.width = Math.max(1, Math.round(r.width * dpr));
      c.height = Math.max(1, Math.round(r.height * dpr));
    }
    this.dpr = dpr;
    this.ovKey = '';
    this.request();
  }

  get width() { return this.canvas.width / this.dpr; }
  get height() { return this.canvas.height / this.dpr; }
  get plotW() { return Math.max(10, this.width - GUTTER - 8); }
  scale() { return this.plotW / Math.max(1e-3, this.v1 - this.v0); }
  xOf(t) { return GUTTER + (t - this.v0) * this.scale(); }
  tOf(x) { return this.v0 + (x - GUTTER) / this.scale(); }

  request() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  fullRange() {
    const s = this.app.store, st = this.app.status;
    let a = s.minT, b = s.maxT;
    // The page may hold only the first events (its stream is bounded): the
    // summary says how far the capture goes.
    if (st && st.events > 0) {
      a = Math.min(a, 0);
      b = b >= a ? Math.max(b, st.duration) : st.duration;
    }
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

  // showEvent scrolls and pans so that event i is in view.
  showEvent(i) {
    const s = this.app.store;
    this.scrollToConn(s.conn[i]);
    const t = s.t[i];
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

  draw() {
    const start = performance.now();
    const app = this.app, s = app.store, filter = app.filter;
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
    const sel = app.selected;
    const selConn = app.selectedConn;
    // Ask the server for what these lanes show (a few more above and below,
    // so that scrolling draws from memory).
    const wins = app.windows;
    if (wins) {
      const lo = Math.max(0, first - 5), hi = Math.min(lanes.length, last + 5);
      const st = app.status;
      const version = !st ? 0 : st.done ? 'done:' + st.events : Math.floor(performance.now() / 700);
      wins.request(v0, v1, this.plotW, lanes.slice(lo, hi), filter.version + ':' + filter.query + ':' + filter.regex,
        Windows.filterParams(filter), version);
    }
    let marks = 0;
    const ids = [];
    const keepIds = true;

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
      const label = info ? shortEnds(info) : 'connection ' + c;
      ctx.fillText(clip(ctx, label, GUTTER - 48), 40, mid - 6);
      ctx.fillStyle = '#64748b';
      const sub = info ? subLabel(info) : '';
      ctx.fillText(clip(ctx, sub, GUTTER - 20), 9, mid + 7);

      const wl = wins ? wins.lane(c) : undefined;
      if (wl) {
        marks += this.drawWindowLane(ctx, wl, info, top, mid, scale, v0, v1, W, ids);
        continue;
      }
      const lane = s.lane(c);
      if (!lane || lane.n === 0) continue;
      // Life line from first to last event.
      const ta = s.t[lane.a[0]], tb = s.t[lane.a[lane.n - 1]];
      const xa = Math.max(GUTTER, GUTTER + (ta - v0) * scale), xb = Math.min(W, GUTTER + (tb - v0) * scale);
      if (xb >= GUTTER && xa <= W) {
        ctx.fillStyle = '#cbd5e1';
        ctx.fillRect(xa, mid - 0.5, Math.max(1, xb - xa), 1);
      }

      const slack = (BUCKET + 8) / scale;
      let k = s.lowerBound(lane.a, lane.n, v0 - slack);
      // Pending merged marks, one per direction.
      let upB = -1, upH = 0, upC = '', upW = false, upId = -1;
      let dnB = -1, dnH = 0, dnC = '', dnW = false, dnId = -1;
      const flushUp = () => {
        if (upB < 0) return;
        const x = GUTTER + upB * BUCKET;
        ctx.fillStyle = upC;
        ctx.fillRect(x, mid - 1 - upH, MARK_W, upH);
        if (upW) warnMark(ctx, x + MARK_W / 2, top + 1);
        marks++;
        if (keepIds && ids.length < 20000) ids.push(upId);
        upB = -1;
      };
      const flushDn = () => {
        if (dnB < 0) return;
        const x = GUTTER + dnB * BUCKET;
        ctx.fillStyle = dnC;
        ctx.fillRect(x, mid + 1, MARK_W, dnH);
        if (dnW) warnMark(ctx, x + MARK_W / 2, top + 1);
        marks++;
        if (keepIds && ids.length < 20000) ids.push(dnId);
        dnB = -1;
      };
      const maxH = LANE_H / 2 - 3;
      for (; k < lane.n; k++) {
        const i = lane.a[k];
        const t = s.t[i];
        if (t > v1 + slack) break;
        if (!filter.passes(i)) continue;
        const x = GUTTER + (t - v0) * scale;
        const type = s.type[i];
        const warn = (s.flags[i] & F.warning) !== 0;
        if (type === T.wsMessage) {
          if (x < GUTTER - MARK_W) continue;
          const b = Math.floor((x - GUTTER) / BUCKET);
          const h = Math.min(maxH, 3 + Math.log2(1 + s.size[i]) * (maxH - 3) / 16);
          const color = KIND_COLOR[s.kind[i]] || OTHER_COLOR;
          if (s.from[i] === FROM_SERVER) {
            if (b !== dnB) { flushDn(); dnB = b; dnH = 0; dnW = false; }
            if (h >= dnH) { dnH = h; dnC = color; dnId = i; }
            dnW = dnW || warn;
          } else {
            if (b !== upB) { flushUp(); upB = b; upH = 0; upW = false; }
            if (h >= upH) { upH = h; upC = color; upId = i; }
            upW = upW || warn;
          }
          continue;
        }
        if (x < GUTTER - 8) continue;
        marks++;
        if (keepIds && ids.length < 20000) ids.push(i);
        drawOther(ctx, s, i, type, x, top, mid, LANE_H);
        if (warn) warnMark(ctx, x, top + 1);
      }
      flushUp();
      flushDn();
    }
    ctx.restore();

    // Selection: ring and a vertical line.
    if (sel >= 0 && sel < s.n) {
      const x = GUTTER + (s.t[sel] - v0) * scale;
      if (x >= GUTTER && x <= W) {
        ctx.strokeStyle = 'rgba(234, 179, 8, .9)';
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(Math.round(x) + 0.5, AXIS_H);
        ctx.lineTo(Math.round(x) + 0.5, H);
        ctx.stroke();
        ctx.setLineDash([]);
        const li = lanes.indexOf(s.conn[sel]);
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
    const span = 'view ' + duration(v1 - v0) + ' · ' + lanes.length + ' lanes' + (abs ? ' · UTC' : '');
    ctx.fillText(span, 9, AXIS_H / 2);

    // Hover line with the absolute time.
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
      ctx.fillText(s.n === 0 ? 'Waiting for events…' : 'No connection matches the filter.', GUTTER + 20, AXIS_H + 30);
    }

    this.drawOverview();
    const ms = performance.now() - start;
    this.stats = { marks, ids, drawMs: ms, frames: this.stats.frames + 1, v0, v1 };
    if (marks > 0 && this.firstMarksAt === 0) this.firstMarksAt = performance.now();
    const st = app.status;
    if (wins && wins.win && st && st.done && !app.axisCompleteAt && !this.userMoved && wins.win.version === 'done:' + st.events &&
      wins.win.t0 <= v0 && wins.win.t1 >= v1) app.axisCompleteAt = performance.now();
    if (this.onDraw) this.onDraw(ms);
  }

  // drawWindowLane draws lane wl of the server's window (windows.js): its
  // events one by one, merged into marks of a few pixels as the store's
  // lanes are, or the columns the server merged. It returns the marks drawn.
  drawWindowLane(ctx, wl, info, top, mid, scale, v0, v1, W, ids) {
    const wins = this.app.windows;
    let marks = 0;
    if (info && info.events > 0) {
      const xa = Math.max(GUTTER, GUTTER + (info.first - v0) * scale), xb = Math.min(W, GUTTER + (info.last - v0) * scale);
      if (xb >= GUTTER && xa <= W) {
        ctx.fillStyle = '#cbd5e1';
        ctx.fillRect(xa, mid - 0.5, Math.max(1, xb - xa), 1);
      }
    }
    const maxH = LANE_H / 2 - 3;
    const height = (size) => Math.min(maxH, 3 + Math.log2(1 + size) * (maxH - 3) / 16);
    const bar = (x, from, h, kind, warn) => {
      ctx.fillStyle = KIND_COLOR[kind] || OTHER_COLOR;
      if (from === FROM_SERVER) ctx.fillRect(x, mid + 1, MARK_W, h);
      else ctx.fillRect(x, mid - 1 - h, MARK_W, h);
      if (warn) warnMark(ctx, x + MARK_W / 2, top + 1);
      marks++;
    };
    const special = (r) => {
      const x = GUTTER + (r[R.t] - v0) * scale;
      if (x < GUTTER - 8 || x > W + 8) return;
      const rv = rowView(r);
      if (r[R.type] !== T.wsMessage) drawOther(ctx, rv, 0, r[R.type], x, top, mid, LANE_H);
      if (r[R.flags] & F.warning) warnMark(ctx, x, top + 1);
      marks++;
      if (ids.length < 20000) ids.push(r[R.id]);
    };
    if (!wl.merged) {
      // One by one: messages merged per BUCKET pixels and direction.
      let upB = -1, upH = 0, upK = 0, upW = false;
      let dnB = -1, dnH = 0, dnK = 0, dnW = false;
      const flush = () => {
        if (upB >= 0) bar(GUTTER + upB * BUCKET, FROM_CLIENT, upH, upK, upW);
        if (dnB >= 0) bar(GUTTER + dnB * BUCKET, FROM_SERVER, dnH, dnK, dnW);
      };
      for (const r of wl.events) {
        const t = r[R.t];
        if (t < v0 - 20 / scale || t > v1 + 20 / scale) continue;
        if (r[R.type] !== T.wsMessage) { special(r); continue; }
        const x = GUTTER + (t - v0) * scale;
        if (x < GUTTER - MARK_W) continue;
        const b = Math.floor((x - GUTTER) / BUCKET);
        const h = height(r[R.size]);
        const warn = (r[R.flags] & F.warning) !== 0;
        if (ids.length < 20000) ids.push(r[R.id]);
        if (r[R.from] === FROM_SERVER) {
          if (b !== dnB) { if (dnB >= 0) bar(GUTTER + dnB * BUCKET, FROM_SERVER, dnH, dnK, dnW); dnB = b; dnH = 0; dnW = false; }
          if (h >= dnH) { dnH = h; dnK = r[R.kind]; }
          dnW = dnW || warn;
        } else {
          if (b !== upB) { if (upB >= 0) bar(GUTTER + upB * BUCKET, FROM_CLIENT, upH, upK, upW); upB = b; upH = 0; upW = false; }
          if (h >= upH) { upH = h; upK = r[R.kind]; }
          upW = upW || warn;
        }
      }
      flush();
      return marks;
    }
    // Merged columns of the server's grid, placed in the current view.
    for (const b of wl.buckets) {
      const t = wins.colTime(b[B.col]);
      const x = GUTTER + (t - v0) * scale;
      if (x < GUTTER - MARK_W || x > W) continue;
      bar(x, b[B.dir], height(b[B.size]), b[B.kind], b[B.warn] > 0);
      if (ids.length < 20000) ids.push(b[B.id]);
    }
    for (const r of wl.marks) special(r);
    return marks;
  }

  // drawOverview draws the density of the shown events over the whole
  // capture, and the window of the main view.
  drawOverview() {
    const s = this.app.store, filter = this.app.filter;
    const c = this.octx, dpr = this.dpr;
    const W = this.ov.width / dpr, H = this.ov.height / dpr;
    const [a, b] = this.fullRange();
    const plot = Math.max(10, W - GUTTER - 8);
    const now = performance.now();
    if (this.app.windows) {
      // From the server: the page may not hold every event.
      const st = this.app.status;
      const version = !st ? 0 : st.done ? 'done:' + st.events : Math.floor(now / 700);
      const key = filter.version + ':' + filter.query + ':' + W + ':' + a + ':' + b + ':' + version;
      if (key !== this.ovKey && !this.ovBusy) {
        this.ovKey = key;
        this.ovBusy = true;
        const n = Math.max(1, Math.floor(plot));
        const fp = Windows.filterParams(filter);
        fetch('/api/overview?t0=' + a + '&t1=' + b + '&w=' + n + (fp ? '&' + fp : ''))
          .then((r) => (r.ok ? r.json() : null))
          .then((o) => { if (o) this.ovBins = { bins: o.n, warn: o.warn, a, b }; })
          .catch(() => {})
          .finally(() => { this.ovBusy = false; this.request(); });
      }
    }
    const key = s.version + ':' + filter.version + ':' + W + ':' + a + ':' + b;
    // Recounting is a pass over every event: at most every 300 ms on big
    // captures, at once on small ones.
    const due = now - this.ovAt > 300 || !this.ovBins || s.all.n < 50000;
    if (!this.app.windows && key !== this.ovKey && !due && !this.ovTimer) {
      this.ovTimer = setTimeout(() => { this.ovTimer = 0; this.request(); }, 310 - (now - this.ovAt));
    }
    if (!this.app.windows && key !== this.ovKey && due) {
      this.ovKey = key;
      this.ovAt = now;
      const n = Math.max(1, Math.floor(plot));
      const bins = new Float64Array(n), warn = new Uint8Array(n);
      const sc = n / (b - a);
      const all = s.all;
      for (let k = 0; k < all.n; k++) {
        const i = all.a[k];
        if (!filter.passes(i)) continue;
        const bi = Math.min(n - 1, Math.max(0, Math.floor((s.t[i] - a) * sc)));
        bins[bi]++;
        if (s.flags[i] & F.warning) warn[bi] = 1;
      }
      this.ovBins = { bins, warn, a, b };
    }
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, W, H);
    c.fillStyle = '#f8fafc';
    c.fillRect(0, 0, W, H);
    c.fillStyle = '#64748b';
    c.font = '11px system-ui, sans-serif';
    c.textBaseline = 'middle';
    c.fillText('overview', 9, 12);
    c.fillText('drag to zoom, click to centre', 9, 28);
    const ob = this.ovBins;
    if (ob) {
      let max = 1;
      for (const v of ob.bins) if (v > max) max = v;
      const lm = Math.log1p(max);
      const osc = plot / (ob.b - ob.a);
      const x0 = GUTTER + (ob.a - a) * osc;
      const bw = (plot / ob.bins.length) * ((ob.b - ob.a) / (b - a));
      for (let k = 0; k < ob.bins.length; k++) {
        if (ob.bins[k] === 0) continue;
        const h = 3 + (H - 8) * Math.log1p(ob.bins[k]) / lm;
        c.fillStyle = ob.warn[k] ? '#f87171' : '#60a5fa';
        c.fillRect(x0 + k * bw, H - h, Math.max(1, bw), h);
      }
    }
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
  // when its lane is out of view.
  markXY(i) {
    const s = this.app.store;
    // Where the mark is drawn from the next frame on, even if events
    // arrived since the last one.
    this.syncView();
    const li = this.lanes().indexOf(s.conn[i]);
    if (li < 0) return null;
    const top = this.laneTop(li);
    if (top < AXIS_H || top + LANE_H > this.height) return null;
    let y = top + LANE_H / 2;
    if (s.type[i] === T.wsMessage) y += s.from[i] === FROM_SERVER ? 4 : -4;
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.xOf(s.t[i]) + (s.type[i] === T.wsMessage ? MARK_W / 2 : 0), y: r.top + y };
  }

  // hit returns the id of the shown event nearest to (x, y) within a few
  // pixels, or -1.
  hit(x, y) {
    if (y < AXIS_H || x < GUTTER - 8) return -1;
    const lanes = this.lanes();
    const li = Math.floor((y - AXIS_H + this.scrollY) / LANE_H);
    if (li < 0 || li >= lanes.length) return -1;
    const s = this.app.store, lane = s.lane(lanes[li]);
    if (!lane) return -1;
    const scale = this.scale();
    const t = this.tOf(x);
    const tol = 6 / scale;
    const mid = this.laneTop(li) + LANE_H / 2;
    const wantFrom = y < mid - 1 ? FROM_CLIENT : y > mid + 1 ? FROM_SERVER : 0;
    let k = s.lowerBound(lane.a, lane.n, t - tol);
    let best = -1, bestD = Infinity;
    for (; k < lane.n; k++) {
      const i = lane.a[k];
      const ti = s.t[i];
      if (ti > t + tol) break;
      if (!this.app.filter.passes(i)) continue;
      let d = Math.abs(ti - t) * scale;
      if (s.type[i] === T.wsMessage && wantFrom !== 0 && s.from[i] !== wantFrom) d += 4;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
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
    cv.addEventListener('pointerup', (e) => {
      const d = this.drag;
      this.drag = null;
      cv.classList.remove('dragging');
      if (!d) return;
      if (!d.moved) {
        const id = this.hit(d.x0, d.y0);
        if (id >= 0) this.app.select(id, { from: 'timeline' });
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
    const app = this.app, s = app.store;
    if (x < GUTTER || y < AXIS_H) { this.hideTooltip(); return; }
    const t = this.tOf(x);
    const lines = [];
    const id = this.hit(x, y);
    if (id >= 0) {
      lines.push(describe(s, id));
      lines.push(rel(s.t[id]) + '   ' + app.absTime(s.t[id]));
      // The note in full, and the warnings, once the details are here.
      const d = app.details.get(id);
      if (d) {
        if (d.event.note) lines.push(d.event.note);
        for (const w of d.event.warnings || []) lines.push('⚠ ' + w.code + ': ' + w.msg);
      } else {
        app.details.want([id], () => { if (this.hover && this.hit(this.hover.x, this.hover.y) === id) this.showTooltip(this.hover.x, this.hover.y); });
      }
      lines.push('click to inspect');
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

function drawOther(ctx, s, i, type, x, top, mid, laneH) {
  x = Math.round(x);
  switch (type) {
    case T.tcpOpen:
      ctx.fillStyle = OPEN_COLOR;
      ctx.fillRect(x - 1, mid - 11, 2, 22);
      ctx.fillRect(x - 1, mid - 11, 6, 2);
      ctx.fillRect(x - 1, mid + 9, 6, 2);
      break;
    case T.tcpClose: {
      const how = HOW[s.kind[i]];
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
      ctx.fillStyle = (s.flags[i] & F.upgrade) ? UPGRADE_COLOR : PLAIN_COLOR;
      ctx.fillRect(x, mid - 9, 1, 8);
      break;
    case T.httpResp: {
      // The answer as a labelled pill, readable at any zoom: 101 (the
      // upgrade), a refused upgrade in red, plain HTTP in its own colour.
      const status = s.size[i];
      const upgrade = (s.flags[i] & F.upgrade) !== 0;
      const color = status === 101 ? UPGRADE_COLOR : upgrade ? STATE_COLOR.rejected : PLAIN_COLOR;
      const text = status === 101 ? '101 ⇄' : String(status);
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
    case T.tcpGap:
      ctx.fillStyle = STATE_COLOR.gap;
      ctx.fillRect(x - 1, mid - 8, 3, 16);
      ctx.fillRect(x - 4, mid - 1, 9, 2);
      break;
    case T.wsFrame: {
      // A frame drawn on its own (a warning, or a reserved opcode that
      // makes no message): a hollow square on its side of the line.
      const color = KIND_COLOR[s.kind[i]] || OTHER_COLOR;
      const y = s.from[i] === FROM_SERVER ? mid + 3 : mid - 10;
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
  parts.push(info.messages[0] + '↑ ' + info.messages[1] + '↓');
  return parts.join(' · ');
}

// describe says in a few words what event i is, from the columns alone.
export function describe(s, i) {
  const type = s.type[i];
  const dir = s.from[i] === FROM_CLIENT ? 'client → server' : s.from[i] === FROM_SERVER ? 'server → client' : '';
  let what;
  switch (type) {
    case T.wsMessage:
      what = opcodeName(s.kind[i]) + ' message, ' + bytes(s.size[i]) + ', ' + dir;
      break;
    case T.wsFrame:
      what = opcodeName(s.kind[i]) + ' frame, ' + bytes(s.size[i]) + ', ' + dir;
      break;
    case T.tcpOpen: what = (s.flags[i] & F.syn) ? 'TCP open (SYN seen)' : 'TCP already open when the capture started'; break;
    case T.tcpClose: what = 'TCP close (' + HOW[s.kind[i]] + ')'; break;
    case T.httpReq: what = (s.flags[i] & F.upgrade) ? 'HTTP upgrade request' : 'HTTP request (plain HTTP)'; break;
    case T.httpResp: what = 'HTTP response ' + s.size[i] + (s.size[i] === 101 ? ': switching to WebSocket' : (s.flags[i] & F.upgrade) ? ': upgrade refused' : ' (plain HTTP)'); break;
    case T.wsOpen: what = (s.flags[i] & F.midstream) ? 'WebSocket found mid-stream' : 'WebSocket open'; break;
    case T.httpError: what = 'HTTP decoding stopped' + (dir ? ', ' + dir : ''); break;
    case T.tcpGap: what = 'TCP gap of ' + bytes(s.size[i]) + (dir ? ', ' + dir : ''); break;
    default: what = TYPE_NAMES[type] || 'event';
  }
  if (s.flags[i] & F.warning) what = '⚠ ' + what;
  return '#' + s.conn[i] + ' ' + what + ' · packet ' + s.packet[i];
}

// rowView lets drawOther and describe read one row of a server window as
// they read the store's columns, at index 0.
export function rowView(r) {
  return {
    t: [r[R.t]], size: [r[R.size]], packet: [r[R.packet]], conn: [r[R.conn]],
    type: [r[R.type]], from: [r[R.from]], kind: [r[R.kind]], flags: [r[R.flags]],
  };
}
