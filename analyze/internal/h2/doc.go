// Package h2 decodes captured HTTP/2 connections: the framing of RFC 9113
// and the header compression of RFC 7541 (HPACK), so that WebSocket over
// HTTP/2 (RFC 8441) can be found and followed.
//
// A Conn takes each direction's application bytes, in order, split
// anywhere (even one byte per call), with Write, and the bytes a capture
// lost with Gap. It reports through a Handler: complete header blocks
// (HEADERS or PUSH_PROMISE and their CONTINUATIONs) decoded to fields,
// DATA payload as it passes, the ends and resets of streams, SETTINGS and
// GOAWAY. PRIORITY, PING and WINDOW_UPDATE are checked and counted
// (Counts), not reported; frames of unknown types are skipped (RFC 9113
// §5.5).
//
// Protocol violations and limits are Problems with a stable code (the
// Code constants) and a sentence citing the RFC, not Go errors. Most leave
// decoding going on. A Problem is Fatal in one of two ways:
//
//   - The framing is lost (h2.bad_preface, h2.lost_sync): nothing more is
//     decoded from that side, no Handler call is made for it again, and
//     Synced reports false.
//   - Header decoding is lost (h2.hpack, h2.header_block_too_large,
//     h2.continuation, h2.padding or h2.frame_size on a header block's
//     frame, h2.gap_in_headers): the side's HPACK dynamic table (RFC 7541
//     §2.3.2) no longer matches its sender's, so no more Headers calls are
//     made for that side. The framing goes on: DATA, EndStream (also for a
//     header block's END_STREAM), Reset, Settings and GoAway are still
//     reported. DecodingHeaders reports false.
//
// Gaps: a gap inside a frame whose length is known keeps the framing when
// the bytes lost are DATA payload (reported with DataGap), padding, a
// payload the decoder skips unread (PING, PRIORITY, unknown types) or part
// of a header block (header decoding is then lost, h2.gap_in_headers). A
// gap anywhere else (the preface, a frame header, a padded DATA frame's
// Pad Length, SETTINGS, RST_STREAM, GOAWAY or WINDOW_UPDATE payload) or
// running past the end of the frame it began in loses the framing.
//
// Memory: DATA payload is never buffered: the Handler gets slices of the
// caller's buffer. Everything kept is bounded whatever the lengths on the
// wire say: a header block at most MaxHeaderBlock bytes, its decoded
// fields at most MaxHeaderList (RFC 7541 §4.1 sizes), each string at most
// MaxStringLength, the HPACK dynamic table at most MaxHeaderTableSize, a
// SETTINGS payload MaxSettings, GOAWAY debug data MaxGoAwayDebug (the rest
// is skipped, not buffered), the streams remembered for Block.Trailers 4096
// per side (the oldest half is forgotten when full). Buffers are reused
// from frame to frame and block to block; DATA frames and header blocks of
// indexed fields allocate nothing.
//
// Leniency: a capture shows each side's bytes, not when the other side
// read them, so settings take effect as soon as they are read (RFC 9113
// §6.5.3 makes them apply on acknowledgement), and the HPACK decoder of a
// side allows a dynamic table of at least the initial 4096 bytes whatever
// its peer announced. A header block on stream 0 is a violation but is
// still decoded, unreported, so that the HPACK table stays in step.
//
// Ownership: slices passed to the Handler (Data's payload, Block.Fields,
// Settings' parameters, GoAway's debug data) are valid only during the
// call: copy to keep.
package h2
