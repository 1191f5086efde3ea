package browsertests

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// H2WSSHandler serves the wss:// page of WSSHandler (at /, its first text
// naming browser) and, at /ws, a WebSocket over HTTP/2 (RFC 8441): an
// extended CONNECT with :protocol websocket is answered 200, and the
// stream's DATA then carries RFC 6455 frames both ways. The server accepts
// permessage-deflate with context takeover both ways (RFC 7692), echoes
// every message compressed, in frames of at most 16 KiB, answers pings and
// the client's close; sent is called with each echo once it is written
// (its payload uncompressed), what the server logs it sent.
//
// Go's HTTP/2 server announces SETTINGS_ENABLE_CONNECT_PROTOCOL, and so
// lets browsers open WebSockets this way, only in a process started with
// GODEBUG=http2xconnect=1: see StartH2Server.
func H2WSSHandler(browser string, sent func(text bool, payload []byte)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", WSSHandler(browser, sent)) // the page; its /ws is this one's
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) { serveH2WebSocket(w, r, sent) })
	return mux
}

// Frame header bits and opcodes, RFC 6455 §5.2.
const (
	finalBit = 1 << 7 // FIN
	rsv1Bit  = 1 << 6 // RSV1: RFC 7692 §6, the "Per-Message Compressed" bit
	rsv2Bit  = 1 << 5
	rsv3Bit  = 1 << 4
	maskBit  = 1 << 7 // MASK, in the second byte

	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// Close status codes, RFC 6455 §7.4.1.
const (
	closeProtocolError  = 1002
	closeInvalidPayload = 1007
	closeTooBig         = 1009
)

// sendableCloseCode reports whether a Close frame may carry code: RFC 6455
// §7.4.2, codes below 1000 are not used; §7.4.1, 1004 is reserved, and
// 1005, 1006 and 1015 only say what happened, never sent in a Close frame.
func sendableCloseCode(code uint16) bool {
	switch code {
	case 1004, 1005, 1006, 1015:
		return false
	}
	return code >= 1000
}

const (
	// h2wsMaxMessage bounds a message, compressed or not, and so every
	// allocation made for a peer's frame or message.
	h2wsMaxMessage = 1 << 20
	// h2wsMaxFrame is the most payload a server frame carries: larger
	// messages go out as a first frame and continuation frames (RFC 6455
	// §5.4), as streaming senders write them.
	h2wsMaxFrame = 16 << 10
	// maxControlPayload: RFC 6455 §5.5, control frames carry at most 125
	// bytes and are never fragmented.
	maxControlPayload = 125
	// deflateWindow is the LZ77 window of permessage-deflate without
	// *_max_window_bits (RFC 7692 §7.1.2: 2^15 bytes).
	deflateWindow = 32 << 10
)

// deflateTail is the end of every compressed message, removed by the
// sender and put back by the receiver (RFC 7692 §7.2.1, §7.2.2).
const deflateTail = "\x00\x00\xff\xff"

// serveH2WebSocket is the /ws of H2WSSHandler.
func serveH2WebSocket(w http.ResponseWriter, r *http.Request, sent func(bool, []byte)) {
	// RFC 8441 §4, §5: the WebSocket is asked for with an extended
	// CONNECT whose :protocol is "websocket", on HTTP/2, with
	// Sec-WebSocket-Version 13 (RFC 6455 §4.1); Sec-WebSocket-Key and
	// -Accept are not used.
	if r.ProtoMajor != 2 || r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" ||
		r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, "want an RFC 8441 extended CONNECT with :protocol websocket and Sec-WebSocket-Version 13", http.StatusBadRequest)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "cannot stream", http.StatusInternalServerError)
		return
	}
	c := &h2wsConn{r: bufio.NewReader(r.Body), w: w, flush: flusher.Flush}
	if acceptDeflate(r.Header.Values("Sec-WebSocket-Extensions")) {
		// RFC 7692 §7.1: no *_no_context_takeover and no
		// *_max_window_bits in the answer: context takeover and
		// 32 KiB windows both ways.
		w.Header().Set("Sec-WebSocket-Extensions", "permessage-deflate")
		c.deflate = true
	}
	// RFC 8441 §5: a 2xx answer opens the WebSocket; the stream stays
	// open both ways.
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	c.serve(sent)
	// Returning ends the response: Go's server sends END_STREAM (RFC
	// 8441 §5: the stream's end is the TCP FIN of RFC 6455 §7.1.1).
}

