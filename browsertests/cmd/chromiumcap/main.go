// Command chromiumcap records a real browser's WebSocket traffic on
// loopback into a pcapng file: testdata/chromium.pcapng.
//
// Headless Chromium (driven with chromedp) opens a page that talks to a
// small server over permessage-deflate WITH context takeover both ways —
// the case gorilla/websocket cannot produce, and the one browsers use — while
// the packets are captured on lo with wsviz's own pure-Go capture.
//
// Run as root (capture needs CAP_NET_RAW), from the repository root:
//
//	cd browsertests && go run ./cmd/chromiumcap -o ../testdata/chromium.pcapng
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/browsertests"
	"github.com/wsviz/wsviz/capture/filter"
	"github.com/wsviz/wsviz/capture/live"
	"github.com/wsviz/wsviz/capture/save"
)

// page opens a WebSocket, sends JSON chat lines (similar, so context
// takeover pays), a binary message and a ping-like heartbeat text, waits for
// the server's answers, then closes with 1000.
const page = `<!doctype html><meta charset=utf-8><title>chromiumcap</title><p id=s>starting</p>
<script src="/app.js"></script>`

const app = `
const s = document.getElementById('s');
const ws = new WebSocket('ws://' + location.host + '/ws', ['chat.v1']);
ws.binaryType = 'arraybuffer';
let got = 0;
ws.onopen = () => {
  for (let i = 0; i < 5; i++) {
    ws.send(JSON.stringify({type: 'chat', user: 'ada', text: 'hello from the browser, line ' + i, room: 'websocket'}));
  }
  ws.send(new Uint8Array([0, 1, 2, 3, 250, 251, 252, 253, 254, 255]));
  ws.send('x'.repeat(70000));
};
ws.onmessage = (e) => {
  got++;
  if (got === 7) { ws.close(1000, 'done'); }
};
ws.onclose = (e) => { s.textContent = 'closed ' + e.code; };
`

func main() {
	out := flag.String("o", "../testdata/chromium.pcapng", "pcapng `file` to write")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	f, err := filter.Parse(fmt.Sprintf("tcp port %d", port))
	if err != nil {
		return err
	}
	src, err := live.Open("lo", live.Options{Filter: f})
	if err != nil {
		return err
	}
	w, err := save.Create(out, save.Interface{Name: "lo", LinkType: src.LinkType(), SnapLen: src.SnapLen(), Filter: f.String()})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		n := 0
		for {
			p, err := src.ReadPacket()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				done <- err
				return
			}
			n++
			if err := w.WritePacket(&p); err != nil {
				done <- err
				return
			}
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, page) })
	mux.HandleFunc("/app.js", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/javascript")
		io.WriteString(rw, app)
	})
	mux.HandleFunc("/ws", serveWS)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)

	if err := browse(fmt.Sprintf("http://127.0.0.1:%d/", port)); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // let the last FIN/ACKs be captured
	srv.Close()
	time.Sleep(200 * time.Millisecond)
	src.Stop()
	if err := <-done; err != nil {
		return err
	}
	src.Close()
	fmt.Fprintf(os.Stderr, "chromiumcap: wrote %d packets to %s\n", w.Packets(), out)
	return w.Close()
}

func browse(url string) error {
	dir, err := os.MkdirTemp("", "chromiumcap")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := browsertests.AllocatorOptions("/usr/bin/chromium", dir)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(`#s`),
		chromedp.Poll[chromedp.Void](`document.getElementById('s').textContent.startsWith('closed')`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(`#s`))
	if err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	fmt.Fprintln(os.Stderr, "chromiumcap: page says", status)
	return nil
}

// serveWS is a tiny WebSocket server that accepts permessage-deflate with
// context takeover both ways (RFC 7692 §7.1.1: no *_no_context_takeover
// in the answer), answers every client message with a compressed server
// message, and answers the close.
func serveWS(rw http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	conn, brw, err := rw.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: chat.v1\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", analyzetest.Accept(key))
	brw.Flush()
	var z analyzetest.Deflater // one compressor for the whole connection: context takeover
	send := func(op uint8, rsv uint8, p []byte) {
		conn.Write(analyzetest.Frame{Fin: true, RSV: rsv, Opcode: op, Payload: p}.Bytes())
	}
	send(analyzetest.OpText, 4, z.Compress([]byte(`{"type":"welcome","users":["ada","bob"],"room":"websocket"}`)))
	rd := bufio.NewReader(brw)
	for n := 0; ; n++ {
		op, _, err := readFrame(rd)
		if err != nil {
			return
		}
		switch op {
		case analyzetest.OpClose:
			send(analyzetest.OpClose, 0, binary.BigEndian.AppendUint16(nil, 1000))
			return
		case analyzetest.OpText, analyzetest.OpBinary:
			msg := fmt.Sprintf(`{"type":"ack","seq":%d,"room":"websocket","text":"the server got your message"}`, n)
			send(analyzetest.OpText, 4, z.Compress([]byte(msg)))
		}
	}
}

// readFrame reads one frame (RFC 6455 §5.2) and returns its opcode; the
// payload is skipped (the server does not need it).
func readFrame(rd *bufio.Reader) (op uint8, n uint64, err error) {
	var h [2]byte
	if _, err = io.ReadFull(rd, h[:]); err != nil {
		return
	}
	op, n = h[0]&0x0f, uint64(h[1]&0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(rd, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(rd, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if err != nil {
		return
	}
	if h[1]&0x80 != 0 {
		if _, err = rd.Discard(4); err != nil {
			return
		}
	}
	_, err = rd.Discard(int(min(n, 1<<30)))
	return
}
