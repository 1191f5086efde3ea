package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

const sessionDir = "../../testdata/session/"

// wsviz runs the command line and returns its exit status and output.
func wsviz(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// regressConn scripts a WebSocket connection of a test capture: what each
// side sends, in order, after an optional pause.
type regressConn struct {
	client string
	path   string
	header []string
	sends  []regressSend
}

type regressSend struct {
	fromClient bool
	text       string
	pause      time.Duration
}

// writeRegressCapture writes the connections, one after the other, to a
// pcap in a temporary directory.
func writeRegressCapture(t *testing.T, conns ...regressConn) string {
	t.Helper()
	c := capturetest.NewCapture(capturetest.Options{})
	for _, rc := range conns {
		k := c.Conn(rc.client, "127.0.0.1:9001")
		k.Handshake()
		k.Client(analyzetest.Request(rc.path, rc.header...))
		k.Server(analyzetest.Response())
		for _, s := range rc.sends {
			c.Advance(s.pause)
			if s.fromClient {
				k.Client(analyzetest.Text(true, s.text))
			} else {
				k.Server(analyzetest.Text(false, s.text))
			}
		}
		k.Client(analyzetest.Close(true, 1000, ""))
		k.Server(analyzetest.Close(false, 1000, ""))
		k.CloseFIN(true)
		k.CloseFIN(false)
		k.Ack(true)
	}
	return c.TempFile(t, "c.pcap")
}

// TestTranscriptCommand: wsviz transcript prints the golden transcript of
// a shipped capture, writes it with -o, and takes flags after the filter.
func TestTranscriptCommand(t *testing.T) {
	want, err := os.ReadFile(sessionDir + "ab.transcript")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := wsviz(t, "transcript", "-r", sessionDir+"ab.pcapng")
	if code != 0 || out != string(want) {
		t.Fatalf("wsviz transcript -r ab.pcapng: exit %d, %s\n%s", code, errOut, out)
	}
	path := filepath.Join(t.TempDir(), "out.transcript")
	if code, _, errOut := wsviz(t, "transcript", "-o", path, "-r", sessionDir+"ba.pcapng"); code != 0 {
		t.Fatalf("-o: exit %d: %s", code, errOut)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Errorf("-o wrote:\n%s\nwant the same as ab.transcript", got)
	}

	// --conn becomes part of the display filter the transcript records.
	code, out, errOut = wsviz(t, "transcript", "-r", "../../testdata/demo.pcapng", "--conn", "2", "-Y", `type != "ws.message" || from == "client"`)
	if code != 0 || !strings.Contains(out, "\ndisplay (type != \"ws.message\" || from == \"client\") && ((conn == 2))\n") ||
		strings.Count(out, "\nconnection ") != 1 || strings.Contains(out, "  server text") {
		t.Errorf("--conn 2 -Y ...: exit %d %s\n%s", code, errOut, out)
	}

	// FILTER, with flags after it: one of demo's four connections.
	code, out, errOut = wsviz(t, "transcript", "-r", "../../testdata/demo.pcapng", "tcp", "port", "45558", "--keep", "times")
	if code != 0 {
		t.Fatalf("with a filter: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "keep port,times\nfilter tcp port 45558\n") || strings.Count(out, "\nconnection ") != 1 ||
		!strings.Contains(out, "connection 1 websocket /ws?name=bit\n") || !strings.Contains(out, "  +0.000") {
		t.Errorf("with a filter:\n%s", out)
	}
}

// TestTranscriptFlags shows each normalisation flag in the header and in
// the lines.
func TestTranscriptFlags(t *testing.T) {
	path := writeRegressCapture(t, regressConn{client: "10.0.0.1:5000", path: "/api", header: []string{"X-Trace: 77"},
		sends: []regressSend{{true, `{"id":1,"op":"get"}`, 0}, {false, `{"id":2,"ok":true}`, 0}, {true, strings.Repeat("x", 40), 0}}})
	tests := []struct {
		args      []string
		want, not []string
	}{
		{nil, []string{"keep port\n", "  server-port 9001\n", "    header X-Trace: 77\n", `  client text 19 json {"id":1,"op":"get"}`, `  client text 40 text "xxxx`},
			[]string{"Sec-Websocket-Key", "mask", "+0."}},
		{[]string{"--keep", "-port"}, []string{"keep none\n", "    header Host: 127.0.0.1\n"}, []string{"9001"}},
		{[]string{"--keep", "addresses,packets"}, []string{"keep port,addresses,packets\n", "  endpoints client 10.0.0.1:5000 server 127.0.0.1:9001\n", " packets="}, nil},
		{[]string{"--keep", "masks,headers"}, []string{"keep port,frames,masks,headers\n", " mask=", "header Sec-Websocket-Key: "}, nil},
		{[]string{"--ignore", "$.id", "--ignore", "$.ok"}, []string{"ignore $.id\nignore $.ok\n", `json {"id":"<ignored>","op":"get"}`, `json {"id":"<ignored>","ok":"<ignored>"}`}, nil},
		{[]string{"--ignore-header", "x-trace"}, []string{"ignore-header X-Trace\n"}, []string{"    header X-Trace"}},
		{[]string{"--unordered"}, []string{"unordered\n", "  client close 2 code=1000 text \"\"\n  client text 19 json"}, nil},
		{[]string{"-Y", `type == "ws.message" && from == "server"`}, []string{"display type == \"ws.message\" && from == \"server\"\n",
			"connection 1 websocket /api\n  server text 18 json {\"id\":2,\"ok\":true}\n  server close 2 code=1000 text \"\"\n"}, []string{"client", "request", "server-port"}},
		{[]string{"--max-message", "30"}, []string{"  client text 40 truncated text \"" + strings.Repeat("x", 30) + "\"\n"}, nil},
		{[]string{"--inline", "20"}, []string{"inline 20\n", "  client text 40 sha256 ", `  client text 19 json {"id":1,"op":"get"}`}, []string{"xxxx"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := wsviz(t, append([]string{"transcript", "-r", path}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the transcript lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("the transcript has %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestTranscriptErrors(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile("../../testdata/demo.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, whole[:len(whole)/2], 0o644)
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("not a capture\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no file", []string{"transcript"}, 2, "give -r FILE"},
		{"bad keep", []string{"transcript", "-r", cut, "--keep", "everything"}, 2, `unknown detail "everything"`},
		{"bad ignore", []string{"transcript", "-r", cut, "--ignore", "id"}, 2, "must start with $"},
		{"bad display filter", []string{"transcript", "-r", cut, "-Y", "len >"}, 2, "-Y: "},
		{"not a capture", []string{"transcript", "-r", notCapture}, 1, "not a pcap or pcapng file"},
		{"missing", []string{"transcript", "-r", filepath.Join(dir, "nothing.pcap")}, 1, "no such file"},
		{"cut", []string{"transcript", "-r", cut}, 1, "the capture could not be read to the end (the transcript says so): capture: cut.pcapng: truncated record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := wsviz(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("wsviz %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.stderr)
			}
			if tc.name == "cut" && (!strings.Contains(out, "\nincomplete capture: cut.pcapng: truncated record") || !strings.Contains(out, "\nconnection 1 ")) {
				t.Errorf("a cut capture: the transcript of what was decoded, marked incomplete, want:\n%s", out)
			}
		})
	}
}
