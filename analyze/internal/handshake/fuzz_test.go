package handshake

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz")

// piece is a run of bytes of one direction, fed as one packet.
type piece struct {
	client bool
	data   []byte
}

// interleave cuts both streams into pieces and interleaves them, both
// chosen by seed, keeping each direction's order.
func interleave(client, server []byte, seed uint64) []piece {
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	var out []piece
	for len(client) > 0 || len(server) > 0 {
		fromClient := len(server) == 0 || len(client) > 0 && rng.IntN(2) == 0
		b := &server
		if fromClient {
			b = &client
		}
		k := 1 + rng.IntN(len(*b))
		if rng.IntN(3) == 0 {
			k = 1 + rng.IntN(min(len(*b), 16))
		}
		out = append(out, piece{fromClient, (*b)[:k]})
		*b = (*b)[k:]
	}
	return out
}

// fuzzFeed feeds the pieces, byte by byte when oneByte is set, checking
// the contract of Client and Server on every call.
func fuzzFeed(t *testing.T, pieces []piece, oneByte bool) *driver {
	d := newDriver(t)
	upgrades := 0
	for i, p := range pieces {
		step := len(p.data)
		if oneByte {
			step = 1
		}
		for data := p.data; len(data) > 0; {
			k := min(step, len(data))
			chunk := bytes.Clone(data[:k])
			data = data[k:]
			before := d.c.State()
			var n int
			if p.client {
				n = d.c.Client(chunk, int64(i+1))
			} else {
				n = d.c.Server(chunk, int64(i+1))
			}
			after := d.c.State()
			switch {
			case n < 0 || n > len(chunk):
				t.Fatalf("piece %d: consumed %d of %d bytes", i, n, len(chunk))
			case before != HTTP && n != 0:
				t.Fatalf("piece %d: consumed %d bytes in state %v", i, n, before)
			case after == HTTP && !p.client && n != len(chunk):
				t.Fatalf("piece %d: Server consumed %d of %d bytes and stays HTTP", i, n, len(chunk))
			case after == HTTP && p.client && n != len(chunk) && !d.c.holding:
				t.Fatalf("piece %d: Client consumed %d of %d bytes, stays HTTP and does not hold", i, n, len(chunk))
			case after == Upgraded && p.client && before == HTTP:
				t.Fatalf("piece %d: Client switched to WebSocket", i)
			case (after == Failed) != (d.c.Err() != nil):
				t.Fatalf("piece %d: state %v with Err() = %v", i, after, d.c.Err())
			case len(d.c.PendingClient()) > MaxPending || len(d.c.cl.buf) >= MaxHead || len(d.c.sv.buf) >= MaxHead:
				t.Fatalf("piece %d: holding %d pending, %d+%d head bytes", i, len(d.c.PendingClient()), len(d.c.cl.buf), len(d.c.sv.buf))
			case len(d.c.queue) > maxOutstanding:
				t.Fatalf("piece %d: %d requests queued", i, len(d.c.queue))
			}
			if before == HTTP && after == Upgraded {
				upgrades++
				d.ws[0] = append(d.ws[0], d.rec.pending...)
			}
			// The driver's bookkeeping, without its re-feeding: the
			// contract checks above need one call per chunk.
			rest := chunk[n:]
			if p.client && after == HTTP && n < len(chunk) && d.c.holding && n > 0 {
				// Right after an upgrade request: the rest is fed again.
				if m := d.c.Client(rest, int64(i+1)); m != 0 {
					t.Fatalf("piece %d: Client consumed %d held bytes", i, m)
				}
				continue
			}
			dir := 1
			if p.client {
				dir = 0
			}
			switch after {
			case Upgraded:
				d.ws[dir] = append(d.ws[dir], rest...)
			case NotHTTP, Failed:
				d.other[dir] = append(d.other[dir], rest...)
			}
		}
	}
	if len(d.rec.ups) != upgrades || upgrades > 1 {
		t.Fatalf("%d Upgraded callbacks, %d switches to Upgraded", len(d.rec.ups), upgrades)
	}
	return d
}

func FuzzHandshake(f *testing.F) {
	f.Fuzz(func(t *testing.T, client, server []byte, seed uint64) {
		pieces := interleave(client, server, seed)
		d := fuzzFeed(t, pieces, false)
		for _, r := range d.rec.reqs {
			for _, p := range r.Problems {
				if !strings.Contains(p.Msg, "(RFC ") {
					t.Fatalf("request problem %+v names no RFC section", p)
				}
			}
		}
		for _, u := range d.rec.ups {
			if u.Deflate != nil && (u.Deflate.ServerMaxWindowBits < minWindowBits || u.Deflate.ServerMaxWindowBits > maxWindowBits ||
				u.Deflate.ClientMaxWindowBits < minWindowBits || u.Deflate.ClientMaxWindowBits > maxWindowBits) {
				t.Fatalf("Deflate = %+v, window bits out of 8..15", *u.Deflate)
			}
		}
		if len(client)+len(server) > 4096 {
			return
		}
		// The same bytes one at a time decode the same.
		one := fuzzFeed(t, pieces, true)
		if !slices.Equal(d.rec.log, one.rec.log) {
			t.Fatalf("callbacks differ when fed one byte at a time:\n%s\nvs\n%s", strings.Join(d.rec.log, "\n"), strings.Join(one.rec.log, "\n"))
		}
		if d.c.State() != one.c.State() || fmt.Sprint(d.c.Err()) != fmt.Sprint(one.c.Err()) {
			t.Fatalf("state %v (%v) vs %v (%v) one byte at a time", d.c.State(), d.c.Err(), one.c.State(), one.c.Err())
		}
		if !bytes.Equal(d.ws[0], one.ws[0]) || !bytes.Equal(d.ws[1], one.ws[1]) {
			t.Fatalf("WebSocket bytes %q %q vs %q %q one byte at a time", d.ws[0], d.ws[1], one.ws[0], one.ws[1])
		}
	})
}

// TestFuzzCorpus checks that the seed corpus holds every exchange of the
// table tests; with -update it rewrites it.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzHandshake")
	for i, tc := range exchanges {
		var cl, sv []byte
		for _, st := range tc.steps {
			if st.client {
				cl = append(cl, st.data...)
			} else {
				sv = append(sv, st.data...)
			}
		}
		if len(cl)+len(sv) > MaxHead {
			continue // the limit cases are too big to be useful seeds
		}
		name := filepath.Join(dir, "seed-"+slug(tc.name))
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\nuint64(%d)\n", cl, sv, i+1)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("seed corpus: %v (run go test -run TestFuzzCorpus -update)", err)
			continue
		}
		if string(got) != want {
			t.Errorf("seed %s is stale:\n got %q\nwant %q\n(run go test -run TestFuzzCorpus -update)", name, got, want)
		}
	}
}

// slug makes a file name of a test name: lower-case letters, digits and
// single dashes.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
