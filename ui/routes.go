package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed static
var staticFiles embed.FS

// indexPage is static/index.html as served: with static/boot.js inlined
// in place of its <script src>, so that the page's first step (opening
// the WebSocket) runs as the parser reaches it, without a request that
// queued behind the modules' (six at a time on HTTP/1.1); and
// contentSecurityPolicy allows the page's own scripts, that inline script
// by its hash, its styles and WebSocket, and nothing else: no other inline
// script, no other origin, no framing. Captured payloads are hostile, and
// even if one were ever inserted as markup by mistake, it could not run.
var indexPage, contentSecurityPolicy = inlineBoot()

// bootTag is how index.html loads boot.js; bootInline replaces it.
const (
	bootTag    = `<script src="/static/boot.js"></script>`
	bootInline = `<script id="boot">`
)

func inlineBoot() ([]byte, string) {
	index, err1 := staticFiles.ReadFile("static/index.html")
	boot, err2 := staticFiles.ReadFile("static/boot.js")
	if err := errors.Join(err1, err2); err != nil || !bytes.Contains(index, []byte(bootTag)) || bytes.Contains(boot, []byte("</script")) {
		panic(fmt.Sprintf("ui: static/index.html must load static/boot.js with %s, and boot.js must not close a script (%v)", bootTag, err))
	}
	sum := sha256.Sum256(boot)
	page := bytes.Replace(index, []byte(bootTag), slices.Concat([]byte(bootInline), boot, []byte("</script>")), 1)
	csp := "default-src 'none'; script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; style-src 'self'; " +
		"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return page, csp
}

func (s *Server) routes() http.Handler {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	mux := http.NewServeMux()
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(indexPage))
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /api/event", s.serveEvent)
	mux.HandleFunc("GET /api/events", s.serveEvents)
	mux.HandleFunc("GET /api/payload", s.servePayload)
	mux.HandleFunc("GET /api/search", s.serveSearch)
	mux.HandleFunc("GET /api/warnings", s.serveWarnings)
	q := s.query
	mux.HandleFunc("GET /api/window", q.serveWindow)
	mux.HandleFunc("GET /api/overview", timed(q.serveOverview))
	mux.HandleFunc("GET /api/list", timed(q.serveList))
	mux.HandleFunc("GET /api/tiles", timed(q.serveTiles))
	mux.HandleFunc("GET /api/step", q.serveStep)
	mux.HandleFunc("GET /api/export", s.serveExport)
	mux.HandleFunc("POST /api/export", s.serveExport)
	return s.guard(mux)
}

// timed adds a Server-Timing header ("query;dur=MS") to the answers of
// h: the time from the request's arrival in the handler to the answer's
// first byte, which the page's Resource Timing shows beside the whole
// round trip (browsertests/cmd/uibench prints both for the start-up).
func timed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(&timedWriter{ResponseWriter: w, start: time.Now()}, r)
	}
}

type timedWriter struct {
	http.ResponseWriter
	start time.Time
	wrote bool
}

func (t *timedWriter) WriteHeader(code int) {
	if !t.wrote {
		t.wrote = true
		ms := float64(time.Since(t.start).Microseconds()) / 1e3
		t.Header().Set("Server-Timing", "query;dur="+strconv.FormatFloat(ms, 'f', 1, 64))
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *timedWriter) Write(b []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(b)
}

// guard sets the security headers on every response and refuses requests
// whose Host is a name not allowed (DNS rebinding) or that come after Close.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !hostAllowed(r.Host, s.opts.AllowedHosts) {
			http.Error(w, "wsviz: host not allowed; open the address wsviz printed", http.StatusForbidden)
			return
		}
		if s.closedNow.Load() {
			http.Error(w, "wsviz: server closed", http.StatusServiceUnavailable)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a request's Host may be served: an IP
// address or "localhost" (which DNS rebinding cannot forge), or a name
// listed in allowed ("*" allows any).
func hostAllowed(hostport string, allowed []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}
