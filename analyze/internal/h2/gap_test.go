package h2

import "testing"

var (
	// gapData is a DATA frame of 10 bytes that ends stream 1.
	gapData = fr(frameData, flagEndStream, 1, "0123456789")
	// gapPadded is a padded DATA frame: Pad Length 4, "ab", 4 bytes of
	// padding.
	gapPadded = fr(frameData, flagPadded|flagEndStream, 1, "\x04ab\x00\x00\x00\x00")
	// gapHeaders is a HEADERS frame that ends stream 1.
	gapHeaders = fr(frameHeaders, flagEndHeaders|flagEndStream, 1, hGet+hPath+hHTTP)
	// gapNext is a frame that shows decoding went on.
	gapNext = fr(frameData, 0, 3, "x")
)

// gapTests lose bytes in every place of a frame.
var gapTests = []frameTest{
	{"inside DATA payload", false, []write{cw(gapData[:12]), gap(Client, 4), cw(gapData[16:], gapNext)}, []string{
		`c D 1 "012" @1`, "c G 1 4 @2", `c D 1 "789" @3`, "c E 1 @3", `c D 3 "x" @3`}},
	{"to the end of DATA payload", false, []write{cw(gapData[:12]), gap(Client, 7), cw(gapNext)}, []string{
		`c D 1 "012" @1`, "c G 1 7 @2", "c E 1 @2", `c D 3 "x" @3`}},
	{"whole DATA payload", false, []write{cw(gapData[:9]), gap(Client, 10), cw(gapNext)}, []string{
		"c G 1 10 @2", "c E 1 @2", `c D 3 "x" @3`}},
	{"inside padding", false, []write{cw(gapPadded[:13]), gap(Client, 2), cw(gapPadded[15:], gapNext)}, []string{
		`c D 1 "ab" @1`, "c E 1 @3", `c D 3 "x" @3`}},
	{"over payload and padding", false, []write{cw(gapPadded[:11]), gap(Client, 5), cw(gapNext)}, []string{
		`c D 1 "a" @1`, "c G 1 1 @2", "c E 1 @2", `c D 3 "x" @3`}},
	{"over a frame header", false, []write{cw(gapData), gap(Client, 3), cw(gapNext), sw(fr(frameData, flagEndStream, 2, "s"))}, []string{
		`c D 1 "0123456789" @1`, "c E 1 @1", "c P h2.lost_sync 0 fatal @2", `s D 2 "s" @4`, "s E 2 @4"}},
	{"past the end of DATA", false, []write{cw(gapData[:11]), gap(Client, 20), cw(gapNext)}, []string{
		`c D 1 "01" @1`, "c G 1 8 @2", "c E 1 @2", "c P h2.lost_sync 0 fatal @2"}},
	{"Pad Length of DATA", false, []write{cw(gapPadded[:9]), gap(Client, 1), cw(gapPadded[10:], gapNext)}, []string{"c P h2.lost_sync 1 fatal @2"}},
	{"preface", true, []write{cw(preface[:5]), gap(Client, 3), cw(preface[8:])}, []string{"c P h2.lost_sync 0 fatal @2"}},
	{"header block", false, []write{cw(gapHeaders[:10]), gap(Client, 1), cw(gapHeaders[11:], gapNext)}, []string{
		"c P h2.gap_in_headers 1 fatal @2", "c E 1 @3", `c D 3 "x" @3`}},
	{"Pad Length of HEADERS", false, []write{cw(fr(frameHeaders, flagEndHeaders|flagEndStream|flagPadded, 1, "\x01"+hGet+"\x00")[:9]), gap(Client, 1), cw(hGet+"\x00", fr(frameHeaders, flagEndHeaders|flagEndStream, 3, hGet))}, []string{
		"c P h2.gap_in_headers 1 fatal @2", "c E 1 @3", "c E 3 @3"}},
	{"promised stream of PUSH_PROMISE", false, []write{sw(fr(framePushPromise, flagEndHeaders, 1, u32(2)+hGet)[:10]), gap(Server, 3), sw(hGet, fr(frameHeaders, flagEndHeaders|flagEndStream, 2, hStatus))}, []string{
		"s P h2.gap_in_headers 1 fatal @2", "s E 2 @3"}},
	{"CONTINUATION", false, []write{cw(fr(frameHeaders, 0, 1, hGet)), cw(fr(frameContinuation, flagEndHeaders, 1, hPath+hHTTP)[:10]), gap(Client, 1), cw(fr(frameData, flagEndStream, 1, "x"))}, []string{
		"c P h2.gap_in_headers 1 fatal @3", `c D 1 "x" @4`, "c E 1 @4"}},
	{"twice in header blocks", false, []write{cw(gapHeaders[:10]), gap(Client, 1), cw(gapHeaders[11:]), cw(gapHeaders[:10]), gap(Client, 1), cw(gapHeaders[11:])}, []string{
		"c P h2.gap_in_headers 1 fatal @2", "c E 1 @3", "c E 1 @6"}},
	{"Pad Length of HEADERS after header decoding is lost", false, []write{cw(gapHeaders[:10]), gap(Client, 1), cw(gapHeaders[11:]), cw(fr(frameHeaders, flagEndHeaders|flagEndStream|flagPadded, 3, "\x01"+hGet+"\x00")[:9]), gap(Client, 1), cw(hGet+"\x00", gapNext)}, []string{
		"c P h2.gap_in_headers 1 fatal @2", "c E 1 @3", "c E 3 @6", `c D 3 "x" @6`}},
	{"SETTINGS", false, []write{cw(fr(frameSettings, 0, 0, set(1, 1))[:10]), gap(Client, 2)}, []string{"c P h2.lost_sync 0 fatal @2"}},
	{"RST_STREAM", false, []write{cw(fr(frameRSTStream, 0, 1, u32(8))[:10]), gap(Client, 2)}, []string{"c P h2.lost_sync 1 fatal @2"}},
	{"WINDOW_UPDATE", false, []write{cw(fr(frameWindowUpdate, 0, 0, u32(8))[:9]), gap(Client, 2)}, []string{"c P h2.lost_sync 0 fatal @2"}},
	{"GOAWAY debug data", false, []write{cw(fr(frameGoAway, 0, 0, u32(1)+u32(0)+"debug")[:19]), gap(Client, 2)}, []string{"c P h2.lost_sync 0 fatal @2"}},
	{"PING", false, []write{cw(fr(framePing, 0, 0, "12345678")[:10]), gap(Client, 3), cw("5678", gapNext)}, []string{`c D 3 "x" @3`}},
	{"PRIORITY", false, []write{cw(fr(framePriority, 0, 1, "\x00\x00\x00\x00\x10")[:9]), gap(Client, 5), cw(gapNext)}, []string{`c D 3 "x" @3`}},
	{"unknown frame", false, []write{cw(fr(0x33, 0, 0, "abcdef")[:10]), gap(Client, 3), cw("ef", gapNext)}, []string{`c D 3 "x" @3`}},
	{"skipped frame", false, []write{cw(fr(frameData, 0, 0, "zero")[:10]), gap(Client, 2), cw("o", gapNext)}, []string{"c P h2.stream_id 0 @1", `c D 3 "x" @3`}},
	{"ignored", false, []write{gap(Client, 0), gap(Server, -5), gap(2, 3), {side: 2, b: "junk"}, {side: -1, b: "junk"}, cw(gapNext)}, []string{`c D 3 "x" @6`}},
	{"nothing after lost sync", false, []write{cw(gapData[:9]), gap(Client, 11), gap(Client, 1), cw(gapNext)}, []string{
		"c G 1 10 @2", "c E 1 @2", "c P h2.lost_sync 0 fatal @2"}},
}

