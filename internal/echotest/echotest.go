// Package echotest runs the WebSocket echo servers and clients that the
// live-capture tests talk through on loopback.
package echotest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// Handler upgrades to WebSocket (offering permessage-deflate when compress
// is set) and answers every message with "re:" and the message.
func Handler(compress bool) http.Handler {
	up := websocket.Upgrader{EnableCompression: compress}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(typ, append([]byte("re:"), msg...)); err != nil {
				return
			}
		}
	})
}

// Server runs Handler on a random loopback port until the test ends and
// returns the port and the ws:// URL.
func Server(t testing.TB, compress bool) (port int, url string) {
	t.Helper()
	srv := httptest.NewServer(Handler(compress))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// Dial opens a client connection to url that is closed when the test ends.
func Dial(t testing.TB, url string, compress bool) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{EnableCompression: compress}
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
