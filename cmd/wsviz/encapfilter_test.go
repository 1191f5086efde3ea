package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// TestFilterInsideTunnelsAndFragments runs wsviz events with a packet
// filter on the captures of testdata/encap: a filter on the inner
// connection's port, on the tunnel, or on both keeps the whole session
// (the filter is tested on every level of a packet, and on datagrams once
// reassembled); one on another port keeps nothing.
func TestFilterInsideTunnelsAndFragments(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/encap/*.pcap")
	if len(files) < 10 {
		t.Fatalf("found %d captures in testdata/encap", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".pcap")
		t.Run(name, func(t *testing.T) {
			events := func(filter ...string) string {
				var stdout, stderr bytes.Buffer
				if code := run(append([]string{"events", "-r", file}, filter...), &stdout, &stderr); code != 0 {
					t.Fatalf("wsviz events -r %s %s: exit %d: %s", file, strings.Join(filter, " "), code, stderr.String())
				}
				return stdout.String()
			}
			all := events()
			filters := [][]string{{"port", "9001"}, {"tcp", "port", "50000"}, {"port", "9001", "and", "not", "port", "22"}}
			switch {
			case strings.HasPrefix(name, "vxlan"), strings.HasPrefix(name, "geneve"):
				filters = append(filters, []string{"udp"}, []string{"host", "10.0.0.2"})
			case strings.HasPrefix(name, "gre"), name == "ipip":
				filters = append(filters, []string{"host", "10.0.0.1"})
			case name == "6in4":
				filters = append(filters, []string{"ip", "host", "192.0.2.1"}, []string{"ip6"})
			}
			for _, f := range filters {
				if got := events(f...); got != all {
					t.Errorf("with filter %q: %d bytes of events, want the %d of the unfiltered capture", strings.Join(f, " "), len(got), len(all))
				}
			}
			if got := events("port", "80"); got != "" {
				t.Errorf("with filter %q: %s, want no event", "port 80", got)
			}
		})
	}
}

// TestEveryCommandFiltersAlike runs each command that decodes a file with
// a packet filter, on the captures where a filter once changed more than
// it should: a tunnelled one (the filter must be tested on the inner
// packets: a port the session does not use keeps nothing) and a pcapng
// with its TLS secrets inside (the filter wraps the file, and the secrets
// must still reach the analyzer), and captures of the link types a filter
// once refused. Each command's output with a filter
// that keeps the whole session must equal its output without one.
func TestEveryCommandFiltersAlike(t *testing.T) {
	commands := []struct {
		name string
		args []string
		// empty says whether the output shows no connection.
		empty func(out string) bool
	}{
		{"events", []string{"events", "-q"}, func(out string) bool { return out == "" }},
		{"transcript", []string{"transcript", "-q"}, func(out string) bool { return !strings.Contains(out, "\nconnection ") }},
		{"stats", []string{"stats", "-q"}, func(out string) bool { return !statsRow.MatchString(out) }},
		{"har", []string{"har", "-q"}, func(out string) bool { return !strings.Contains(out, `"_resourceType"`) }},
		{"check", []string{"check", "-q"}, nil}, // it prints violations only
	}
	cases := []struct {
		file       string
		keep, drop []string
	}{
		{"../../testdata/encap/vxlan.pcap", []string{"tcp", "port", "9001"}, []string{"port", "80"}},
		{"../../testdata/encap/gre.pcap", []string{"tcp", "port", "9001"}, []string{"tcp", "port", "9002"}},
		{"../../testdata/encap/fragments-ipv6-last-first.pcap", []string{"port", "9001"}, []string{"port", "80"}},
		{"../../testdata/wss-dsb.pcapng", []string{"tcp", "port", "8443"}, []string{"port", "80"}},
		// Loopback as macOS and the BSDs capture it, and Linux's any
		// device as tcpdump writes it since libpcap 1.10: a filter once
		// failed the whole read on these link types.
		{linkCapture(t, capturetest.Options{Null: true}, "null.pcap"), []string{"tcp", "port", "9001"}, []string{"port", "80"}},
		{linkCapture(t, capturetest.Options{LinkType: capture.LinkTypeLinuxSLL2}, "sll2.pcap"), []string{"tcp", "port", "9001"}, []string{"port", "80"}},
		// Link layers of no fixed length, which only the analyzer's
		// filter can judge, and PPPoE in a VLAN, as on a DSL or fibre line.
		{linkCapture(t, capturetest.Options{LinkType: capture.LinkTypeNFLOG}, "nflog.pcap"), []string{"tcp", "port", "9001"}, []string{"port", "80"}},
		{linkCapture(t, capturetest.Options{LinkType: capture.LinkTypePPP}, "ppp.pcap"), []string{"tcp", "port", "9001"}, []string{"port", "80"}},
		{linkCapture(t, capturetest.Options{LinkType: capture.LinkTypePKTAP}, "pktap.pcap"), []string{"tcp", "port", "9001"}, []string{"port", "80"}},
		{linkCapture(t, capturetest.Options{PPPoE: true, VLANs: []uint16{7}}, "pppoe.pcap"), []string{"tcp", "port", "9001"}, []string{"port", "80"}},
	}
	for _, cmd := range commands {
		for _, tc := range cases {
			t.Run(cmd.name+"/"+filepath.Base(tc.file), func(t *testing.T) {
				out := func(filter []string) string {
					var stdout, stderr bytes.Buffer
					args := append(append(slices.Clone(cmd.args), "-r", tc.file), filter...)
					// check exits 1 on the session's genuine violations.
					if code := run(args, &stdout, &stderr); code != 0 && (cmd.name != "check" || code != 1) {
						t.Fatalf("wsviz %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
					}
					return stdout.String()
				}
				all := out(nil)
				if got := out(tc.keep); got != stripFilter(all, tc.keep) && got != all {
					t.Errorf("with filter %q the output differs from the unfiltered one:\n%s\nwant:\n%s",
						strings.Join(tc.keep, " "), got, all)
				}
				if cmd.empty != nil {
					if cmd.empty(all) {
						t.Fatalf("unfiltered output shows no connection:\n%s", all)
					}
					if got := out(tc.drop); !cmd.empty(got) {
						t.Errorf("with filter %q the output shows a connection:\n%s", strings.Join(tc.drop, " "), got)
					}
				}
			})
		}
	}
}

// linkCapture writes a WebSocket session on port 9001 with the link type
// opts give into the test's directory, as name, and returns its path.
func linkCapture(t *testing.T, opts capturetest.Options, name string) string {
	c := capturetest.NewCapture(opts)
	k := c.Conn("[::1]:50000", "[::1]:9001")
	k.Handshake()
	k.Client(analyzetest.Request("/chat"))
	k.Server(analyzetest.Response())
	k.Client(analyzetest.Text(true, "hello"))
	k.Server(analyzetest.Text(false, "hi"))
	k.CloseFIN(true)
	k.CloseFIN(false)
	path := filepath.Join(t.TempDir(), name)
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// statsRow matches a connection's row of wsviz stats.
var statsRow = regexp.MustCompile(`(?m)^ +[0-9]+ +[0-9a-f.:\[\]]+:[0-9]+ `)

// stripFilter returns out, the unfiltered output, as it reads with a
// filter: a transcript names its filter in its header.
func stripFilter(out string, filter []string) string {
	return strings.Replace(out, "keep port\n", "keep port\nfilter "+strings.Join(filter, " ")+"\n", 1)
}
