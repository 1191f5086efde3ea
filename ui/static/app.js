// wsviz page: follows the server's status and connections over a
// WebSocket, asks the server for what each view shows (the timeline's
// tiles, the panels' pages, one event for the inspector, the next event
// for the keys: it never holds every event), and wires the summary,
// connections, timeline, the Ladder, Messages and Warnings panels and the
// inspector together. No framework and no build step. The address keeps
// the view (see updateHash).

import { Store, Filter, F, T, api, streamOf, STATE_LABEL, STATE_TITLE } from './data.js';
import { R } from './windows.js';
import { Timeline, describe } from './timeline.js';
import { Ladder } from './ladder.js';
import { Inspector } from './inspector.js';
import { Messages } from './messages.js';
import { Warnings } from './warnings.js';
import { CODES } from './registry.js';
import { num, bytes, duration, absolute, absShort, rel, ranges } from './format.js';
// boot.js, run before the modules (index.html).
const { openSocket, takeSocket, mark } = window.wsvizBoot;

const $ = (id) => document.getElementById(id);
const CONN_ROW_H = 38;
// PANELS_WAIT_MS is how long the panels wait at most for the timeline's
// first marks (see panelsReady).
const PANELS_WAIT_MS = 1000;

// Details caches event details fetched from /api/events, a bounded number.
class Details {
  constructor() {
    this.map = new Map();
    this.queue = new Set();
    this.cbs = new Set();
    this.busy = false;
    this.timer = 0;
  }
  get(id) { return this.map.get(id); }
  want(ids, cb) {
    for (const id of ids) if (!this.map.has(id)) this.queue.add(id);
    this.cbs.add(cb);
    if (!this.timer && !this.busy) this.timer = setTimeout(() => this.fetch(), 20);
  }
  async fetch() {
    this.timer = 0;
    if (this.queue.size === 0) return;
    this.busy = true;
    const ids = [...this.queue].slice(0, 300);
    for (const id of ids) this.queue.delete(id);
    try {
      for (const d of await api.events(ids)) {
        this.map.set(d.id, d);
        if (d.row && this.onRow) this.onRow(d.row);
      }
    } catch { /* the rows keep their column-only labels */ }
    while (this.map.size > 5000) this.map.delete(this.map.keys().next().value);
    this.busy = false;
    const cbs = [...this.cbs];
    this.cbs.clear();
    for (const cb of cbs) cb();
    if (this.queue.size) this.timer = setTimeout(() => this.fetch(), 0);
  }
}

class App {
  constructor() {
    mark('app');
    this.store = new Store();
    this.filter = new Filter(this.store);
    this.details = new Details();
    this.details.onRow = (r) => this.store.remember(r);
    this.status = null;
    this.selected = -1;
    this.selRow = null; // the row of the selected event
    this.selectSeq = 0;
    this.selectedConn = 0;
    this.lanesCache = null;
    this.lanesKey = '';
    this.allEventsAt = 0;
    this.firstBatchAt = 0;
    this.behindCount = 0;
    this.panel = 'ladder';
    this.timeMode = 'rel';
    this.wanted = parseHash();
    this.axisCompleteAt = 0;
    this.timeline = new Timeline(this, $('timeline'), $('overview'), $('tooltip'));
    this.ladder = new Ladder(this, $('ladder'), $('ladder-title'), $('ladder-ends'), $('ladder-client'), $('ladder-server'), $('ladder-view'), $('ladder-all-streams'));
    this.inspector = new Inspector(this, $('inspector'), $('insp-title'));
    this.messages = new Messages(this, $('messages'), $('messages-count'));
    this.warnings = new Warnings(this, $('warn-codes'), $('warn-list'), $('warn-occ-title'), $('warnings-count'));
    this.warnings.setRegistry(CODES);
    this.connRows = new Map();
    this.connKey = '';
    this.renderPending = false;
    this.lastSlow = 0;
    this.bind();
    this.applyViewState(this.wanted);
    this.connect();
  }

  // absTime formats microseconds after the capture start as an absolute UTC time.
  absTime(us) {
    const st = this.status;
    if (!st || !st.t0) return '';
    return absolute(st.t0_sec, st.t0_nsec, us);
  }

  // relOf converts an RFC 3339 time with nanoseconds (an event's "t") to
  // microseconds after the capture start.
  relOf(iso) {
    const st = this.status;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(String(iso || ''));
    if (!st || !st.t0 || !m) return NaN;
    const sec = Date.parse(m[1] + 'Z') / 1000;
    const ns = Number((m[2] || '').padEnd(9, '0'));
    return (sec - st.t0_sec) * 1e6 + (ns - st.t0_nsec) / 1e3;
  }