// acceptDeflate reports whether one of the offers (Sec-WebSocket-Extensions
// values) is a permessage-deflate the server can take with context
// takeover both ways and a 32 KiB window of its own.
func acceptDeflate(values []string) bool {
	for _, v := range values {
		// RFC 6455 §9.1: offers separated by commas, parameters by
		// semicolons.
	offers:
		for offer := range strings.SplitSeq(v, ",") {
			params := strings.Split(offer, ";")
			if strings.TrimSpace(params[0]) != "permessage-deflate" {
				continue
			}
			for _, p := range params[1:] {
				name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
				switch name {
				case "client_max_window_bits", "client_no_context_takeover":
					// RFC 7692 §7.1.2.2, §7.1.1.2: hints the
					// server may leave out of its answer.
				default:
					// RFC 7692 §7.1: decline an offer with a
					// parameter it cannot take (server_no_context_takeover,
					// server_max_window_bits) or does not know.
					continue offers
				}
			}
			return true
		}
	}
	return false
}

// h2wsConn is the server's end of one WebSocket over an HTTP/2 stream.
type h2wsConn struct {
	r       *bufio.Reader // the request body: the client's frames
	w       io.Writer     // the response body: the server's frames
	flush   func()
	deflate bool // permessage-deflate was accepted

	// The server's compressor, never reset: context takeover (RFC 7692
	// §7.1.1.1), each message ending in a sync flush (§7.2.1).
	compressor *flate.Writer
	compressed bytes.Buffer
	// The client's inflater, reset for each message with history, the
	// last deflateWindow bytes it inflated: context takeover (RFC 7692
	// §7.1.1.2).
	inflater io.ReadCloser
	history  []byte
}

// closeError is a reason to close the WebSocket: a status code to send
// (RFC 6455 §7.4.1) and why.
type closeError struct {
	code int
	msg  string
}

func (e *closeError) Error() string { return fmt.Sprintf("websocket: close %d: %s", e.code, e.msg) }

// serve echoes messages until the client closes or breaks the protocol.
func (c *h2wsConn) serve(sent func(bool, []byte)) {
	for {
		op, payload, err := c.readMessage()
		var ce *closeError
		switch {
		case errors.As(err, &ce):
			// RFC 6455 §7.1.7: fail the connection with a Close
			// frame saying why.
			c.writeFrame(true, false, opClose, binary.BigEndian.AppendUint16(nil, uint16(ce.code)))
			return
		case err != nil:
			return // the stream ended or broke: nothing to answer
		case op == opClose:
			// RFC 6455 §5.5.1: answer a Close with a Close, echoing
			// its status code; then the server may end the stream.
			var answer []byte
			if len(payload) >= 2 {
				answer = payload[:2]
			}
			c.writeFrame(true, false, opClose, answer)
			return
		}
		if err := c.writeMessage(op, payload); err != nil {
			return
		}
		sent(op == opText, payload)
	}
}

// clientFrame is one frame read from the client.
type clientFrame struct {
	fin     bool
	rsv1    bool
	op      byte
	payload []byte
}

// readFrame reads the client's next frame, its payload unmasked. A frame
// that breaks RFC 6455 or RFC 7692 is a *closeError naming every problem
// its header has.
func (c *h2wsConn) readFrame() (clientFrame, error) {
	// 1. The first two bytes (RFC 6455 §5.2).
	var h [2]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return clientFrame{}, err
	}
	f := clientFrame{fin: h[0]&finalBit != 0, rsv1: h[0]&rsv1Bit != 0, op: h[0] & 0x0f}
	masked := h[1]&maskBit != 0
	length := uint64(h[1] & 0x7f)

	// 2. The extended payload length (RFC 6455 §5.2): 126 for 16 bits,
	// 127 for 64 bits whose most significant bit is 0, in the fewest
	// bytes that hold it.
	var problems []string
	switch length {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return clientFrame{}, err
		}
		length = uint64(binary.BigEndian.Uint16(b[:]))
		if length < 126 {
			problems = append(problems, "RFC 6455 §5.2: a 16-bit length below 126")
		}
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return clientFrame{}, err
		}
		length = binary.BigEndian.Uint64(b[:])
		if length <= 0xffff || length>>63 != 0 {
			problems = append(problems, "RFC 6455 §5.2: a 64-bit length below 65536 or with its top bit set")
		}
	}

	// 3. The rules of the header, all of them checked.
	control := f.op >= opClose
	switch f.op {
	case opContinuation, opText, opBinary, opClose, opPing, opPong:
	default:
		problems = append(problems, fmt.Sprintf("RFC 6455 §5.2: opcode %#x is reserved", f.op))
	}
	if h[0]&(rsv2Bit|rsv3Bit) != 0 {
		problems = append(problems, "RFC 6455 §5.2: RSV2 or RSV3 set with no extension defining them")
	}
	if f.rsv1 && (!c.deflate || control || f.op == opContinuation) {
		// RFC 7692 §6.1: RSV1 only on the first frame of a data
		// message, and only with permessage-deflate.
		problems = append(problems, "RFC 7692 §6.1: RSV1 set outside the first frame of a compressed message")
	}
	if control && (!f.fin || length > maxControlPayload) {
		problems = append(problems, "RFC 6455 §5.5: a control frame fragmented or over 125 bytes")
	}
	if !masked {
		problems = append(problems, "RFC 6455 §5.1: a client frame not masked")
	}
	if len(problems) > 0 {
		return clientFrame{}, &closeError{closeProtocolError, strings.Join(problems, "; ")}
	}
	// Bounds first: a hostile length never allocates.
	if length > h2wsMaxMessage {
		return clientFrame{}, &closeError{closeTooBig, fmt.Sprintf("a frame of %d bytes", length)}
	}

	// 4. The masking key and the payload (RFC 6455 §5.3).
	var key [4]byte
	if _, err := io.ReadFull(c.r, key[:]); err != nil {
		return clientFrame{}, err
	}
	f.payload = make([]byte, length)
	if _, err := io.ReadFull(c.r, f.payload); err != nil {
		return clientFrame{}, err
	}
	for i := range f.payload {
		f.payload[i] ^= key[i%4]
	}
	return f, nil
}

