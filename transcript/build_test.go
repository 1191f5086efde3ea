package transcript

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// richCapture has one connection with a cookie, a custom header, JSON and
// plain text, binary payloads of every form, and a delay.
func richCapture(t *testing.T) string {
	return writeCapture(t, script{
		client: "10.0.0.1:5000", path: "/chat?room=1",
		header: []string{"Cookie: session=abc", "X-Trace: 123", "Origin: http://127.0.0.1:9001"},
		steps: []step{
			client(`{"type":"hello", "id": 41, "at": "2024-01-02"}`),
			server(`{"type":"welcome","id":42}`).after(3 * time.Millisecond),
			client("plain words"),
			clientBinary(bytes.Repeat([]byte{0xab}, 32)),
			clientBinary(bytes.Repeat([]byte{0xcd}, 33)),
			server(strings.Repeat("z", 100)),
		},
	})
}

// TestBuilderLines checks, for each option, the lines it adds or takes
// away.
func TestBuilderLines(t *testing.T) {
	path := richCapture(t)
	messages := []string{
		`  client text 46 json {"at":"2024-01-02","id":41,"type":"hello"}`,
		`  server text 26 json {"id":42,"type":"welcome"}`,
		`  client text 11 text "plain words"`,
		`  client binary 32 hex ` + strings.Repeat("ab", 32),
		`  client binary 33 base64 zc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3N`,
		`  client close 5 code=1000 text "bye"`,
		`  server close 2 code=1000 text ""`,
		`  end fin`,
	}
	tests := []struct {
		name      string
		keep      string
		opts      Options
		want, not []string
	}{
		{"default", "", Options{}, append([]string{
			"keep port\n",
			"\nconnection 1 websocket /chat?room=1\n  server-port 9001\n  request GET /chat?room=1 HTTP/1.1\n",
			"    header Host: 127.0.0.1:9001\n", "    header Origin: http://127.0.0.1:9001\n", "    header X-Trace: 123\n",
			"  response 101 Switching Protocols\n", "  websocket accept ok\n",
		}, messages...), []string{"Cookie", "Sec-Websocket-Key", "Sec-Websocket-Accept", "endpoints", "+0.", "frame", "packet", "mask", "wire="}},
		{"no port", "-port", Options{}, []string{"keep none\n", "    header Host: 127.0.0.1\n", "    header Origin: http://127.0.0.1\n"},
			[]string{"server-port", "9001"}},
		{"addresses", "addresses", Options{}, []string{"keep port,addresses\n", "  endpoints client 10.0.0.1:5000 server 127.0.0.1:9001\n", "header Host: 127.0.0.1:9001\n"},
			[]string{"server-port"}},
		{"times", "times", Options{}, []string{"keep port,times\n", "  +0.003000 request GET", "  +0.00", " client text 46 json"},
			[]string{"    +0."}},
		{"frames", "frames", Options{}, []string{
			"  client text 46 wire=46 frames=1 json {",
			"\n    frame fin rsv=0 opcode=1 len=46 masked\n",
			"\n    frame fin rsv=0 opcode=2 len=33 masked\n",
			"\n    frame fin rsv=0 opcode=1 len=26\n"}, []string{"mask=", "packet"}},
		{"masks", "masks", Options{}, []string{"keep port,frames,masks\n", " len=46 mask=", " len=26\n"}, []string{" masked"}},
		{"packets", "packets", Options{}, []string{"  client text 46 packets=", "  server close 2 packets="}, []string{"frame"}},
		{"packets and frames", "packets,frames", Options{}, []string{" packet="}, nil},
		{"headers", "headers", Options{}, []string{"    header Cookie: session=abc\n", "    header Sec-Websocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n", "    header Sec-Websocket-Accept: "}, nil},
		{"ignore", "", Options{Ignore: []string{"$.id", "$.at"}}, []string{
			"ignore $.id\nignore $.at\n",
			`  client text 46 json {"at":"<ignored>","id":"<ignored>","type":"hello"}`,
			`  server text 26 json {"id":"<ignored>","type":"welcome"}`}, []string{"41", "42"}},
		{"ignore header", "", Options{IgnoreHeaders: []string{"x-trace", "USER-AGENT"}}, []string{"ignore-header X-Trace\nignore-header User-Agent\n"}, []string{"    header X-Trace", "User-Agent:"}},
		{"inline", "", Options{Inline: 32}, []string{
			"inline 32\n",
			"  client binary 32 hex ",
			"  client binary 33 sha256 ",
			`  server text 100 sha256 `,
			`  client text 46 sha256 `, // its canonical form is longer than 32 bytes
			`  client text 11 text "plain words"`}, []string{"base64"}},
		{"display", "", Options{Display: `type == "ws.message" && from == "client"`}, []string{
			"display type == \"ws.message\" && from == \"client\"\n",
			"\nconnection 1 websocket /chat?room=1\n  client text 46 json"}, []string{"server", "request", "end fin"}},
		{"unordered", "", Options{Unordered: true}, []string{"unordered\n",
			"  websocket accept ok\n" +
				"  client binary 32 hex " + strings.Repeat("ab", 32) + "\n" +
				"  client binary 33 base64 zc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3N\n" +
				"  client close 5 code=1000 text \"bye\"\n" +
				"  client text 11 text \"plain words\"\n" +
				"  client text 46 json {\"at\":\"2024-01-02\",\"id\":41,\"type\":\"hello\"}\n" +
				"  server close 2 code=1000 text \"\"\n" +
				"  server text 100 text \"" + strings.Repeat("z", 100) + "\"\n" +
				"  server text 26 json {\"id\":42,\"type\":\"welcome\"}\n" +
				"  end fin\n"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			k, err := ParseKeep(tc.keep, DefaultKeep)
			if err != nil {
				t.Fatal(err)
			}
			o.Keep = k
			got := transcribe(t, path, o).String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("the transcript lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("the transcript has %q:\n%s", n, got)
				}
			}
			back, err := Parse(strings.NewReader(got))
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, got)
			}
			if back.String() != got {
				t.Errorf("Parse(t).String() differs:\n%s", textDiff(t, got, back.String()))
			}
		})
	}
}

