// Package ui serves the browser timeline of wsviz: a web server with an
// embedded page that shows the events of one capture as they are decoded.
//
// The caller (cmd/wsviz) wires a source to a Server: it Publishes each
// analyze.Event in capture order, reports Progress, SetStats for live
// captures and Done at the end, and serves Handler. ui consumes events and
// nothing else: it knows nothing of packets or of the analyzer's state.
//
// Memory stays bounded however large the capture: the server keeps a
// compact index of every event (time, connection, type, direction, opcode,
// size, flags) and writes each event's details and payload to a spill file,
// from which the page fetches them when shown. Browser tabs get events over
// a WebSocket in binary columnar batches; each tab has a bounded queue, and
// a tab that falls behind is told so and re-synced from the store instead
// of ever blocking the capture.
//
// The page (static/) is plain HTML, CSS and JavaScript modules with no build
// step. It draws the timeline on a canvas with level of detail and keeps
// events in typed arrays; its Ladder, Messages and Warnings panels are
// virtual lists over indexes (the Warnings panel pages through the server's
// warnings index, /api/warnings), and every request it makes goes through
// one module (static/data.js), so that a server-backed store can stand in. Captured payloads are hostile: the page renders
// them with textContent only, and every response carries a
// Content-Security-Policy that allows no inline or foreign script.
//
// The package also writes HAR 1.2 logs of WebSocket connections (HAR,
// WriteHAR), streamed connection by connection from a spill file: the same
// code serves the page's export and `wsviz har`, so both write the same
// bytes.
package ui
