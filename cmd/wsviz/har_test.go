package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestHARCommand(t *testing.T) {
	path := uiCapture(t)
	type message struct {
		Type   string
		Opcode int
		Data   string
	}
	type harLog struct {
		Log struct {
			Version string
			Entries []struct {
				ResourceType      string    `json:"_resourceType"`
				WebSocketMessages []message `json:"_webSocketMessages"`
				Request           struct{ Method, URL string }
				Response          struct{ Status int }
			}
		}
	}
	out := filepath.Join(t.TempDir(), "out.har")
	tests := []struct {
		name string
		args []string
		file string
	}{
		{"stdout", []string{"-r", path}, ""},
		{"-o", []string{"-r", path, "-o", out}, out},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := runHAR(tc.args, &stdout, &stderr); err != nil {
				t.Fatalf("runHAR(%q) = %v; stderr %q", tc.args, err, stderr.String())
			}
			data := stdout.Bytes()
			if tc.file != "" {
				if stdout.Len() != 0 {
					t.Errorf("with -o, stdout = %q", stdout.String())
				}
				var err error
				if data, err = os.ReadFile(tc.file); err != nil {
					t.Fatal(err)
				}
			}
			var h harLog
			if err := json.Unmarshal(data, &h); err != nil {
				t.Fatalf("HAR is not JSON: %v", err)
			}
			if h.Log.Version != "1.2" || len(h.Log.Entries) != 1 {
				t.Fatalf("HAR = version %q, %d entries; want 1.2, 1", h.Log.Version, len(h.Log.Entries))
			}
			e := h.Log.Entries[0]
			want := []message{
				{"send", 1, "hello"},
				{"receive", 1, `{"hi":"there"}`},
				{"receive", 2, base64.StdEncoding.EncodeToString([]byte{0, 1, 0xfe, 0xff})},
			}
			if e.ResourceType != "websocket" || e.Request.URL != "ws://example.test/chat" || e.Response.Status != 101 || len(e.WebSocketMessages) != len(want) {
				t.Fatalf("entry = %+v", e)
			}
			for i, m := range want {
				if e.WebSocketMessages[i] != m {
					t.Errorf("message %d = %+v, want %+v", i, e.WebSocketMessages[i], m)
				}
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := runHAR(nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("runHAR() = %v, want errUsage", err)
	}
}