// TestTimes checks that times are measured from the connection's first
// packet.
func TestTimes(t *testing.T) {
	tr := transcribe(t, richCapture(t), Options{Keep: KeepTimes})
	var req, welcome Line
	for _, l := range tr.Conns[0].Lines {
		switch {
		case strings.HasPrefix(l.Text, "request "):
			req = l
		case strings.HasPrefix(l.Text, "server text 26"):
			welcome = l
		}
	}
	if !req.Timed || !welcome.Timed {
		t.Fatalf("request %+v, welcome %+v: want both timed", req, welcome)
	}
	if gap := welcome.At - req.At; gap < 3*time.Millisecond || gap > 10*time.Millisecond {
		t.Errorf("the welcome comes %v after the request, want the scripted 3ms and a few packets", gap)
	}
}

// TestIncomplete transcribes a capture cut in the middle of a record: the
// connections decoded before the cut are there, and the transcript says why
// it stops, naming the file without its directory.
func TestIncomplete(t *testing.T) {
	whole, err := os.ReadFile("../testdata/demo.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(cut, whole[:len(whole)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := ReadFile(cut, Options{}, analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.Incomplete, "capture: cut.pcapng: truncated record at byte offset ") {
		t.Errorf("Incomplete = %q, want the cut named, without the directory", tr.Incomplete)
	}
	if len(tr.Conns) == 0 {
		t.Error("no connections from before the cut")
	}
	text := tr.String()
	if !strings.Contains(text, "\nincomplete capture: cut.pcapng: truncated record at byte offset ") {
		t.Errorf("the transcript does not say it is incomplete:\n%.300s", text)
	}
	back, err := Parse(strings.NewReader(text))
	if err != nil || back.Incomplete != tr.Incomplete {
		t.Fatalf("Parse: %v, Incomplete %q, want %q", err, back.Incomplete, tr.Incomplete)
	}
	full := transcribe(t, "../testdata/demo.pcapng", Options{})
	for _, pair := range [][2]*Transcript{{back, full}, {full, back}} {
		if _, err := Diff(pair[0], pair[1], DiffOptions{}); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "truncated record") {
			t.Errorf("Diff with an incomplete side: %v, want ErrIncomplete with the reason", err)
		}
	}
}

// TestNotCapture: ReadFile says so for a file that is not a capture.
func TestNotCapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(path, []byte("hello\n"), 0o644)
	if _, err := ReadFile(path, Options{}, analyze.Options{}); err == nil {
		t.Error("ReadFile of a text file: no error")
	}
}

