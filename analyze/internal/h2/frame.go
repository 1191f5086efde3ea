package h2

import "strconv"

// Sides: Conn's methods and the Handler's callbacks name a direction by the
// endpoint that sent it.
const (
	Client = 0
	Server = 1
)

// preface is what a client sends first (RFC 9113 §3.4).
const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// frameHeaderLen is the size of a frame header (RFC 9113 §4.1).
const frameHeaderLen = 9

// Frame types, RFC 9113 §6 (the registry of §11.2).
const (
	frameData         = 0x0 // RFC 9113 §6.1
	frameHeaders      = 0x1 // RFC 9113 §6.2
	framePriority     = 0x2 // RFC 9113 §6.3
	frameRSTStream    = 0x3 // RFC 9113 §6.4
	frameSettings     = 0x4 // RFC 9113 §6.5
	framePushPromise  = 0x5 // RFC 9113 §6.6
	framePing         = 0x6 // RFC 9113 §6.7
	frameGoAway       = 0x7 // RFC 9113 §6.8
	frameWindowUpdate = 0x8 // RFC 9113 §6.9
	frameContinuation = 0x9 // RFC 9113 §6.10
)

var frameNames = [...]string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"}

// frameName names a frame type as RFC 9113 §6 does.
func frameName(t uint8) string {
	if int(t) < len(frameNames) {
		return frameNames[t]
	}
	return "0x" + strconv.FormatUint(uint64(t), 16)
}

// Frame flags, RFC 9113 §6. Each is defined only for some frame types.
const (
	flagAck        = 0x1  // RFC 9113 §6.5, §6.7: SETTINGS and PING
	flagEndStream  = 0x1  // RFC 9113 §6.1, §6.2: DATA and HEADERS
	flagEndHeaders = 0x4  // RFC 9113 §6.2, §6.6, §6.10
	flagPadded     = 0x8  // RFC 9113 §6.1, §6.2, §6.6
	flagPriority   = 0x20 // RFC 9113 §6.2: Exclusive, Stream Dependency and Weight follow
)

// Fixed field sizes, RFC 9113 §6.
const (
	padLengthLen   = 1 // RFC 9113 §6.1: Pad Length (8)
	priorityLen    = 5 // RFC 9113 §6.2, §6.3: Exclusive (1), Stream Dependency (31), Weight (8)
	promisedLen    = 4 // RFC 9113 §6.6: Reserved (1), Promised Stream ID (31)
	rstStreamLen   = 4 // RFC 9113 §6.4: Error Code (32)
	pingLen        = 8 // RFC 9113 §6.7: Opaque Data (64)
	goAwayFixedLen = 8 // RFC 9113 §6.8: Reserved (1), Last-Stream-ID (31), Error Code (32)
	windowLen      = 4 // RFC 9113 §6.9: Reserved (1), Window Size Increment (31)
	settingLen     = 6 // RFC 9113 §6.5.1: Identifier (16), Value (32)

	streamMask = 1<<31 - 1 // RFC 9113 §4.1: the reserved bit "MUST be ignored when receiving"
)

// Setting identifiers, RFC 9113 §6.5.2 and the extensions that registered
// more (RFC 9113 §11.3).
const (
	SettingHeaderTableSize       = 0x1 // RFC 9113 §6.5.2: the HPACK dynamic table size the sender's decoder allows
	SettingEnablePush            = 0x2 // RFC 9113 §6.5.2: 0 or 1; a server never sends 1
	SettingMaxConcurrentStreams  = 0x3 // RFC 9113 §6.5.2
	SettingInitialWindowSize     = 0x4 // RFC 9113 §6.5.2: at most 2^31-1
	SettingMaxFrameSize          = 0x5 // RFC 9113 §6.5.2: the largest frame payload the sender accepts, 2^14..2^24-1
	SettingMaxHeaderListSize     = 0x6 // RFC 9113 §6.5.2
	SettingEnableConnectProtocol = 0x8 // RFC 8441 §3: 1 lets the peer use the extended CONNECT (WebSocket)
	SettingNoRFC7540Priorities   = 0x9 // RFC 9218 §2.1: 0 or 1
)

// Default setting values, RFC 9113 §6.5.2.
const (
	defaultHeaderTableSize = 4096
	defaultMaxFrameSize    = 1 << 14
	maxMaxFrameSize        = 1<<24 - 1
	maxWindowSize          = 1<<31 - 1
)

var settingNames = map[uint16]string{
	SettingHeaderTableSize:       "SETTINGS_HEADER_TABLE_SIZE",
	SettingEnablePush:            "SETTINGS_ENABLE_PUSH",
	SettingMaxConcurrentStreams:  "SETTINGS_MAX_CONCURRENT_STREAMS",
	SettingInitialWindowSize:     "SETTINGS_INITIAL_WINDOW_SIZE",
	SettingMaxFrameSize:          "SETTINGS_MAX_FRAME_SIZE",
	SettingMaxHeaderListSize:     "SETTINGS_MAX_HEADER_LIST_SIZE",
	SettingEnableConnectProtocol: "SETTINGS_ENABLE_CONNECT_PROTOCOL",
	SettingNoRFC7540Priorities:   "SETTINGS_NO_RFC7540_PRIORITIES",
}

// SettingName names a setting identifier as its RFC does
// ("SETTINGS_MAX_FRAME_SIZE"), or gives it in hex ("0x1f") when unknown.
func SettingName(id uint16) string {
	if s, ok := settingNames[id]; ok {
		return s
	}
	return "0x" + strconv.FormatUint(uint64(id), 16)
}

