// Package wsproto decodes one direction of one WebSocket connection: RFC
// 6455 frames and messages and RFC 7692 permessage-deflate, from the bytes
// TCP reassembly delivers, in order.
//
// A Stream takes bytes with Write (split anywhere, even one byte per call),
// lost bytes with Gap and the end with End, and reports through a Handler:
// Frame for every frame header, Message for every message, reassembled from
// its fragments (control frames in between are messages of their own),
// unmasked and inflated.
//
// Protocol violations are Problems with a stable code citing the RFC
// section, attached to the Frame or Message where they were seen; decoding
// goes on. Problems of a header go in Frame.Problems, all of them, not just
// the first; problems of a message's content (UTF-8, close code, limits,
// inflating, lost bytes) in Message.Problems.
//
// Memory: a Stream never holds a whole message. It keeps the first
// Config.MaxPayload bytes of each, validates UTF-8 as bytes go by, and
// counts the rest. A compressed message is buffered compressed (at most
// Config.MaxMessage bytes) until its final frame, then inflated (package
// inflate) at most Config.MaxMessage bytes of output, so a deflate bomb
// costs no more than the limit. With context takeover a direction's
// messages are one deflate stream: each is inflated straight into the
// direction's 64 KiB history buffer, the decoder's window, whose last
// 32 KiB the next message may refer to; nothing is copied per message.
//
// History: after a Midstream start, a Gap, a limit or an inflate error, the
// history is incomplete. The window then holds only bytes known to be
// right, so a message that refers further back fails to inflate instead of
// giving wrong bytes; it is reported as ws.deflate_missing_history with no
// payload. Once a full window of correct output has been seen again (or at
// once with no context takeover) the history is complete again.
//
// Gaps: a gap inside a frame's payload is skipped (the header says where the
// next frame starts) and the message marked Truncated with tcp.gap; a gap
// over a header loses the framing. Then each Write is tried with Probe at its
// start, and decoding resumes where it matches.
//
// Ownership: the data given to Write aliases the caller's packet buffer and
// is never modified; the Frame and Message passed to the Handler, and every
// slice in them, are reused after the callback returns.
package wsproto
