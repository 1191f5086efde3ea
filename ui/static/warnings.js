// The Warnings panel, like Wireshark's Expert Info: every warning code seen
// with its count, the RFC section it cites and what it means in plain words
// (from analyze's registry, registry.js), and for the chosen code every occurrence, each
// a link to its event. Occurrences are paged from the server as the list
// scrolls (/api/list?list=warnings&code=C), so millions of warnings cost
// the page only the rows in view. Captured text goes in with textContent
// only.

import { api, TYPE_NAMES } from './data.js';
import { R } from './windows.js';
import { num } from './format.js';
import { VList } from './vlist.js';

const ROW_H = 24;
const PAGE = 200;

export class Warnings {
  constructor(app, codesEl, listEl, titleEl, countEl) {
    this.app = app;
    this.codesEl = codesEl;
    this.titleEl = titleEl;
    this.countEl = countEl;
    this.codes = []; // [{code, type, msg, count, shown}]
    this.registry = new Map(); // code -> {rfc, meaning}
    this.code = ''; // the chosen code
    this.total = 0;
    this.pages = new Map(); // page number -> rows (or 'loading')
    this.visible = false;
    this.lastFetch = 0;
    this.key = '';
    this.list = new VList(listEl, ROW_H, (k) => this.row(k));
    this.list.keyOf = (k) => {
      const id = this.idAt(k);
      return id + (id >= 0 && app.details.get(id) ? 'd' : '') + (id === app.selected ? 's' : '') + app.timeMode;
    };
    listEl.addEventListener('keydown', (e) => this.onKey(e));
    listEl.addEventListener('scroll', () => this.fetchVisible());
  }

  // setRegistry takes the registry's codes (registry.js CODES).
  setRegistry(codes) {
    for (const c of codes) this.registry.set(c.code, c);
    this.renderCodes();
  }

  // refresh asks the server for the codes and counts again, at most every
  // half second while events arrive.
  async refresh(force) {
    const st = this.app.status;
    const key = st ? st.warnings + ':' + st.events : '';
    if (!force && key === this.key) return;
    const now = performance.now();
    if (!force && now - this.lastFetch < 500) {
      if (!this.timer) this.timer = setTimeout(() => { this.timer = 0; this.refresh(); }, 520);
      return;
    }
    this.key = key;
    this.lastFetch = now;
    let res;
    try { res = await api.warnings(); } catch { return; }
    this.codes = res.codes || [];
    let total = 0;
    for (const c of this.codes) total += c.count;
    this.countEl.textContent = total ? num(total) : '';
    this.renderCodes();
    if (this.wantCode && this.codes.some((c) => c.code === this.wantCode)) {
      const c = this.wantCode;
      this.wantCode = '';
      this.choose(c);
    } else if (this.visible && !this.code && this.codes.length) {
      this.choose(this.codes[0].code);
    }
    const cur = this.codes.find((c) => c.code === this.code);
    if (cur && cur.shown !== this.total) {
      this.total = cur.shown;
      // The last page may have grown.
      this.pages.delete(Math.floor(Math.max(0, this.total - 1) / PAGE));
      this.list.setCount(this.total);
      this.fetchVisible();
    }
  }

  show(on) {
    this.visible = on;
    if (on) {
      this.refresh(true);
      if (!this.code && this.codes.length) this.choose(this.codes[0].code);
      this.list.setCount(this.total);
      this.fetchVisible();
    }
  }

