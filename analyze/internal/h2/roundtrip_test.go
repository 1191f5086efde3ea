package h2

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/wsviz/wsviz/internal/race"
)

// conversation is an HTTP/2 connection made with x/net's HPACK Encoder and
// a framer (specFramer, or x/net's Framer with -tags h2oracle): the chunks
// each side sent, in the order they were made, and the calls a Conn must
// make for each side (recorder lines, merged, without packets).
type conversation struct {
	chunks []write
	want   [2][]string
	size   int
	// made counts what the conversation holds, by kind.
	made map[string]int
}

// generator makes a conversation.
type generator struct {
	rng    *rand.Rand
	small  bool // at most a few KiB per body, for one-byte writes
	conv   conversation
	out    [2]bytes.Buffer
	framer [2]framer
	hbuf   [2]bytes.Buffer
	enc    [2]*hpack.Encoder
	// blockSent[side][stream]: the side sent a non-push block on the
	// stream, so its next is trailers (Block.Trailers).
	blockSent [2]map[uint32]bool
	nextPush  uint32
}

// stream is a stream's remaining frames, in order: each step writes one
// or more frames of one side.
type stream struct {
	id    uint32
	steps []func()
}

func newGenerator(seed int64, small bool, newFramer func(io.Writer) framer) *generator {
	g := &generator{rng: rand.New(rand.NewSource(seed)), small: small, nextPush: 2}
	g.conv.made = map[string]int{}
	for side := range 2 {
		g.framer[side] = newFramer(&g.out[side])
		g.enc[side] = hpack.NewEncoder(&g.hbuf[side])
		g.blockSent[side] = map[uint32]bool{}
	}
	return g
}

// flush moves what side wrote into a chunk.
func (g *generator) flush(side int) {
	if g.out[side].Len() == 0 {
		return
	}
	g.conv.chunks = append(g.conv.chunks, write{side: side, b: g.out[side].String()})
	g.conv.size += g.out[side].Len()
	g.out[side].Reset()
}

func (g *generator) expect(side int, line string) {
	g.conv.want[side] = append(g.conv.want[side], line)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

var (
	fieldNames  = []string{"accept", "user-agent", "x-trace", "cookie", "sec-websocket-protocol", "sec-websocket-extensions", "content-type", "grpc-status"}
	fieldValues = []string{"*/*", "wsviz/1.0", "chat, superchat", "permessage-deflate; client_max_window_bits", "a=b; c=d", "0", "", "text/html; charset=utf-8"}
)

// randomBytes returns n bytes drawn from g, letters when text is set (so
// Huffman coding shortens them).
func (g *generator) randomBytes(n int, text bool) []byte {
	b := make([]byte, n)
	g.rng.Read(b)
	if text {
		for i, c := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz0123456789-_"[int(c)%38]
		}
	}
	return b
}

// fields makes a header list: pseudo-header fields, then fields from a
// small vocabulary (the dynamic table finds them again), sometimes a
// sensitive one, sometimes huge values that need CONTINUATIONs.
func (g *generator) fields(pseudo ...string) []hpack.HeaderField {
	var fs []hpack.HeaderField
	for i := 0; i+1 < len(pseudo); i += 2 {
		fs = append(fs, hpack.HeaderField{Name: pseudo[i], Value: pseudo[i+1]})
	}
	for range g.rng.Intn(8) {
		fs = append(fs, hpack.HeaderField{Name: fieldNames[g.rng.Intn(len(fieldNames))], Value: fieldValues[g.rng.Intn(len(fieldValues))]})
	}
	if g.rng.Intn(4) == 0 {
		fs = append(fs, hpack.HeaderField{Name: "x-random", Value: string(g.randomBytes(g.rng.Intn(200), true))})
	}
	if g.rng.Intn(6) == 0 {
		fs = append(fs, hpack.HeaderField{Name: "authorization", Value: "secret " + fmt.Sprint(g.rng.Intn(100)), Sensitive: true})
	}
	if !g.small && g.rng.Intn(8) == 0 {
		for range 1 + g.rng.Intn(3) {
			fs = append(fs, hpack.HeaderField{Name: "x-huge", Value: string(g.randomBytes(10000+g.rng.Intn(50000), g.rng.Intn(2) == 0))})
		}
	}
	return fs
}