  // fmtTime formats a time for lists, relative or absolute as chosen.
  fmtTime(us) {
    const st = this.status;
    if (this.timeMode === 'abs' && st && st.t0) return absShort(st.t0_sec, st.t0_nsec, us);
    return rel(us);
  }

  setTimeMode(m) {
    this.timeMode = m;
    $('axis-toggle').textContent = m === 'abs' ? 'time: UTC' : 'time: relative';
    $('axis-toggle').classList.toggle('on', m === 'abs');
    this.ladder.refresh();
    this.messages.list.render();
    this.warnings.list.render();
    this.timeline.request();
    this.updateHash();
  }

  // showPanel opens the Ladder, Messages or Warnings panel.
  showPanel(name) {
    if (!['ladder', 'messages', 'warnings'].includes(name)) name = 'ladder';
    this.panel = name;
    for (const p of ['ladder', 'messages', 'warnings']) {
      $('pane-' + p).hidden = p !== name;
      $('tab-' + p).classList.toggle('active', p === name);
      $('tab-' + p).setAttribute('aria-selected', String(p === name));
    }
    $('ladder-title').hidden = name !== 'ladder';
    this.messages.show(name === 'messages');
    this.warnings.show(name === 'warnings');
    if (name === 'ladder') this.ladder.refresh();
    this.updateHash();
  }

  // connect follows the server's WebSocket: first the one boot.js opened
  // at start-up (with what it received meanwhile), then, if it closes, a
  // new one every second until the server answers.
  connect() {
    const early = takeSocket();
    const ws = early ? early.ws : openSocket();
    ws.onopen = () => mark('ws-open');
    ws.onmessage = (m) => this.onMessage(m.data);
    const closed = () => {
      this.setProgressText('disconnected; retrying…');
      setTimeout(() => this.connect(), 1000);
    };
    ws.onclose = closed;
    this.ws = ws;
    if (!early) return;
    for (const m of early.messages) this.onMessage(m);
    if (early.closed) closed();
  }

  onMessage(data) {
    if (data instanceof ArrayBuffer) {
      // The first tiles (boot.js openSocket), cut for the status just
      // read and the connections table that follows, which draws: the
      // timeline's first frame with lanes then has marks.
      mark('first-tiles');
      this.timeline.tiles.readFirst(data);
      return;
    }
    if (typeof data !== 'string') return;
    let m;
    try { m = JSON.parse(data); } catch { return; }
    switch (m.type) {
      case 'status': {
        const old = this.status;
        if (old && old.t0 && m.t0 && (old.t0 !== m.t0 || old.source !== m.source)) {
          // Another capture behind the same address: start over.
          this.store.reset();
          this.select(-1);
        }
        this.status = m;
        mark('status');
        if (m.events > 0) mark('status-events');
        if (!this.statusAt) this.statusAt = performance.now();
        if (m.done && !this.doneAt) this.doneAt = performance.now();
        if (this.panelsReady() && (this.panel === 'warnings' || !old || old.warnings !== m.warnings)) this.warnings.refresh();
        // The connections table follows the first status at once (the
        // server sends both): drawn now, the page would read it only after
        // a frame; it draws when the table is in.
        if (!old && m.conns > 0 && this.store.connOrder.length === 0) return;
        break;
      }
      case 'conns':
        if (m.conns.length > 0) mark('conns');
        this.store.setConns(m.conns);
        this.filter.updateConns();
        break;
      case 'behind':
        this.behindCount++;
        this.notice('This tab fell behind the capture and was brought up to date (' + num(m.events) + ' events).', 5000);
        break;
    }
    this.timeline.refresh();
    this.scheduleRender();
  }

  notice(text, ms) {
    const n = $('notice');
    n.textContent = text;
    n.hidden = false;
    clearTimeout(this.noticeTimer);
    if (ms) this.noticeTimer = setTimeout(() => { n.hidden = true; }, ms);
  }

  // schedule renders at the next frame. The timeline's frame is asked
  // first, so that it draws (and asks for its tiles) before the panels ask
  // for their pages.
  schedule() {
    this.timeline.request();
    this.scheduleRender();
  }

  // scheduleRender renders the summary, the connections and the panels at
  // the next frame; while a capture is read, 5 times a second at most (see
  // render), and no frame is asked for before then: the stream speaks every
  // 50 ms, and each frame asked for in between (to render nothing) held up
  // the page's thread while its first tiles were on their way.
  scheduleRender() {
    if (this.renderPending) return;
    const st = this.status;
    if (st && !st.done && performance.now() - this.lastSlow < 200) {
      if (!this.slowTimer) this.slowTimer = setTimeout(() => { this.slowTimer = 0; this.scheduleRender(); }, 210);
      return;
    }
    this.renderPending = true;
    requestAnimationFrame(() => { this.renderPending = false; this.render(); });
  }