  renderCodes() {
    const root = this.codesEl;
    root.replaceChildren();
    if (this.codes.length === 0) {
      const p = document.createElement('p');
      p.className = 'muted warn-none';
      p.textContent = this.app.status && this.app.status.done ? 'No warning: every event followed the RFCs.' : 'No warning so far.';
      root.appendChild(p);
      return;
    }
    for (const c of this.codes) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'wcode' + (c.code === this.code ? ' selected' : '');
      b.dataset.code = c.code;
      const reg = this.registry.get(c.code) || {};
      const head = document.createElement('span');
      head.className = 'wc-head';
      add(head, 'wc-code', c.code);
      add(head, 'wc-count', num(c.count));
      b.appendChild(head);
      add(b, 'wc-meaning', reg.description || c.msg);
      add(b, 'wc-rfc', (reg.rfc ? reg.rfc : reg.code ? 'a limit of wsviz or a fault of the capture' : '') + ' · on ' + (reg.events ? reg.events.join(', ') : c.type));
      b.title = c.msg;
      b.addEventListener('click', () => { this.choose(c.code); this.focusFirst(); });
      b.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          const bs = [...root.querySelectorAll('button')];
          const i = bs.indexOf(b) + (e.key === 'ArrowDown' ? 1 : -1);
          if (i >= 0 && i < bs.length) { bs[i].focus(); this.choose(bs[i].dataset.code); }
          e.preventDefault();
          e.stopPropagation();
        }
      });
      root.appendChild(b);
    }
  }

  choose(code) {
    if (code === this.code) return;
    this.code = code;
    this.pages.clear();
    const c = this.codes.find((x) => x.code === code);
    this.total = c ? c.shown : 0;
    this.list.active = -1;
    this.list.root.scrollTop = 0;
    this.titleEl.textContent = c ? num(c.count) + ' × ' + code + (c.shown < c.count ? ' (' + num(c.shown) + ' with events kept)' : '') + ' · Enter or click to inspect' : 'choose a code';
    for (const b of this.codesEl.children) b.classList.toggle('selected', b.dataset.code === code);
    this.list.setCount(this.total);
    this.list.reset();
    this.fetchVisible();
    this.app.updateHash();
  }

  // focusCodes puts the keyboard on the chosen code (or the first).
  focusCodes() {
    const b = this.codesEl.querySelector('button.selected') || this.codesEl.querySelector('button');
    if (b) b.focus();
  }

  focusFirst() {
    if (this.total > 0 && this.list.active < 0) this.list.active = 0;
    this.list.root.focus();
    this.list.render();
  }

  idAt(k) {
    const p = this.pages.get(Math.floor(k / PAGE));
    if (!p || p === 'loading') return -1;
    const i = k % PAGE;
    return i < p.length ? p[i][R.id] : -1;
  }

  rowAt(k) {
    const p = this.pages.get(Math.floor(k / PAGE));
    if (!p || p === 'loading') return null;
    return p[k % PAGE] || null;
  }

  async fetchVisible() {
    if (!this.visible || !this.code) return;
    const f = this.list.firstRow();
    const h = this.list.root.clientHeight / ROW_H;
    const a = Math.floor(Math.max(0, f - 5) / PAGE), b = Math.floor((f + h + 5) / PAGE);
    const code = this.code;
    for (let p = a; p <= b && p * PAGE < this.total; p++) {
      if (this.pages.has(p)) continue;
      this.pages.set(p, 'loading');
      api.list('list=warnings&code=' + encodeURIComponent(code) + '&offset=' + p * PAGE + '&limit=' + PAGE).then((res) => {
        if (code !== this.code) return;
        for (const r of res.rows) this.app.store.remember(r);
        this.pages.set(p, res.rows);
        this.list.render();
        this.fetchDetails();
      }).catch(() => this.pages.delete(p));
    }
    this.list.render();
    this.fetchDetails();
  }

  fetchDetails() {
    const missing = [];
    for (const k of this.list.rows.keys()) {
      const id = this.idAt(k);
      if (id >= 0 && !this.app.details.get(id)) missing.push(id);
    }
    if (missing.length) this.app.details.want(missing, () => this.list.render());
  }

  row(k) {
    const app = this.app;
    const r = this.rowAt(k);
    const id = r ? r[R.id] : -1;
    const row = document.createElement('div');
    row.className = 'wocc' + (id >= 0 && id === app.selected ? ' selected' : '');
    if (id < 0) { add(row, 'wo-msg muted', '…'); return row; }
    row.dataset.id = String(id);
    row.addEventListener('click', () => { this.list.active = k; app.select(id, { from: 'warnings', row: r }); });
    const d = app.details.get(id);
    add(row, 'wo-time', app.fmtTime(r[R.t]));
    add(row, 'wo-conn', '#' + r[R.conn]);
    add(row, 'wo-pkt', 'pkt ' + r[R.packet]);
    add(row, 'wo-type', TYPE_NAMES[r[R.type]]);
    let msg = '…';
    if (d) {
      const w = (d.event.warnings || []).find((x) => x.code === this.code);
      msg = w ? w.msg : d.event.note || '';
    }
    add(row, 'wo-msg', msg, msg);
    return row;
  }

  onKey(e) {
    const n = this.total;
    if (n === 0) return;
    let k = this.list.active;
    switch (e.key) {
      case 'ArrowDown': case 'j': k = Math.min(n - 1, k + 1); break;
      case 'ArrowUp': case 'k': k = Math.max(0, k - 1); break;
      case 'PageDown': k = Math.min(n - 1, k + 10); break;
      case 'PageUp': k = Math.max(0, k - 10); break;
      case 'Home': k = 0; break;
      case 'End': k = n - 1; break;
      case 'Enter': {
        const id = this.idAt(Math.max(0, k));
        if (id >= 0) this.app.select(id, { from: 'warnings' });
        e.preventDefault(); e.stopPropagation();
        return;
      }
      default: return;
    }
    e.preventDefault();
    e.stopPropagation();
    this.list.active = k;
    this.list.scrollTo(k);
    this.fetchVisible();
    const id = this.idAt(k);
    if (id >= 0) this.app.select(id, { from: 'warnings' });
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