// block writes a header block from side on id (or a PUSH_PROMISE on id
// promising promised), cut into a HEADERS or PUSH_PROMISE frame and
// CONTINUATIONs, and expects its Headers call.
func (g *generator) block(side int, id uint32, fs []hpack.HeaderField, end bool, promised uint32) {
	g.hbuf[side].Reset()
	var lines []string
	for _, f := range fs {
		must(g.enc[side].WriteField(f))
		lines = append(lines, f.Name+": "+f.Value)
	}
	blk := g.hbuf[side].Bytes()
	fragment := func(limit int) []byte {
		n := min(len(blk), g.rng.Intn(limit+1))
		if g.rng.Intn(3) == 0 {
			n = min(len(blk), limit)
		}
		f := blk[:n]
		blk = blk[n:]
		return f
	}
	var pad uint8
	if g.rng.Intn(3) == 0 {
		pad = uint8(g.rng.Intn(256))
	}
	if promised != 0 {
		first := fragment(defaultMaxFrameSize - 5 - int(pad))
		must(g.framer[side].WritePushPromise(pushPromiseParam{StreamID: id, PromiseID: promised, BlockFragment: first, EndHeaders: len(blk) == 0, PadLength: pad}))
	} else {
		var prio priorityParam
		if g.rng.Intn(4) == 0 {
			prio = priorityParam{StreamDep: uint32(g.rng.Intn(10)), Exclusive: g.rng.Intn(2) == 0, Weight: uint8(g.rng.Intn(256))}
		}
		first := fragment(defaultMaxFrameSize - 6 - int(pad))
		must(g.framer[side].WriteHeaders(headersParam{StreamID: id, BlockFragment: first, EndStream: end, EndHeaders: len(blk) == 0, PadLength: pad, Priority: prio}))
	}
	for len(blk) > 0 {
		f := fragment(defaultMaxFrameSize)
		must(g.framer[side].WriteContinuation(id, len(blk) == 0, f))
		g.conv.made["CONTINUATION"]++
	}
	if pad != 0 {
		g.conv.made["padded block"]++
	}
	if g.hbuf[side].Len() > 100000 {
		g.conv.made["block over 100000 bytes"]++
	}
	if promised != 0 {
		g.conv.made["PUSH_PROMISE"]++
		g.expect(side, headersLine(side, promised, false, true, false, lines))
		return
	}
	if g.blockSent[side][id] {
		g.conv.made["trailers"]++
	}
	g.expect(side, headersLine(side, id, end, false, g.blockSent[side][id], lines))
	g.blockSent[side][id] = true
	if end {
		g.expect(side, fmt.Sprintf("%s E %d", sideName(side), id))
	}
}

// body writes n bytes of DATA from side on id in frames of random sizes,
// some padded, the last with END_STREAM if end, and expects them.
func (g *generator) body(side int, id uint32, n int, end bool) {
	data := g.randomBytes(n, false)
	if n > 0 {
		g.expect(side, fmt.Sprintf("%s D %d %s", sideName(side), id, data))
	}
	for first := true; first || len(data) > 0; first = false {
		var pad []byte
		limit := defaultMaxFrameSize
		if g.rng.Intn(3) == 0 {
			pad = make([]byte, g.rng.Intn(256))
			limit -= 1 + len(pad)
		}
		k := min(len(data), g.rng.Intn(limit+1))
		if g.rng.Intn(2) == 0 {
			k = min(len(data), limit)
		}
		must(g.framer[side].WriteDataPadded(id, end && k == len(data), data[:k], pad))
		g.conv.made[fmt.Sprintf("DATA padded %v", pad != nil)]++
		if k == 0 {
			g.conv.made["empty DATA"]++
		}
		data = data[k:]
	}
	if end {
		g.expect(side, fmt.Sprintf("%s E %d", sideName(side), id))
	}
}

// bodySize picks a DATA length: the edges of a frame and beyond.
func (g *generator) bodySize() int {
	if g.small {
		return []int{0, 1, 100, defaultMaxFrameSize, defaultMaxFrameSize + 1}[g.rng.Intn(5)]
	}
	return []int{0, 1, defaultMaxFrameSize, 100000, g.rng.Intn(5000)}[g.rng.Intn(5)]
}

// settings writes a SETTINGS frame from side and applies what it asks of
// the other side's encoder.
func (g *generator) settings(side int) {
	var ss []Setting
	var parts []string
	for range g.rng.Intn(4) {
		var s Setting
		switch g.rng.Intn(5) {
		case 0:
			s = Setting{SettingHeaderTableSize, []uint32{0, 256, 4096, 8192, 65536}[g.rng.Intn(5)]}
		case 1:
			s = Setting{SettingMaxConcurrentStreams, uint32(g.rng.Intn(1000))}
		case 2:
			s = Setting{SettingInitialWindowSize, uint32(g.rng.Intn(1 << 31))}
		case 3:
			s = Setting{SettingMaxFrameSize, uint32(defaultMaxFrameSize + g.rng.Intn(1<<20))}
		case 4:
			s = Setting{SettingEnableConnectProtocol, 1}
		}
		ss = append(ss, s)
		parts = append(parts, fmt.Sprintf("%d=%d", s.ID, s.Value))
		if s.ID == SettingHeaderTableSize {
			g.conv.made["SETTINGS_HEADER_TABLE_SIZE"]++
			// RFC 7541 §4.2: the peer's encoder may use up to this.
			e := g.enc[1-side]
			e.SetMaxDynamicTableSizeLimit(s.Value)
			e.SetMaxDynamicTableSize(uint32(g.rng.Int63n(int64(s.Value) + 1)))
		}
	}
	must(g.framer[side].WriteSettings(ss...))
	g.expect(side, fmt.Sprintf("%s S [%s]", sideName(side), strings.Join(parts, " ")))
	// The other side's encoder may use the new table size from its next
	// block on, so the SETTINGS must be decoded first.
	g.flush(side)
}

