package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/capture/filter"
	"github.com/wsviz/wsviz/capture/live"
	"github.com/wsviz/wsviz/capture/save"
)

// DefaultAddr is where the recordings in testdata/session were served: a
// fixed port, since a transcript keeps the server's port.
const DefaultAddr = "127.0.0.1:47001"

// Users are the two clients, in the order they connect unless Reverse.
var Users = []string{"ada", "bob"}

// Options vary the session.
type Options struct {
	// Addr is the server's listening address; "" means DefaultAddr.
	Addr string
	// Reverse opens the connections in the other order (bob first).
	Reverse bool
	// Change alters one message: the server's welcome to bob.
	Change bool
}

// Path is the WebSocket path of both connections: they are told apart by
// what they say, not by where they connect.
const Path = "/chat"

// Subprotocol is offered by the clients and chosen by the server.
const Subprotocol = "chat.v1"

// welcome is the server's first answer to a client.
func welcome(user string, change bool) []byte {
	motd := "the lobby is open"
	if change && user == "bob" {
		motd = "the lobby is closed"
	}
	b, _ := json.Marshal(map[string]any{"type": "welcome", "user": user, "motd": motd, "seq": 1})
	return b
}

// blob is a client's binary message: 16 bytes that depend on the user.
func blob(user string) []byte {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(i*17) ^ user[i%len(user)]
	}
	return b
}

// bulk is a client's large text message: past the transcript's inline
// limit, so that it is written as a digest.
func bulk(user string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "bulk", "user": user, "data": strings.Repeat(user+" says hello. ", 400)})
	return b
}

// Handler is the session's server: for each message of a client it sends
// one answer, for a ping a pong and a message, and it answers the close.
func Handler(change bool) http.Handler {
	up := websocket.Upgrader{EnableCompression: true, Subprotocols: []string{Subprotocol}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.EnableWriteCompression(true)
		user := ""
		// A pong, then a message the client waits for: the client's next
		// message cannot overtake the pong on the wire.
		c.SetPingHandler(func(data string) error {
			if err := c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second)); err != nil {
				return err
			}
			return c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong sent","seq":3}`))
		})
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return // gorilla has answered a close with a close
			}
			var answer []byte
			switch {
			case typ == websocket.BinaryMessage:
				answer = []byte(`{"type":"ack","bytes":` + strconv.Itoa(len(p)) + `,"seq":2}`)
			case bytes.Contains(p, []byte(`"hello"`)):
				var hello struct{ User string }
				json.Unmarshal(p, &hello)
				user = hello.User
				answer = welcome(user, change)
			default:
				answer = []byte("got " + strconv.Itoa(len(p)) + " bytes from " + user)
			}
			if err := c.WriteMessage(websocket.TextMessage, answer); err != nil {
				return
			}
		}
	})
}

// Play runs the session against the server at addr: both clients connect
// (in Users order, or the other with reverse), then each in turn says
// hello, sends a binary message, pings, sends a large text, and closes,
// waiting for every answer before the next step, so that the messages of a
// connection cross the wire in the same order every time.
func Play(addr string, reverse bool) error {
	users := append([]string(nil), Users...)
	if reverse {
		users[0], users[1] = users[1], users[0]
	}
	d := websocket.Dialer{EnableCompression: true, Subprotocols: []string{Subprotocol}, HandshakeTimeout: 5 * time.Second}
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, u := range users {
		c, resp, err := d.Dial("ws://"+addr+Path, nil)
		if err != nil {
			return fmt.Errorf("session: %s: dial: %w", u, err)
		}
		resp.Body.Close()
		c.EnableWriteCompression(true)
		conns = append(conns, c)
		// Let the handshake's last ACK go out before the next connection.
		time.Sleep(20 * time.Millisecond)
	}
	for i, u := range users {
		if err := talk(conns[i], u); err != nil {
			return fmt.Errorf("session: %s: %w", u, err)
		}
	}
	return nil
}

// talk is one client's side of the session.
func talk(c *websocket.Conn, user string) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	pong := make(chan struct{}, 1)
	c.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	expect := func() error {
		_, _, err := c.ReadMessage()
		return err
	}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "user": user, "seq": 1})
	steps := []func() error{
		func() error { return c.WriteMessage(websocket.TextMessage, hello) },
		expect,
		func() error { return c.WriteMessage(websocket.BinaryMessage, blob(user)) },
		expect,
		func() error {
			return c.WriteControl(websocket.PingMessage, []byte("ping "+user), time.Now().Add(5*time.Second))
		},
		expect, // reading the server's message reads the pong before it
		func() error {
			select {
			case <-pong:
				return nil
			default:
				return errors.New("no pong before the message that follows it")
			}
		},
		func() error { return c.WriteMessage(websocket.TextMessage, bulk(user)) },
		expect,
		func() error {
			return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(5*time.Second))
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	// The server answers the close; reading it ends the connection.
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		return fmt.Errorf("after the close: %v, want the server's close 1000", err)
	}
	return nil
}

// Record serves and plays the session on loopback while capturing it on
// lo with wsviz's live capture, and writes the packets to path as pcapng.
// It needs CAP_NET_RAW (root); without it the error is a
// *live.PermissionError.
func Record(path string, opts Options) error {
	addr := opts.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	f, err := filter.Parse(fmt.Sprintf("tcp port %d", port))
	if err != nil {
		return err
	}
	src, err := live.Open("lo", live.Options{Filter: f})
	if err != nil {
		return err
	}
	defer src.Close()
	w, err := save.Create(path, save.Interface{Name: "lo", LinkType: src.LinkType(), SnapLen: src.SnapLen(), Filter: f.String()})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		for {
			p, err := src.ReadPacket()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				done <- err
				return
			}
			if err := w.WritePacket(&p); err != nil {
				done <- err
				return
			}
		}
	}()
	srv := &http.Server{Handler: Handler(opts.Change)}
	go srv.Serve(ln)
	perr := Play(ln.Addr().String(), opts.Reverse)
	time.Sleep(300 * time.Millisecond) // let the last FIN/ACKs be captured
	srv.Close()
	src.Stop()
	cerr := <-done
	werr := w.Close()
	return errors.Join(perr, cerr, werr)
}
