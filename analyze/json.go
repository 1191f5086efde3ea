package analyze

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
)

// MarshalJSON encodes the event as one flat JSON object (see AppendJSON).
func (e *Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil), nil
}

// AppendJSON appends the event's JSON form to b and returns the extended
// buffer. The form is the one `wsviz events` prints, one object per line:
// common fields first (type, t, conn, from, packet), then the fields of the
// event's type, then note and warnings. It allocates nothing beyond growing b.
func (e *Event) AppendJSON(b []byte) []byte {
	return e.appendJSON(b, nil, nil)
}

// appendJSON is AppendJSON for an encoder that writes many events in a row:
// times remembers the last second formatted, and notes, when not nil, is
// the note builder of the Analyzer whose events these are (its notes are
// copied without being escaped).
func (e *Event) appendJSON(b []byte, times *jsonenc.TimeCache, notes *jsonenc.Notes) []byte {
	b, _ = e.appendJSONAt(b, times, notes, false)
	return b
}

// appendJSONAt is appendJSON that, when omit is true and e is a message
// with a payload, leaves out the payload's encoded bytes between the
// quotes of "text" or "base64" and returns where they go, for the caller
// to write them in pieces (see writePayload); at is -1 when nothing was
// left out.
func (e *Event) appendJSONAt(b []byte, times *jsonenc.TimeCache, notes *jsonenc.Notes, omit bool) (_ []byte, at int) {
	at = -1
	// The words of the events that come by the thousand (the types of
	// frames and messages, the two directions, the data opcodes) are
	// written as constants: a switch on a string costs less than
	// AppendString's look at its bytes. Constants of at most 16 bytes
	// are appended without a call.
	b = append(b, `{"type":`...)
	switch e.Type {
	case TypeWSFrame:
		b = append(b, `"ws.frame","t":"`...)
	case TypeWSMessage:
		b = append(b, `"ws.message"`...)
		b = append(b, `,"t":"`...)
	default:
		b = jsonenc.AppendString(b, e.Type)
		b = append(b, `,"t":"`...)
	}
	b = jsonenc.AppendTime(b, e.Time, times)
	b = append(b, '"')
	if e.Conn != 0 {
		b = append(b, `,"conn":`...)
		b = jsonenc.AppendInt(b, int64(e.Conn))
	}
	if e.Stream != 0 {
		b = append(b, `,"stream":`...)
		b = jsonenc.AppendUint(b, uint64(e.Stream))
	}
	switch e.From {
	case "":
	case FromServer:
		b = append(b, `,"from":"server"`...)
	case FromClient:
		b = append(b, `,"from":"client"`...)
	default:
		b = append(b, `,"from":`...)
		b = jsonenc.AppendString(b, e.From)
	}
	b = append(b, `,"packet":`...)
	b = jsonenc.AppendInt(b, e.Packet)

	switch e.Type {
	case TypeTCPOpen:
		o := &e.TCPOpen
		b = appendField(b, "client", o.Client)
		b = appendField(b, "server", o.Server)
		b = appendBool(b, "syn", o.SYN)
		if len(o.Tunnel) > 0 {
			b = appendTunnel(b, o.Tunnel)
		}
		b = appendTCPPackets(b, "handshake", o.Handshake, times)
	case TypeTCPClose:
		c := &e.TCPClose
		b = appendField(b, "how", c.How)
		b = appendInt(b, "client_bytes", c.ClientBytes)
		b = appendInt(b, "server_bytes", c.ServerBytes)
		b = appendTCPPackets(b, "teardown", c.Teardown, times)
	case TypeTLSHandshake, TypeTLSMessage, TypeTLSAlert, TypeTLSRecord:
		b = appendTLS(b, e.Type, &e.TLS)
	case TypeH2StreamClose:
		c := &e.H2Close
		b = appendField(b, "how", c.How)
		if c.ErrorCode != "" {
			b = appendField(b, "error_code", c.ErrorCode)
		}
		b = appendInt(b, "client_bytes", c.ClientBytes)
		b = appendInt(b, "server_bytes", c.ServerBytes)
	case TypeCaptureStats:
		b = appendInt(b, "captured", e.Capture.Packets)
		b = appendInt(b, "dropped", e.Capture.Drops)
	case TypeTCPGap:
		b = appendInt(b, "offset", e.TCPGap.Offset)
		b = appendInt(b, "size", e.TCPGap.Size)
	case TypeHTTPRequest, TypeHTTPResponse:
		h := &e.HTTP
		if e.Type == TypeHTTPRequest {
			b = appendField(b, "method", h.Method)
			b = appendField(b, "target", h.Target)
		} else {
			b = appendInt(b, "status", int64(h.Status))
			b = appendField(b, "reason", h.Reason)
		}
		b = appendField(b, "proto", h.Proto)
		b = appendHeader(b, h.Header)
	case TypeWSOpen:
		o := &e.WSOpen
		b = appendField(b, "path", o.Path)
		b = appendField(b, "subprotocol", o.Subprotocol)
		if len(o.Offered) > 0 {
			b = append(b, `,"offered":[`...)
			for i, p := range o.Offered {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsonenc.AppendString(b, p)
			}
			b = append(b, ']')
		}
		b = appendField(b, "extensions", o.Extensions)
		if d := o.Deflate; d != nil {
			b = append(b, `,"deflate":{`...)
			b = append(b, `"server_no_context_takeover":`...)
			b = strconv.AppendBool(b, d.ServerNoContextTakeover)
			b = appendBool(b, "client_no_context_takeover", d.ClientNoContextTakeover)
			b = appendInt(b, "server_max_window_bits", int64(d.ServerMaxWindowBits))
			b = appendInt(b, "client_max_window_bits", int64(d.ClientMaxWindowBits))
			b = append(b, '}')
		}
		b = appendField(b, "accept", o.Accept)
		b = appendBool(b, "midstream", o.Midstream)
	case TypeWSFrame:
		// The fields of frames and messages, which come by the
		// thousand, are named in constants of at most 16 bytes, which
		// are appended without a call (appendInt's name is copied by
		// one, and so is a longer constant).
		f := &e.Frame
		if f.Fin {
			b = append(b, `,"fin":true`...)
		} else {
			b = append(b, `,"fin":false`...)
		}
		b = append(b, `,"rsv":`...)
		b = jsonenc.AppendUint(b, uint64(f.RSV))
		b = append(b, `,"opcode":`...)
		b = jsonenc.AppendUint(b, uint64(f.Opcode))
		if f.Masked {
			b = append(b, `,"masked":true`...)
			b = append(b, `,"mask":"`...)
			b = jsonenc.AppendHex4(b, f.Mask)
			b = append(b, `","len":`...)
		} else {
			b = append(b, `,"masked":false`...)
			b = append(b, `,"len":`...)
		}
		b = jsonenc.AppendUint(b, f.Len)
		b = append(b, `,"header":"`...)
		b = jsonenc.AppendHex(b, f.Header)
		b = append(b, '"')
	case TypeWSMessage:
		m := &e.Message
		switch m.Opcode {
		case "text":
			b = append(b, `,"opcode":"text"`...)
		case "binary":
			b = append(b, `,"opcode":`...)
			b = append(b, `"binary"`...)
		default:
			b = append(b, `,"opcode":`...)
			b = jsonenc.AppendString(b, m.Opcode)
		}
		if !m.Undecodable {
			b = append(b, `,"len":`...)
			b = jsonenc.AppendInt(b, m.Len)
		}
		b = append(b, `,"wire_len":`...)
		b = jsonenc.AppendInt(b, m.WireLen)
		b = append(b, `,"compressed":`...)
		if m.Compressed {
			b = append(b, `true,"frames":`...)
		} else {
			b = append(b, `false,"frames":`...)
		}
		b = jsonenc.AppendInt(b, int64(m.Frames))
		b = append(b, `,"packets":[`...)
		for i, p := range m.Packets {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendInt(b, p)
		}
		b = append(b, ']')
		switch {
		case m.Undecodable:
			b = append(b, `,"undecodable":true`...)
		case omit && m.Opcode == "text":
			b = append(b, `,"text":""`...)
			at = len(b) - 1
		case omit:
			b = append(b, `,"base64":""`...)
			at = len(b) - 1
		case m.Opcode == "text":
			b = append(b, `,"text":`...)
			b = jsonenc.AppendBytes(b, m.Payload)
		default:
			b = append(b, `,"base64":"`...)
			b = jsonenc.AppendBase64(b, m.Payload)
			b = append(b, '"')
		}
		if m.Truncated {
			b = append(b, `,"truncated":true`...)
		}
		if m.Opcode == "close" {
			b = appendInt(b, "code", int64(m.Code))
			b = appendField(b, "reason", m.Reason)
		}
	}

	if c := &e.Carried; len(c.Records) > 0 || c.More > 0 {
		b = appendCarried(b, c)
	}
	b = append(b, `,"note":`...)
	b = notes.AppendString(b, e.Note)
	if len(e.Warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range e.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = jsonenc.AppendString(b, w.Code)
			b = append(b, `,"msg":`...)
			b = jsonenc.AppendString(b, w.Msg)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), at
}

