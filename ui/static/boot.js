// The page's first step. index.html loads it as a classic script after
// the module requests and before the stylesheet (which would make it
// wait); the server inlines it there (ui/routes.go, allowed by its hash in
// the CSP), so it runs as soon as the parser reaches it, with no request
// of its own (as a file, it queued behind the modules'). It opens the
// WebSocket (the status, the first tiles and the connections table,
// app.js), so that what the timeline's first frame needs arrives while
// the browser lays the page out and fetches and compiles the modules, and
// keeps what arrives until the app takes the socket over (takeSocket).
// The modules reach it as window.wsvizBoot. Without it, the socket was
// opened only once the page's layout was done (an async module ran no
// earlier) or every module had been fetched and run, and the first marks
// waited for both one after the other.
'use strict';
window.wsvizBoot = (() => {
  // openSocket opens the page's WebSocket to its own server. With first,
  // and when the address asks for no other view or filter than fit-all,
  // it asks for the first tiles too (ui/firsttiles.go): the tiles of the
  // view that fits the whole capture so far, for as many lanes as the
  // timeline can show, sent between the first status and connections
  // table, so that the timeline's first frame with lanes has marks. The
  // plot's width is guessed before the page's layout (the timeline takes
  // about 70% of the window, less its 258 px of labels), on the wide
  // side: tiles a few levels finer than the view are drawn as well as its
  // own (windows.js forDraw).
  function openSocket(first) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let q = '';
    const h = new URLSearchParams(location.hash.slice(1));
    if (first && !['view', 'dir', 'hide', 'warn', 'conns', 'q'].some((k) => h.has(k))) {
      // outerWidth, not innerWidth: reading innerWidth lays the page out.
      // A new tab may not know its size yet (0): the screen's, then.
      const ow = window.outerWidth || screen.availWidth || 1280, oh = window.outerHeight || screen.availHeight || 800;
      const w = Math.max(100, Math.round(ow * 0.75 - 258));
      boot.outer = window.outerWidth + '×' + window.outerHeight;
      const lanes = Math.min(100, Math.ceil(oh / 30) + 3);
      q = '?fit=' + w + '&lanes=' + lanes;
    }
    const ws = new WebSocket(proto + '//' + location.host + '/ws' + q);
    ws.binaryType = 'arraybuffer';
    return ws;
  }

  // mark records a moment of the start-up (performance.mark) the first
  // time it happens (its time, ms after the navigation; 0 after the first):
  // browsertests/cmd/uibench reads them to say where the time to the first
  // marks goes.
  const marked = new Set();
  function mark(name) {
    if (marked.has(name)) return 0;
    marked.add(name);
    return performance.mark('wsviz:' + name).startTime;
  }

  // early is the socket opened at start-up and what it received before
  // the app took it: null once taken.
  let early = null;

  // takeSocket returns the socket opened at start-up with the messages it
  // received so far (oldest first) and whether it closed, once; null
  // after.
  function takeSocket() {
    const e = early;
    early = null;
    if (e) e.ws.onmessage = e.ws.onclose = e.ws.onopen = null;
    return e;
  }

  // The first frame. With the first tiles asked, the page's own elements
  // are kept out of the layout (html.booting, style.css) and the first
  // marks are drawn here, onto a canvas of this script's own, in the
  // first animation frame after the status, the first tiles and the
  // connections table are in: a frame with no text (no font to load,
  // nothing to shape) and no module to compile or run. Before it, the
  // first marks waited for the page's first layout (150–230 ms of fonts
  // and text), the modules' compiling and the app's start (40–150 ms), and
  // the timeline's first frame (its canvas text and a bitmap per tile,
  // 50–230 ms): docs/ui.md, "First marks". The app waits for this frame
  // (ready) and, in its timeline's first frame, takes over (handOver): the
  // page's elements shown, this frame removed, in the same frame.
  //
  // boot is what the boot frame drew: drawn when it drew marks, at (ms
  // after the navigation) and status (as the summary said then: still
  // reading, how far) like the timeline's firstMarksAt and
  // firstMarksStatus, marks (how many), frame (its element until handOver),
  // why (what kept it from drawing marks, when something did).
  const boot = { drawn: false, at: 0, status: null, marks: 0, frame: null, why: '' };
  let settle;
  const ready = new Promise((resolve) => { settle = resolve; });
  let settled = false;
  // done lets the app start: after the boot frame, or at once when there
  // is nothing it can draw (the page's elements are then shown as before).
  function done(drawn, why) {
    if (settled) return;
    // Why there is no boot frame, among the start-up's marks (uibench).
    if (!drawn) mark('no-boot-frame: ' + (boot.why || why));
    settled = true;
    if (!drawn) document.documentElement.classList.remove('booting');
    settle();
  }

  // handOver removes the boot frame; the app calls it in the frame that
  // draws its timeline first.
  function handOver() {
    document.documentElement.classList.remove('booting');
    if (boot.frame) boot.frame.remove();
    boot.frame = null;
  }

  let status = null, tiles = null, eventless = 0;
  let warmed = null; // the boot frame's canvas (warm)
  function take(data) {
    if (settled) return;
    if (typeof data !== 'string') { tiles = data; return; }
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (m.type === 'status' && !status) {
      if (m.conns > 0 && m.events > 0) { status = m; clearTimeout(eventless); return; }
      // Nothing read yet: a file being read has its first events in a
      // moment, and the server sends the first tiles with the first
      // status that has them (ui/hub.go firstWait): wait for it, 1 s at
      // most. A live capture or a file read to its end without events
      // has nothing to draw.
      if (m.live || m.done) done(false, 'no event');
      else if (!eventless) eventless = setTimeout(() => done(false, 'no event in 1 s'), 1000);
    } else if (m.type === 'conns') {
      if (!status) return; // the table of a status without events
      if (!tiles || m.conns.length === 0) { done(false, 'conns'); return; }
      const conns = m.conns;
      requestAnimationFrame(() => {
        if (settled) return;
        try { drawFirst(status, tiles, conns); } catch (err) { boot.why = String(err); }
        done(boot.drawn, boot.marks + ' marks in view');
      });
    }
  }

  mark('boot');
  const ws = openSocket(true);
  const fit = ws.url.includes('?fit=');
  early = { ws, messages: [], closed: false };
  if (fit) document.documentElement.classList.add('booting');
  else done(false, 'a view or filter asked');
  ws.onopen = () => mark('ws-open');
  ws.onmessage = (m) => {
    if (typeof m.data !== 'string') mark('first-tiles');
    early.messages.push(m.data);
    take(m.data);
  };
  ws.onclose = () => { early.closed = true; done(false, 'closed'); };
  // The canvas's first drawing sets up its raster (40 ms here in a fresh
  // tab): done now, while the socket opens, rather than in the boot frame.
  if (fit) setTimeout(warm, 0);
  // Never keep the app waiting for a frame this script cannot draw: the
  // server sends the status as the socket opens, so a socket not open in
  // 3 s (or nothing to draw in 10 s) lets the app start and say so.
  setTimeout(() => { if (ws.readyState !== WebSocket.OPEN) done(false, 'not open'); }, 3000);
  setTimeout(() => done(false, 'timeout'), 10000);
  return { openSocket, takeSocket, mark, ready, boot, handOver };

  // warm returns the boot frame's canvas, made and drawn on once, at a
  // guess of its size.
  function warm() {
    if (warmed) return warmed;
    warmed = document.createElement('canvas');
    warmed.width = Math.max(300, Math.round(window.outerWidth * 0.7));
    warmed.height = 256;
    warmed.getContext('2d').fillRect(0, 0, 1, 1);
    return warmed;
  }

  // drawFirst draws the first marks: the page's frame without text (the
  // header with the progress bar, the panels' boxes) and, where the
  // timeline will be, its lanes with the first tiles' message bars, at
  // the timeline's geometry (timeline.js: lane height, labels' gutter,
  // the fit-all view and the tiles' bitmaps of windows.js). Where the
  // timeline will be is worked out from style.css's sizes without laying
  // out the page.
  function drawFirst(st, buf, conns) {
    const W = window.innerWidth, Hh = window.innerHeight;
    const dpr = window.devicePixelRatio || 1;
    // style.css: header, filters, main's grid.
    const small = Hh <= 800, wide = W >= 2400;
    const hdr = small ? 40 : 48, flt = small ? 30.5 : 38.5, pad = small ? 6 : 8, gap = pad;
    const head = 34.5, ovH = 44;
    const cw = W - 2 * pad, ch = Hh - hdr - flt - 2 * pad;
    const col1 = Math.max(wide ? 480 : 390, cw * (wide ? 0.24 : 0.29));
    const col3 = Math.max(wide ? 520 : 360, cw * (wide ? 0.30 : 0.32));
    const row1 = Math.max(small ? 180 : 200, ch * (small ? 0.40 : 0.44));
    const top0 = hdr + flt + pad;
    const frame = document.createElement('div');
    frame.id = 'boot-frame';
    const box = (cls, x, y, w, h) => {
      const e = document.createElement('div');
      e.className = cls;
      e.style.left = x + 'px'; e.style.top = y + 'px'; e.style.width = w + 'px'; e.style.height = h + 'px';
      frame.appendChild(e);
      return e;
    };
    box('bf-hdr', 0, 0, W, hdr);
    box('bf-flt', 0, hdr, W, flt);
    // The progress, as the header's bar shows it.
    const pct = st.total > 0 ? Math.min(1, st.read / st.total) : 0;
    const fill = box('bf-bar', Math.max(W * 0.55, W - 14 - 330 - 8 - 140 - 160), hdr / 2 - 3, 140, 6)
      .appendChild(document.createElement('div'));
    fill.style.width = (st.done ? 100 : 100 * pct) + '%';
    if (st.done) fill.className = 'done';
    box('bf-box', pad, top0, col1, row1);
    const tlx = pad + col1 + gap;
    box('bf-box', tlx, top0, W - pad - tlx, row1);
    box('bf-box', pad, top0 + row1 + gap, W - 2 * pad - col3 - gap, ch - row1 - gap);
    box('bf-box', W - pad - col3, top0 + row1 + gap, col3, ch - row1 - gap);
    box('bf-line', tlx + 1, top0 + head, W - pad - tlx - 2, 1);
    // The timeline's canvas (timeline.js draw).
    const X = tlx + 1, Y = top0 + 1 + head, TW = W - pad - 1 - X, TH = row1 - 2 - head - ovH;
    box('bf-line', X, Y + TH, TW, 1);
    const cv = warm();
    cv.width = Math.ceil(TW * dpr); cv.height = Math.ceil(TH * dpr);
    cv.style.left = X + 'px'; cv.style.top = Y + 'px'; cv.style.width = TW + 'px'; cv.style.height = TH + 'px';
    frame.appendChild(cv);
    const c = cv.getContext('2d');
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    boot.marks = drawLanes(c, TW, TH, st, buf, conns);
    if (boot.marks === 0) return; // the app draws the first marks
    boot.why = '';
    document.body.appendChild(frame);
    boot.frame = frame;
    boot.drawn = true;
    boot.at = mark('first-marks');
    boot.status = { done: !!st.done, read: st.read || 0, total: st.total || 0, events: st.events };
  }

  function drawLanes(c, W, H, st, buf, conns) {
    const GUTTER = 250, AXIS_H = 26, MARK_W = 3, COL_PX = 3, TILE_COLS = 256;
    const T_MESSAGE = 8, FROM_SERVER = 2, WARNING = 1, OTHER = '#64748b';
    const KIND = { 1: '#2563eb', 2: '#7c3aed', 9: '#0d9488', 10: '#65a30d', 8: '#ea580c' };
    const STATE = { open: '#2563eb', closed: '#16a34a', unclean: '#d97706', ended: '#d97706', reset: '#dc2626', rejected: '#be123c',
      handshake: '#ca8a04', tcp: '#94a3b8', http: '#0891b2', gap: '#c2410c', midstream: '#7c3aed', tls: '#4f46e5' };
    // timeline.js fullRange, plotW, scale, level.
    let a = 0, b = st.duration;
    if (b - a < 1) { a -= 500; b += 500; }
    const pad = (b - a) * 0.02;
    const v0 = a - pad, v1 = b + pad;
    const plotW = Math.max(10, W - GUTTER - 8);
    const scale = plotW / Math.max(1e-3, v1 - v0);
    const lo = v0 - 20 / scale, hi = v1 + 20 / scale;
    const L = Math.max(0, Math.min(54, Math.round(Math.log2(COL_PX * (v1 - v0) / plotW * 1000))));
    const ids = conns.map((x) => x.id).sort((p, q) => p - q);
    const info = new Map(conns.map((x) => [x.id, x]));
    const laneH = Math.max(30, Math.min(56, Math.floor((H - AXIS_H) / Math.max(1, ids.length))));
    const lane = new Map();
    ids.forEach((id, li) => lane.set(id, li));
    const nShown = Math.min(ids.length, Math.ceil((H - AXIS_H) / laneH));
    c.fillStyle = '#ffffff';
    c.fillRect(0, 0, W, H);
    c.fillStyle = '#cbd5e1';
    c.fillRect(0, AXIS_H - 1, W, 1);
    for (let li = 0; li < nShown; li++) {
      const top = AXIS_H + li * laneH, mid = top + laneH / 2, x = info.get(ids[li]);
      if (li % 2 === 1) { c.fillStyle = '#fafbfc'; c.fillRect(0, top, W, laneH); }
      c.fillStyle = '#f1f5f9';
      c.fillRect(0, top, GUTTER - 6, laneH);
      c.fillStyle = STATE[x.state] || '#94a3b8';
      c.fillRect(0, top + 3, 4, laneH - 6);
      if (x.events > 0) {
        const xa = Math.max(GUTTER, GUTTER + (x.first - v0) * scale), xb = Math.min(W, GUTTER + (x.last - v0) * scale);
        if (xb >= GUTTER && xa <= W) { c.fillStyle = '#cbd5e1'; c.fillRect(xa, mid - 0.5, Math.max(1, xb - xa), 1); }
      }
    }
    // The tiles (windows.js Tiles.read), drawn as their bitmaps would be
    // (timeline.js tileBitmap), if the timeline draws their level too
    // (windows.js forDraw: up to three levels finer, one coarser).
    const dv = new DataView(buf);
    let marks = 0;
    if (buf.byteLength >= 16 && dv.getUint32(0, true) === 0x57535654) {
      const n = dv.getUint32(4, true), TL = dv.getUint8(13);
      boot.why = 'no mark in view: plot ' + Math.round(W) + '×' + Math.round(H) + ', ' + nShown + ' lanes, level ' + L + ', tiles of level ' + TL + ' ×' + n + ' asked as ' + ws.url.slice(ws.url.indexOf('?')) + ' outer ' + boot.outer;
      const colUs = Math.pow(2, TL) / 1000, tileUs = colUs * TILE_COLS;
      const maxH = laneH / 2 - 3;
      const height = (size) => Math.min(maxH, 3 + Math.log2(1 + size) * (maxH - 3) / 16);
      let o = 16;
      for (let e = 0; e < n; e++) {
        const i = dv.getFloat64(o, true), conn = dv.getUint32(o + 8, true), merged = dv.getUint8(o + 12) === 1;
        const nr = dv.getUint32(o + 16, true), nb = dv.getUint32(o + 20, true);
        o += 32;
        const rowsAt = o;
        o += nr * 40;
        const bAt = o;
        o += nb * 24;
        const li = lane.get(conn);
        if (li === undefined || li >= nShown || TL > L + 1 || TL < L - 3) continue;
        const top = AXIS_H + li * laneH, mid = top + laneH / 2;
        const x0 = GUTTER + (i * tileUs - v0) * scale, sx = tileUs * scale / (TILE_COLS * COL_PX);
        const warnMark = (x, y, w) => {
          c.fillStyle = '#dc2626';
          c.beginPath();
          c.moveTo(x - w, y + 6); c.lineTo(x + w, y + 6); c.lineTo(x, y);
          c.closePath();
          c.fill();
        };
        // bar draws a column's bar as the tile's bitmap has it.
        const bar = (col, from, hh, kind, warn) => {
          const x = x0 + col * COL_PX * sx;
          if (x < GUTTER - MARK_W || x > W) return false;
          c.fillStyle = KIND[kind] || OTHER;
          if (from === FROM_SERVER) c.fillRect(x, mid + 1, MARK_W * sx, hh);
          else c.fillRect(x, mid - 1 - hh, MARK_W * sx, hh);
          if (warn) warnMark(x + MARK_W * sx / 2, top + 1, 4 * sx);
          return true;
        };
        if (merged) {
          for (let k = 0, q = bAt; k < nb; k++, q += 24) {
            if (bar(dv.getUint16(q, true), dv.getUint8(q + 2), height(dv.getFloat64(q + 16, true)), dv.getUint8(q + 3), dv.getUint32(q + 8, true) > 0)) marks++;
          }
        }
        // The events one by one (timeline.js drawTile): each in view is a
        // mark; messages are bars (merged per column and direction, the
        // tallest), the others drawn as drawOther does, without text.
        const t0 = i * tileUs;
        const pend = [null, null];
        const flush = (d) => { const p = pend[d]; if (p) bar(p.b, d === 1 ? FROM_SERVER : 1, p.h, p.k, p.w); pend[d] = null; };
        for (let k = 0, q = rowsAt; k < nr; k++, q += 40) {
          const t = dv.getFloat64(q, true);
          if (t < lo || t > hi) continue;
          marks++;
          const type = dv.getUint8(q + 32), flags = dv.getUint8(q + 35);
          if (type === T_MESSAGE) {
            if (merged) continue; // in the buckets
            const b = Math.floor((t - t0) / colUs);
            const d = dv.getUint8(q + 33) === FROM_SERVER ? 1 : 0;
            const hh = height(dv.getFloat64(q + 8, true));
            let p = pend[d];
            if (p && p.b !== b) { flush(d); p = null; }
            if (!p) p = pend[d] = { b, h: 0, k: 0, w: false };
            if (hh >= p.h) { p.h = hh; p.k = dv.getUint8(q + 34); }
            p.w = p.w || (flags & WARNING) !== 0;
            continue;
          }
          const x = GUTTER + (t - v0) * scale;
          if (x < GUTTER - 8) continue;
          drawOther(c, type, dv.getUint8(q + 33), dv.getUint8(q + 34), flags, dv.getFloat64(q + 8, true), Math.round(x), mid, laneH);
          if (flags & WARNING) warnMark(x, top + 1, 4);
        }
        flush(0); flush(1);
      }
    }
    return marks;
  }

  // drawOther draws an event other than a message as timeline.js's
  // drawOther does, the HTTP response's pill without its text.
  function drawOther(c, type, from, kind, flags, size, x, mid, laneH) {
    const UPGRADE = 8, FROM_SERVER = 2;
    switch (type) {
      case 1: // tcp.open
        c.fillStyle = '#16a34a';
        c.fillRect(x - 1, mid - 11, 2, 22);
        c.fillRect(x - 1, mid - 11, 6, 2);
        c.fillRect(x - 1, mid + 9, 6, 2);
        break;
      case 2: // tcp.close: fin, rst, end, evicted
        c.fillStyle = kind === 2 ? '#dc2626' : '#475569';
        if (kind === 3 || kind === 4) {
          for (let y = mid - 11; y < mid + 11; y += 4) c.fillRect(x - 1, y, 2, 2);
        } else {
          c.fillRect(x - 1, mid - 11, 2, 22);
          c.fillRect(x - 5, mid - 11, 6, 2);
          c.fillRect(x - 5, mid + 9, 6, 2);
        }
        break;
      case 4: // http.request
        c.fillStyle = (flags & UPGRADE) ? '#ca8a04' : '#0891b2';
        c.fillRect(x, mid - 9, 1, 8);
        break;
      case 5: { // http.response
        const upgrade = (flags & UPGRADE) !== 0;
        c.fillStyle = size === 101 ? '#ca8a04' : upgrade ? '#be123c' : '#0891b2';
        const w = size === 101 ? 34 : 26, y = laneH >= 40 ? mid + 5 : mid + 2, r = 6;
        c.beginPath();
        c.moveTo(x + 2 + r, y);
        c.arcTo(x + 2 + w, y, x + 2 + w, y + 13, r);
        c.arcTo(x + 2 + w, y + 13, x + 2, y + 13, r);
        c.arcTo(x + 2, y + 13, x + 2, y, r);
        c.arcTo(x + 2, y, x + 2 + w, y, r);
        c.closePath();
        c.fill();
        break;
      }
      case 6: // ws.open
        c.fillStyle = '#ca8a04';
        c.beginPath();
        c.moveTo(x, mid - 6); c.lineTo(x + 6, mid); c.lineTo(x, mid + 6); c.lineTo(x - 6, mid);
        c.closePath();
        c.fill();
        break;
      case 9: // http.error
        c.fillStyle = '#dc2626';
        c.fillRect(x - 3, mid - 3, 7, 7);
        break;
      case 3: // tcp.gap
        c.fillStyle = '#c2410c';
        c.fillRect(x - 1, mid - 8, 3, 16);
        c.fillRect(x - 4, mid - 1, 9, 2);
        break;
      case 7: { // ws.frame drawn on its own
        const KIND = { 1: '#2563eb', 2: '#7c3aed', 9: '#0d9488', 10: '#65a30d', 8: '#ea580c' };
        c.strokeStyle = KIND[kind] || '#64748b';
        c.lineWidth = 2;
        c.strokeRect(x - 3, from === FROM_SERVER ? mid + 3 : mid - 10, 7, 7);
        c.lineWidth = 1;
        break;
      }
      default:
        c.fillStyle = '#64748b';
        c.fillRect(x, mid - 2, 2, 4);
    }
  }
})();
