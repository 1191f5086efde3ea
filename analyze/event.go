package analyze

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Event types. The set only grows; a type is never renamed.
const (
	TypeTCPOpen      = "tcp.open"      // a TCP connection was seen for the first time
	TypeTCPClose     = "tcp.close"     // a TCP connection ended (FIN, RST, end of capture, evicted, replaced)
	TypeTCPGap       = "tcp.gap"       // bytes of one direction were never captured
	TypeHTTPRequest  = "http.request"  // an HTTP request head
	TypeHTTPResponse = "http.response" // an HTTP response head
	TypeWSOpen       = "ws.open"       // the connection switched to WebSocket (or was found mid-stream)
	TypeWSFrame      = "ws.frame"      // one RFC 6455 frame
	TypeWSMessage    = "ws.message"    // one message, reassembled from its frames and inflated
	// TypeCaptureStats reports a live capture's packet and kernel drop
	// counts: when drops increase, and once when the capture stops. The
	// analyzer never emits it; live sources do (wsviz events -i).
	TypeCaptureStats = "capture.stats"
	// TypeHTTPError reports why HTTP decoding of a connection stopped (a
	// malformed head, a broken chunked body, bytes lost, a limit hit, a
	// switch to another protocol): one warning, from the side whose bytes
	// caused it. The connection's later bytes are looked at as WebSocket
	// frames (ws.midstream), else only counted.
	TypeHTTPError = "http.error"
	// TypeIPFragments reports a problem with the IP fragments a segment
	// came in: fragments that overlap or conflict, a malformed fragment, a
	// datagram that never arrived whole, fragments given up at a bound.
	// Reassembly itself is silent: a datagram put together cleanly is
	// just its segment.
	TypeIPFragments = "ip.fragments"
	// TypeH2StreamClose reports the end of an HTTP/2 stream that carried
	// a WebSocket (RFC 8441): both sides ended it (END_STREAM), or one
	// reset it (RST_STREAM). A WebSocket whose stream was still open when
	// its connection ended has none: tcp.close ends it.
	TypeH2StreamClose = "h2.stream_close"
)

// Directions, as used in Event.From.
const (
	FromClient = "client"
	FromServer = "server"
)

// How a TCP connection ended, as used in TCPClose.How.
const (
	CloseFIN     = "fin"     // both sides (or one side) sent FIN
	CloseRST     = "rst"     // a side reset the connection
	CloseEnd     = "end"     // the capture ended while the connection was open
	CloseEvicted = "evicted" // dropped to keep the number of tracked connections bounded
	// CloseReplaced: a new connection took the addresses (a SYN outside
	// this one's window) before this one's end was captured.
	CloseReplaced = "replaced"
)

// Event is one annotated thing that happened in the capture. It is the
// contract between the analyzer, the UI and users' scripts: fields are added,
// never renamed.
//
// Common fields are set on every event; of the type-specific groups only the
// one named by Type is meaningful. The JSON form (MarshalJSON, AppendJSON)
// flattens the group into the top-level object.
//
// Ownership: an Event passed to a handler, and every slice in it, is reused
// by the analyzer after the handler returns. Use Clone to keep one.
type Event struct {
	// Type is one of the Type* constants. JSON "type".
	Type string
	// Time is the timestamp of Packet, from the capture. JSON "t", RFC 3339
	// with nanoseconds, UTC.
	Time time.Time
	// Conn numbers connections from 1 in the order of their first packet;
	// 0 when the event concerns no connection. JSON "conn".
	Conn int
	// From is FromClient or FromServer when the event has a direction.
	// JSON "from".
	From string
	// Packet is the number (from 1, as in Wireshark) of the packet that
	// completed the event. JSON "packet".
	Packet int64
	// Stream is the HTTP/2 stream (RFC 9113 §5.1.1) the event concerns,
	// on a connection that speaks HTTP/2: a request's, its response's,
	// and those of the WebSocket opened on it (RFC 8441); 0 otherwise.
	// JSON "stream", omitted when 0.
	Stream uint32
	// Note says in plain words what happened and what it means. JSON "note".
	Note string
	// Warnings lists the protocol violations and limits seen in this
	// event. JSON "warnings", omitted when empty.
	Warnings []Warning

	TCPOpen  TCPOpen  // TypeTCPOpen
	TCPClose TCPClose // TypeTCPClose
	TCPGap   TCPGap   // TypeTCPGap
	HTTP     HTTP     // TypeHTTPRequest, TypeHTTPResponse
	WSOpen   WSOpen   // TypeWSOpen
	Frame    Frame    // TypeWSFrame
	Message  Message  // TypeWSMessage
	Capture  Capture  // TypeCaptureStats
	TLS      TLS      // TypeTLSHandshake, TypeTLSMessage, TypeTLSAlert, TypeTLSRecord
	H2Close  H2Close  // TypeH2StreamClose

	// Carried lists the TLS records that carried the event's bytes, on a
	// connection whose TLS layer read them (any type; see Carried).
	Carried Carried
}