// readMessage reads the client's next data message, inflated, or its
// Close (opClose and the Close's payload). Pings are answered on the way.
func (c *h2wsConn) readMessage() (op byte, payload []byte, err error) {
	var compressed bool
	for {
		f, err := c.readFrame()
		if err != nil {
			return 0, nil, err
		}
		switch f.op {
		case opPing:
			// RFC 6455 §5.5.2, §5.5.3: a Pong with the Ping's
			// payload, as soon as practical, even mid-message (§5.4).
			if err := c.writeFrame(true, false, opPong, f.payload); err != nil {
				return 0, nil, err
			}
			continue
		case opPong:
			continue // RFC 6455 §5.5.3: an unsolicited Pong needs no answer
		case opClose:
			// RFC 6455 §5.5.1: no body, or a 2-byte status code
			// that may be sent (§7.4) and a UTF-8 reason.
			if len(f.payload) == 1 || len(f.payload) >= 2 && !sendableCloseCode(binary.BigEndian.Uint16(f.payload)) ||
				!utf8.Valid(f.payload[min(2, len(f.payload)):]) {
				return 0, nil, &closeError{closeProtocolError, "RFC 6455 §5.5.1: a malformed Close body"}
			}
			return opClose, f.payload, nil
		case opContinuation:
			if op == 0 {
				return 0, nil, &closeError{closeProtocolError, "RFC 6455 §5.4: a continuation frame with no message to continue"}
			}
		default: // text, binary
			if op != 0 {
				return 0, nil, &closeError{closeProtocolError, "RFC 6455 §5.4: a new message inside a fragmented one"}
			}
			op, compressed = f.op, f.rsv1
		}
		if len(payload)+len(f.payload) > h2wsMaxMessage {
			return 0, nil, &closeError{closeTooBig, "a message over 1 MiB"}
		}
		payload = append(payload, f.payload...)
		if f.fin {
			break
		}
	}
	if compressed {
		if payload, err = c.inflate(payload); err != nil {
			return 0, nil, err
		}
	}
	if op == opText && !utf8.Valid(payload) {
		// RFC 6455 §8.1: text is UTF-8, else fail with 1007.
		return 0, nil, &closeError{closeInvalidPayload, "RFC 6455 §8.1: text that is not UTF-8"}
	}
	return op, payload, nil
}

// inflate returns the message whose compressed payload is p.
func (c *h2wsConn) inflate(p []byte) ([]byte, error) {
	// RFC 7692 §7.2.2: append 00 00 ff ff before inflating. The empty
	// final block after it (BFINAL set) ends the stream, so the reader
	// says io.EOF, not io.ErrUnexpectedEOF (as gorilla/websocket does).
	src := io.MultiReader(bytes.NewReader(p), strings.NewReader(deflateTail+"\x01\x00\x00\xff\xff"))
	if c.inflater == nil {
		c.inflater = flate.NewReaderDict(src, c.history)
	} else if err := c.inflater.(flate.Resetter).Reset(src, c.history); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(c.inflater, h2wsMaxMessage+1))
	if err != nil {
		return nil, &closeError{closeInvalidPayload, fmt.Sprintf("RFC 7692 §7.2.2: the message does not inflate: %v", err)}
	}
	if len(out) > h2wsMaxMessage {
		return nil, &closeError{closeTooBig, "a message that inflates past 1 MiB"}
	}
	// RFC 7692 §7.1.1.2: with context takeover the client's next
	// message may refer to the last 32 KiB of this one and those before.
	c.history = append(c.history, out...)
	if n := len(c.history); n > deflateWindow {
		c.history = append(c.history[:0], c.history[n-deflateWindow:]...)
	}
	return out, nil
}

