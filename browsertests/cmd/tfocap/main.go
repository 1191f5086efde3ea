// Command tfocap records WebSocket connections opened with TCP Fast Open
// (RFC 7413) on loopback: testdata/tfo.pcapng.
//
// A client that sends its data with the SYN (Linux's MSG_FASTOPEN) opens
// two connections to a server that accepts Fast Open (TCP_FASTOPEN): the
// first has no cookie yet, so its SYN carries only the cookie request and
// the upgrade request follows the handshake; the second's SYN carries the
// cookie and the whole upgrade request, which the server's SYN-ACK
// acknowledges. On each the server answers 101, sends a text message, and
// both close. `wsviz events -i lo -w FILE` captures. The kernel's
// net.ipv4.tcp_fastopen is set to 3 (client and server) for the run and
// set back after, and the cookie an earlier run left for 127.0.0.1 is
// deleted (ip tcp_metrics).
//
// Run as root from browsertests (live capture needs CAP_NET_RAW):
//
//	go run ./cmd/tfocap -o ../testdata/tfo.pcapng
//
// Not run by CI: the capture it made is in testdata, and analyze's
// TestTFO checks it.
package main

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wsviz/wsviz/browsertests"
)

const sysctl = "/proc/sys/net/ipv4/tcp_fastopen"

func main() {
	out := flag.String("o", "../testdata/tfo.pcapng", "pcapng `file` to write")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	old, err := os.ReadFile(sysctl)
	if err != nil {
		return err
	}
	if err := os.WriteFile(sysctl, []byte("3"), 0o644); err != nil {
		return err
	}
	defer os.WriteFile(sysctl, old, 0o644)
	// The first connection has no cookie: forget those of earlier runs
	// (iproute2's ip; the kernel keeps them in its TCP metrics).
	if out, err := exec.Command("ip", "tcp_metrics", "delete", "127.0.0.1").CombinedOutput(); err != nil && !strings.Contains(string(out), "No such") {
		return fmt.Errorf("ip tcp_metrics delete 127.0.0.1: %v: %s", err, out)
	}
	dir, err := os.MkdirTemp("", "tfocap")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if out, err = filepath.Abs(out); err != nil {
		return err
	}

	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN, 16) })
		if err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go serve(l)

	stop, err := browsertests.CaptureLoopback("..", dir, out, "", l.Addr().String())
	if err != nil {
		return err
	}
	for i := range 2 {
		if err := client(l.Addr().(*net.TCPAddr), i); err != nil {
			return fmt.Errorf("connection %d: %w", i+1, err)
		}
	}
	return stop()
}

const key = "dGhlIHNhbXBsZSBub25jZQ=="

// serve answers each upgrade request with 101 and a text message, then
// waits for the client's close and closes.
func serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			req, err := http.ReadRequest(r)
			if err != nil {
				return // the capture's probe connection
			}
			h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
			fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(h[:]))
			msg := "hello over TCP Fast Open"
			c.Write(append([]byte{0x81, byte(len(msg))}, msg...))
			var close [8]byte // the client's masked close: 2 + 4 + 2 bytes
			if _, err := io.ReadFull(r, close[:]); err != nil {
				return
			}
			c.Write([]byte{0x88, 0x02, 0x03, 0xe8})
		}()
	}
}

// client opens a connection with its upgrade request sent by sendto with
// MSG_FASTOPEN: in the SYN when the kernel holds a cookie for the server.
func client(addr *net.TCPAddr, i int) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), "client")
	defer f.Close()
	req := fmt.Sprintf("GET /tfo/%d HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", i+1, addr, key)
	sa := &unix.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	if err := unix.Sendto(fd, []byte(req), unix.MSG_FASTOPEN, sa); err != nil {
		return fmt.Errorf("sendto MSG_FASTOPEN: %w", err)
	}
	r := bufio.NewReader(f)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != 101 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	msg := make([]byte, hdr[1])
	if _, err := io.ReadFull(r, msg); err != nil {
		return err
	}
	if !strings.Contains(string(msg), "Fast Open") {
		return fmt.Errorf("message %q", msg)
	}
	// A masked close 1000 (mask 0 keeps the bytes readable).
	if _, err := f.Write([]byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8}); err != nil {
		return err
	}
	var cl [4]byte
	_, err = io.ReadFull(r, cl[:])
	return err
}