// MaxCarried is the most TLS records Carried lists one by one.
const MaxCarried = 64

// Carried says which TLS records carried what an event reports, when the
// connection is TLS and its records were read (in clear, or decrypted with
// its keys): what the network saw of it, sizes and packets, as against what
// the application sent. Each such record is listed once, on the first
// http.request, http.response, ws.message, tls.message or tls.alert of its
// direction that is reported from it or after it: a message that filled
// three records lists three; a record that held two messages is listed on
// the first, and the second lists none. Records whose bytes end no event
// (the start of a message the capture ends in) are listed nowhere; those
// that could not be read are tls.record events of their own.
type Carried struct {
	// Records lists the first MaxCarried records. JSON "tls_records",
	// omitted when empty.
	Records []TLSRecord
	// More counts the records past MaxCarried and MoreLen their bytes.
	// JSON "tls_records_more", "tls_records_more_len", omitted when zero.
	More    int
	MoreLen int64
}

// TLSRecord is one TLS record as the network saw it.
type TLSRecord struct {
	// Type is the record's outer content type: "application_data" (every
	// protected TLS 1.3 record), "handshake", "alert",
	// "change_cipher_spec". JSON "type", omitted for application_data.
	Type string
	// Len is its size on the wire, its 5-byte header included. JSON "len".
	Len int
	// Packet is the number of the packet that carried its last byte. JSON
	// "packet".
	Packet int64
}

// TLS describes what the TLS layer of a connection did (tls.go). Each
// tls.* type sets the fields named for it; the JSON form omits the others.
type TLS struct {
	// Version is the negotiated protocol version, "TLS 1.3", "TLS 1.2",
	// "" when the server's answer was not captured. JSON "version"
	// (tls.handshake; tls.message server_hello).
	Version string
	// CipherSuite is the negotiated suite's IANA name,
	// "TLS_AES_128_GCM_SHA256". JSON "cipher_suite" (tls.handshake;
	// tls.message server_hello).
	CipherSuite string
	// SNI is the server name the client asked for (RFC 6066). JSON "sni"
	// (tls.handshake; tls.message client_hello, omitted when empty).
	SNI string
	// ALPN is the application protocol the server selected (RFC 7301), ""
	// for none or when it travelled encrypted without keys; ALPNOffered
	// lists the client's offer. JSON "alpn", "alpn_offered"
	// (tls.handshake; on tls.message, omitted when empty: "alpn" on the
	// server_hello of TLS 1.2 and the encrypted_extensions of TLS 1.3,
	// "alpn_offered" on client_hello).
	ALPN        string
	ALPNOffered []string
	// Resumed reports that an earlier session was resumed; ResumedBy says
	// how: "psk" (TLS 1.3), "ticket", "session_id" (TLS 1.2). JSON
	// "resumed", "resumed_by" (tls.handshake).
	Resumed   bool
	ResumedBy string
	// HelloRetry reports a HelloRetryRequest (RFC 8446 §4.1.4). JSON
	// "hello_retry" (tls.handshake).
	HelloRetry bool
	// EarlyData is "" (no 0-RTT data), "offered", "accepted" or
	// "rejected". JSON "early_data" (tls.handshake).
	EarlyData string
	// Keys reports that the key log held this session's secrets and they
	// worked: what the connection carried is decoded after this event.
	// JSON "keys" (tls.handshake).
	Keys bool
	// Message is the handshake message type, "client_hello", or
	// "change_cipher_spec". JSON "message" (tls.message).
	Message string
	// Encrypted reports that the message or alert travelled inside
	// protected records. JSON "encrypted" (tls.message, tls.alert).
	Encrypted bool
	// Alert is the alert's description, "close_notify"; Level is
	// "warning" or "fatal". JSON "alert", "level" (tls.alert).
	Alert, Level string
	// RecordType is the record's outer content type ("application_data",
	// "handshake", "alert", "change_cipher_spec"); RecordLen its size on
	// the wire, header included: what the network saw. JSON "record_type",
	// "record_len" (tls.record).
	RecordType string
	RecordLen  int
}