// appendTLS writes the fields of a tls.* event (see TLS).
func appendTLS(b []byte, typ string, t *TLS) []byte {
	switch typ {
	case TypeTLSHandshake:
		b = appendField(b, "version", t.Version)
		b = appendField(b, "cipher_suite", t.CipherSuite)
		b = appendField(b, "sni", t.SNI)
		b = appendField(b, "alpn", t.ALPN)
		b = appendStrings(b, "alpn_offered", t.ALPNOffered)
		b = appendBool(b, "resumed", t.Resumed)
		if t.Resumed {
			b = appendField(b, "resumed_by", t.ResumedBy)
		}
		b = appendBool(b, "hello_retry", t.HelloRetry)
		if t.EarlyData != "" {
			b = appendField(b, "early_data", t.EarlyData)
		}
		b = appendBool(b, "keys", t.Keys)
	case TypeTLSMessage:
		b = appendField(b, "message", t.Message)
		b = appendBool(b, "encrypted", t.Encrypted)
		// What a hello says, for those who read the messages one by one.
		if t.Version != "" {
			b = appendField(b, "version", t.Version)
			b = appendField(b, "cipher_suite", t.CipherSuite)
		}
		if t.SNI != "" {
			b = appendField(b, "sni", t.SNI)
		}
		if t.ALPN != "" {
			b = appendField(b, "alpn", t.ALPN)
		}
		if len(t.ALPNOffered) > 0 {
			b = appendStrings(b, "alpn_offered", t.ALPNOffered)
		}
	case TypeTLSAlert:
		b = appendField(b, "alert", t.Alert)
		b = appendField(b, "level", t.Level)
		b = appendBool(b, "encrypted", t.Encrypted)
	case TypeTLSRecord:
		b = appendField(b, "record_type", t.RecordType)
		b = appendInt(b, "record_len", int64(t.RecordLen))
	}
	return b
}

