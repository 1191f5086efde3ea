package bench

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// mss is the largest TCP payload of one synthetic segment: Ethernet's
// 1500-byte MTU less 20 bytes of IPv4 and 32 of TCP with timestamps.
const mss = 1448

// Config describes a synthetic capture.
type Config struct {
	// Conns is the number of connections; their messages are interleaved
	// round-robin.
	Conns int
	// Messages is the number of messages per connection, the closing
	// handshake's two included.
	Messages int
	// Deflate negotiates permessage-deflate with context takeover both
	// ways (RFC 7692 §7.1.1) and compresses every data message.
	Deflate bool
	// Records makes the binary messages snapshots of fixed-size records
	// (sequence numbers, timestamps, prices, sizes, a few symbols), as
	// market-data and telemetry feeds send them, instead of noise with a
	// repeated label every 64 bytes; with Deflate they are compressed at
	// zlib's default level, as browsers and servers (Chromium, node's ws,
	// python's websockets) compress.
	Records bool
	// Seed makes the payloads and masks; the same Config gives the same
	// bytes.
	Seed uint64
	// KeyLog, when not nil, makes every connection a wss:// session: a
	// TLS 1.3 handshake (TLS_AES_128_GCM_SHA256) after the TCP one, then
	// the same upgrade and messages as without it, each write (the
	// request, the response, every frame) sealed in one record, or in
	// records of 16 KiB when longer, as a TLS library seals what the
	// application writes, and sent in segments as the frames are without
	// TLS; a close_notify from each side before its FIN. Each connection
	// has its own client random and traffic secrets, drawn from Seed, and
	// KeyLog receives them in NSS's key log format (RFC 9850). The
	// messages, their order and their payloads are those of the same
	// Config without KeyLog.
	KeyLog io.Writer
}

// Stats counts what a generated capture holds.
type Stats struct {
	Bytes    int64 // file size
	Packets  int64
	Messages int64 // WebSocket messages, control messages included
	// Data messages' payload bytes before compression, and on the wire:
	// how compressible the capture is.
	DataBytes, WireDataBytes int64
}

// pcapWriter writes a classic pcap file (Ethernet, microsecond timestamps)
// through one reused packet buffer: nothing is allocated per packet.
type pcapWriter struct {
	w     *bufio.Writer
	buf   []byte
	t     time.Time
	stats Stats
}

func newPcapWriter(w io.Writer) (*pcapWriter, error) {
	pw := &pcapWriter{w: bufio.NewWriterSize(w, 1<<20), t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // pcap, microseconds
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144) // snaplen
	binary.LittleEndian.PutUint32(hdr[20:], 1)      // LINKTYPE_ETHERNET
	_, err := pw.w.Write(hdr[:])
	pw.stats.Bytes = 24
	return pw, err
}

// TCP flags, RFC 9293 §3.1.
const (
	flagFIN = 1 << 0
	flagSYN = 1 << 1
	flagRST = 1 << 2
	flagPSH = 1 << 3
	flagACK = 1 << 4
)

// endpoint is one side of a synthetic connection.
type endpoint struct {
	ip   [4]byte
	port uint16
	seq  uint32
}

// segment writes one TCP segment from src to dst.
func (pw *pcapWriter) segment(src, dst *endpoint, flags uint8, payload []byte) error {
	const hdrLen = 14 + 20 + 20
	n := hdrLen + len(payload)
	b := pw.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(pw.t.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(pw.t.Nanosecond()/1000))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	// Ethernet II.
	b = append(b, 0x02, 0, 0, 0, 0, dst.ip[3], 0x02, 0, 0, 0, 0, src.ip[3], 0x08, 0x00)
	// IPv4, RFC 791, with its header checksum.
	ip := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(20+20+len(payload)))
	b = append(b, 0, 0, 0x40, 0, 64, 6, 0, 0)
	b = append(b, src.ip[:]...)
	b = append(b, dst.ip[:]...)
	var sum uint32
	for i := ip; i < ip+20; i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[ip+10:], ^uint16(sum))
	// TCP, RFC 9293 §3.1; the checksum is left zero as on loopback
	// captures with offloading.
	b = binary.BigEndian.AppendUint16(b, src.port)
	b = binary.BigEndian.AppendUint16(b, dst.port)
	b = binary.BigEndian.AppendUint32(b, src.seq)
	var ack uint32
	if flags&flagACK != 0 {
		ack = dst.seq
	}
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, 5<<4, flags, 0xff, 0xff, 0, 0, 0, 0)
	b = append(b, payload...)
	pw.buf = b
	src.seq += uint32(len(payload))
	if flags&(flagSYN|flagFIN) != 0 {
		src.seq++
	}
	pw.t = pw.t.Add(10 * time.Microsecond)
	pw.stats.Packets++
	pw.stats.Bytes += int64(len(b))
	_, err := pw.w.Write(b)
	return err
}