// Capture holds a live capture's counters, cumulative since it started.
type Capture struct {
	// Packets counts the packets captured and decoded. JSON "captured".
	Packets int64
	// Drops counts the packets the kernel dropped because the capture
	// could not keep up: their bytes are missing. JSON "dropped".
	Drops int64
}

// Warning is a protocol violation or a limit that was hit. JSON
// {"code": ..., "msg": ...}.
type Warning struct {
	// Code is stable (for example "ws.unmasked_client_frame"); scripts
	// branch on it.
	Code string `json:"code"`
	// Msg explains the problem and names the RFC section.
	Msg string `json:"msg"`
}

// TCPOpen describes a new TCP connection.
type TCPOpen struct {
	// Client and Server are "ip:port", or "[ipv6]:port". JSON "client",
	// "server".
	Client, Server string
	// SYN reports whether the connection's SYN was captured; when false
	// the connection was already open when the capture started and the
	// client/server roles were inferred. JSON "syn".
	SYN bool
	// Tunnel lists the encapsulations the connection's first captured
	// packet came in, outermost first; nil when none. The connection
	// itself (Client, Server and everything after) is the inner one.
	// JSON "tunnel", omitted when empty.
	Tunnel []Tunnel
	// Handshake lists the packets of the three-way handshake the capture
	// holds, in capture order: the client's SYN (and its
	// retransmissions), the server's SYN-ACK, the client's ACK of it; at
	// most eight. JSON "handshake", omitted when empty (no handshake
	// packet was captured).
	//
	// tcp.open is emitted when the handshake completes (stamped with the
	// ACK), or before the first packet that is not part of it (data,
	// FIN, RST: stamped with that packet), or when the connection ends
	// without either; so it comes before every other event of its
	// connection and carries the whole handshake.
	Handshake []TCPPacket
}

// TCPPacket is one packet of a TCP handshake or teardown, as captured.
type TCPPacket struct {
	// Flags names the packet: "SYN", "SYN-ACK" or "ACK" in a handshake;
	// "FIN", "FIN-ACK", "RST" or "RST-ACK" in a teardown. JSON "flags".
	Flags string `json:"flags"`
	// From is FromClient or FromServer. JSON "from".
	From string `json:"from"`
	// Packet is its number, Time its timestamp. JSON "packet", "t".
	Packet int64     `json:"packet"`
	Time   time.Time `json:"t"`
}

// Tunnel is one encapsulation a connection's packets came in. JSON
// {"kind": ..., "src": ..., "dst": ..., "vni"/"key"/"label": ...}.
type Tunnel struct {
	// Kind is "gre", "vxlan", "geneve", "ipip" (IPv4 in IPv4), "6in4",
	// "4in6", "6in6" or "mpls". JSON "kind".
	Kind string
	// Src and Dst are the tunnel's outer IP addresses, as the first
	// captured packet carried them (the client's SYN when TCPOpen.SYN);
	// empty for MPLS. JSON "src", "dst", omitted when empty.
	Src, Dst string
	// VNI is the VXLAN or Geneve network identifier. JSON "vni" (vxlan
	// and geneve only).
	VNI uint32
	// Key is the GRE key when HasKey (RFC 2890). JSON "key", only then.
	Key    uint32
	HasKey bool
	// Label is the MPLS label. JSON "label" (mpls only).
	Label uint32
}

