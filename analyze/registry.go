package analyze

import "slices"

// The registry: every event type and every warning code, defined once.
// docs/events.md's tables and the page's ui/static/registry.js are
// generated from it (go test ./analyze ./ui -run Registry -update), and
// TestRegistryMatchesDecoders fails when a decoder can raise a code that is
// not here, or a code here is raised by no decoder.
//
// Adding a warning code is one line in codes below and one call in a
// decoder (and a capture in testdata/violations that shows it: see
// TestViolations).

// EventTypeInfo describes an event type.
type EventTypeInfo struct {
	// Type is the event's "type", e.g. "tcp.open".
	Type string `json:"type"`
	// Description says in one line, in plain words, what the event means.
	Description string `json:"description"`
}

// CodeInfo describes a warning code.
type CodeInfo struct {
	// Code is the warning's "code", e.g. "ws.unmasked_client_frame".
	Code string `json:"code"`
	// Events lists the event types whose warnings may carry the code.
	Events []string `json:"events"`
	// RFC names the rule that was broken ("RFC 6455 §5.3"), or is "" for a
	// limit of wsviz itself (hostile input is bounded) or a fault of the
	// capture rather than of the traffic.
	RFC string `json:"rfc"`
	// Description says in one line, in plain words, what happened.
	Description string `json:"description"`
}

// eventTypes lists the event types in the order the docs present them.
var eventTypes = []EventTypeInfo{
	{TypeTCPOpen, "a TCP connection was seen for the first time: who is the client, who is the server, whether its SYN was captured"},
	{TypeTCPClose, "a TCP connection ended: both sides sent FIN, one reset it, the capture ended, or wsviz stopped following it"},
	{TypeTCPGap, "bytes one side sent were never captured; what they carried is unknown"},
	{TypeHTTPRequest, "the client sent an HTTP request head: a plain request, or a request to switch to WebSocket"},
	{TypeHTTPResponse, "the server answered with an HTTP response head"},
	{TypeHTTPError, "HTTP decoding of the connection stopped: its bytes break HTTP's framing or a limit of wsviz, or are another protocol, and the rest is looked at as WebSocket frames; on HTTP/2, a frame broke its rules (decoding goes on) or its framing was lost"},
	{TypeWSOpen, "the connection became a WebSocket, after a 101 answer or recognised from its frames when no handshake was captured"},
	{TypeWSFrame, "one WebSocket frame header as it was on the wire"},
	{TypeWSMessage, "one WebSocket message, put together from its frames and decompressed"},
	{TypeH2StreamClose, "an HTTP/2 stream that carried a WebSocket (RFC 8441) ended: both sides sent END_STREAM, or one reset it (RST_STREAM)"},
	{TypeTLSHandshake, "what a TLS handshake established: version, cipher suite, server name, application protocol, resumption, and whether keys were found to decrypt what it carries"},
	{TypeTLSMessage, "one TLS handshake message (client_hello, server_hello, finished, ...) or change_cipher_spec, and whether it travelled encrypted"},
	{TypeTLSAlert, "one TLS alert: close_notify, or an error the sender reports"},
	{TypeTLSRecord, "a TLS record whose content could not be read (no keys, failed authentication, lost in a gap): its size and time are what the network saw"},
	{TypeIPFragments, "a problem with the IP fragments a segment came in: they overlap or conflict, one was malformed, or the datagram never arrived whole"},
	{TypeCaptureStats, "a live capture's counters: packets captured and packets the kernel dropped"},
}

