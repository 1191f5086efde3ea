package browsertests

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/save"
)

// TestSkippedLinkTypeNotice: a pcapng whose second interface is of a link
// type wsviz does not decode (USB) shows its session as ever, and the page
// says, in its notice, that the USB interface's packets were skipped (the
// server's status notes, capture.File.Skipped), as the commands say on
// stderr. Without it a capture of nothing wsviz reads showed an empty
// timeline and no reason.
func TestSkippedLinkTypeNotice(t *testing.T) {
	ctx := newBrowser(t)
	f, err := capture.OpenFile(testCapture(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := save.NewNgWriter(&out, save.Section{Application: "wsviz browsertests"})
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := w.AddInterface(save.Interface{Name: "eth0", LinkType: capture.LinkTypeEthernet})
	usb, _ := w.AddInterface(save.Interface{Name: "usbmon0", LinkType: 220})
	for {
		p, err := f.ReadPacket()
		if err != nil {
			break
		}
		if p.LinkType != capture.LinkTypeEthernet {
			t.Fatalf("the test capture's packet %d is of link type %v, not Ethernet", p.Number, p.LinkType)
		}
		if err := w.WritePacket(eth, &p); err != nil {
			t.Fatal(err)
		}
		junk := capture.Packet{Timestamp: p.Timestamp, Data: make([]byte, 48), Length: 48}
		if err := w.WritePacket(usb, &junk); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "with-usb.pcapng")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	evs := decoded(t, path)
	openPage(t, ctx, serve(t, path), len(evs))
	poll(t, ctx, `!document.getElementById('notice').hidden && document.getElementById('notice').textContent.startsWith('Interface 1 (usbmon0) has link type USB (LINKTYPE 220), not one wsviz decodes: its packets were skipped')`)
	screenshot(t, ctx, "skipped-link-notice")
	if got := eval[string](t, ctx, `document.getElementById('s-conns').textContent`); got == "0" || got == "" {
		t.Errorf("the session on eth0 is not shown: %q connections", got)
	}
}
