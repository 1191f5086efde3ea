package browsertests

import (
	"io"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
)

// wssPage is the page a browser loads from the TLS server of the wss://
// test and recorders (TestChromiumWSS, cmd/firefoxcap): it opens a
// WebSocket over wss:// to the same server, sends messages of every shape
// (text, Unicode, JSON, one spanning several TLS records, binary of the
// sizes where the frame length changes form), logs each as it sends it
// (window.sent), waits for the server's echo of every one, and closes
// (window.done; window.error on a WebSocket error).
const wssPage = `<!doctype html><meta charset="utf-8"><title>wss</title><script>
window.sent = []; window.got = 0; window.done = false; window.error = '';
const b64 = (u) => { let s = ''; for (const x of u) s += String.fromCharCode(x); return btoa(s); };
const ws = new WebSocket('wss://' + location.host + '/ws');
ws.binaryType = 'arraybuffer';
const texts = ['hello from BROWSER', 'ünïcödé ✓ 🚀', JSON.stringify({type: 'chat', users: ['ada', 'bob'], n: 7}), 'x'.repeat(70000) + 'end'];
const sizes = [0, 1, 125, 126, 65535, 65536, 100000];
let want = 0;
ws.onopen = () => {
  for (const t of texts) { ws.send(t); sent.push({opcode: 'text', text: t}); }
  for (const n of sizes) {
    const u = new Uint8Array(n);
    for (let i = 0; i < n; i++) u[i] = (i * 7 + n) & 255;
    ws.send(u); sent.push({opcode: 'binary', base64: b64(u)});
  }
  want = sent.length;
};
ws.onmessage = () => { if (++window.got === want) ws.close(1000, 'done'); };
ws.onerror = () => { window.error = 'websocket error'; };
ws.onclose = () => { window.done = true; };
</script>`

// WSSHandler serves the wss:// page (at /, its first text naming browser)
// and its WebSocket (at /ws): gorilla/websocket with permessage-deflate
// accepted, echoing every message; sent is called with each echo once it
// is written, what the server logs it sent.
func WSSHandler(browser string, sent func(text bool, payload []byte)) http.Handler {
	up := websocket.Upgrader{EnableCompression: true, CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.Replace(wssPage, "BROWSER", browser, 1))
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, b); err != nil {
				return
			}
			sent(mt == websocket.TextMessage, b)
		}
	})
	return mux
}