// writeMessage sends a data message, compressed when permessage-deflate
// was accepted, in frames of at most h2wsMaxFrame bytes.
func (c *h2wsConn) writeMessage(op byte, payload []byte) error {
	pieces := [][]byte{payload}
	if c.deflate {
		pieces = c.compress(payload)
	}
	var frames [][]byte
	for _, p := range pieces {
		for len(p) > h2wsMaxFrame {
			frames = append(frames, p[:h2wsMaxFrame])
			p = p[h2wsMaxFrame:]
		}
		frames = append(frames, p)
	}
	for i, p := range frames {
		// RFC 6455 §5.4: the first frame has the message's opcode,
		// the others are continuation frames, the last has FIN. RFC
		// 7692 §6.1: RSV1 on the first frame only.
		frameOp := byte(opContinuation)
		if i == 0 {
			frameOp = op
		}
		if err := c.writeFrame(i == len(frames)-1, c.deflate && i == 0, frameOp, p); err != nil {
			return err
		}
	}
	return nil
}

// compress returns payload compressed as one message, in pieces: what the
// compressor flushed after each h2wsMaxFrame bytes of it, as a sender
// streaming the message frame by frame does. The pieces alias no buffer
// of c.
func (c *h2wsConn) compress(payload []byte) [][]byte {
	if c.compressor == nil {
		c.compressor, _ = flate.NewWriter(&c.compressed, flate.DefaultCompression)
	}
	var pieces [][]byte
	for {
		chunk := payload[:min(len(payload), h2wsMaxFrame)]
		payload = payload[len(chunk):]
		c.compressed.Reset()
		c.compressor.Write(chunk) // a bytes.Buffer write never fails
		// RFC 7692 §7.2.1: flush (a sync flush, ending in an empty
		// stored block 00 00 ff ff) without closing the stream, so
		// the next message keeps the window (context takeover).
		c.compressor.Flush()
		piece := bytes.Clone(c.compressed.Bytes())
		if len(payload) == 0 {
			// RFC 7692 §7.2.1: remove the 4 bytes 00 00 ff ff at the
			// message's end; an empty message is then the one byte 00
			// (§7.2.3.6). Sync flushes inside the message stay.
			return append(pieces, bytes.TrimSuffix(piece, []byte(deflateTail)))
		}
		pieces = append(pieces, piece)
	}
}