// TCPClose describes how a connection ended.
type TCPClose struct {
	// How is CloseFIN, CloseRST, CloseEnd, CloseEvicted or
	// CloseReplaced. JSON "how".
	How string
	// ClientBytes and ServerBytes count the TCP payload bytes each side
	// sent, gaps included. JSON "client_bytes", "server_bytes".
	ClientBytes, ServerBytes int64
	// Teardown lists the FIN and RST packets of the connection the
	// capture holds up to this event, in capture order; at most eight.
	// JSON "teardown", omitted when empty.
	Teardown []TCPPacket
}

// TCPGap describes bytes of one direction that were never captured.
type TCPGap struct {
	// Offset is the stream offset (bytes since the first byte seen in that
	// direction) where the gap starts. JSON "offset".
	Offset int64
	// Size is the number of missing bytes. JSON "size".
	Size int64
}

// HTTP describes an HTTP request or response head.
type HTTP struct {
	// Method and Target are the request line's method and
	// request-target. JSON "method", "target" (requests only).
	Method, Target string
	// Status is the response status code; Reason its reason phrase.
	// JSON "status", "reason" (responses only).
	Status int
	Reason string
	// Proto is the HTTP version, e.g. "HTTP/1.1". JSON "proto".
	Proto string
	// Header holds the header fields with canonical names. JSON "headers",
	// an object of name to list of values, names sorted.
	Header http.Header
}

// WSOpen is the outcome of the WebSocket opening handshake.
type WSOpen struct {
	// Path is the request-target of the upgrade request. JSON "path".
	Path string
	// Subprotocol is the one the server selected, "" for none; Offered
	// lists those the client offered. JSON "subprotocol", "offered".
	Subprotocol string
	Offered     []string
	// Extensions is the Sec-WebSocket-Extensions value the server answered
	// with. JSON "extensions".
	Extensions string
	// Deflate is non-nil when permessage-deflate (RFC 7692) was
	// negotiated. JSON "deflate".
	Deflate *Deflate
	// Accept is "ok" when Sec-WebSocket-Accept matches the key, "bad" when
	// it does not, "missing" when absent, "" when the handshake was not
	// captured (mid-stream). JSON "accept".
	Accept string
	// Midstream is true when no handshake was captured and the connection
	// was recognised from its frames. JSON "midstream".
	Midstream bool
}

// Deflate holds the negotiated permessage-deflate parameters (RFC 7692 §7.1).
type Deflate struct {
	ServerNoContextTakeover bool `json:"server_no_context_takeover"`
	ClientNoContextTakeover bool `json:"client_no_context_takeover"`
	// Window bits are 8..15; 15 when the parameter was absent.
	ServerMaxWindowBits int `json:"server_max_window_bits"`
	ClientMaxWindowBits int `json:"client_max_window_bits"`
}

// How an HTTP/2 stream ended, as used in H2Close.How.
const (
	CloseEndStream = "end_stream" // both sides sent a frame with END_STREAM (RFC 9113 §5.1)
	CloseRSTStream = "rst_stream" // a side reset the stream (RST_STREAM, RFC 9113 §6.4)
)

// H2Close describes how an HTTP/2 stream that carried a WebSocket ended.
type H2Close struct {
	// How is CloseEndStream or CloseRSTStream. JSON "how".
	How string
	// ErrorCode names a RST_STREAM's error code (RFC 9113 §7),
	// "CANCEL"; "" for end_stream. JSON "error_code", omitted when empty.
	ErrorCode string
	// ClientBytes and ServerBytes count the payload bytes of the
	// stream's DATA frames each side sent after the request and the
	// response: the WebSocket's bytes. JSON "client_bytes",
	// "server_bytes".
	ClientBytes, ServerBytes int64
}

