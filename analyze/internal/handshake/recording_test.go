package handshake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// chunk is what one Read or Write on the client's connection carried.
type chunk struct {
	client bool // written by the client; false: read from the server
	data   []byte
}

// recording records the bytes of a client's connections both ways, in
// the order the client saw them.
type recording struct {
	mu     sync.Mutex
	chunks []chunk
	dials  int
}

func (r *recording) add(client bool, p []byte) {
	if len(p) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, chunk{client, bytes.Clone(p)})
}

func (r *recording) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.dials++
	r.mu.Unlock()
	return &recordedConn{Conn: c, r: r}, nil
}

// stream returns all bytes one side sent.
func (r *recording) stream(client bool) []byte {
	var b []byte
	for _, c := range r.chunks {
		if c.client == client {
			b = append(b, c.data...)
		}
	}
	return b
}

type recordedConn struct {
	net.Conn
	r *recording
}

func (c *recordedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.add(false, p[:n])
	return n, err
}

// Write records before writing, so that no answer can be recorded before
// the request that caused it.
func (c *recordedConn) Write(p []byte) (int, error) {
	c.r.add(true, p)
	return c.Conn.Write(p)
}

// recordGorilla runs a gorilla/websocket client against a gorilla server
// over loopback, both with compression and a subprotocol, and records the
// client's connection.
func recordGorilla(t *testing.T) *recording {
	upgrader := websocket.Upgrader{
		EnableCompression: true,
		Subprotocols:      []string{"chat.v2"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			op, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(op, msg); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	rec := &recording{}
	dialer := websocket.Dialer{
		EnableCompression: true,
		Subprotocols:      []string{"chat.v1", "chat.v2"},
		NetDialContext:    rec.dial,
	}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/echo?room=1", nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	resp.Body.Close()
	for i, size := range []int{0, 1, 125, 126, 5000} {
		msg := bytes.Repeat([]byte{'a' + byte(i)}, size)
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatalf("WriteMessage: %v", err)
		}
		if _, got, err := conn.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("ReadMessage = %d bytes, %v; want the echo of %d bytes", len(got), err, size)
		}
	}
	conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	conn.Close()
	return rec
}

// decodeRecording feeds the chunks of a recording, each as one packet,
// cut at random points when rng is not nil.
func decodeRecording(t *testing.T, chunks []chunk, rng *rand.Rand) *driver {
	d := newDriver(t)
	for i, c := range chunks {
		data := c.data
		for len(data) > 0 {
			k := len(data)
			if rng != nil {
				k = 1 + rng.IntN(len(data))
			}
			d.feed(c.client, bytes.Clone(data[:k]), int64(i+1))
			data = data[k:]
		}
	}
	return d
}