// writeFrame sends one unmasked frame (RFC 6455 §5.1: a server never
// masks) and flushes it into the stream's DATA.
func (c *h2wsConn) writeFrame(fin, rsv1 bool, op byte, payload []byte) error {
	// RFC 6455 §5.2: FIN, RSV1-3 and the opcode; then the length in 7
	// bits, or 126 and 16 bits, or 127 and 64 bits, in the fewest bytes.
	b0 := op
	if fin {
		b0 |= finalBit
	}
	if rsv1 {
		b0 |= rsv1Bit
	}
	hdr := []byte{b0, 0}
	switch n := len(payload); {
	case n <= 125:
		hdr[1] = byte(n)
	case n <= 0xffff:
		hdr[1] = 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr[1] = 127
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	if _, err := c.w.Write(append(hdr, payload...)); err != nil {
		return err
	}
	c.flush()
	return nil
}

// The server of H2WSSHandler runs in a child process: Go's HTTP/2 server
// reads GODEBUG=http2xconnect=1, which makes it announce
// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) and take extended CONNECT,
// once, when net/http is initialized. So StartH2Server starts the running
// program again with that setting and WSVIZ_H2SERVER; the program calls
// ServeH2Child first thing (cmd/h2cap in main, the tests in
// TestH2ServerProcess), which in the child serves until its standard input
// closes, telling the parent on its standard output, one JSON object a
// line, the server's URL, each request to /ws and each message the server
// sent.

// h2ServerEnv names the environment variable that makes ServeH2Child
// serve; its value names the browser, for the page.
const h2ServerEnv = "WSVIZ_H2SERVER"

// H2Request is how a request to an H2Server's /ws asked for a WebSocket.
type H2Request struct {
	Method string `json:"method"`
	Proto  string `json:"proto"` // "HTTP/2.0"
	// Protocol is the :protocol pseudo-header of an extended CONNECT
	// (RFC 8441 §4), "websocket".
	Protocol string `json:"protocol"`
	// Extensions is the Sec-WebSocket-Extensions offered.
	Extensions string `json:"extensions"`
}

// h2ServerLine is one line the child writes: one of the fields is set.
type h2ServerLine struct {
	URL     string     `json:"url,omitempty"`
	Request *H2Request `json:"request,omitempty"`
	Sent    *Sent      `json:"sent,omitempty"`
}

// H2Server is H2WSSHandler served by a child process over TLS (a
// self-signed certificate; ALPN h2, then http/1.1) on 127.0.0.1, with
// extended CONNECT enabled.
type H2Server struct {
	// URL is the server's https://127.0.0.1:PORT and Addr its
	// 127.0.0.1:PORT.
	URL, Addr string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan struct{} // closed when the child's standard output ends
	close sync.Once
	err   error

	mu       sync.Mutex
	sent     []Sent
	requests []H2Request
}

// StartH2Server starts the running program again, with args, the
// environment variables GODEBUG=http2xconnect=1 (added to any GODEBUG
// already set) and WSVIZ_H2SERVER=browser, and returns once the child
// serves. The program must call ServeH2Child before anything else (a test
// binary: from a test that args select).
func StartH2Server(browser string, args ...string) (*H2Server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	godebug := "http2xconnect=1"
	if g := os.Getenv("GODEBUG"); g != "" {
		godebug = g + "," + godebug
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug, h2ServerEnv+"="+browser)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &H2Server{cmd: cmd, stdin: stdin, lines: make(chan struct{})}
	url := make(chan string, 1)
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l h2ServerLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				fmt.Fprintf(os.Stderr, "h2 server: %s\n", sc.Bytes())
				continue
			}
			s.mu.Lock()
			switch {
			case l.URL != "":
				select {
				case url <- l.URL:
				default: // only the first counts
				}
			case l.Request != nil:
				s.requests = append(s.requests, *l.Request)
			case l.Sent != nil:
				s.sent = append(s.sent, *l.Sent)
			}
			s.mu.Unlock()
		}
	}()
	select {
	case s.URL = <-url:
		s.Addr = strings.TrimPrefix(s.URL, "https://")
		return s, nil
	case <-s.lines:
		err = errors.New("it exited")
	case <-time.After(30 * time.Second):
		err = errors.New("no URL in 30 s")
	}
	s.Close()
	return nil, fmt.Errorf("h2 server %s %q: %w", exe, args, err)
}

// Sent returns the messages the server logged it sent so far.
func (s *H2Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Requests returns the requests to /ws the server saw so far.
func (s *H2Server) Requests() []H2Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Close closes the child's standard input, so that it stops serving once
// its requests end, and waits for it to exit (10 s, then kills it). Only
// the first call does anything.
func (s *H2Server) Close() error {
	s.close.Do(func() {
		s.stdin.Close()
		select {
		case <-s.lines:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
		s.err = s.cmd.Wait()
	})
	return s.err
}

// ServeH2Child, in a process StartH2Server started, serves H2WSSHandler
// until standard input closes, then exits. Elsewhere it returns at once.
func ServeH2Child() {
	browser := os.Getenv(h2ServerEnv)
	if browser == "" {
		return
	}
	if err := serveH2(browser, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "h2 server:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveH2 is ServeH2Child's server.
func serveH2(browser string, stdin io.Reader, stdout io.Writer) error {
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		return errors.New("GODEBUG has no http2xconnect=1: Go's HTTP/2 server would not take extended CONNECT")
	}
	var mu sync.Mutex
	enc := json.NewEncoder(stdout)
	emit := func(l h2ServerLine) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(l)
	}
	h := H2WSSHandler(browser, func(text bool, b []byte) {
		s := SentOf("server", text, b)
		emit(h2ServerLine{Sent: &s})
	})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			emit(h2ServerLine{Request: &H2Request{r.Method, r.Proto, r.Header.Get(":protocol"), r.Header.Get("Sec-WebSocket-Extensions")}})
		}
		h.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a live capture's probe connections are not TLS
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	srv.StartTLS()
	emit(h2ServerLine{URL: srv.URL})
	_, err := io.Copy(io.Discard, stdin)
	srv.Close()
	return err
}
