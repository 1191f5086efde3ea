package analyze

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds real-world captures from other projects' test suites,
// each with tshark's frame-by-frame dissection beside it. It lives outside
// the repository; tests skip when it is absent.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

// corpusFiles returns the captures of the shared corpus, skipping the test
// when the folder is absent.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.pcap*"))
	var captures []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".tsv") {
			captures = append(captures, f)
		}
	}
	if len(captures) == 0 {
		t.Skipf("no shared corpus at %s", corpusDir)
	}
	return captures
}

// frameRow is what tshark and wsviz must agree on for every frame.
type frameRow struct {
	packet             string
	src, sport         string
	dst, dport         string
	opcode, fin, rsv   string
	masked, payloadLen string
}

func (r frameRow) String() string {
	return fmt.Sprintf("packet %s %s:%s→%s:%s opcode=%s fin=%s rsv=%s masked=%s len=%s",
		r.packet, r.src, r.sport, r.dst, r.dport, r.opcode, r.fin, r.rsv, r.masked, r.payloadLen)
}

// readTsharkRows reads X.tshark.tsv: packet stream src sport dst dport
// opcode fin rsv masked len close_code.
func readTsharkRows(t *testing.T, path string) []frameRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []frameRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 11 {
			continue
		}
		rows = append(rows, frameRow{packet: c[0], src: c[2], sport: c[3], dst: c[4], dport: c[5],
			opcode: c[6], fin: c[7], rsv: c[8], masked: c[9], payloadLen: c[10]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// TestCorpusFramesMatchTshark decodes every capture of the shared corpus
// and compares each ws.frame with tshark's row: packet, endpoints, opcode,
// fin, rsv, masked, len. Connections recognised mid-stream are left out:
// tshark does not decode them.
func TestCorpusFramesMatchTshark(t *testing.T) {
	for _, file := range corpusFiles(t) {
		name := strings.TrimPrefix(file, corpusDir+string(filepath.Separator))
		t.Run(name, func(t *testing.T) {
			want := readTsharkRows(t, file+".tshark.tsv")
			events, err := ReadFile(file, Options{})
			if err != nil {
				t.Fatalf("ReadFile(%s): %v", file, err)
			}
			conns := map[int][2]string{} // conn → client, server "ip:port"
			var got []frameRow
			midstream := map[int]bool{}
			extra := 0
			for _, ev := range events {
				switch ev.Type {
				case TypeTCPOpen:
					conns[ev.Conn] = [2]string{ev.TCPOpen.Client, ev.TCPOpen.Server}
				case TypeWSOpen:
					if ev.WSOpen.Midstream {
						midstream[ev.Conn] = true
					}
				case TypeWSFrame:
					if midstream[ev.Conn] {
						// tshark finds nothing in a connection whose
						// handshake is not in the capture.
						extra++
						continue
					}
					ends := conns[ev.Conn]
					if ev.From == FromServer {
						ends[0], ends[1] = ends[1], ends[0]
					}
					src, sport := splitHostPort(ends[0])
					dst, dport := splitHostPort(ends[1])
					f := ev.Frame
					got = append(got, frameRow{packet: fmt.Sprint(ev.Packet), src: src, sport: sport, dst: dst, dport: dport,
						opcode: fmt.Sprint(f.Opcode), fin: boolDigit(f.Fin), rsv: fmt.Sprint(f.RSV),
						masked: boolDigit(f.Masked), payloadLen: fmt.Sprint(f.Len)})
				}
			}
			if extra > 0 {
				t.Logf("%d frames in connections found mid-stream, which tshark cannot see", extra)
			}
			for i := 0; i < max(len(got), len(want)); i++ {
				var g, w frameRow
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Errorf("frame %d:\n got %v\nwant %v", i+1, g, w)
				}
			}
		})
	}
}

func splitHostPort(s string) (host, port string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, ""
	}
	return strings.Trim(s[:i], "[]"), s[i+1:]
}
