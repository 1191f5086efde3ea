// Command rstcap records a WebSocket whose client resets the connection
// while the server streams to it, across a link with 25 ms of delay each
// way: testdata/rst-crossing.pcapng.
//
// The server runs in a network namespace of its own (wsvizrst), behind a
// veth pair whose two ends delay what they send by 25 ms (netem). Once
// upgraded, it writes a 10-byte text message ("tick 00000", "tick 00001",
// ...) every millisecond until a write fails. The client, in the root
// namespace, sends "hello", reads 20 ticks and aborts: SO_LINGER 0, then
// close, which sends a RST. The server goes on writing until the RST
// reaches it, 25 ms later, and what it wrote meanwhile is on the wire
// another 25 ms: the capture, on the root namespace's end of the veth
// pair (`wsviz events -i wsvizrst0 -w FILE`), shows those ticks after the
// client's RST, each answered by the client's kernel with a RST of its
// own. The namespace and the veth pair are deleted after.
//
// Run as root from browsertests (namespaces and live capture need it):
//
//	go run ./cmd/rstcap -o ../testdata/rst-crossing.pcapng
//
// Not run by CI: the capture it made is in testdata, and analyze's
// TestRSTCrossing checks it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/browsertests"
)

const (
	netns      = "wsvizrst"
	hostSide   = "wsvizrst0" // in the root namespace: the capture's interface
	serverSide = "wsvizrst1"
	serverAddr = "10.77.0.2:9001"
)

func main() {
	out := flag.String("o", "../testdata/rst-crossing.pcapng", "pcapng `file` to write")
	serve := flag.String("serve", "", "run the server on `addr` (the recorder runs itself so in the namespace)")
	flag.Parse()
	var err error
	if *serve != "" {
		err = server(*serve)
	} else {
		err = run(*out)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// sh runs each command line, split at spaces, and stops at the first
// that fails.
func sh(lines ...string) error {
	for _, l := range lines {
		f := strings.Fields(l)
		if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", l, err, out)
		}
	}
	return nil
}

func run(out string) error {
	exec.Command("ip", "netns", "del", netns).Run() // an earlier run's
	if err := sh(
		"ip netns add "+netns,
		"ip link add "+hostSide+" type veth peer name "+serverSide,
		"ip link set "+serverSide+" netns "+netns,
		"ip addr add 10.77.0.1/24 dev "+hostSide,
		"ip link set "+hostSide+" up",
		"ip -n "+netns+" addr add 10.77.0.2/24 dev "+serverSide,
		"ip -n "+netns+" link set "+serverSide+" up",
		"ip -n "+netns+" link set lo up",
		// The server's end sends 32 kbit/s: what it writes waits in the
		// queue (netem, which would delay it plainly, is not in every
		// kernel; tbf is).
		"ip netns exec "+netns+" tc qdisc add dev "+serverSide+" root tbf rate 32kbit burst 1600 latency 1s",
	); err != nil {
		return err
	}
	defer exec.Command("ip", "netns", "del", netns).Run() // the veth pair goes with it

	self, err := os.Executable()
	if err != nil {
		return err
	}
	srv := exec.Command("ip", "netns", "exec", netns, self, "-serve", serverAddr)
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", serverAddr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the server did not listen in 10 s")
		}
	}

	dir, err := os.MkdirTemp("", "rstcap")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	stop, err := browsertests.CaptureInterface("..", dir, out, "", hostSide, serverAddr)
	if err != nil {
		return err
	}
	if err := client(); err != nil {
		return err
	}
	return stop() // waits a second: the crossing ticks and the client's answers
}

// client upgrades, says hello, reads 20 ticks and resets the connection.
func client() error {
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+serverAddr+"/ticks", nil)
	if err != nil {
		return err
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		return err
	}
	for range 20 {
		if _, _, err := ws.ReadMessage(); err != nil {
			return err
		}
	}
	tcp := ws.NetConn().(*net.TCPConn)
	if err := tcp.SetLinger(0); err != nil { // close sends a RST
		return err
	}
	return tcp.Close()
}

// server writes a tick every millisecond to each WebSocket until a write
// fails.
func server(addr string) error {
	up := websocket.Upgrader{}
	http.HandleFunc("/ticks", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for i := 0; ; i++ {
			if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "tick %05d", i)); err != nil {
				log.Printf("server: tick %d: %v", i, err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	return http.ListenAndServe(addr, nil)
}
