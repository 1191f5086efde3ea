// Formatting helpers. Nothing here touches the DOM.

// num writes a count with thousands separators (12,345), as
// Intl.NumberFormat('en-US') does. Integers are written here: making the
// first Intl.NumberFormat costs tens of milliseconds (its locale data),
// which the page's start-up paid before its first marks; other numbers
// go through one made when first needed.
let nf = null;
export function num(n) {
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) {
    const s = String(Math.abs(n));
    let out = '';
    for (let i = s.length; i > 0; i -= 3) out = s.slice(Math.max(0, i - 3), i) + (out ? ',' + out : '');
    return (n < 0 ? '-' : '') + out;
  }
  if (!nf) nf = new Intl.NumberFormat('en-US');
  return nf.format(n);
}

export function bytes(n) {
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = -1;
  do { v /= 1024; u++; } while (v >= 1024 && u < units.length - 1);
  return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ' + units[u];
}

// duration formats microseconds for humans: 1.25 s, 340 ms, 12.5 µs.
export function duration(us) {
  const a = Math.abs(us);
  if (a >= 3600e6) return (us / 3600e6).toFixed(2) + ' h';
  if (a >= 60e6) return (us / 60e6).toFixed(2) + ' min';
  if (a >= 1e6) return trim((us / 1e6).toFixed(3)) + ' s';
  if (a >= 1e3) return trim((us / 1e3).toFixed(3)) + ' ms';
  if (a >= 1) return trim(us.toFixed(3)) + ' µs';
  if (a === 0) return '0 s';
  return trim((us * 1e3).toFixed(1)) + ' ns';
}

function trim(s) { return s.includes('.') ? s.replace(/\.?0+$/, '') : s; }

// rel formats a time relative to the capture start: +1.250 s.
export function rel(us) { return (us < 0 ? '−' : '+') + duration(Math.abs(us)); }

// absolute formats the capture start (t0sec, t0nsec) plus us microseconds as
// an ISO 8601 UTC time with nanoseconds.
export function absolute(t0sec, t0nsec, us) {
  let ns = t0nsec + Math.round(us * 1000);
  let sec = t0sec + Math.floor(ns / 1e9);
  ns = ((ns % 1e9) + 1e9) % 1e9;
  const d = new Date(sec * 1000);
  const iso = d.toISOString(); // ...T12:34:56.000Z
  return iso.slice(0, 19) + '.' + String(ns).padStart(9, '0') + 'Z';
}

// absShort formats the time of day of the capture start plus us
// microseconds, UTC, to the microsecond: 12:34:56.123456.
export function absShort(t0sec, t0nsec, us) {
  return absolute(t0sec, t0nsec, us).slice(11, 26);
}

// niceStep returns a round tick step (1, 2, 5 × 10^k microseconds) so that
// ticks are at least minUs apart.
export function niceStep(minUs) {
  if (!(minUs > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(minUs)));
  for (const m of [1, 2, 5, 10]) if (m * p >= minUs) return m * p;
  return 10 * p;
}

// hexDump formats bytes like `xxd`: offset, 16 bytes in hex, printable ASCII.
export function hexDump(b, max) {
  const n = Math.min(b.length, max);
  const lines = [];
  for (let off = 0; off < n; off += 16) {
    let hex = '', asc = '';
    for (let i = 0; i < 16; i++) {
      if (off + i < n) {
        const c = b[off + i];
        hex += c.toString(16).padStart(2, '0') + (i === 7 ? '  ' : ' ');
        asc += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
      } else {
        hex += i === 7 ? '    ' : '   ';
      }
    }
    lines.push(off.toString(16).padStart(8, '0') + '  ' + hex + ' ' + asc);
  }
  return lines.join('\n');
}

// ranges turns ascending ids into "a-b,c" for the export form.
export function ranges(ids, n) {
  const out = [];
  let lo = -1, hi = -1;
  for (let k = 0; k < n; k++) {
    const id = ids[k];
    if (id === hi + 1) { hi = id; continue; }
    if (lo >= 0) out.push(lo === hi ? String(lo) : lo + '-' + hi);
    lo = hi = id;
  }
  if (lo >= 0) out.push(lo === hi ? String(lo) : lo + '-' + hi);
  return out.join(',');
}
