package spill

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/golang/snappy"
)

// The details file holds every event in capture order: its row, its JSON
// form (the `wsviz events` form without the payload) and its payload, in
// blocks of up to blockEvents events or blockBytes bytes, each compressed
// with Snappy. Only the offset and first event of each block are kept in
// memory (the sparse index), about 24 bytes per block.
const (
	blockEvents = 64
	blockBytes  = 256 << 10
)

// blockHeader precedes each block in the file: compressed and raw sizes.
const blockHeader = 8

type blockRef struct {
	first uint64 // the ID of the block's first event
	off   int64  // offset of the block's header in the file
	clen  uint32 // compressed bytes after the header
}

// ErrNoDetail means the event's details were not kept: the spill files
// reached their size limit, or writing them failed.
var ErrNoDetail = errors.New("spill: event details not kept (spill limit reached or write failed)")

type details struct {
	f       *os.File
	size    int64 // bytes written
	maxSize int64
	blocks  []blockRef
	failed  bool // a write failed or the limit was reached: no more details

	cur      []byte // the block being filled, uncompressed
	curFirst uint64
	curN     int
	curPrev  Row
	comp     []byte

	cacheMu sync.Mutex
	cache   []cachedBlock // most recently used first
}

type cachedBlock struct {
	i   int
	raw []byte
}

const cacheBlocks = 8

// add appends the record of r. It reports whether the details were kept.
func (d *details) add(r *Row, jsonForm, payload []byte) (bool, error) {
	if d.failed {
		return false, nil
	}
	if d.size+int64(len(d.cur)) >= d.maxSize {
		// The limit is checked before writing (counting the block being
		// filled as if it did not compress): the events kept so far stay
		// readable, no later one is kept.
		d.failed = true
		return false, d.finish()
	}
	if d.curN == 0 {
		d.curFirst = r.ID
		d.curPrev = Row{}
	} else if r.ID != d.curFirst+uint64(d.curN) {
		// An event whose details were dropped came between: start a new
		// block so that IDs within a block stay consecutive.
		if err := d.finish(); err != nil {
			return false, err
		}
		return d.add(r, jsonForm, payload)
	}
	d.cur = appendRow(d.cur, r, &d.curPrev)
	d.curPrev = *r
	d.cur = binary.AppendUvarint(d.cur, uint64(len(jsonForm)))
	d.cur = binary.AppendUvarint(d.cur, uint64(len(payload)))
	d.cur = append(d.cur, jsonForm...)
	d.cur = append(d.cur, payload...)
	d.curN++
	if d.curN >= blockEvents || len(d.cur) >= blockBytes {
		if err := d.finish(); err != nil {
			return true, err
		}
	}
	return true, nil
}

// finish compresses and writes the current block.
func (d *details) finish() error {
	if d.curN == 0 {
		return nil
	}
	d.comp = snappy.Encode(d.comp[:cap(d.comp)], d.cur)
	var hdr [blockHeader]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(len(d.comp)))
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(d.cur)))
	ref := blockRef{first: d.curFirst, off: d.size, clen: uint32(len(d.comp))}
	d.cur = d.cur[:0]
	d.curN = 0
	if _, err := d.f.Write(append(hdr[:], d.comp...)); err != nil {
		d.failed = true
		return fmt.Errorf("spill: write details: %w", err)
	}
	d.size += int64(blockHeader + len(d.comp))
	d.blocks = append(d.blocks, ref)
	return nil
}

// Record is one event's details.
type Record struct {
	Row     Row
	JSON    []byte // the JSON form without the payload
	Payload []byte
}

// block returns the raw bytes of block i, whose reference is ref, from the
// cache or the file. The caller passes ref from its own copy of d.blocks,
// taken under the store's lock: finish appends to d.blocks while readers run.
func (d *details) block(i int, ref blockRef) ([]byte, error) {
	d.cacheMu.Lock()
	for k, c := range d.cache {
		if c.i == i {
			copy(d.cache[1:k+1], d.cache[:k])
			d.cache[0] = c
			d.cacheMu.Unlock()
			return c.raw, nil
		}
	}
	d.cacheMu.Unlock()
	buf := make([]byte, blockHeader+int(ref.clen))
	if _, err := d.f.ReadAt(buf, ref.off); err != nil {
		return nil, fmt.Errorf("spill: read details: %w", err)
	}
	rawLen := binary.LittleEndian.Uint32(buf[4:])
	if n, err := snappy.DecodedLen(buf[blockHeader:]); err != nil || n != int(rawLen) {
		return nil, errCorrupt
	}
	raw, err := snappy.Decode(make([]byte, rawLen), buf[blockHeader:])
	if err != nil {
		return nil, fmt.Errorf("spill: details block %d: %w", i, err)
	}
	d.cacheMu.Lock()
	if len(d.cache) < cacheBlocks {
		d.cache = append(d.cache, cachedBlock{})
	}
	copy(d.cache[1:], d.cache[:len(d.cache)-1])
	d.cache[0] = cachedBlock{i, raw}
	d.cacheMu.Unlock()
	return raw, nil
}

// eachRecord calls fn with the records of raw (a block whose first event
// is first) in order until fn returns false. The slices alias raw.
func eachRecord(raw []byte, fn func(*Record) bool) error {
	var prev Row
	for len(raw) > 0 {
		var rec Record
		var err error
		if raw, err = readRow(raw, &prev, &rec.Row); err != nil {
			return err
		}
		prev = rec.Row
		jl, n := binary.Uvarint(raw)
		if n <= 0 {
			return errCorrupt
		}
		raw = raw[n:]
		pl, n := binary.Uvarint(raw)
		if n <= 0 || jl > uint64(len(raw)-n) || pl > uint64(len(raw)-n)-jl {
			return errCorrupt
		}
		raw = raw[n:]
		rec.JSON, rec.Payload = raw[:jl], raw[jl:jl+pl]
		raw = raw[jl+pl:]
		if !fn(&rec) {
			return nil
		}
	}
	return nil
}

// findBlock returns the index of the written block that holds id, or -1.
func (d *details) findBlock(blocks []blockRef, id uint64) int {
	i := sort.Search(len(blocks), func(i int) bool { return blocks[i].first > id }) - 1
	if i < 0 {
		return -1
	}
	return i
}
