// Package spill keeps the events of one capture on disk for the timeline
// server (package ui) and answers the page's queries, so that neither the
// server nor the page ever holds every event: the server's memory grows by
// about 4 bytes an event, the page's not with the capture.
//
// Two append-only temporary files hold the events:
//
//   - the details file: every event in capture order (its row, its JSON
//     form without the payload, its payload), in blocks of 64 events
//     compressed with Snappy; memory keeps one offset per block (the
//     sparse index);
//   - the rows file: the compact rows (time, size, packet, type,
//     direction, opcode, flags, HTTP/2 stream; about 16 bytes
//     delta-encoded) of each
//     connection, of the whole capture and of each warning code, in leaves
//     of 128 rows, so that the rows of one connection over a time range
//     are a few contiguous reads.
//
// Memory keeps a tree of Summary nodes over the leaves of each sequence
// (counts by kind and direction, warnings, opens and closes, time range,
// largest message): leaves of 128 rows for connections and warning codes,
// 1,024 for the whole capture, about 4 bytes an event in all. Window queries
// (Window, Overview) walk the trees: a node that falls within one pixel
// column is counted whole, so a fit-all view of millions of events costs
// a few thousand nodes, and a leaf over at most four columns is spread
// over them by time; a lane with few events in view gets them one by
// one. List pages the Messages and Warnings panels by walking down the
// counts. Search scans the details file in the background, then follows
// new events; its matches form an index of their own.
package spill