func TestParseKeep(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"", "port", false},
		{"times", "port,times", false},
		{"times,frames", "port,times,frames", false},
		{" times , -port ", "times", false},
		{"-port", "none", false},
		{"none", "none", false},
		{"none,times", "times", false},
		{"masks", "port,frames,masks", false},
		{"default", "port", false},
		{"addresses,packets,headers", "port,addresses,packets,headers", false},
		{"seconds", "", true},
		{"-", "", true},
	}
	for _, tc := range tests {
		k, err := ParseKeep(tc.in, DefaultKeep)
		if (err != nil) != tc.err {
			t.Errorf("ParseKeep(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && k.String() != tc.want {
			t.Errorf("ParseKeep(%q) = %s, want %s", tc.in, k, tc.want)
		}
	}
	if Keep(0).String() != "port" || !Keep(0).Has(KeepPort) || KeepNone.Has(KeepPort) {
		t.Error("the zero Keep is not DefaultKeep, or KeepNone keeps the port")
	}
}

// TestLateTCPOpen: the lines tcp.open gives go first, however late the
// analyzer emits it.
func TestLateTCPOpen(t *testing.T) {
	b, err := NewBuilder(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	b.Add(&analyze.Event{Type: analyze.TypeHTTPRequest, Time: t0.Add(time.Millisecond), Conn: 1, From: "client",
		HTTP: analyze.HTTP{Method: "GET", Target: "/x", Proto: "HTTP/1.1"}})
	b.Add(&analyze.Event{Type: analyze.TypeTCPOpen, Time: t0, Conn: 1,
		TCPOpen: analyze.TCPOpen{Client: "10.0.0.1:5000", Server: "10.0.0.2:80"}})
	got := b.Transcript("").String()
	want := "wsviz transcript 1\nkeep port\n\nconnection 1 http /x\n  server-port 80\n  begin no-syn\n  request GET /x HTTP/1.1\n"
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
}

// TestQuietTypes: TLS records and handshake messages appear only with a
// warning; other unknown event types always.
func TestQuietTypes(t *testing.T) {
	b, _ := NewBuilder(Options{})
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	b.Add(&analyze.Event{Type: analyze.TypeTCPOpen, Time: t0, Conn: 1, TCPOpen: analyze.TCPOpen{Client: "10.0.0.1:5000", Server: "10.0.0.2:443", SYN: true}})
	b.Add(&analyze.Event{Type: "tls.message", Time: t0, Conn: 1, From: "client"})
	b.Add(&analyze.Event{Type: "tls.handshake", Time: t0, Conn: 1})
	b.Add(&analyze.Event{Type: "tls.record", Time: t0, Conn: 1, From: "server"})
	b.Add(&analyze.Event{Type: "tls.record", Time: t0, Conn: 1, From: "server", Warnings: []analyze.Warning{{Code: "tls.bad_record_mac"}}})
	got := b.Transcript("").String()
	want := "wsviz transcript 1\nkeep port\n\nconnection 1 tcp\n  server-port 443\n  event tls.handshake\n  event tls.record server\n    warning tls.bad_record_mac\n"
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
}

// TestTLS: a wss:// capture whose key log travels inside the pcapng is
// decrypted, with a packet filter too, and equals the same capture
// decrypted with the key log given apart.
func TestTLS(t *testing.T) {
	withSecrets := transcribe(t, "../testdata/wss-dsb.pcapng", Options{Filter: "tcp"})
	if !strings.Contains(withSecrets.String(), "\n  client text ") {
		t.Fatalf("wss-dsb.pcapng with a filter: no message decrypted:\n%.600s", withSecrets)
	}
	keys, err := analyze.ReadKeyLogFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	apart, err := ReadFile("../testdata/wss.pcapng", Options{Filter: "tcp"}, analyze.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if got := diffText(t, withSecrets, apart, DiffOptions{}); got != "" {
		t.Errorf("the key log inside the pcapng and apart:\n%s", got)
	}
}

// TestCanonicalHeader: header names are spelled as analyze's events spell
// them, ASCII letters only changed; other bytes, valid UTF-8 or not, are
// kept, so that a name reads back as it was written (FuzzParse found an
// invalid byte in ignore-header growing at every round: seed
// 5c6c9907f2775fba).
func TestCanonicalHeader(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"sec-websocket-key", "Sec-Websocket-Key"},
		{"SEC-WEBSOCKET-KEY", "Sec-Websocket-Key"},
		{" x-forwarded-for ", "X-Forwarded-For"},
		{"a--b-", "A--B-"},
		{"\x800", "\x800"},
		{"é-ÉTÉ", "é-ÉtÉ"},
		{"", ""},
	} {
		got := canonicalHeader(tc.in)
		if got != tc.want {
			t.Errorf("canonicalHeader(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := canonicalHeader(got); again != got {
			t.Errorf("canonicalHeader(%q) = %q, not itself", got, again)
		}
	}
}
