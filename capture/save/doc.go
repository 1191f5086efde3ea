// Package save writes captured packets to a pcapng file as they are read,
// so that a live session can be replayed later ("wsviz ui -r FILE.pcapng")
// and opened in Wireshark. NgWriter, beneath Writer, writes the blocks (for
// files of several interfaces too).
//
// The file starts with an Interface Description Block naming the interface,
// its link type, snap length and capture filter; packets follow as
// Enhanced Packet Blocks with nanosecond timestamps; Close ends it with an
// Interface Statistics Block (packets received and dropped by the kernel)
// when counts are known. Flush pushes buffered packets to the file, so a
// reader following the file sees them while the capture goes on.
package save
