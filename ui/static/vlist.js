// VList is a virtual list over an index: it knows only how many rows there
// are and asks its owner for the element of row k when that row scrolls into
// view, so a list of millions of rows costs the DOM the few dozen in view.
// Row k lives wherever the owner's index says (a typed array of ids today,
// pages fetched from the server later): VList never holds the data.
//
// Browsers cap an element's height (about 16 million pixels in Firefox, 33
// in Chromium), so past MAX_PX the spacer is capped and scrolling maps the
// scroll position onto the rows proportionally.

const MAX_PX = 8_000_000;

export class VList {
  // root is the scrolling element (its first child a spacer div); rowH the
  // height of a row in pixels; render(k) returns the element of row k.
  constructor(root, rowH, render) {
    this.root = root;
    this.spacer = root.firstElementChild;
    this.rowH = rowH;
    this.renderRow = render;
    this.n = 0;
    this.rows = new Map(); // row index -> element
    this.keyOf = () => '';
    this.active = -1; // the row with the keyboard cursor
    this.onScroll = null; // called after a scroll has been drawn
    this.renderMs = []; // the time each render took, for the tests (last 200)
    root.addEventListener('scroll', () => { this.render(); if (this.onScroll) this.onScroll(); });
    new ResizeObserver(() => this.render()).observe(root);
  }

  // setCount sets the number of rows; it keeps the scroll position.
  setCount(n) {
    if (n !== this.n) {
      this.n = n;
      this.spacer.style.height = Math.min(n * this.rowH, MAX_PX) + 'px';
    }
    this.render();
  }

  // reset drops every row element, so that they are built again.
  reset() {
    for (const el of this.rows.values()) el.remove();
    this.rows.clear();
    this.render();
  }

  get total() { return this.n * this.rowH; }
  get shown() { return Math.min(this.total, MAX_PX); }

  // firstRow is the (fractional) row at the top of the view.
  firstRow() {
    const max = this.shown - this.root.clientHeight;
    if (this.total <= MAX_PX || max <= 0) return this.root.scrollTop / this.rowH;
    const f = Math.min(1, this.root.scrollTop / max);
    return f * Math.max(0, this.n - this.root.clientHeight / this.rowH);
  }

  // rowTop is where row k is drawn, in the spacer's coordinates, given the
  // first row f and the scroll position (read once per draw: reading them
  // after changing rows would lay the page out again for every row).
  rowTop(k, f, scrollTop) {
    return scrollTop + (k - f) * this.rowH;
  }

  render() {
    const start = performance.now();
    this.draw();
    this.renderMs.push(performance.now() - start);
    if (this.renderMs.length > 200) this.renderMs.shift();
  }

  draw() {
    const h = this.root.clientHeight;
    const top = this.root.scrollTop;
    const f = this.firstRow();
    const first = Math.max(0, Math.floor(f) - 2);
    const last = Math.min(this.n, Math.ceil(f + h / this.rowH) + 2);
    for (const [k, el] of this.rows) {
      if (k < first || k >= last) { el.remove(); this.rows.delete(k); }
    }
    for (let k = first; k < last; k++) {
      let el = this.rows.get(k);
      const key = this.keyOf(k) + (k === this.active ? ':a' : '');
      if (!el || el.dataset.key !== key) {
        const fresh = this.renderRow(k);
        fresh.dataset.key = key;
        fresh.dataset.row = String(k);
        fresh.classList.add('vrow');
        fresh.classList.toggle('active', k === this.active);
        if (el) el.replaceWith(fresh); else this.root.appendChild(fresh);
        this.rows.set(k, fresh);
        el = fresh;
      }
      el.style.top = this.rowTop(k, f, top) + 'px';
    }
  }

  // scrollTo brings row k into view.
  scrollTo(k) {
    if (k < 0 || k >= this.n) return;
    const h = this.root.clientHeight;
    const f = this.firstRow();
    if (k >= f && k + 1 <= f + h / this.rowH) return;
    const target = Math.max(0, k - Math.floor(h / this.rowH / 3));
    if (this.total <= MAX_PX) {
      this.root.scrollTop = target * this.rowH;
    } else {
      const max = this.shown - h;
      this.root.scrollTop = max * target / Math.max(1, this.n - h / this.rowH);
    }
    this.render();
  }

  // rowAt returns the row under client y, or -1.
  rowAt(clientY) {
    const r = this.root.getBoundingClientRect();
    const k = Math.floor(this.firstRow() + (clientY - r.top) / this.rowH);
    return k >= 0 && k < this.n ? k : -1;
  }
}