  render() {
    const st = this.status;
    const now = performance.now();
    // The DOM parts are refreshed at most 5 times a second while loading.
    const loading = st && !st.done;
    if (loading && now - this.lastSlow < 200) {
      if (!this.slowTimer) this.slowTimer = setTimeout(() => { this.slowTimer = 0; this.scheduleRender(); }, 210);
      return;
    }
    this.lastSlow = now;
    this.renderSummary();
    if (!this.panelsReady()) {
      if (!this.panelsTimer) this.panelsTimer = setTimeout(() => this.schedule(), PANELS_WAIT_MS + 10);
      return;
    }
    if (!this.panelsStarted) {
      this.panelsStarted = true;
      this.warnings.refresh();
      // The icon only now (index.html names an empty one, so that the
      // browser asks for no /favicon.ico): its SVG, parsed on the page's
      // thread (10–90 ms here), came in while the first marks were on
      // their way.
      $('icon').type = 'image/svg+xml';
      $('icon').href = '/static/favicon.svg';
    }
    this.renderConns();
    this.ladder.update();
    this.messages.update();
    this.renderCount();
    this.applyWanted();
    if (st && st.done && !this.allEventsAt) this.allEventsAt = now;
  }

  // panelsReady reports whether the connections table and the panels may
  // render and ask the server for their pages. At start-up they wait for
  // the timeline's first marks (at most PANELS_WAIT_MS after the first
  // status): the page's first moments go to the timeline's tiles, which
  // are asked and drawn first, and the panels follow at once. (Built
  // together, the panels' requests and rows held up the first marks for
  // hundreds of milliseconds while a big capture was decoded.) The
  // summary and its progress are drawn meanwhile.
  panelsReady() {
    if (this.panelsGo) return true;
    const st = this.status, tl = this.timeline;
    if (!st) return false;
    // Nothing to draw (an empty capture, a connection filter that hides
    // every lane), marks drawn, or tiles drawn with no mark in view.
    const nothing = (st.done && st.events === 0) || (this.store.connOrder.length > 0 && this.visibleLanes().length === 0);
    if (nothing || tl.firstMarksShown || (tl.tiles.firstAt > 0 && tl.stats.complete) ||
      performance.now() - this.statusAt >= PANELS_WAIT_MS) this.panelsGo = true;
    return this.panelsGo;
  }

  renderSummary() {
    const st = this.status;
    if (!st) return;
    $('source').textContent = st.source || '';
    $('source').title = st.source || '';
    $('s-packets').textContent = num(st.packets);
    $('s-conns').textContent = num(st.conns);
    $('s-messages').textContent = num(st.messages);
    $('s-bytes').textContent = bytes(st.bytes);
    $('s-bytes').parentElement.title = bytes(st.bytes) + ' of message payload on the wire' + (st.inflated !== st.bytes ? ', ' + bytes(st.inflated || 0) + ' once inflated' : '');
    $('s-duration').textContent = duration(st.duration);
    $('s-warnings').textContent = num(st.warnings);
    $('s-warnings').parentElement.classList.toggle('has', st.warnings > 0);
    const p = $('progress');
    let pct = 0, text;
    if (st.live) {
      pct = st.capturing ? 100 : 100;
      text = (st.capturing ? '● capturing' : 'capture stopped') + ' · ' + num(st.drops) + ' dropped';
    } else if (st.done) {
      pct = 100;
      text = 'done · ' + num(st.events) + ' events';
    } else {
      pct = st.total > 0 ? Math.min(100, 100 * st.read / st.total) : 0;
      text = 'reading ' + (st.total > 0 ? pct.toFixed(0) + '%' : bytes(st.read)) + ' · ' + num(st.events) + ' events';
    }
    if (st.error) text = 'error: ' + st.error;
    $('progress-fill').style.width = pct + '%';
    p.classList.toggle('done', !!st.done && !st.error);
    p.classList.toggle('error', !!st.error);
    this.setProgressText(text);
    const notes = (st.notes || []).map(n => n.charAt(0).toUpperCase() + n.slice(1) + '.');
    if (st.dropped > 0) notes.unshift(num(st.dropped) + ' events past the event limit are counted in the summary but not shown.');
    if (notes.length) this.notice(notes.join(' '), 0);
  }

  setProgressText(t) { $('progress-text').textContent = t; }

