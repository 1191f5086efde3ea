// TLS on the ladder and in the inspector: the handshake as its messages
// (ClientHello with its server name and application protocols, ServerHello
// with the version and suite, the encrypted flight, Finished), what each
// decoded message travelled in, and the view of a connection as the
// network sees it: TLS records, their sizes and times, nothing of what they
// hold. The facts come from the events (tls.*, and the "tls_records" that
// list the records that carried an event); nothing here is invented.
// Captured text goes in with textContent only (the callers' rows).

import { T } from './data.js';
import { num } from './format.js';

// CARRIED lists the event types that say which records carried them
// (analyze.Carried).
const CARRIED = new Set([T.httpReq, T.httpResp, T.wsMessage, T.tlsMessage, T.tlsAlert]);

// HIDDEN lists the event types that are decoded from a TLS connection's
// plaintext but list no record of their own: the network view of a TLS
// connection draws them faint, as no record of their own. (An HTTP/2
// stream's end is a frame, END_STREAM or RST_STREAM, but analyze.Carried
// lists the record it came in with the next step of its side.)
const HIDDEN = new Set([T.wsOpen, T.wsFrame, T.httpError, T.h2Close]);

export function isTLSType(t) {
  return t === T.tlsHandshake || t === T.tlsMessage || t === T.tlsAlert || t === T.tlsRecord;
}

// onWire reports whether an event of type t of a TLS connection put
// records of its own on the wire (the network view draws the others faint).
export function onWire(t) { return !HIDDEN.has(t); }