// noise writes a frame nobody reports, or a SETTINGS.
func (g *generator) noise(side int) {
	f := g.framer[side]
	k := g.rng.Intn(7)
	g.conv.made[fmt.Sprint("noise ", k)]++
	switch k {
	case 0:
		must(f.WritePing(g.rng.Intn(2) == 0, [8]byte{1, 2, 3}))
	case 1:
		must(f.WriteWindowUpdate(uint32(g.rng.Intn(10)), uint32(1+g.rng.Intn(1<<20))))
	case 2:
		must(f.WritePriority(uint32(1+g.rng.Intn(10)), priorityParam{StreamDep: uint32(g.rng.Intn(10)), Exclusive: g.rng.Intn(2) == 0, Weight: 16}))
	case 3:
		must(f.WriteRawFrame(uint8(0xa+g.rng.Intn(200)), uint8(g.rng.Intn(256)), uint32(g.rng.Intn(10)), g.randomBytes(g.rng.Intn(100), false)))
	case 4:
		must(f.WriteSettingsAck())
	case 5:
		g.settings(side)
	case 6:
		must(f.WriteRawFrame(uint8(0xb+g.rng.Intn(200)), 0, 0, g.randomBytes(g.rng.Intn(defaultMaxFrameSize+1), false)))
	}
}

// reset writes an RST_STREAM from side and expects it.
func (g *generator) reset(side int, id uint32) {
	code := uint32(g.rng.Intn(16))
	must(g.framer[side].WriteRSTStream(id, code))
	g.conv.made["RST_STREAM"]++
	g.expect(side, fmt.Sprintf("%s R %d %s", sideName(side), id, ErrCodeName(code)))
}

// request plans a client stream and the server's answer.
func (g *generator) request(id uint32) *stream {
	s := &stream{id: id}
	step := func(f func()) { s.steps = append(s.steps, f) }
	reqBody := g.rng.Intn(2) == 0
	step(func() {
		g.block(Client, id, g.fields(":method", "POST", ":scheme", "https", ":path", fmt.Sprintf("/%d", id), ":authority", "example.com"), !reqBody, 0)
	})
	if reqBody {
		trailers := g.rng.Intn(4) == 0
		n := g.bodySize()
		step(func() { g.body(Client, id, n, !trailers) })
		if trailers {
			step(func() { g.block(Client, id, g.fields(), true, 0) })
		}
	}
	if g.rng.Intn(5) == 0 {
		step(func() { g.block(Server, id, g.fields(":status", "103"), false, 0) })
	}
	if g.rng.Intn(4) == 0 {
		promised := g.nextPush
		g.nextPush += 2
		step(func() {
			g.block(Server, id, g.fields(":method", "GET", ":scheme", "https", ":path", "/pushed", ":authority", "example.com"), false, promised)
		})
		step(func() { g.block(Server, promised, g.fields(":status", "200"), false, 0) })
		step(func() { g.body(Server, promised, g.bodySize(), true) })
	}
	respBody := g.rng.Intn(3) != 0
	step(func() { g.block(Server, id, g.fields(":status", "200"), !respBody, 0) })
	if respBody {
		trailers := g.rng.Intn(4) == 0
		n := g.bodySize()
		step(func() { g.body(Server, id, n, !trailers) })
		if trailers {
			step(func() { g.block(Server, id, g.fields("grpc-status", "0"), true, 0) })
		}
	}
	if g.rng.Intn(6) == 0 {
		// A reset cuts the stream short at a random step.
		at := g.rng.Intn(len(s.steps)) + 1
		side := g.rng.Intn(2)
		s.steps = append(s.steps[:at:at], func() { g.reset(side, id) })
	}
	return s
}

