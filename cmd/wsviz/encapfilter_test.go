package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
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
