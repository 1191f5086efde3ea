package h2

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// TestMaxFrameSize checks frames against the receiver's
// SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2): a longer one is a problem but
// still decoded, since its length says where the next frame starts.
func TestMaxFrameSize(t *testing.T) {
	big := strings.Repeat("a", defaultMaxFrameSize+1)
	huge := fr(frameData, flagEndStream, 5, "")
	huge = "\xff\xff\xff" + huge[3:] // 2^24-1 bytes of payload, lost in a gap
	tests := []struct {
		name string
		in   []write
		want []string
	}{
		{"default 16384", []write{cw(fr(frameData, 0, 1, big[:defaultMaxFrameSize])), cw(fr(frameData, 0, 1, big))}, []string{
			"c D 1 16384 @1", "c P h2.frame_size 1 @2", "c D 1 16385 @2"}},
		{"the receiver's setting", []write{sw(fr(frameSettings, 0, 0, set(SettingMaxFrameSize, 1<<15))), cw(fr(frameData, 0, 1, big)), sw(fr(frameData, 0, 2, big))}, []string{
			"s S [5=32768] @1", "c D 1 16385 @2", "s P h2.frame_size 2 @3", "s D 2 16385 @3"}},
		{"invalid setting ignored", []write{sw(fr(frameSettings, 0, 0, set(SettingMaxFrameSize, 1<<15))), sw(fr(frameSettings, 0, 0, set(SettingMaxFrameSize, 100))), cw(fr(frameData, 0, 1, big))}, []string{
			"s S [5=32768] @1", "s P h2.settings_value 0 @2", "s S [5=100] @2", "c D 1 16385 @3"}},
		{"2^24-1", []write{cw(huge), gap(Client, 1<<24-1), cw(fr(frameData, 0, 3, "x"))}, []string{
			"c P h2.frame_size 5 @1", "c G 5 16777215 @2", "c E 5 @2", "c D 3 1 @3"}},
		{"SETTINGS", []write{cw(fr(frameSettings, 0, 0, strings.Repeat(set(3, 1), defaultMaxFrameSize/6+1)))}, []string{
			"c P h2.frame_size 0 @1", "c S [" + strings.Repeat(" 3=1", defaultMaxFrameSize/6+1)[1:] + "] @1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, r := run(t, Options{SkipPreface: true}, tc.in, false)
			got := lengths(r.events())
			if !slices.Equal(got, tc.want) {
				t.Errorf("Write(%s) =\n\t%s\nwant\n\t%s", show(tc.in), strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

// lengths shows Data lines with the length of their payload.
func lengths(lines []string) []string {
	var out []string
	for _, l := range lines {
		if m := dataLine.FindStringSubmatch(l); m != nil {
			l = m[1] + " " + itoa(len(unquote(m[2]))) + " " + m[3]
		}
		out = append(out, l)
	}
	return out
}

// TestHeaderLimits fills a header block to MaxHeaderBlock, whose fields
// pass MaxHeaderList (reported, truncated, not fatal), then past it (the
// block is skipped and header decoding lost; the framing goes on).
func TestHeaderLimits(t *testing.T) {
	// RFC 7541 Appendix A: index 2 is ":method: GET", 42 bytes as §4.1
	// counts, in one byte.
	full := strings.Repeat(hGet, MaxHeaderBlock)
	frames := func(stream uint32, block string) string {
		var b strings.Builder
		b.WriteString(fr(frameHeaders, flagEndStream, stream, block[:defaultMaxFrameSize]))
		for block = block[defaultMaxFrameSize:]; len(block) > defaultMaxFrameSize; block = block[defaultMaxFrameSize:] {
			b.WriteString(fr(frameContinuation, 0, stream, block[:defaultMaxFrameSize]))
		}
		b.WriteString(fr(frameContinuation, flagEndHeaders, stream, block))
		return b.String()
	}
	var got *Block
	r := &blockRecorder{recorder: newRecorder(false), keep: func(b *Block) { c := *b; c.Fields = slices.Clone(b.Fields); got = &c }}
	c := NewConnOptions(r, Options{SkipPreface: true})
	c.Write(Client, []byte(frames(1, full)), 1)
	c.Write(Client, []byte(frames(3, full+hGet)), 2)
	c.Write(Client, []byte(fr(frameData, flagEndStream, 5, "d")+fr(frameHeaders, flagEndHeaders|flagEndStream, 7, hGet)), 3)
	want := []string{
		"c P h2.header_list_too_large 1 @1", "c H 1 end [] @1", "c E 1 @1",
		"c P h2.header_block_too_large 3 fatal @2", "c E 3 @2",
		`c D 5 "d" @3`, "c E 5 @3", "c E 7 @3",
	}
	if !slices.Equal(r.events(), want) {
		t.Errorf("Write(blocks of %d and %d bytes) =\n\t%s\nwant\n\t%s", len(full), len(full)+1, strings.Join(r.events(), "\n\t"), strings.Join(want, "\n\t"))
	}
	if n := MaxHeaderList / 42; got == nil || len(got.Fields) != n || got.Fields[n-1] != (Header{":method", "GET"}) {
		t.Errorf("Write(block of %d bytes): Headers got %d fields, want %d", len(full), len(got.Fields), n)
	}
	if c.DecodingHeaders(Client) || !c.Synced(Client) {
		t.Errorf("after a block too large: DecodingHeaders %v, Synced %v, want false, true", c.DecodingHeaders(Client), c.Synced(Client))
	}
	if s := &c.sides[Client]; cap(s.block) > 0 {
		t.Errorf("after header decoding was lost the block buffer holds %d bytes, want none", cap(s.block))
	}
}

// blockRecorder keeps the last block it is given, whole.
type blockRecorder struct {
	*recorder
	keep func(*Block)
}

func (r *blockRecorder) Headers(side int, b *Block) {
	r.keep(b)
	fields := b.Fields
	b.Fields = nil // the recorder would print a million bytes
	r.recorder.Headers(side, b)
	b.Fields = fields
}

// TestHPACKLimits checks MaxStringLength and MaxHeaderTableSize.
func TestHPACKLimits(t *testing.T) {
	encode := func(fs ...hpack.HeaderField) string {
		var b bytes.Buffer
		e := hpack.NewEncoder(&b)
		for _, f := range fs {
			if err := e.WriteField(f); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	long := encode(hpack.HeaderField{Name: "x-long", Value: strings.Repeat("\xff", MaxStringLength+1)})
	fits := encode(hpack.HeaderField{Name: "x-long", Value: strings.Repeat("\xff", MaxStringLength-1)})
	update := func(size uint64) string { // RFC 7541 §6.3
		b := []byte{0x3f}
		for size -= 31; size >= 0x80; size >>= 7 {
			b = append(b, byte(size)|0x80)
		}
		return string(append(b, byte(size)))
	}
	tests := []struct {
		name string
		in   []write
		want []string
	}{
		{"string fits", []write{cw(headersFrames(1, fits))}, []string{"c H 1 [x-long: 65535 bytes] @1"}},
		{"string too long", []write{cw(headersFrames(1, long))}, []string{"c P h2.hpack 1 fatal @1"}},
		{"table size capped", []write{sw(fr(frameSettings, 0, 0, set(SettingHeaderTableSize, 1<<32-1))), cw(fr(frameHeaders, flagEndHeaders, 1, update(MaxHeaderTableSize)+hGet)), cw(fr(frameHeaders, flagEndHeaders, 3, update(MaxHeaderTableSize+1)+hGet))}, []string{
			"s S [1=4294967295] @1", "c H 1 [:method: GET] @2", "c P h2.hpack 3 fatal @3"}},
		{"table size at least 4096", []write{sw(fr(frameSettings, 0, 0, set(SettingHeaderTableSize, 0))), cw(fr(frameHeaders, flagEndHeaders, 1, update(4096)+hGet)), cw(fr(frameHeaders, flagEndHeaders, 3, update(4097)+hGet))}, []string{
			"s S [1=0] @1", "c H 1 [:method: GET] @2", "c P h2.hpack 3 fatal @3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, r := run(t, Options{SkipPreface: true}, tc.in, false)
			var got []string
			for _, l := range r.events() {
				if i := strings.Index(l, "x-long: "); i >= 0 {
					l = l[:i] + "x-long: " + itoa(strings.Index(l[i:], "]")-len("x-long: ")) + " bytes" + l[i+strings.Index(l[i:], "]"):]
				}
				got = append(got, l)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Write(%s) =\n\t%s\nwant\n\t%s", show(tc.in), strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

// headersFrames cuts block into a HEADERS frame and CONTINUATIONs on
// stream, the largest the default SETTINGS_MAX_FRAME_SIZE allows.
func headersFrames(stream uint32, block string) string {
	var b strings.Builder
	typ := uint8(frameHeaders)
	for {
		n := min(len(block), defaultMaxFrameSize)
		var flags uint8
		if n == len(block) {
			flags = flagEndHeaders
		}
		b.WriteString(fr(typ, flags, stream, block[:n]))
		block = block[n:]
		typ = frameContinuation
		if len(block) == 0 {
			return b.String()
		}
	}
}

// TestTrailersForgetsOldest opens more streams than maxTracked: the oldest
// half is forgotten, the newest remembered.
func TestTrailersForgetsOldest(t *testing.T) {
	r := newRecorder(false)
	c := NewConnOptions(r, Options{SkipPreface: true})
	var b []byte
	n := uint32(maxTracked + 1)
	for i := range n {
		b = append(b, fr(frameHeaders, flagEndHeaders, 2*i+1, hStatus)...)
	}
	c.Write(Server, b, 1)
	if got := len(c.sides[Server].sent); got > maxTracked {
		t.Errorf("%d streams open: %d remembered, want at most %d", n, got, maxTracked)
	}
	r.lines = nil
	c.Write(Server, []byte(fr(frameHeaders, flagEndHeaders, 2*n-1, hStatus)+fr(frameHeaders, flagEndHeaders, 1, hStatus)), 2)
	want := []string{"s H " + itoa(int(2*n-1)) + " trailers [:status: 200] @2", "s H 1 [:status: 200] @2"}
	if !slices.Equal(r.events(), want) {
		t.Errorf("Write(HEADERS on streams %d and 1) =\n\t%s\nwant\n\t%s", 2*n-1, strings.Join(r.events(), "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestSettingAndCounts checks Setting and Counts.
func TestSettingAndCounts(t *testing.T) {
	c, _ := run(t, Options{SkipPreface: true}, []write{
		cw(fr(frameSettings, 0, 0, set(SettingEnableConnectProtocol, 1)+set(SettingMaxFrameSize, 1<<20)+set(0x1234, 7))),
		cw(fr(frameSettings, 0, 0, set(SettingMaxFrameSize, 1<<16))),
		cw(fr(framePing, 0, 0, "12345678"), fr(framePing, flagAck, 0, "12345678"), fr(framePriority, 0, 1, "\x00\x00\x00\x00\x10")),
		cw(fr(frameWindowUpdate, 0, 0, u32(1)), fr(frameSettings, flagAck, 0, ""), fr(0x42, 0, 0, "?"), fr(framePing, 0, 1, "12345678")),
	}, false)
	for _, tc := range []struct {
		side int
		id   uint16
		v    uint32
		ok   bool
	}{
		{Client, SettingEnableConnectProtocol, 1, true},
		{Client, SettingMaxFrameSize, 1 << 16, true},
		{Client, 0x1234, 7, true},
		{Client, SettingHeaderTableSize, 0, false},
		{Server, SettingEnableConnectProtocol, 0, false},
		{2, SettingEnableConnectProtocol, 0, false},
	} {
		if v, ok := c.Setting(tc.side, tc.id); v != tc.v || ok != tc.ok {
			t.Errorf("Setting(%d, %#x) = %d, %v, want %d, %v", tc.side, tc.id, v, ok, tc.v, tc.ok)
		}
	}
	var many []string
	for id := range 200 {
		many = append(many, set(uint16(0x100+id), 1))
	}
	c.Write(Server, []byte(fr(frameSettings, 0, 0, set(SettingMaxFrameSize, 1<<14)+strings.Join(many, "")+set(SettingMaxFrameSize, 1<<15))), 9)
	if v, ok := c.Setting(Server, SettingMaxFrameSize); v != 1<<15 || !ok {
		t.Errorf("Setting(Server, SETTINGS_MAX_FRAME_SIZE) after 200 others = %d, %v, want %d, true", v, ok, 1<<15)
	}
	if n := len(c.sides[Server].values); n != maxSettingIDs {
		t.Errorf("after 201 setting identifiers %d are remembered, want %d", n, maxSettingIDs)
	}
	want := Counts{Frames: 9, Priority: 1, Ping: 1, PingAck: 1, WindowUpdate: 1, SettingsAck: 1, Unknown: 1}
	if got := c.Counts(Client); got != want {
		t.Errorf("Counts(Client) = %+v, want %+v", got, want)
	}
	if got := c.Counts(7); got != (Counts{}) {
		t.Errorf("Counts(7) = %+v, want zero", got)
	}
}

// TestNames checks ErrCodeName and SettingName.
func TestNames(t *testing.T) {
	for _, tc := range []struct {
		code uint32
		want string
	}{{0, "NO_ERROR"}, {0x8, "CANCEL"}, {0xd, "HTTP_1_1_REQUIRED"}, {0xe, "0xe"}, {0x1f, "0x1f"}, {1<<32 - 1, "0xffffffff"}} {
		if got := ErrCodeName(tc.code); got != tc.want {
			t.Errorf("ErrCodeName(%#x) = %q, want %q", tc.code, got, tc.want)
		}
	}
	for _, tc := range []struct {
		id   uint16
		want string
	}{{SettingHeaderTableSize, "SETTINGS_HEADER_TABLE_SIZE"}, {SettingEnableConnectProtocol, "SETTINGS_ENABLE_CONNECT_PROTOCOL"}, {0x7, "0x7"}, {0, "0x0"}} {
		if got := SettingName(tc.id); got != tc.want {
			t.Errorf("SettingName(%#x) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

// nopHandler ignores every call.
type nopHandler struct{}

func (nopHandler) Headers(int, *Block)                       {}
func (nopHandler) Data(int, uint32, []byte, int64)           {}
func (nopHandler) DataGap(int, uint32, int64, int64)         {}
func (nopHandler) EndStream(int, uint32, int64)              {}
func (nopHandler) Reset(int, uint32, uint32, int64)          {}
func (nopHandler) Settings(int, []Setting, int64)            {}
func (nopHandler) GoAway(int, uint32, uint32, []byte, int64) {}
func (nopHandler) Problem(int, Problem)                      {}

// TestAllocs checks that DATA frames, padded or not, cut or not, and
// header blocks of indexed fields allocate nothing once buffers have grown.
func TestAllocs(t *testing.T) {
	c := NewConnOptions(nopHandler{}, Options{SkipPreface: true})
	data := []byte(fr(frameData, 0, 1, strings.Repeat("d", 1000)) + fr(frameData, flagPadded|flagEndStream, 3, "\x05hello\x00\x00\x00\x00\x00"))
	block := []byte(fr(frameHeaders, 0, 1, hGet+hPath) + fr(frameContinuation, flagEndHeaders, 1, hHTTP+hStatus))
	for _, tc := range []struct {
		name string
		b    []byte
	}{{"DATA", data}, {"HEADERS", block}} {
		c.Write(Client, tc.b, 1) // grow buffers
		if n := testing.AllocsPerRun(100, func() {
			c.Write(Client, tc.b, 1)
			for i := 0; i < len(tc.b); i += 7 {
				c.Write(Client, tc.b[i:min(i+7, len(tc.b))], 2)
			}
		}); n != 0 {
			t.Errorf("Write(%s frames) allocates %v times, want 0", tc.name, n)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