func TestGorillaRecording(t *testing.T) {
	rec := recordGorilla(t)
	if rec.dials != 1 {
		t.Fatalf("%d connections dialled, want 1", rec.dials)
	}
	clientStream, serverStream := rec.stream(true), rec.stream(false)
	reqEnd := bytes.Index(clientStream, []byte("\r\n\r\n")) + 4
	respEnd := bytes.Index(serverStream, []byte("\r\n\r\n")) + 4
	if reqEnd < 4 || respEnd < 4 {
		t.Fatalf("no heads in the recording:\n%q\n%q", clientStream, serverStream)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	orders := map[string][]chunk{
		"as recorded": rec.chunks,
		// Everything the client sent first: its frames are held until the 101.
		"client first": {{true, clientStream}, {false, serverStream}},
	}
	for name, chunks := range orders {
		for round := range 10 {
			how := fmt.Sprintf("%s, round %d", name, round)
			var d *driver
			if round == 0 {
				d = decodeRecording(t, chunks, nil)
			} else {
				d = decodeRecording(t, chunks, rng)
			}
			if len(d.rec.reqs) != 1 || len(d.rec.resps) != 1 || len(d.rec.ups) != 1 {
				t.Fatalf("%s: callbacks %q, state %v, err %v; want request, response, upgrade", how, d.rec.log, d.c.State(), d.c.Err())
			}
			req, u := d.rec.reqs[0], d.rec.ups[0]
			if !req.Upgrade || len(req.Problems) != 0 || req.Target != "/echo?room=1" {
				t.Errorf("%s: request %s, problems %v; want an upgrade of /echo?room=1 without problems", how, d.rec.log[0], req.Problems)
			}
			if !strings.Contains(req.Extensions, "permessage-deflate") {
				t.Errorf("%s: request Extensions = %q, want a permessage-deflate offer", how, req.Extensions)
			}
			if got := d.rec.resps[0].Header.Get("Sec-WebSocket-Accept"); got != Accept(req.Key) {
				t.Errorf("%s: Sec-WebSocket-Accept = %q, want Accept(%q) = %q", how, got, req.Key, Accept(req.Key))
			}
			want := Upgrade{
				Path:        "/echo?room=1",
				Subprotocol: "chat.v2",
				Offered:     []string{"chat.v1", "chat.v2"},
				Extensions:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
				Deflate:     &Deflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
				Accept:      "ok",
			}
			if got := upgradeString(u); got != upgradeString(&want) || len(u.Problems) != 0 {
				t.Errorf("%s: upgrade\n got %s %v\nwant %s", how, got, u.Problems, upgradeString(&want))
			}
			if !bytes.Equal(d.ws[0], clientStream[reqEnd:]) {
				t.Errorf("%s: client WebSocket bytes are %d bytes, want the %d after the request head", how, len(d.ws[0]), len(clientStream)-reqEnd)
			}
			if !bytes.Equal(d.ws[1], serverStream[respEnd:]) {
				t.Errorf("%s: server WebSocket bytes are %d bytes, want the %d after the response head", how, len(d.ws[1]), len(serverStream)-respEnd)
			}
		}
	}
	// The first client frame is a masked, compressed text frame: the bytes
	// handed over start at a frame boundary (RFC 6455 §5.2, RFC 7692 §6).
	if b := clientStream[reqEnd:]; len(b) < 2 || b[0]&0x0f != 0x1 || b[1]&0x80 == 0 {
		t.Errorf("client WebSocket bytes start %x, want a masked text frame", b[:min(len(b), 2)])
	}
}

// TestNetHTTPKeepAlive records net/http's client and server over one
// keep-alive connection (fixed, chunked and empty bodies, HEAD, a chunked
// request body), then an upgrade on the same connection answered by a
// gorilla server.
func TestNetHTTPKeepAlive(t *testing.T) {
	upgrader := websocket.Upgrader{EnableCompression: true}
	mux := http.NewServeMux()
	mux.HandleFunc("/fixed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "11")
		io.WriteString(w, "fixed body.")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "part %d of a chunked body\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.WriteMessage(websocket.TextMessage, []byte("hello hello hello hello"))
		if op, msg, err := conn.ReadMessage(); err == nil {
			conn.WriteMessage(op, msg)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	rec := &recording{}
	client := &http.Client{Transport: &http.Transport{DialContext: rec.dial, MaxConnsPerHost: 1, DisableCompression: true}}
	do := func(method, path string, body io.Reader) *http.Response {
		req, err := http.NewRequest(method, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return resp
	}
	for _, r := range []struct {
		method, path string
		body         io.Reader
	}{
		{"GET", "/fixed", nil},
		{"GET", "/chunked", nil},
		{"HEAD", "/fixed", nil},
		{"GET", "/empty", nil},
		// A reader of unknown length makes net/http send a chunked body.
		{"POST", "/echo", io.MultiReader(strings.NewReader("a chunked "), strings.NewReader("request body"))},
	} {
		resp := do(r.method, r.path, r.body)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	req, _ := http.NewRequest("GET", srv.URL+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	// net/http pools connections for WebSocket upgrades apart from the
	// others (Request.requiresHTTP1 compares Upgrade with "websocket"); the
	// space, trimmed when the header is written, keeps this request on the
	// keep-alive connection.
	req.Header.Set("Upgrade", "websocket ")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
		t.Fatalf("upgrade: %s, body %T", resp.Status, resp.Body)
	}
	rwc.Write([]byte(clientHello))
	io.ReadAll(rwc)
	rwc.Close()
	if rec.dials != 1 {
		t.Fatalf("%d connections dialled, want 1", rec.dials)
	}

	serverStream := rec.stream(false)
	switchAt := bytes.Index(serverStream, []byte("HTTP/1.1 101"))
	respEnd := switchAt + bytes.Index(serverStream[switchAt:], []byte("\r\n\r\n")) + 4
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 10 {
		var d *driver
		if round == 0 {
			d = decodeRecording(t, rec.chunks, nil)
		} else {
			d = decodeRecording(t, rec.chunks, rng)
		}
		var got []string
		for _, line := range d.rec.log {
			got = append(got, line[strings.Index(line, " ")+1:]) // packets vary with the scheduling
		}
		want := []string{
			"request GET /fixed HTTP/1.1",
			`response 200 "OK" to GET /fixed`,
			"request GET /chunked HTTP/1.1",
			`response 200 "OK" to GET /chunked`,
			"request HEAD /fixed HTTP/1.1",
			`response 200 "OK" to HEAD /fixed`,
			"request GET /empty HTTP/1.1",
			`response 204 "No Content" to GET /empty`,
			"request POST /echo HTTP/1.1",
			`response 200 "OK" to POST /echo`,
			"request GET /ws HTTP/1.1 upgrade",
			`response 101 "Switching Protocols" to GET /ws`,
			`path="/ws" sub="" offered=[] ext="permessage-deflate; server_no_context_takeover; client_no_context_takeover" deflate={snct=true cnct=true s=15 c=15} accept="ok"`,
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: callbacks:\n%s\nwant:\n%s", round, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := d.rec.reqs[4].Header.Get("Transfer-Encoding"); got != "chunked" {
			t.Errorf("round %d: POST Transfer-Encoding = %q, want chunked", round, got)
		}
		if got := d.rec.resps[1].Header.Get("Transfer-Encoding"); got != "chunked" {
			t.Errorf("round %d: GET /chunked response Transfer-Encoding = %q, want chunked", round, got)
		}
		if string(d.ws[0]) != clientHello {
			t.Errorf("round %d: client WebSocket bytes = %q, want %q", round, d.ws[0], clientHello)
		}
		if !bytes.Equal(d.ws[1], serverStream[respEnd:]) {
			t.Errorf("round %d: server WebSocket bytes = %q, want %q", round, d.ws[1], serverStream[respEnd:])
		}
		// RFC 7692 §6: the server's first message is compressed: FIN, RSV1, text.
		if b := d.ws[1]; len(b) == 0 || b[0] != 0xc1 {
			t.Errorf("round %d: server WebSocket bytes start %x, want c1", round, b[:min(len(b), 1)])
		}
	}
}