// generate makes a conversation: the preface, SETTINGS both ways, streams
// whose frames interleave, noise between them, sometimes a GOAWAY.
func generate(seed int64, small bool, newFramer func(io.Writer) framer) conversation {
	g := newGenerator(seed, small, newFramer)
	g.out[Client].WriteString(preface)
	g.settings(Client)
	g.flush(Client)
	g.settings(Server)
	g.flush(Server)
	var streams []*stream
	n := 1 + g.rng.Intn(20)
	if small {
		n = 1 + g.rng.Intn(5)
	}
	for i := range n {
		streams = append(streams, g.request(uint32(2*i+1)))
	}
	for len(streams) > 0 {
		i := g.rng.Intn(min(len(streams), 3)) // a few streams at once
		s := streams[i]
		s.steps[0]()
		s.steps = s.steps[1:]
		if len(s.steps) == 0 {
			streams = slices.Delete(streams, i, i+1)
		}
		if g.rng.Intn(4) == 0 {
			g.noise(g.rng.Intn(2))
		}
		// Each side's bytes become a chunk now and then, so the sides
		// interleave.
		for side := range 2 {
			if g.rng.Intn(2) == 0 {
				g.flush(side)
			}
		}
	}
	if g.rng.Intn(2) == 0 {
		side := g.rng.Intn(2)
		dbg := g.randomBytes(g.rng.Intn(300), true)
		last, code := uint32(g.rng.Intn(100)), uint32(g.rng.Intn(14))
		must(g.framer[side].WriteGoAway(last, code, dbg))
		g.conv.made["GOAWAY"]++
		g.expect(side, fmt.Sprintf("%s A %d %s %q", sideName(side), last, ErrCodeName(code), dbg[:min(len(dbg), MaxGoAwayDebug)]))
	}
	g.flush(Client)
	g.flush(Server)
	return g.conv
}

// feed writes the chunks to c in order, each cut at random places: how
// says where (0: one byte per Write, 1: 1..20 bytes, 2: up to 3000, 3:
// whole chunks).
func feed(c *Conn, chunks []write, rng *rand.Rand, how int) {
	pkt := int64(1)
	for _, w := range chunks {
		b := []byte(w.b)
		for len(b) > 0 {
			n := len(b)
			switch how {
			case 0:
				n = 1
			case 1:
				n = 1 + rng.Intn(20)
			case 2:
				n = 1 + rng.Intn(3000)
			}
			n = min(n, len(b))
			c.Write(w.side, b[:n], pkt)
			b = b[n:]
			pkt++
		}
	}
}

// TestRoundTrip decodes conversations made by x/net's HPACK Encoder and
// specFramer, cut at random places (one byte per Write for small ones):
// each side's headers, data bytes per stream, ends, resets, settings and
// GOAWAYs must be exactly those sent, in order, with no problem.
func TestRoundTrip(t *testing.T) {
	made := map[string]int{}
	for seed := range int64(roundTripSeeds()) {
		if !race.Keep(int(seed)) {
			continue
		}
		conv := generate(seed, seed%4 == 0, newSpecFramer)
		checkRoundTrip(t, seed, conv)
		for k, n := range conv.made {
			made[k] += n
		}
	}
	// What the conversations must have held for the test to mean
	// something.
	for _, k := range []string{"CONTINUATION", "padded block", "block over 100000 bytes", "PUSH_PROMISE", "trailers",
		"DATA padded true", "DATA padded false", "empty DATA", "SETTINGS_HEADER_TABLE_SIZE", "RST_STREAM", "GOAWAY",
		"noise 0", "noise 1", "noise 2", "noise 3", "noise 4", "noise 5", "noise 6"} {
		if made[k] == 0 {
			t.Errorf("no conversation held %s", k)
		}
	}
	t.Logf("the conversations held %v", made)
}

func roundTripSeeds() int {
	if testing.Short() {
		return 30
	}
	return 200
}

// checkRoundTrip decodes conv, made from seed, cut as the seed says.
func checkRoundTrip(t *testing.T, seed int64, conv conversation) {
	t.Helper()
	small := seed%4 == 0
	rng := rand.New(rand.NewSource(seed))
	how := 1 + rng.Intn(3)
	if small {
		how = 0
	}
	r := newRecorder(true)
	c := NewConn(r)
	feed(c, conv.chunks, rng, how)
	if r.bad != "" {
		t.Errorf("seed %d: broken invariant: %s", seed, r.bad)
	}
	for side := range 2 {
		if got := r.side(side); !slices.Equal(got, conv.want[side]) {
			i := firstDiff(got, conv.want[side])
			t.Errorf("seed %d (cut %d): Write(%d bytes) side %s = %d calls, want %d; first difference at %d:\n\tgot  %.300q\n\twant %.300q",
				seed, how, conv.size, sideName(side), len(got), len(conv.want[side]), i, at(got, i), at(conv.want[side], i))
		}
		if !c.Synced(side) || !c.DecodingHeaders(side) {
			t.Errorf("seed %d: side %s: Synced %v, DecodingHeaders %v, want true", seed, sideName(side), c.Synced(side), c.DecodingHeaders(side))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}