// codes lists the warning codes, grouped by layer, each group in the order
// a connection meets them.
var codes = []CodeInfo{
	{"capture.drops", on(TypeCaptureStats), "", "the kernel dropped packets during a live capture: their bytes appear as tcp.gap"},

	{"ip.fragment_overlap", on(TypeIPFragments), "RFC 5722", "fragments of one IP datagram overlap (with the same bytes): many receivers drop such a datagram, and IPv6 forbids it"},
	{"ip.fragment_conflict", on(TypeIPFragments), "RFC 5722", "fragments of one IP datagram overlap with different bytes: wsviz kept the first copy, the receiver may have kept another"},
	{"ip.bad_fragment", on(TypeIPFragments), "RFC 8200 §4.5", "a fragment no datagram can hold (past 65,535 bytes, not a multiple of 8 bytes, a second end) was dropped"},
	{"ip.fragment_incomplete", on(TypeIPFragments), "RFC 791 §3.2", "a datagram's fragments did not all arrive within the reassembly timeout or before the capture ended: its segment is lost"},
	{"ip.fragment_limit", on(TypeIPFragments), "", "fragments were given up to keep reassembly bounded (a flood of fragments, or fragments that never complete)"},

	{"tcp.gap", on(TypeTCPGap, TypeWSMessage), "RFC 9293 §3.10.7.4", "bytes were never captured; a message they belonged to is shown in part"},
	{"tcp.buffer_limit", on(TypeTCPGap), "", "out-of-order data past --max-buffer or --max-buffer-total was skipped, so this gap was declared early"},
	{"tcp.out_of_window", on(TypeTCPClose), "RFC 7323 §2.3", "segments starting 2^30 bytes or more from the expected sequence number, outside any TCP window, were ignored"},
	{"tcp.conn_limit", on(TypeTCPClose), "", "more connections were open than --max-conns: the least recently active one was dropped"},
	{"tcp.port_reused", on(TypeTCPClose), "RFC 9293 §3.10.7.4", "a SYN outside the connection's window started a new connection on the same addresses; how the old one ended was not captured"},
	{"tcp.data_after_end", on(TypeTCPClose), "RFC 9293 §3.6, §3.10.5", "bytes lay past the sequence number of their sender's own FIN or RST and were not decoded: the FIN or RST came from elsewhere (a middlebox can inject one), or these bytes did"},
	{"tcp.overlap_conflict", on(TypeTCPClose), "RFC 9293 §3.10.7.4", "segments overlapped bytes already captured with different bytes: wsviz kept the first copy, the receiver may have kept another"},

	{"tls.no_keys", on(TypeTLSHandshake), "RFC 9850 §2", "no secrets for this session in the key log (--keylog, SSLKEYLOGFILE, or the pcapng's secrets): its records stay encrypted"},
	{"tls.handshake_missing", on(TypeTLSHandshake), "RFC 9850 §2", "the TLS handshake is not in the capture: without its client random no key can be matched"},
	{"tls.unsupported", on(TypeTLSHandshake, TypeTLSRecord), "", "a TLS version or cipher suite wsviz does not decrypt (TLS 1.0 and 1.1, CCM suites)"},
	{"tls.malformed", on(TypeTLSMessage, TypeTLSRecord), "RFC 8446 §5.1, §4", "bytes that are not a valid TLS record or handshake message"},
	{"tls.bad_record_mac", on(TypeTLSRecord), "RFC 8446 §5.2", "a record failed authentication with the keys from the key log: a wrong key or changed bytes; its content is never shown"},
	{"tls.gap_undecryptable", on(TypeTLSRecord), "RFC 8446 §5.2", "bytes lost in a gap cut a record, which cannot be authenticated, so none of it is shown; or no record authenticates after the gap"},
	{"tls.early_data_skipped", on(TypeTLSRecord), "RFC 8446 §4.2.10", "0-RTT data the server rejected, or whose key is not in the key log, skipped as the server skips it"},

	{"http.bad_request", on(TypeHTTPError), "RFC 9112 §3", "the client sent a malformed request head, or bytes that do not start one where one should start"},
	{"http.bad_response", on(TypeHTTPError), "RFC 9112 §4", "the server sent a malformed response head, or bytes that do not start one while a request waits for its answer"},
	{"http.bad_chunk", on(TypeHTTPError), "RFC 9112 §7.1", "a chunked body is malformed, so where the next message starts is unknown"},
	{"http.head_too_large", on(TypeHTTPError), "RFC 9112 §2.1", "a request or response head is longer than 64 KiB, wsviz's limit"},
	{"http.pending_too_large", on(TypeHTTPError, TypeWSOpen), "RFC 6455 §4.1", "the client sent more than 64 KiB while its upgrade request waited for an answer, wsviz's limit"},
	{"http.gap", on(TypeHTTPError), "RFC 9112 §6", "bytes of the HTTP exchange were never captured, so where the next message starts is unknown"},
	{"http.not_websocket", on(TypeHTTPError), "RFC 9110 §7.8", "the server switched the connection to a protocol other than WebSocket and HTTP/2 (h2c is decoded)"},
	{"http.bad_method", on(TypeHTTPRequest), "RFC 6455 §4.1", "an upgrade request that is not a GET"},
	{"http.bad_proto", on(TypeHTTPRequest), "RFC 6455 §4.1", "an upgrade request in a version of HTTP older than 1.1"},
	{"http.bad_host", on(TypeHTTPRequest), "RFC 6455 §4.1", "an upgrade request without a Host field"},
	{"http.bad_upgrade", on(TypeHTTPRequest, TypeWSOpen), "RFC 6455 §4.1, §4.2.2", "the Upgrade field is missing or lacks the token websocket, or the server switched though the request did not ask"},
	{"http.bad_connection", on(TypeHTTPRequest, TypeWSOpen), "RFC 6455 §4.1", "the Connection field is missing or lacks the token Upgrade"},
	{"http.bad_key", on(TypeHTTPRequest), "RFC 6455 §4.1", "Sec-WebSocket-Key is missing, repeated, or not the base64 form of 16 bytes"},
	{"http.bad_version", on(TypeHTTPRequest), "RFC 6455 §4.1", "Sec-WebSocket-Version is missing or not 13"},
	{"http.upgrade_rejected", on(TypeHTTPResponse), "RFC 6455 §4.1", "the server answered an upgrade request with something other than 101 (on HTTP/2, other than 2xx): the connection (the stream) stays HTTP"},
	{"http.bad_accept", on(TypeWSOpen), "RFC 6455 §4.2.2", "Sec-WebSocket-Accept is missing or does not match the key"},

	{"h2.bad_preface", on(TypeHTTPError), "RFC 9113 §3.4", "the client of a connection that speaks HTTP/2 did not begin with its connection preface: its side is not decoded"},
	{"h2.lost_sync", on(TypeHTTPError), "RFC 9113 §4.1", "bytes lost in a gap held an HTTP/2 frame header, so where the next frame starts is unknown: the rest of that side is only counted"},
	{"h2.frame_size", on(TypeHTTPError), "RFC 9113 §4.2", "a frame longer than its receiver's SETTINGS_MAX_FRAME_SIZE (decoded anyway), or of a length its type does not allow (skipped)"},
	{"h2.stream_id", on(TypeHTTPError), "RFC 9113 §5.1.1, §6", "a frame on stream 0 that needs a stream, or on a stream where it must be on stream 0: skipped"},
	{"h2.padding", on(TypeHTTPError), "RFC 9113 §6.1", "a frame's padding is as long as its payload or longer: skipped"},
	{"h2.continuation", on(TypeHTTPError), "RFC 9113 §6.10", "a header block interrupted by another frame, or a CONTINUATION that continues nothing: that side's header blocks are no longer decoded"},
	{"h2.hpack", on(TypeHTTPError), "RFC 7541", "a header block HPACK cannot decode: that side's compression state is lost, and its later header blocks are not decoded"},
	{"h2.gap_in_headers", on(TypeHTTPError), "RFC 7541 §2.2", "bytes of a header block were lost in a gap: that side's compression state is lost, and its later header blocks are not decoded"},
	{"h2.header_block_too_large", on(TypeHTTPError), "", "a header block longer than 256 KiB, wsviz's limit: that side's later header blocks are not decoded"},
	{"h2.header_list_too_large", on(TypeHTTPError), "", "a header block's fields add up to more than 1 MiB, wsviz's limit: only the fields that fit are shown"},
	{"h2.settings_too_large", on(TypeHTTPError), "", "a SETTINGS frame longer than 64 KiB, wsviz's limit: skipped"},
	{"h2.settings_value", on(TypeHTTPError), "RFC 9113 §6.5.2, RFC 8441 §3", "a setting with a value its definition forbids"},
	{"h2.window_update", on(TypeHTTPError), "RFC 9113 §6.9", "a WINDOW_UPDATE with an increment of 0"},
	{"h2.connect_not_enabled", on(TypeHTTPRequest), "RFC 8441 §4", "the client asked for a WebSocket with extended CONNECT (:protocol) before the server announced SETTINGS_ENABLE_CONNECT_PROTOCOL = 1"},
	{"h2.bad_connect", on(TypeHTTPRequest), "RFC 8441 §4", "an extended CONNECT for a WebSocket lacks :scheme, :path or :authority"},
	{"h2.websocket_limit", on(TypeHTTPRequest), "", "more WebSockets at once on one HTTP/2 connection than wsviz tracks (64): this one is not decoded"},

	{"ws.subprotocol_not_selected", on(TypeWSOpen), "RFC 6455 §4.2.2", "the client offered subprotocols and the server chose none, or one that was never offered"},
	{"ws.extension_not_offered", on(TypeWSOpen), "RFC 6455 §9.1", "the server accepted an extension the client did not offer"},
	{"ws.bad_extension_params", on(TypeWSOpen), "RFC 7692 §7.1", "the extension answer is malformed, its permessage-deflate parameters are not allowed, or it does not keep to what the client's offer asked for (server_max_window_bits, server_no_context_takeover)"},
	{"ws.midstream", on(TypeWSOpen), "RFC 6455 §4", "no handshake in the capture: the connection was recognised from its frames; subprotocol and extensions are unknown"},
	{"ws.unmasked_client_frame", on(TypeWSFrame), "RFC 6455 §5.3", "a client frame without a mask: clients must mask every frame"},
	{"ws.masked_server_frame", on(TypeWSFrame), "RFC 6455 §5.1", "a server frame with a mask: servers must not mask"},
	{"ws.reserved_opcode", on(TypeWSFrame), "RFC 6455 §5.2", "an opcode no specification defines (3–7, 0xB–0xF)"},
	{"ws.reserved_bits", on(TypeWSFrame), "RFC 6455 §5.2", "RSV bits set that no negotiated extension defines"},
	{"ws.control_frame_too_long", on(TypeWSFrame), "RFC 6455 §5.5", "a ping, pong or close with more than 125 bytes of payload"},
	{"ws.fragmented_control_frame", on(TypeWSFrame), "RFC 6455 §5.5", "a ping, pong or close without FIN: control frames cannot be split"},
	{"ws.unexpected_continuation", on(TypeWSFrame), "RFC 6455 §5.4", "a continuation frame with no message in progress"},
	{"ws.data_frame_interrupted", on(TypeWSFrame, TypeWSMessage), "RFC 6455 §5.4", "a new text or binary frame while a fragmented message is still in progress"},
	{"ws.non_minimal_length", on(TypeWSFrame), "RFC 6455 §5.2", "a payload length written in more bytes than it needs"},
	{"ws.length_overflow", on(TypeWSFrame), "RFC 6455 §5.2", "a 64-bit length with its top bit set: the rest of that direction is not decoded"},
	{"ws.lost_start", on(TypeWSMessage), "RFC 6455 §5.4", "the first frames of the message were not captured: only its end is shown"},
	{"ws.invalid_utf8", on(TypeWSMessage), "RFC 6455 §8.1", "a text message or close reason that is not valid UTF-8"},
	{"ws.invalid_close_code", on(TypeWSMessage), "RFC 6455 §7.4", "a close status code that may not be sent on the wire"},
	{"ws.invalid_close_payload", on(TypeWSMessage), "RFC 6455 §5.5.1", "a close body of 1 byte: a body starts with a 2-byte status code"},
	{"ws.incomplete", on(TypeWSMessage), "RFC 6455 §5.2", "the stream ended in the middle of a frame"},
	{"ws.decompression_limit", on(TypeWSMessage), "RFC 7692 §8.1", "the message inflated past --max-message: decoding stopped there; the next message is decoded normally"},
	{"ws.deflate_error", on(TypeWSMessage), "RFC 7692 §7.2.2", "compressed data that does not inflate"},
	{"ws.deflate_missing_history", on(TypeWSMessage), "RFC 7692 §7.2.2", "a compressed message refers to bytes from before the capture or lost in a gap: not decodable"},
	{"ws.deflate_history_limit", on(TypeWSMessage), "RFC 7692 §7.2.2", "a compressed message refers to history wsviz dropped to stay within --max-deflate-history: raise the flag to decode it"},
	{"ws.deflate_window", on(TypeWSMessage), "RFC 7692 §7.1.2", "a compressed message refers further back than the window its sender agreed to (server_max_window_bits, client_max_window_bits): receivers that keep only that window cannot inflate it; wsviz still does"},
	{"ws.deflate_context_takeover", on(TypeWSMessage), "RFC 7692 §7.1.1", "a compressed message refers to an earlier message though its sender agreed to no context takeover: receivers that reset their context cannot inflate it, nor can wsviz"},
}

func on(types ...string) []string { return types }

// EventTypes returns every event type, in the order docs/events.md
// presents them. The slice is a copy.
func EventTypes() []EventTypeInfo { return slices.Clone(eventTypes) }

// Codes returns every warning code a decoder can raise, grouped by layer.
// The slice and its Events are copies.
func Codes() []CodeInfo {
	out := slices.Clone(codes)
	for i := range out {
		out[i].Events = slices.Clone(out[i].Events)
	}
	return out
}

// LookupCode returns what the registry says about a warning code.
func LookupCode(code string) (CodeInfo, bool) {
	for _, c := range codes {
		if c.Code == code {
			c.Events = slices.Clone(c.Events)
			return c, true
		}
	}
	return CodeInfo{}, false
}