// appendTunnel writes tcp.open's "tunnel" (see Tunnel).
func appendTunnel(b []byte, tunnel []Tunnel) []byte {
	b = append(b, `,"tunnel":[`...)
	for i, t := range tunnel {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":`...)
		b = jsonenc.AppendString(b, t.Kind)
		if t.Src != "" || t.Dst != "" {
			b = appendField(b, "src", t.Src)
			b = appendField(b, "dst", t.Dst)
		}
		switch {
		case t.Kind == "vxlan" || t.Kind == "geneve":
			b = appendInt(b, "vni", int64(t.VNI))
		case t.Kind == "mpls":
			b = appendInt(b, "label", int64(t.Label))
		case t.HasKey:
			b = appendInt(b, "key", int64(t.Key))
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// jsonTunnel is Tunnel's JSON form, for UnmarshalJSON.
type jsonTunnel struct {
	Kind  string  `json:"kind"`
	Src   string  `json:"src"`
	Dst   string  `json:"dst"`
	VNI   uint32  `json:"vni"`
	Key   *uint32 `json:"key"`
	Label uint32  `json:"label"`
}

// appendStrings writes a field holding a list of strings.
func appendStrings(b []byte, name string, list []string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '[')
	for i, p := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, p)
	}
	return append(b, ']')
}

// appendCarried writes the TLS records that carried an event (see
// Carried).
func appendCarried(b []byte, c *Carried) []byte {
	b = append(b, `,"tls_records":[`...)
	for i, r := range c.Records {
		if i > 0 {
			b = append(b, ',')
		}
		if r.Type == "application_data" {
			b = appendAppDataRecord(b, r.Len, r.Packet) // tls.go
			continue
		}
		b = append(b, `{"type":`...)
		b = jsonenc.AppendString(b, r.Type)
		b = append(b, `,"len":`...)
		b = jsonenc.AppendInt(b, int64(r.Len))
		b = append(b, `,"packet":`...)
		b = jsonenc.AppendInt(b, r.Packet)
		b = append(b, '}')
	}
	b = append(b, ']')
	if c.More > 0 {
		b = appendInt(b, "tls_records_more", int64(c.More))
		b = appendInt(b, "tls_records_more_len", c.MoreLen)
	}
	return b
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsonenc.AppendString(b, value)
}

func appendInt(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsonenc.AppendInt(b, v)
}