// Frame is one RFC 6455 frame header (§5.2).
type Frame struct {
	// Fin is the FIN bit. JSON "fin".
	Fin bool
	// RSV holds RSV1..RSV3 as a number 0..7 (RSV1 = 4, RSV2 = 2, RSV3 = 1).
	// JSON "rsv".
	RSV uint8
	// Opcode is the 4-bit opcode. JSON "opcode" (a number).
	Opcode uint8
	// Masked is the MASK bit; Mask the masking key. JSON "masked", and
	// "mask" as 8 hex digits when masked.
	Masked bool
	Mask   [4]byte
	// Len is the payload length from the header, as on the wire (before
	// any decompression). JSON "len".
	Len uint64
	// Header holds the header's bytes exactly as on the wire, 2 to 14 of
	// them (a non-minimal length as it was sent). JSON "header", lowercase
	// hex.
	Header []byte
}

// Message is one WebSocket message reassembled from its frames.
type Message struct {
	// Opcode is "text", "binary", "ping", "pong", "close", or
	// "reserved-N" for a reserved opcode. JSON "opcode" (a string).
	Opcode string
	// Len counts payload bytes after reassembly and decompression. JSON
	// "len".
	Len int64
	// WireLen counts payload bytes as sent (compressed). JSON "wire_len".
	WireLen int64
	// Compressed is true when the message had RSV1 set under
	// permessage-deflate. JSON "compressed".
	Compressed bool
	// Frames counts the frames of the message. JSON "frames".
	Frames int
	// Packets lists the numbers of the packets that carried its bytes.
	// JSON "packets".
	Packets []int64
	// Payload holds the payload, cut to the configured size. JSON "text"
	// for text messages, "base64" for binary and control payloads.
	Payload []byte
	// Truncated is true when Payload holds fewer than Len bytes, or the
	// payload could not be fully recovered. JSON "truncated".
	Truncated bool
	// Undecodable is true when none of the message's bytes can be known
	// (a compressed message whose deflate history is missing, compressed
	// bytes lost in a gap, the first frame of a message under
	// permessage-deflate not captured). Len and Payload are then empty
	// because they are unknown, not zero; WireLen still counts the bytes on
	// the wire and the note says what is unknown and why. JSON
	// "undecodable": true, and no "len", "text" or "base64".
	Undecodable bool
	// Code and Reason are a close message's status code and reason
	// (RFC 6455 §5.5.1); Code is 0 when the close had no body. JSON "code",
	// "reason" (close messages only).
	Code   int
	Reason string
}

// Clone returns a deep copy of e that does not share memory with the
// analyzer.
func (e *Event) Clone() Event {
	c := *e
	c.Note = strings.Clone(e.Note) // it may share memory with the notes that follow it (jsonenc.Notes)
	c.Warnings = append([]Warning(nil), e.Warnings...)
	c.TCPOpen.Handshake = append([]TCPPacket(nil), e.TCPOpen.Handshake...)
	c.TCPClose.Teardown = append([]TCPPacket(nil), e.TCPClose.Teardown...)
	c.WSOpen.Offered = append([]string(nil), e.WSOpen.Offered...)
	if e.WSOpen.Deflate != nil {
		d := *e.WSOpen.Deflate
		c.WSOpen.Deflate = &d
	}
	if e.HTTP.Header != nil {
		c.HTTP.Header = e.HTTP.Header.Clone()
	}
	c.Message.Packets = append([]int64(nil), e.Message.Packets...)
	c.Message.Payload = append([]byte(nil), e.Message.Payload...)
	c.TLS.ALPNOffered = append([]string(nil), e.TLS.ALPNOffered...)
	c.Frame.Header = append([]byte(nil), e.Frame.Header...)
	c.TCPOpen.Tunnel = slices.Clone(e.TCPOpen.Tunnel)
	c.Carried.Records = append([]TLSRecord(nil), e.Carried.Records...)
	return c
}

// Warn appends a warning to the event.
func (e *Event) Warn(code, msg string) {
	e.Warnings = append(e.Warnings, Warning{Code: code, Msg: msg})
}

// HasWarning reports whether the event carries a warning with the code.
func (e *Event) HasWarning(code string) bool {
	for _, w := range e.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}
