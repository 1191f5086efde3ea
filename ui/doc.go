// Package ui serves the browser timeline of wsviz: a web server with an
// embedded page that shows the events of one capture as they are decoded.
//
// The caller (cmd/wsviz) wires a source to a Server: it Publishes each
// analyze.Event in capture order, reports Progress, SetStats for live
// captures and Done at the end, and serves Handler. ui consumes events and
// nothing else: it knows nothing of packets or of the analyzer's state.
//
// The server keeps every event on disk, in the spill store
// (ui/internal/spill): details and payloads in compressed blocks, compact
// rows per connection under trees of summaries, a few bytes an event in
// memory. The page never holds every event: it asks for windows of what
// it draws (/api/window, /api/overview), pages of the Messages and
// Warnings panels (/api/list, /api/warnings) and the details of the events
// it shows. Browser tabs get the status, the connections and the first
// events (as many as they ask for, /ws?limit=N) over a WebSocket in binary
// columnar batches; each tab has a bounded queue, and a tab that falls
// behind is told so and re-synced from the store instead of ever blocking
// the capture.
//
// The page (static/) is plain HTML, CSS and JavaScript modules with no build
// step. It draws the timeline on a canvas with level of detail from the
// server's windows (static/windows.js) and keeps the first events in typed
// arrays for the ladder and the keys; its Ladder, Messages and Warnings
// panels are virtual lists, the Messages and Warnings panels paged from the
// server. Captured payloads are hostile: the page renders them with
// textContent only, and every response carries a Content-Security-Policy
// that allows no foreign script and no inline one but the page's first step
// (static/boot.js, which the server inlines and allows by its hash).
//
// The package also writes HAR 1.2 logs of WebSocket connections (HAR,
// WriteHAR), from one pass over the spill store, each connection's
// messages kept in a temporary file until it is written: the same code
// serves the page's export and `wsviz har`, so both write the same bytes.
//
// WebSocket over HTTP/2 (RFC 8441) puts several WebSockets on one
// connection, one per stream: rows keep each event's stream, the ladder
// can show one stream's steps, a connection's state sums up its
// WebSockets' (ConnState), and the HAR has an entry per WebSocket stream.
package ui