  // visibleLanes returns the connection ids shown as lanes and rows.
  visibleLanes() {
    const s = this.store;
    const key = s.connOrder.length + ':' + this.filter.version;
    if (key !== this.lanesKey) {
      this.lanesKey = key;
      this.lanesCache = s.connOrder.filter((c) => this.filter.connPasses(c));
    }
    return this.lanesCache;
  }

  renderConns() {
    const list = $('conn-list');
    const lanes = this.visibleLanes();
    const spacer = list.firstElementChild;
    spacer.style.height = (lanes.length * CONN_ROW_H) + 'px';
    const first = Math.max(0, Math.floor(list.scrollTop / CONN_ROW_H) - 2);
    const last = Math.min(lanes.length, Math.ceil((list.scrollTop + list.clientHeight) / CONN_ROW_H) + 2);
    const keep = new Set();
    for (let r = first; r < last; r++) {
      const c = lanes[r];
      const info = this.store.conns.get(c);
      const key = r + ':' + c + ':' + (info ? info.events + info.state : '') + ':' + (c === this.selectedConn);
      keep.add(r);
      const old = this.connRows.get(r);
      if (old && old.dataset.key === key) continue;
      const row = connRow(c, info, c === this.selectedConn);
      row.style.top = (r * CONN_ROW_H) + 'px';
      row.dataset.key = key;
      row.addEventListener('click', () => this.selectConn(c, { from: 'conns' }));
      if (old) old.replaceWith(row); else list.appendChild(row);
      this.connRows.set(r, row);
    }
    for (const [r, row] of this.connRows) if (!keep.has(r)) { row.remove(); this.connRows.delete(r); }
  }

  // renderCount says how many messages pass the filter (the Messages
  // panel's count, from the server).
  renderCount() {
    const st = this.status;
    const all = st ? st.messages : 0;
    const key = this.filter.version + ':' + all + ':' + this.messages.index.count();
    if (key === this.countKey) return;
    this.countKey = key;
    if (!this.filter.active()) {
      $('f-count').textContent = num(all) + ' messages';
      return;
    }
    $('f-count').textContent = num(this.messages.index.count()) + ' of ' + num(all) + ' messages shown';
  }

  // select shows event id everywhere: the timeline, the ladder, the
  // panels, the inspector. Its row (how.row, or one at hand) says where it
  // is; else it is asked of the server first.
  async select(id, how = {}) {
    const seq = ++this.selectSeq;
    if (id < 0) {
      this.selected = -1;
      this.selRow = null;
      this.inspector.clear();
      this.updateHash();
      this.schedule();
      return;
    }
    let row = how.row || this.store.row(id);
    if (!row) {
      try {
        const d = await api.event(id);
        row = d.row;
        this.store.remember(row);
      } catch (err) {
        if (seq === this.selectSeq) this.notice('No event ' + id + ': ' + err.message, 3000);
        return;
      }
      if (seq !== this.selectSeq) return;
    }
    this.selected = id;
    this.selRow = row;
    const c = row[R.conn];
    if (c !== this.selectedConn) {
      this.selectedConn = c;
      this.ladder.setConn(c);
      this.scrollConnIntoView(c);
    }
    if (how.from !== 'timeline') this.timeline.showEvent(row);
    // A ladder that shows one HTTP/2 stream shows them all again for an
    // event of another (or of the whole connection).
    if (this.ladder.stream && streamOf(row) !== this.ladder.stream) this.ladder.setStream(0);
    if (how.from !== 'ladder') this.ladder.scrollTo(id);
    this.ladder.render();
    if (how.from !== 'messages') this.messages.reveal(id);
    this.messages.list.render();
    this.warnings.list.render();
    this.inspector.show(id);
    this.updateHash();
    this.renderConns();
    this.timeline.request();
  }

  selectConn(c, how = {}) {
    this.selectedConn = c;
    this.ladder.setConn(c);
    if (this.selected >= 0 && this.selRow && this.selRow[R.conn] !== c) {
      this.selected = -1;
      this.selRow = null;
      this.inspector.clear();
    }
    if (how.from !== 'timeline') this.timeline.scrollToConn(c);
    if (how.from !== 'conns') this.scrollConnIntoView(c);
    if (!how.auto) this.updateHash();
    this.renderConns();
    this.timeline.request();
  }

  scrollConnIntoView(c) {
    const list = $('conn-list');
    const r = this.visibleLanes().indexOf(c);
    if (r < 0) return;
    const top = r * CONN_ROW_H;
    if (top < list.scrollTop || top + CONN_ROW_H > list.scrollTop + list.clientHeight) list.scrollTop = top - list.clientHeight / 3;
  }

