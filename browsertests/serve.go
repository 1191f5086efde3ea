package browsertests

import (
	"net"
	"net/http"
	"path/filepath"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/ui"
)

// Serve decodes the capture at path into a ui.Server behind a listener on
// 127.0.0.1 (the wiring `wsviz ui -r` does) and returns the page's URL and
// a function that stops it all.
func Serve(path string, opts ui.Options) (string, func(), error) {
	f, err := capture.OpenFile(path)
	if err != nil {
		return "", nil, err
	}
	srv, err := ui.NewServer(opts)
	if err != nil {
		f.Close()
		return "", nil, err
	}
	srv.SetSource(filepath.Base(path))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Close()
		srv.Close()
		return "", nil, err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := analyze.Decode(f, analyze.Options{MaxPayload: 1 << 20}, func(ev *analyze.Event) error {
			srv.Publish(ev)
			return nil
		})
		srv.Progress(f.Progress())
		for _, note := range f.Skipped() {
			srv.Note(note)
		}
		srv.Done(err)
	}()
	stop := func() {
		<-done
		hs.Close()
		srv.Close()
		f.Close()
	}
	return "http://" + ln.Addr().String() + "/", stop, nil
}