// send writes data from src to dst in segments of at most mss bytes.
func (pw *pcapWriter) send(src, dst *endpoint, data []byte) error {
	for len(data) > 0 {
		n := min(len(data), mss)
		flags := uint8(flagACK)
		if n == len(data) {
			flags |= flagPSH
		}
		if err := pw.segment(src, dst, flags, data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// genConn is one synthetic WebSocket connection.
type genConn struct {
	cli, srv endpoint
	deflate  [2]*deflater // client, server
	tls      *tlsConn     // nil for ws://
}

// sendApp writes what the application at one end writes: the bytes as
// they are, or sealed in TLS records (into the reused *sealed).
func (pw *pcapWriter) sendApp(c *genConn, fromClient bool, data []byte, sealed *[]byte) error {
	src, dst := &c.srv, &c.cli
	if fromClient {
		src, dst = dst, src
	}
	if c.tls != nil {
		s := c.tls.server
		if fromClient {
			s = c.tls.client
		}
		*sealed = s.AppendRecords((*sealed)[:0], contentApplicationData, data)
		data = *sealed
	}
	return pw.send(src, dst, data)
}

// deflater compresses messages as permessage-deflate with context takeover
// does (RFC 7692 §7.2.1): one compressor across messages, each flushed and
// stripped of its trailing 00 00 ff ff.
type deflater struct {
	buf bytes.Buffer
	fw  *flate.Writer
}

func newDeflater(level int) *deflater {
	d := &deflater{}
	d.fw, _ = flate.NewWriter(&d.buf, level)
	return d
}

func (d *deflater) compress(p []byte) []byte {
	d.buf.Reset()
	d.fw.Write(p)
	d.fw.Flush()
	return bytes.TrimSuffix(d.buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// appendFrame appends one final frame (RFC 6455 §5.2); client frames are
// masked with key.
func appendFrame(b []byte, rsv, opcode uint8, payload []byte, masked bool, key [4]byte) []byte {
	b = append(b, 0x80|rsv<<4|opcode)
	var m byte
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= key[i&3]
	}
	return b
}

// Generate writes a synthetic capture: cfg.Conns connections opened one
// after the other, then cfg.Messages messages on each, interleaved
// round-robin so that every connection is active at once, then the closing
// handshakes and FINs. The mix, per eight messages: three small JSON texts
// from the server, two masked client texts, one 1–9 KB binary from the
// server, a client ping and its pong.
func Generate(w io.Writer, cfg Config) (Stats, error) {
	pw, err := newPcapWriter(w)
	if err != nil {
		return Stats{}, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	// The TLS secrets come from a stream of their own, so that the
	// messages are those of the same seed without TLS.
	tlsRNG := rand.New(rand.NewPCG(cfg.Seed, 0x7153))
	keylog := keyLogWriter(cfg.KeyLog)
	var sealed []byte
	noise := make([]byte, 16<<10)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	conns := make([]*genConn, cfg.Conns)
	ext := ""
	if cfg.Deflate {
		ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	for i := range conns {
		c := &genConn{
			cli: endpoint{ip: [4]byte{10, 0, byte(i >> 8), byte(i)}, port: uint16(40000 + i%20000), seq: rng.Uint32()},
			srv: endpoint{ip: [4]byte{10, 1, 0, 1}, port: 8080, seq: rng.Uint32()},
		}
		if cfg.Deflate {
			level := flate.BestSpeed
			if cfg.Records {
				level = flate.DefaultCompression
			}
			c.deflate = [2]*deflater{newDeflater(level), newDeflater(level)}
		}
		conns[i] = c
		for _, s := range []struct {
			fromClient bool
			flags      uint8
		}{{true, flagSYN}, {false, flagSYN | flagACK}, {true, flagACK}} {
			src, dst := &c.cli, &c.srv
			if !s.fromClient {
				src, dst = dst, src
			}
			if err := pw.segment(src, dst, s.flags, nil); err != nil {
				return pw.stats, err
			}
		}
		if keylog != nil {
			if c.tls, err = newTLSConn(tlsRNG, keylog); err != nil {
				return pw.stats, err
			}
			clientHello, serverFlight, clientFinished := c.tls.handshake()
			if err := pw.send(&c.cli, &c.srv, clientHello); err != nil {
				return pw.stats, err
			}
			if err := pw.send(&c.srv, &c.cli, serverFlight); err != nil {
				return pw.stats, err
			}
			if err := pw.send(&c.cli, &c.srv, clientFinished); err != nil {
				return pw.stats, err
			}
		}
		// The upgrade, one segment each way (with PSH: send's last).
		steps := []struct {
			fromClient bool
			data       string
		}{
			{true, "GET /feed HTTP/1.1\r\nHost: 10.1.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + ext + "\r\n"},
			{false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" + ext + "\r\n"},
		}
		for _, s := range steps {
			if err := pw.sendApp(c, s.fromClient, []byte(s.data), &sealed); err != nil {
				return pw.stats, err
			}
		}
	}
	var payload, frame []byte
	for m := 0; m < cfg.Messages-2; m++ {
		for i, c := range conns {
			fromClient := false
			opcode := uint8(0x1)
			payload = payload[:0]
			switch m % 8 {
			case 0, 3, 6: // a server push: small JSON
				payload = append(payload, `{"type":"tick","conn":`...)
				payload = strconv.AppendInt(payload, int64(i), 10)
				payload = append(payload, `,"seq":`...)
				payload = strconv.AppendInt(payload, int64(m), 10)
				payload = append(payload, `,"symbol":"WSVZ","price":`...)
				payload = strconv.AppendFloat(payload, 100+float64(rng.IntN(100000))/100, 'f', 2, 64)
				payload = append(payload, `,"volume":`...)
				payload = strconv.AppendInt(payload, int64(rng.IntN(1000000)), 10)
				payload = append(payload, `,"bids":[`...)
				for k := range 1 + rng.IntN(8) {
					if k > 0 {
						payload = append(payload, ',')
					}
					payload = strconv.AppendFloat(payload, 99+float64(rng.IntN(10000))/100, 'f', 2, 64)
				}
				payload = append(payload, "]}"...)
			case 1, 4: // a client request: masked text
				fromClient = true
				payload = append(payload, `{"op":"subscribe","channel":"book.`...)
				payload = strconv.AppendInt(payload, int64(rng.IntN(500)), 10)
				payload = append(payload, `","id":`...)
				payload = strconv.AppendInt(payload, int64(m), 10)
				payload = append(payload, '}')
			case 2: // a server binary of 1–9 KB
				opcode = 0x2
				n := 1024 + rng.IntN(8*1024)
				off := rng.IntN(len(noise) - n)
				if cfg.Records {
					payload = appendRecords(payload, rng, n, i, m)
					break
				}
				payload = append(payload, noise[off:off+n]...)
				if cfg.Deflate {
					// Compressible binaries: a snapshot of mostly repeated
					// records, as real feeds send.
					for k := 0; k < n; k += 64 {
						copy(payload[k:], "record:0000000000;state=ok;")
					}
				}
			case 5: // a heartbeat from the client
				fromClient, opcode = true, 0x9
				payload = strconv.AppendInt(payload, int64(m), 10)
			case 7: // its answer
				opcode = 0xA
				payload = strconv.AppendInt(payload, int64(m-2), 10)
			}
			var rsv uint8
			body := payload
			d := 1
			if fromClient {
				d = 0
			}
			if cfg.Deflate && opcode < 0x8 {
				body, rsv = c.deflate[d].compress(payload), 0x4
			}
			if opcode < 0x8 {
				pw.stats.DataBytes += int64(len(payload))
				pw.stats.WireDataBytes += int64(len(body))
			}
			var key [4]byte
			binary.LittleEndian.PutUint32(key[:], rng.Uint32())
			frame = appendFrame(frame[:0], rsv, opcode, body, fromClient, key)
			if err := pw.sendApp(c, fromClient, frame, &sealed); err != nil {
				return pw.stats, err
			}
			pw.stats.Messages++
		}
	}
	for _, c := range conns {
		closeBody := []byte{0x03, 0xe8, 'b', 'y', 'e'} // 1000, RFC 6455 §7.4.1
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], rng.Uint32())
		frame = appendFrame(frame[:0], 0, 0x8, closeBody, true, key)
		if err := pw.sendApp(c, true, frame, &sealed); err != nil {
			return pw.stats, err
		}
		frame = appendFrame(frame[:0], 0, 0x8, closeBody, false, key)
		if err := pw.sendApp(c, false, frame, &sealed); err != nil {
			return pw.stats, err
		}
		pw.stats.Messages += 2
		if c.tls != nil {
			sealed = c.tls.server.AppendRecords(sealed[:0], contentAlert, closeNotify)
			if err := pw.send(&c.srv, &c.cli, sealed); err != nil {
				return pw.stats, err
			}
			sealed = c.tls.client.AppendRecords(sealed[:0], contentAlert, closeNotify)
			if err := pw.send(&c.cli, &c.srv, sealed); err != nil {
				return pw.stats, err
			}
		}
		if err := pw.segment(&c.srv, &c.cli, flagFIN|flagACK, nil); err != nil {
			return pw.stats, err
		}
		if err := pw.segment(&c.cli, &c.srv, flagFIN|flagACK, nil); err != nil {
			return pw.stats, err
		}
		if err := pw.segment(&c.srv, &c.cli, flagACK, nil); err != nil {
			return pw.stats, err
		}
	}
	if keylog != nil {
		if err := keylog.Flush(); err != nil {
			return pw.stats, err
		}
	}
	return pw.stats, pw.w.Flush()
}

// appendRecords appends about n bytes of 32-byte little-endian records, a
// snapshot of a feed: a sequence number, a millisecond timestamp a few ms
// apart, a symbol out of eight, a price moving by a few ticks, a size, a
// random order id and flags that are mostly zero.
func appendRecords(b []byte, rng *rand.Rand, n, conn, msg int) []byte {
	symbols := [8]string{"WSVZ", "GOPK", "ZLIB", "RFC7", "DEFL", "TCPX", "PCAP", "HTTP"}
	seq := uint32(msg * 1000)
	ts := uint64(1_700_000_000_000 + msg*250)
	price := uint32(10_000 + conn*37)
	for k := 0; k < n/32; k++ {
		seq++
		ts += uint64(rng.IntN(4))
		price += uint32(rng.IntN(7)) - 3
		b = binary.LittleEndian.AppendUint32(b, seq)
		b = binary.LittleEndian.AppendUint64(b, ts)
		b = append(b, symbols[rng.IntN(len(symbols))]...)
		b = binary.LittleEndian.AppendUint32(b, price)
		b = binary.LittleEndian.AppendUint32(b, uint32(100*(1+rng.IntN(20))))
		b = binary.LittleEndian.AppendUint32(b, rng.Uint32()>>8) // an order id
		var flags uint32
		if rng.IntN(16) == 0 {
			flags = 1 << rng.IntN(8)
		}
		b = binary.LittleEndian.AppendUint32(b, flags)
	}
	return b
}

// GenerateFile writes a synthetic capture to path.
func GenerateFile(path string, cfg Config) (Stats, error) {
	f, err := os.Create(path)
	if err != nil {
		return Stats{}, err
	}
	st, err := Generate(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, fmt.Errorf("bench: generating %s: %w", path, err)
	}
	return st, nil
}