// TestGaps loses bytes in every place of a frame: DATA payload and padding
// and payloads read by no one keep the framing; header blocks keep it but
// lose header decoding; anything else loses it.
func TestGaps(t *testing.T) { checkCases(t, gapTests) }

// TestGapSynced checks Synced and DecodingHeaders after gaps.
func TestGapSynced(t *testing.T) {
	c, _ := run(t, Options{SkipPreface: true}, []write{cw(gapData[:12]), gap(Client, 4), sw(gapHeaders[:10]), gap(Server, 1)}, false)
	if !c.Synced(Client) || !c.DecodingHeaders(Client) {
		t.Errorf("Gap inside DATA: Synced(Client) = %v, DecodingHeaders(Client) = %v, want true, true", c.Synced(Client), c.DecodingHeaders(Client))
	}
	if !c.Synced(Server) || c.DecodingHeaders(Server) {
		t.Errorf("Gap inside HEADERS: Synced(Server) = %v, DecodingHeaders(Server) = %v, want true, false", c.Synced(Server), c.DecodingHeaders(Server))
	}
	c.Gap(Server, 100, 9)
	if c.Synced(Server) || c.DecodingHeaders(Server) {
		t.Errorf("Gap past the frame: Synced(Server) = %v, DecodingHeaders(Server) = %v, want false, false", c.Synced(Server), c.DecodingHeaders(Server))
	}
	if c.Synced(2) || c.DecodingHeaders(-1) {
		t.Errorf("Synced(2) = %v, DecodingHeaders(-1) = %v, want false", c.Synced(2), c.DecodingHeaders(-1))
	}
}