func appendBool(b []byte, name string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}

// appendTCPPackets appends a list of TCPPackets as the field name,
// nothing when the list is empty.
func appendTCPPackets(b []byte, name string, list []TCPPacket, times *jsonenc.TimeCache) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '[')
	for i, p := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"flags":`...)
		b = jsonenc.AppendString(b, p.Flags)
		b = appendField(b, "from", p.From)
		b = appendInt(b, "packet", p.Packet)
		b = append(b, `,"t":"`...)
		b = jsonenc.AppendTime(b, p.Time, times)
		b = append(b, '"', '}')
	}
	return append(b, ']')
}

func appendHeader(b []byte, h http.Header) []byte {
	b = append(b, `,"headers":{`...)
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, name)
		b = append(b, ':', '[')
		for j, v := range h[name] {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// jsonEvent is the flat JSON form, for UnmarshalJSON.
type jsonEvent struct {
	Type     string    `json:"type"`
	T        time.Time `json:"t"`
	Conn     int       `json:"conn"`
	From     string    `json:"from"`
	Packet   int64     `json:"packet"`
	Stream   uint32    `json:"stream"`
	Note     string    `json:"note"`
	Warnings []Warning `json:"warnings"`

	Client      string       `json:"client"`
	Server      string       `json:"server"`
	SYN         bool         `json:"syn"`
	Tunnel      []jsonTunnel `json:"tunnel"`
	Handshake   []TCPPacket  `json:"handshake"`
	Teardown    []TCPPacket  `json:"teardown"`
	How         string       `json:"how"`
	ClientBytes int64        `json:"client_bytes"`
	ServerBytes int64        `json:"server_bytes"`
	ErrorCode   string       `json:"error_code"`
	Captured    int64        `json:"captured"`
	Dropped     int64        `json:"dropped"`
	Offset      int64        `json:"offset"`
	Size        int64        `json:"size"`

	Method  string      `json:"method"`
	Target  string      `json:"target"`
	Status  int         `json:"status"`
	Reason  string      `json:"reason"`
	Proto   string      `json:"proto"`
	Headers http.Header `json:"headers"`

	Path        string   `json:"path"`
	Subprotocol string   `json:"subprotocol"`
	Offered     []string `json:"offered"`
	Extensions  string   `json:"extensions"`
	Deflate     *Deflate `json:"deflate"`
	Accept      string   `json:"accept"`
	Midstream   bool     `json:"midstream"`

	Fin    bool            `json:"fin"`
	RSV    uint8           `json:"rsv"`
	Opcode json.RawMessage `json:"opcode"`
	Masked bool            `json:"masked"`
	Mask   string          `json:"mask"`
	Len    uint64          `json:"len"`
	Header string          `json:"header"`

	WireLen    int64   `json:"wire_len"`
	Compressed bool    `json:"compressed"`
	Frames     int     `json:"frames"`
	Packets    []int64 `json:"packets"`
	Text       *string `json:"text"`
	Base64     []byte  `json:"base64"`
	Truncated  bool    `json:"truncated"`
	Code       int     `json:"code"`
	// Undecodable: see Message.Undecodable.
	Undecodable bool `json:"undecodable"`

	Version     string   `json:"version"`
	CipherSuite string   `json:"cipher_suite"`
	SNI         string   `json:"sni"`
	ALPN        string   `json:"alpn"`
	ALPNOffered []string `json:"alpn_offered"`
	Resumed     bool     `json:"resumed"`
	ResumedBy   string   `json:"resumed_by"`
	HelloRetry  bool     `json:"hello_retry"`
	EarlyData   string   `json:"early_data"`
	Keys        bool     `json:"keys"`
	TLSMessage  string   `json:"message"`
	Encrypted   bool     `json:"encrypted"`
	Alert       string   `json:"alert"`
	Level       string   `json:"level"`
	RecordType  string   `json:"record_type"`
	RecordLen   int      `json:"record_len"`

	TLSRecords        []jsonTLSRecord `json:"tls_records"`
	TLSRecordsMore    int             `json:"tls_records_more"`
	TLSRecordsMoreLen int64           `json:"tls_records_more_len"`
}

type jsonTLSRecord struct {
	Type   string `json:"type"`
	Len    int    `json:"len"`
	Packet int64  `json:"packet"`
}

// UnmarshalJSON reads the flat JSON form written by AppendJSON.
func (e *Event) UnmarshalJSON(data []byte) error {
	var j jsonEvent
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("analyze: decode event: %w", err)
	}
	*e = Event{Type: j.Type, Time: j.T, Conn: j.Conn, From: j.From, Packet: j.Packet, Stream: j.Stream, Note: j.Note, Warnings: j.Warnings}
	if len(j.TLSRecords) > 0 || j.TLSRecordsMore > 0 {
		e.Carried = Carried{More: j.TLSRecordsMore, MoreLen: j.TLSRecordsMoreLen}
		for _, r := range j.TLSRecords {
			if r.Type == "" {
				r.Type = "application_data"
			}
			e.Carried.Records = append(e.Carried.Records, TLSRecord{Type: r.Type, Len: r.Len, Packet: r.Packet})
		}
	}
	switch j.Type {
	case TypeTCPOpen:
		e.TCPOpen = TCPOpen{Client: j.Client, Server: j.Server, SYN: j.SYN, Handshake: j.Handshake}
		for _, t := range j.Tunnel {
			tun := Tunnel{Kind: t.Kind, Src: t.Src, Dst: t.Dst, VNI: t.VNI, Label: t.Label}
			if t.Key != nil {
				tun.Key, tun.HasKey = *t.Key, true
			}
			e.TCPOpen.Tunnel = append(e.TCPOpen.Tunnel, tun)
		}
	case TypeTCPClose:
		e.TCPClose = TCPClose{How: j.How, ClientBytes: j.ClientBytes, ServerBytes: j.ServerBytes, Teardown: j.Teardown}
	case TypeH2StreamClose:
		e.H2Close = H2Close{How: j.How, ErrorCode: j.ErrorCode, ClientBytes: j.ClientBytes, ServerBytes: j.ServerBytes}
	case TypeCaptureStats:
		e.Capture = Capture{Packets: j.Captured, Drops: j.Dropped}
	case TypeTLSHandshake, TypeTLSMessage, TypeTLSAlert, TypeTLSRecord:
		e.TLS = TLS{Version: j.Version, CipherSuite: j.CipherSuite, SNI: j.SNI, ALPN: j.ALPN, ALPNOffered: j.ALPNOffered,
			Resumed: j.Resumed, ResumedBy: j.ResumedBy, HelloRetry: j.HelloRetry, EarlyData: j.EarlyData, Keys: j.Keys,
			Message: j.TLSMessage, Encrypted: j.Encrypted, Alert: j.Alert, Level: j.Level, RecordType: j.RecordType, RecordLen: j.RecordLen}
	case TypeTCPGap:
		e.TCPGap = TCPGap{Offset: j.Offset, Size: j.Size}
	case TypeHTTPRequest, TypeHTTPResponse:
		e.HTTP = HTTP{Method: j.Method, Target: j.Target, Status: j.Status, Reason: j.Reason, Proto: j.Proto, Header: j.Headers}
	case TypeWSOpen:
		e.WSOpen = WSOpen{Path: j.Path, Subprotocol: j.Subprotocol, Offered: j.Offered, Extensions: j.Extensions,
			Deflate: j.Deflate, Accept: j.Accept, Midstream: j.Midstream}
	case TypeWSFrame:
		f := Frame{Fin: j.Fin, RSV: j.RSV, Masked: j.Masked, Len: j.Len}
		if err := json.Unmarshal(j.Opcode, &f.Opcode); err != nil {
			return fmt.Errorf("analyze: decode event: frame opcode: %w", err)
		}
		if j.Masked {
			if n, err := hex.Decode(f.Mask[:], []byte(j.Mask)); err != nil || n != 4 {
				return fmt.Errorf("analyze: decode event: bad mask %q", j.Mask)
			}
		}
		if j.Header != "" {
			h, err := hex.DecodeString(j.Header)
			if err != nil || len(h) < 2 || len(h) > 14 {
				return fmt.Errorf("analyze: decode event: bad frame header %q", j.Header)
			}
			f.Header = h
		}
		e.Frame = f
	case TypeWSMessage:
		m := Message{Len: int64(j.Len), WireLen: j.WireLen, Compressed: j.Compressed, Frames: j.Frames,
			Packets: j.Packets, Truncated: j.Truncated, Undecodable: j.Undecodable, Code: j.Code, Reason: j.Reason}
		if err := json.Unmarshal(j.Opcode, &m.Opcode); err != nil {
			return fmt.Errorf("analyze: decode event: message opcode: %w", err)
		}
		if j.Text != nil {
			m.Payload = []byte(*j.Text)
		} else {
			m.Payload = j.Base64
		}
		e.Message = m
	}
	return nil
}