  // updateHash writes the view into the address: panel, connection,
  // event, zoom window, filters, search, time axis and warning code.
  updateHash() {
    if (this.restoring) return;
    const p = new URLSearchParams();
    if (this.panel !== 'ladder') p.set('panel', this.panel);
    if (this.selectedConn) p.set('conn', String(this.selectedConn));
    if (this.selected >= 0) p.set('event', String(this.selected));
    const tl = this.timeline;
    if (tl.userMoved) p.set('view', round(tl.v0) + ',' + round(tl.v1));
    const f = this.filter;
    if (f.dir) p.set('dir', String(f.dir));
    const hidden = Object.keys(f.kinds).filter((k) => !f.kinds[k]);
    if (hidden.length) p.set('hide', hidden.join(','));
    if (f.warnOnly) p.set('warn', '1');
    if (f.connText) p.set('conns', f.connText);
    if (f.query) p.set('q', f.query);
    if (f.regex) p.set('re', '1');
    if (this.timeMode === 'abs') p.set('time', 'abs');
    if (this.ladder.wire) p.set('wire', '1');
    if (this.ladder.stream) p.set('stream', String(this.ladder.stream));
    if (this.panel === 'warnings' && this.warnings.code) p.set('code', this.warnings.code);
    // Only when the address changes: with nothing to keep, the page
    // replaced its own address (a same-document navigation) at every
    // start.
    const h = p.toString();
    if ((h ? '#' + h : '') === location.hash.replace(/^#$/, '')) return;
    history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
  }

  // applyViewState restores what the address says beyond the selection:
  // panel, zoom window, filters, search, time axis.
  applyViewState(w) {
    if (!w) { this.showPanel('ladder'); return; }
    this.restoring = true;
    const f = this.filter;
    f.dir = w.dir;
    $('f-dir').value = String(w.dir);
    for (const cb of $('f-kinds').querySelectorAll('input')) {
      cb.checked = !w.hide.includes(cb.value);
      f.kinds[cb.value] = cb.checked;
    }
    f.warnOnly = w.warn;
    $('f-warn').checked = w.warn;
    $('f-conn').value = w.conns;
    f.connText = w.conns.trim().toLowerCase();
    f.updateConns();
    $('f-search').value = w.q;
    $('f-regex').checked = w.re;
    f.version++;
    if (w.view) this.timeline.setView(w.view[0], w.view[1]);
    this.ladder.setWire(w.wire);
    // The ladder's stream is of the connection the address names: kept
    // for it until it is selected.
    if (w.conn > 0 && w.conn === this.ladder.conn) this.ladder.setStream(w.stream);
    else this.ladder.wantStream = w.stream;
    this.setTimeMode(w.time);
    this.showPanel(w.panel);
    if (w.code) this.warnings.wantCode = w.code;
    this.restoring = false;
    if (w.q !== (f.query || '') || w.re !== f.regex) this.runSearch();
    this.schedule();
  }

  // applyWanted selects what the address asked for once it has arrived.
  applyWanted() {
    let w = this.wanted;
    if (w && w.event < 0 && w.conn <= 0) w = this.wanted = null;
    if (!w) {
      // Nothing asked for: show the first WebSocket connection's ladder, so
      // that the page explains something at once.
      if (!this.autoSelected && this.selectedConn === 0) {
        const s = this.store;
        const c = s.connOrder.find((id) => { const i = s.conns.get(id); return i && i.ws; });
        if (c !== undefined || (this.status && this.status.done && s.connOrder.length > 0)) {
          this.autoSelected = true;
          this.selectConn(c !== undefined ? c : s.connOrder[0], { auto: true });
        }
      }
      return;
    }
    if (w.event >= 0) {
      if (this.status && w.event < this.status.events) {
        this.wanted = null;
        this.select(w.event);
      }
      return;
    }
    if (w.conn > 0 && this.store.conns.has(w.conn)) {
      this.wanted = null;
      this.selectConn(w.conn);
    }
  }

  // step moves the selection to the next (+1) or previous (−1) shown event,
  // within the selected connection when within is true, of the warned
  // events with warned: the server finds it (/api/step), however far.
  async step(delta, within, warned) {
    const f = this.filter;
    const conn = within && this.selectedConn ? this.selectedConn : 0;
    const seq = ++this.stepSeq;
    let row;
    try {
      row = await api.step(this.selected, delta < 0, conn, conn ? '' : f.only(), warned, f.params());
    } catch (err) {
      this.notice('Cannot step: ' + err.message, 3000);
      return;
    }
    if (seq !== this.stepSeq) return;
    if (!row) {
      this.notice('No ' + (delta > 0 ? 'later' : 'earlier') + (warned ? ' warning' : ' event') + ' among the events shown.', 2500);
      return;
    }
    this.store.remember(row);
    this.select(row[R.id], { row });
  }

  // stepWarning selects the next (+1) or previous (−1) event with a
  // warning, of any connection.
  stepWarning(delta) { this.step(delta, false, true); }

  // exportAs downloads the events that pass the filters: the server
  // applies them (filter=1). A HAR keeps the handshake of each exported
  // message's connection (the server adds it).
  async exportAs(format) {
    const form = $('export-form');
    const f = this.filter;
    const fields = { format, filter: '', dir: '', kinds: '', warn: '', q: '', re: '', only: '' };
    if (f.active()) {
      const p = new URLSearchParams(f.params());
      fields.filter = '1';
      for (const k of ['dir', 'kinds', 'warn', 'q', 're']) fields[k] = p.get(k) || '';
      const only = f.only();
      if (f.connText !== '') fields.only = only;
      // Nothing passes: say so rather than download an empty file.
      try {
        const none = (f.connText !== '' && only === '') || !(await api.step(-1, false, 0, only, false, f.params()));
        if (none) {
          this.notice('Nothing to export: no event passes the filters.', 4000);
          return;
        }
        if (format === 'har') {
          const k = f.kinds;
          const kinds = ['text', 'binary'].filter((x) => k[x]);
          const fp = new URLSearchParams(f.params());
          fp.set('kinds', kinds.join(','));
          const page = kinds.length ? await api.list('list=messages&limit=1&' + fp.toString()) : { total: 0 };
          if (page.total === 0) {
            this.notice('Nothing to export as HAR: no text or binary message passes the filters (HAR lists WebSocket messages).', 5000);
            return;
          }
        }
      } catch { /* the server says what is wrong in the download */ }
    }
    for (const [k, v] of Object.entries(fields)) {
      let input = form.elements[k];
      if (!input) {
        input = document.createElement('input');
        input.type = 'hidden';
        input.name = k;
        form.appendChild(input);
      }
      input.value = v;
      input.disabled = v === '';
    }
    if (form.elements.ids) form.elements.ids.disabled = true;
    form.submit();
  }

  // runSearch applies the search box: the server searches (the tiles, the
  // lists and the steps carry q=), follows a live capture by itself, and
  // says here whether the expression is valid.
  async runSearch() {
    const q = $('f-search').value;
    const re = $('f-regex').checked;
    const f = this.filter;
    const seq = ++this.searchSeq;
    if (q !== '') {
      try {
        await api.list('list=messages&limit=1&q=' + encodeURIComponent(q) + (re ? '&re=1' : ''));
      } catch (err) {
        if (seq !== this.searchSeq) return;
        $('f-search').classList.add('bad');
        $('f-search').title = err.message;
        this.notice('Search failed: ' + err.message, 4000);
        return;
      }
      if (seq !== this.searchSeq) return;
    }
    f.query = q;
    f.regex = re;
    f.version++;
    $('f-search').classList.remove('bad');
    $('f-search').title = '';
    this.updateHash();
    this.schedule();
  }

  bind() {
    this.searchSeq = 0;
    this.stepSeq = 0;
    const debounce = (fn, ms) => { let t = 0; return () => { clearTimeout(t); t = setTimeout(fn, ms); }; };
    $('f-search').addEventListener('input', debounce(() => this.runSearch(), 250));
    $('f-regex').addEventListener('change', () => this.runSearch());
    const changed = () => { this.filter.version++; this.updateHash(); this.schedule(); };
    $('f-dir').addEventListener('change', (e) => { this.filter.dir = Number(e.target.value); changed(); });
    $('f-warn').addEventListener('change', (e) => { this.filter.warnOnly = e.target.checked; changed(); });
    for (const cb of $('f-kinds').querySelectorAll('input')) {
      cb.addEventListener('change', () => { this.filter.kinds[cb.value] = cb.checked; changed(); });
    }
    $('f-conn').addEventListener('input', debounce(() => {
      this.filter.connText = $('f-conn').value.trim().toLowerCase();
      this.filter.updateConns();
      this.updateHash();
      this.schedule();
    }, 120));
    for (const b of document.querySelectorAll('.ptab')) b.addEventListener('click', () => this.showPanel(b.dataset.panel));
    $('axis-toggle').addEventListener('click', () => this.setTimeMode(this.timeMode === 'abs' ? 'rel' : 'abs'));
    $('s-warnings').addEventListener('click', (e) => { e.preventDefault(); this.showPanel('warnings'); });
    $('conn-list').addEventListener('scroll', () => this.renderConns());
    $('zoom-in').addEventListener('click', () => this.timeline.zoom(0.5));
    $('zoom-out').addEventListener('click', () => this.timeline.zoom(2));
    $('fit').addEventListener('click', () => this.timeline.fit());
    $('export-jsonl').addEventListener('click', () => this.exportAs('jsonl'));
    $('export-har').addEventListener('click', () => this.exportAs('har'));
    $('help-button').addEventListener('click', () => { $('help').hidden = false; });
    $('help-close').addEventListener('click', () => { $('help').hidden = true; });
    $('help').addEventListener('click', (e) => { if (e.target === $('help')) $('help').hidden = true; });
    window.addEventListener('hashchange', () => {
      this.wanted = parseHash();
      this.applyViewState(this.wanted);
      this.applyWanted();
    });
    this.timeline.onViewChange = () => { clearTimeout(this.viewTimer); this.viewTimer = setTimeout(() => this.updateHash(), 300); };
    document.addEventListener('keydown', (e) => this.onKey(e));
  }

  onKey(e) {
    const tag = e.target && e.target.tagName;
    if (e.key === 'Escape') { $('help').hidden = true; if (tag === 'INPUT') e.target.blur(); return; }
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || e.ctrlKey || e.metaKey || e.altKey) return;
    const tl = this.timeline;
    switch (e.key) {
      case '+': case '=': tl.zoom(0.5); break;
      case '-': case '_': tl.zoom(2); break;
      case '0': tl.fit(); break;
      case 'ArrowLeft': tl.pan(tl.plotW / 4); break;
      case 'ArrowRight': tl.pan(-tl.plotW / 4); break;
      case 'j': case 'ArrowDown': this.step(1, true); break;
      case 'k': case 'ArrowUp': this.step(-1, true); break;
      case 'n': this.step(1, false); break;
      case 'p': this.step(-1, false); break;
      case 'w': this.stepWarning(1); break;
      case 'W': this.stepWarning(-1); break;
      case 'l': this.showPanel('ladder'); $('ladder').focus(); break;
      case 'm': this.showPanel('messages'); $('messages').focus(); break;
      case 'e': this.showPanel('warnings'); this.warnings.focusCodes(); break;
      case 't': this.setTimeMode(this.timeMode === 'abs' ? 'rel' : 'abs'); break;
      case 'v': this.ladder.setWire(!this.ladder.wire); this.updateHash(); break;
      case '/': $('f-search').focus(); break;
      case '?': $('help').hidden = !$('help').hidden; break;
      default: return;
    }
    e.preventDefault();
  }
}

// parseHash reads the view from the address (see updateHash); null when
// the address says nothing.
function parseHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  if ([...p.keys()].length === 0) return null;
  const int = (k, d) => { const v = Number(p.get(k)); return p.has(k) && Number.isInteger(v) ? v : d; };
  let view = null;
  if (p.has('view')) {
    const [a, b] = p.get('view').split(',').map(Number);
    if (Number.isFinite(a) && Number.isFinite(b) && b > a) view = [a, b];
  }
  const dir = int('dir', 0);
  return {
    event: Math.max(-1, int('event', -1)),
    conn: Math.max(0, int('conn', 0)),
    panel: p.get('panel') || 'ladder',
    view,
    dir: dir === 1 || dir === 2 ? dir : 0,
    hide: (p.get('hide') || '').split(',').filter(Boolean),
    warn: p.get('warn') === '1',
    conns: p.get('conns') || '',
    q: p.get('q') || '',
    re: p.get('re') === '1',
    time: p.get('time') === 'abs' ? 'abs' : 'rel',
    wire: p.get('wire') === '1',
    stream: Math.max(0, int('stream', 0)),
    code: p.get('code') || '',
  };
}