// messageName writes a handshake message type as RFC 8446 names the
// structure: client_hello → ClientHello.
export function messageName(m) {
  return String(m || 'handshake message').split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

function records(ev) { return ev && Array.isArray(ev.tls_records) ? ev.tls_records : []; }

// wireBytes returns the number of records that carried ev and their bytes.
export function wireBytes(ev) {
  const list = records(ev);
  let n = list.length, sum = 0;
  for (const r of list) sum += r.len;
  if (ev && ev.tls_records_more) { n += ev.tls_records_more; sum += ev.tls_records_more_len || 0; }
  return { n, sum };
}

// recordsText says what records carried ev: "1 TLS record of 1,069 bytes",
// "5 TLS records, 21,797 bytes".
export function recordsText(ev) {
  const { n, sum } = wireBytes(ev);
  if (n === 0) return '';
  return n === 1 ? '1 TLS record of ' + num(sum) + ' bytes' : num(n) + ' TLS records, ' + num(sum) + ' bytes';
}

// sentNote is the end of the note of an event decoded from a TLS
// connection's plaintext: how it travelled.
export function sentNote(ev) {
  const { n, sum } = wireBytes(ev);
  if (n === 0) return 'travelled encrypted, in the TLS record of the step before';
  return 'travelled encrypted: ' + (n === 1 ? '1 TLS record, ' : num(n) + ' TLS records, ') + num(sum) + ' bytes on the wire';
}

// tlsStep says how to draw a tls.* event in the view of what was sent:
// label, colour and direction, from its details ev when loaded.
export function tlsStep(type, ev, dir, note, from) {
  switch (type) {
    case T.tlsHandshake: {
      let label = 'TLS handshake';
      if (ev) {
        const parts = [];
        if (ev.version) parts.push(ev.version);
        if (ev.cipher_suite) parts.push(ev.cipher_suite);
        if (ev.resumed) parts.push('resumed');
        parts.push(ev.keys ? 'keys ✓' : 'no keys');
        label = parts.join(' · ');
      }
      return { dir: 'band', color: 'c-tls', label, note };
    }
    case T.tlsMessage: {
      if (!ev) return { dir, color: 'c-tls', label: 'TLS handshake message', note };
      let label = messageName(ev.message);
      if (ev.sni) label += ' · SNI ' + ev.sni;
      if (Array.isArray(ev.alpn_offered) && ev.alpn_offered.length) label += ' · ALPN ' + ev.alpn_offered.join(', ');
      if (ev.version) label += ' · ' + ev.version + ' · ' + ev.cipher_suite;
      if (ev.alpn) label += ' · ALPN ' + ev.alpn;
      return { dir, color: 'c-tls', dashed: ev.message === 'change_cipher_spec', label, note, lock: !!ev.encrypted };
    }
    case T.tlsAlert: {
      const fatal = ev && ev.level === 'fatal';
      const label = 'alert ' + (ev ? ev.alert : '');
      return { dir, color: fatal ? 'c-rst' : 'c-tls', label, note, lock: !!(ev && ev.encrypted) };
    }
    case T.tlsRecord: {
      const len = ev ? ev.record_len : 0;
      let label = 'TLS record' + (len ? ' · ' + num(len) + ' B' : '');
      if (ev && ev.warnings && ev.warnings.length) label += ' · ⚠ ' + ev.warnings.map((w) => w.code).join(', ');
      else if (ev) label += ' · unreadable';
      return { dir, color: 'c-tls', dashed: true, lock: true, label, note: note || 'the ' + from + ' sent a TLS record that could not be read' };
    }
  }
  return null;
}

// wireStep says how to draw event type (its details ev) of a TLS connection
// as the network sees it: the records it came in, their sizes, and the
// hellos that travel in clear; null to draw it as sent (TCP packets, gaps,
// the summary of the handshake).
export function wireStep(type, ev, dir, from) {
  if (type === T.tlsHandshake) {
    // What the hellos, in clear, tell anyone on the path.
    const s = tlsStep(type, ev, dir, '', from);
    if (!ev) return s;
    s.label = [ev.version, ev.cipher_suite].filter(Boolean).join(' · ') || 'TLS';
    const told = [];
    if (ev.version) told.push(ev.version + ' with ' + ev.cipher_suite);
    if (ev.sni) told.push('the server name ' + ev.sni);
    if (ev.version === 'TLS 1.2' && ev.alpn) told.push('the application protocol ' + ev.alpn);
    else if (Array.isArray(ev.alpn_offered) && ev.alpn_offered.length) told.push('the protocols offered (' + ev.alpn_offered.join(', ') + ')');
    s.note = (told.length ? 'the hellos, in clear, tell anyone on the path ' + told.join(', ') : 'the handshake was not captured') +
      '; what follows is only records, their sizes and times';
    return s;
  }
  if (!CARRIED.has(type) && type !== T.tlsRecord) return null;
  if (type === T.tlsMessage && ev && !ev.encrypted) {
    // Hellos and change_cipher_spec are in clear: anyone on the path reads them.
    const s = tlsStep(type, ev, dir, '', from);
    s.note = 'in clear: anyone on the path reads this ' + messageName(ev.message) + recordSuffix(ev) +
      (ev.sni ? ', including the server name ' + ev.sni : '');
    return s;
  }
  if (type === T.tlsRecord) {
    const len = ev ? ev.record_len : 0;
    return {
      dir, color: 'c-tls', lock: true,
      label: (ev ? ev.record_type : 'TLS record') + (len ? ' · ' + num(len) + ' B' : ''),
      note: 'the network sees an encrypted record of ' + num(len) + ' bytes from the ' + from + '; nobody without the keys reads it',
    };
  }
  if (!ev) return { dir, color: 'c-tls', label: 'TLS records', note: '' };
  const list = records(ev);
  const { n, sum } = wireBytes(ev);
  if (n === 0) {
    return {
      dir, color: 'c-tls', dashed: true, faint: true, label: 'no record of its own',
      note: 'nothing more on the wire: these bytes were in the record of the step before',
    };
  }
  const outer = list.length ? list[0].type || 'application_data' : 'application_data';
  const label = n === 1 ? outer + ' · ' + num(sum) + ' B' : num(n) + ' records · ' + num(sum) + ' B';
  const sizes = list.slice(0, 8).map((r) => num(r.len)).join(' + ') + (n > 8 ? ' + …' : '');
  const pk = list.length ? list[0].packet + (list.length > 1 ? '–' + list[list.length - 1].packet : '') : '';
  const note = 'the network sees ' + (n === 1 ? 'an encrypted record of ' + num(sum) + ' bytes' :
    num(n) + ' encrypted records (' + sizes + ' bytes)') + ' from the ' + from +
    (pk ? ', packet' + (list.length > 1 ? 's ' : ' ') + pk : '') + ': its size and time, not what it holds';
  return { dir, color: 'c-tls', label, note, lock: true };
}

function recordSuffix(ev) {
  const r = recordsText(ev);
  return r ? ' (' + r + ')' : '';
}

// recordsList writes the records that carried ev as rows of a definition
// list (the inspector's "On the wire" section): type, bytes, packet.
export function recordsList(ev, addField) {
  const list = records(ev);
  if (!list.length) return null;
  const dl = document.createElement('dl');
  dl.className = 'fields packets';
  list.forEach((r, i) => addField(dl, 'record ' + (i + 1), (r.type || 'application_data') + ' · ' + num(r.len) + ' bytes · packet ' + r.packet));
  if (ev.tls_records_more) addField(dl, 'more', num(ev.tls_records_more) + ' records, ' + num(ev.tls_records_more_len) + ' bytes');
  return dl;
}