// Setting is one parameter of a SETTINGS frame (RFC 9113 §6.5.1).
type Setting struct {
	ID    uint16
	Value uint32
}

// errCodeNames are the error codes of RFC 9113 §7, by value.
var errCodeNames = [...]string{
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
	"CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
	"INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
}

// ErrCodeName names an RST_STREAM or GOAWAY error code as RFC 9113 §7 does
// ("CANCEL"), or gives it in hex ("0x1f") when unknown: RFC 9113 §7,
// "Unknown or unsupported error codes MUST NOT trigger any special
// behavior".
func ErrCodeName(code uint32) string {
	if int64(code) < int64(len(errCodeNames)) {
		return errCodeNames[code]
	}
	return "0x" + strconv.FormatUint(uint64(code), 16)
}

// Problem is a protocol violation or a limit that was hit.
type Problem struct {
	// Code is one of the Code constants; scripts branch on it.
	Code string
	// Text says what happened in one plain sentence citing RFC 9113 or
	// RFC 7541.
	Text string
	// Stream is the stream of the frame it was found in (0 for the
	// connection).
	Stream uint32
	// Packet is the packet whose bytes showed it.
	Packet int64
	// Fatal is set when the side's framing is lost (h2.bad_preface,
	// h2.lost_sync: Synced turns false and no call for the side follows)
	// or its header decoding is lost (DecodingHeaders turns false and no
	// Headers call for the side follows; the framing goes on).
	Fatal bool
}

// Problem codes. They are stable: scripts branch on them.
const (
	// CodeBadPreface: the client did not begin with the connection
	// preface (RFC 9113 §3.4). Fatal: the side is not decoded.
	CodeBadPreface = "h2.bad_preface"
	// CodeLostSync: bytes were lost where the framing needed them (RFC
	// 9113 §4.1). Fatal: the rest of the side is not decoded.
	CodeLostSync = "h2.lost_sync"
	// CodeFrameSize: a frame longer than the receiver's
	// SETTINGS_MAX_FRAME_SIZE (decoded anyway), or of a length its type
	// does not allow (skipped) (RFC 9113 §4.2).
	CodeFrameSize = "h2.frame_size"
	// CodeStreamID: a frame on stream 0 that needs a stream, or on a
	// stream that must be 0 (RFC 9113 §5.1.1, §6). Skipped, except that
	// a header block on stream 0 is still decoded to keep the HPACK table
	// in step, but not reported.
	CodeStreamID = "h2.stream_id"
	// CodePadding: padding as long as the rest of the payload or longer
	// (RFC 9113 §6.1, §6.2, §6.6). The frame is skipped.
	CodePadding = "h2.padding"
	// CodeContinuation: a header block interrupted by another frame, or
	// a CONTINUATION that continues nothing (RFC 9113 §6.10).
	CodeContinuation = "h2.continuation"
	// CodeHPACK: a header block HPACK cannot decode (RFC 7541 §3, §4.2,
	// §5, §6), or one with a string longer than MaxStringLength.
	CodeHPACK = "h2.hpack"
	// CodeHeaderBlockTooLarge: a header block longer than MaxHeaderBlock,
	// a limit of wsviz. The rest of it is skipped.
	CodeHeaderBlockTooLarge = "h2.header_block_too_large"
	// CodeHeaderListTooLarge: a header block whose fields add up to more
	// than MaxHeaderList (RFC 7541 §4.1 sizes), a limit of wsviz: the
	// block is reported with the fields that fit. Not fatal.
	CodeHeaderListTooLarge = "h2.header_list_too_large"
	// CodeGapInHeaders: bytes of a header block were lost in a gap; the
	// framing goes on, header decoding does not.
	CodeGapInHeaders = "h2.gap_in_headers"
	// CodeSettingsTooLarge: a SETTINGS frame longer than MaxSettings, a
	// limit of wsviz. Skipped.
	CodeSettingsTooLarge = "h2.settings_too_large"
	// CodeSettingsValue: a setting with a value its definition forbids
	// (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1). Still reported.
	CodeSettingsValue = "h2.settings_value"
	// CodeWindowUpdate: a WINDOW_UPDATE with an increment of 0 (RFC 9113
	// §6.9).
	CodeWindowUpdate = "h2.window_update"
)

// Bounds: what a Conn keeps whatever the lengths on the wire say.
const (
	// MaxHeaderBlock is the longest header block (the fragments of a
	// HEADERS or PUSH_PROMISE and its CONTINUATIONs) buffered to be
	// decoded.
	MaxHeaderBlock = 256 << 10
	// MaxHeaderList bounds the fields reported for one block, counted as
	// RFC 7541 §4.1 sizes them (name + value + 32 bytes each).
	MaxHeaderList = 1 << 20
	// MaxStringLength is the longest name or value HPACK may decode.
	MaxStringLength = 64 << 10
	// MaxHeaderTableSize caps the HPACK dynamic table a side's encoder may
	// use, whatever the peer's SETTINGS_HEADER_TABLE_SIZE allows.
	MaxHeaderTableSize = 1 << 20
	// MaxSettings is the longest SETTINGS payload decoded (10922
	// parameters).
	MaxSettings = 64 << 10
	// MaxGoAwayDebug is how much of a GOAWAY's debug data is kept.
	MaxGoAwayDebug = 256
	// maxTracked bounds the streams per side remembered for
	// Block.Trailers: those the side sent a header block on and has
	// neither ended nor reset.
	maxTracked = 4096
	// maxSettingIDs bounds the setting identifiers remembered per side
	// for Conn.Setting: RFC 9113 §6.5.2 defines 6, extensions a few more.
	maxSettingIDs = 64
)