let compactNF = null; // made when first needed (see format.js num)

// compact writes counts of a thousand and more shortly (1.2K), for narrow
// columns; the exact count is in the tooltip.
function compact(n) {
  if (n < 1000) return String(n);
  if (!compactNF) compactNF = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  return compactNF.format(n);
}

function round(us) { return Math.round(us * 1000) / 1000; }

function span(cls, text, title) {
  const e = document.createElement('span');
  e.className = cls;
  e.textContent = text;
  if (title) e.title = title;
  return e;
}

// shortAddr writes ":client-port → :server-port" when both ends share an
// address (loopback captures: the address is in the title and the lane), the
// full ends otherwise.
function shortAddr(info) {
  if (!info.client) return 'connection ' + info.id;
  const split = (a) => { const i = a.lastIndexOf(':'); return [a.slice(0, i), a.slice(i + 1)]; };
  const [ch, cp] = split(info.client), [sh, sp] = split(info.server);
  return ch === sh ? ':' + cp + ' → :' + sp : info.client + ' → ' + info.server;
}

function connRow(c, info, selected) {
  const row = document.createElement('div');
  row.className = 'vrow conn-row' + (selected ? ' selected' : '');
  row.dataset.conn = String(c);
  row.appendChild(span('c-id', String(c)));
  const ends = span('c-ends', '');
  const addr = info && info.client ? info.client + ' → ' + info.server : 'connection ' + c;
  ends.appendChild(span('c-addr', info ? shortAddr(info) : addr, addr));
  let path = info ? (info.path || '') + (info.subprotocol ? ' [' + info.subprotocol + ']' : '') + (info.extensions ? ' · ' + info.extensions : '') : '';
  // HTTP/2 (RFC 8441): the first WebSocket's, and how many there were.
  if (info && info.ws_streams > 1) path += ' · ' + info.ws_streams + ' WebSockets';
  ends.appendChild(span('c-path', path || '\u00a0', info && info.ws_streams ? path + ' (on HTTP/2 streams, the first one\'s path; stream ' + info.stream + ')' : path));
  row.appendChild(ends);
  const st = span('c-state', '');
  if (info) {
    let label = STATE_LABEL[info.state] || info.state;
    if ((info.state === 'rejected' || info.state === 'http') && info.status) label += ' ' + info.status;
    st.appendChild(span('state ' + info.state, label));
    const extra = [];
    if (info.midstream && info.state !== 'midstream') extra.push(span('mid', 'mid-stream', STATE_TITLE.midstream));
    if (info.gaps && info.state !== 'gap') extra.push(span('mid gap', 'gap', STATE_TITLE.gap));
    if (info.h2 && info.state !== 'h2') extra.push(span('mid h2', 'HTTP/2', info.ws_streams ? (info.ws_streams === 1 ? 'a WebSocket' : info.ws_streams + ' WebSockets') + ' over HTTP/2 (RFC 8441), one per stream' : 'HTTP/2'));
    if (info.tls && info.state !== 'tls') extra.push(span('mid tls', info.tls, info.tls + (info.sni ? ' to ' + info.sni : '') + (info.tls_keys ? ': decrypted with its keys' : '')));
    for (const e of extra) st.appendChild(e);
    st.title = label + ': ' + (STATE_TITLE[info.state] || '');
  }
  row.appendChild(st);
  const stats = span('c-stats', '');
  if (info) {
    stats.appendChild(span('c-msgs', compact(info.messages[0]) + ' ↑ ' + compact(info.messages[1]) + ' ↓', num(info.messages[0]) + ' messages client → server, ' + num(info.messages[1]) + ' server → client'));
    const wire = (info.wire_bytes || [0, 0])[0] + (info.wire_bytes || [0, 0])[1];
    stats.appendChild(span('c-bytes', bytes(wire), bytes(wire) + ' on the wire, ' + bytes(info.bytes[0] + info.bytes[1]) + ' inflated'));
  }
  row.appendChild(stats);
  row.appendChild(span('c-warn', info && info.warnings ? '⚠' + info.warnings : '', info && info.warnings ? info.warnings + ' warnings' : ''));
  return row;
}

