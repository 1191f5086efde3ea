package capture_test

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/capture"
)

// corpusDir holds real-world captures beside the project (see its README);
// a fresh clone has none.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

// tsharkFrame is one WebSocket frame as tshark dissected it: the packet
// that carries its last byte and the TCP endpoints.
type tsharkFrame struct {
	packet   int64
	src, dst netip.AddrPort
}

func readTSV(t *testing.T, path string) []tsharkFrame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames []tsharkFrame
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) < 6 {
			t.Fatalf("%s: short line %q", path, sc.Text())
		}
		packet, err1 := strconv.ParseInt(col[0], 10, 64)
		sport, err2 := strconv.ParseUint(col[3], 10, 16)
		dport, err3 := strconv.ParseUint(col[5], 10, 16)
		src, err4 := netip.ParseAddr(col[2])
		dst, err5 := netip.ParseAddr(col[4])
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		frames = append(frames, tsharkFrame{packet, netip.AddrPortFrom(src, uint16(sport)), netip.AddrPortFrom(dst, uint16(dport))})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return frames
}

// TestCorpus reads every packet of every real-world capture and checks
// DecodeTCP against tshark: every packet where tshark found a WebSocket
// frame is TCP between the same endpoints and carries payload.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no corpus at %s", corpusDir)
	}
	var paths []string
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no captures in %s", corpusDir)
	}
	for _, path := range paths {
		name, _ := filepath.Rel(corpusDir, path)
		t.Run(name, func(t *testing.T) {
			type decoded struct {
				ok       bool
				src, dst netip.AddrPort
				payload  int
			}
			var packets []decoded
			f, err := capture.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for {
				p, err := f.ReadPacket()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("ReadPacket() after %d packets = %v", len(packets), err)
				}
				if p.Number != int64(len(packets)+1) {
					t.Fatalf("packet Number %d, want %d", p.Number, len(packets)+1)
				}
				var seg capture.Segment
				ok := capture.DecodeTCP(&p, &seg)
				packets = append(packets, decoded{ok, seg.Src, seg.Dst, len(seg.Payload)})
			}
			tcp := 0
			for _, d := range packets {
				if d.ok {
					tcp++
				}
			}
			// These are WebSocket captures: most of their packets are
			// TCP (arkime_synthetic has unrelated traffic too).
			if tcp*2 < len(packets) {
				t.Errorf("DecodeTCP accepts %d of %d packets, want most", tcp, len(packets))
			}
			for _, fr := range readTSV(t, path+".tshark.tsv") {
				if fr.packet < 1 || fr.packet > int64(len(packets)) {
					t.Errorf("tshark frame in packet %d, beyond the %d packets read", fr.packet, len(packets))
					continue
				}
				d := packets[fr.packet-1]
				if !d.ok || d.src != fr.src || d.dst != fr.dst || d.payload == 0 {
					t.Errorf("packet %d: DecodeTCP = %v %v > %v with %d payload bytes, want true %v > %v with payload", fr.packet, d.ok, d.src, d.dst, d.payload, fr.src, fr.dst)
				}
			}
		})
	}
}
