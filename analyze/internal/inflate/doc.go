// Package inflate decodes DEFLATE streams (RFC 1951) for permessage-deflate
// (RFC 7692): straight into a window the caller owns, so that with context
// takeover a direction's messages are decoded as the one continuous stream
// they are, each message's matches reaching into the output of the ones
// before it without the 32 KiB history ever being copied into a decoder.
//
// A Decoder is reset for each message with the message's compressed bytes
// and the direction's window (its last 32 KiB are the history); Next
// decodes into the window, in place, and returns what it wrote. When the
// window is full its last 32 KiB slide to its start, once per 32 KiB of
// output at most. Nothing is allocated after the first use.
//
// The design is libdeflate's: a 64-bit bit buffer refilled eight bytes at a
// time without a branch per byte, Huffman codes decoded through a main
// lookup table with subtables for the longer codes, each entry carrying
// what its symbol means (a literal, or a length's base and extra bits, or a
// distance's), so that a symbol and its extra bits are consumed in one
// step; matches copied eight bytes at a time, the last word running past
// the match's end; the entry after a match looked up before the refill,
// with the bits left. One thing is not libdeflate's: the fast loop decodes
// up to 32 matches before copying them, and prefetches their sources,
// because with many connections the windows of earlier messages are not
// in the caches (see seqMax). The tables are built from the code lengths
// by filling one entry per code and doubling the filled part, and only as
// wide as the block's longest code needs, which matters for the small
// messages permessage-deflate mostly carries: each has its own block and
// tables.
//
// On amd64 the fast loop is in assembly (round_amd64.s, decodeAsm): its
// rounds, both passes of each, in one call; so is the loop that decodes a
// dynamic block's code lengths (lengths_amd64.s, lengthsAsm), about 320
// per block, two at a time where their codes fit in the code length
// code's table together (pairCodes), and the counting, sorting and main
// table filling of buildTable (huffman_amd64.s), where Go's code took twice
// the instructions and waited on its spilled counters. Go's register allocation
// spilled and reloaded the loop's state around every symbol, and Go has no
// prefetch instruction but a call. It uses BMI2 (SHRX, SHLX, BZHI: shifts
// by any register, a mask of the low bits in one instruction); on CPUs
// without it, on other architectures and with the purego build tag the Go
// passes (decodeRoundGo, copyRoundGo), fastLengthsGo, sortSymbolsGo and
// placeMainGo decode, and the tests and FuzzDecoder run both against
// compress/flate on every input.
//
// compress/flate is the reference: for every input, Decoder gives the same
// output and the same error (io.EOF after the final block,
// io.ErrUnexpectedEOF, or flate.CorruptInputError with the same offset),
// and stops at the same byte of output. flate reads its input bit by bit,
// asking for as many bits as the shortest code of a table before each
// lookup, so its offsets count the bytes it had asked for; the Decoder
// decodes the last bytes of an input, and a symbol it finds corrupt, the
// same careful way to tell the same offset. The tests compare both on
// random streams from compress/flate and klauspost/compress at every level
// and window size, cut into messages, and on corrupted ones.
package inflate