// The app starts once boot.js drew the first marks (or found nothing it
// could draw): its modules' work (the panels built, the timeline's first
// canvas text) then comes after that frame, not before it.
await window.wsvizBoot.ready;
const app = new App();

// window.wsviz is the hook the browser tests and the scale benchmark read.
window.wsviz = {
  app,
  // events is the number of events the server has (the page holds none
  // but the rows it was sent: see Store).
  events: () => (app.status ? app.status.events : 0),
  conns: () => app.store.connOrder.length,
  status: () => app.status,
  frame: () => app.timeline.stats,
  // Times are milliseconds since the navigation started (performance.now).
  firstMarksMs: () => app.timeline.firstMarksAt || -1,
  // firstMarksStatus is the status when the first marks were drawn.
  firstMarksStatus: () => app.timeline.firstMarksStatus || null,
  allEventsMs: () => app.allEventsAt || -1,
  // axisCompleteMs is when the timeline first drew the whole capture from
  // tiles asked once the server had read it all.
  axisCompleteMs: () => app.axisCompleteAt || -1,
  sourceDoneMs: () => app.doneAt || -1,
  behind: () => app.behindCount,
  // describe says what event i is, when its row is at hand ('' if not).
  describe: (i) => { const r = app.store.row(i); return r ? describe(r) : ''; },
  panel: () => app.panel,
  // api is data.js's: the tests may stand in for a server answer.
  api,
  markXY: (i) => app.timeline.markXY(i),
  // tileBytes is what the tiles answers weighed, for the benchmark.
  tileBytes: () => app.timeline.tiles.bytes,
};
