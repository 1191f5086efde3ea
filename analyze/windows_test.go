package analyze

import "testing"

// TestWindowsAgreed: ws.open's note names each side that agreed to a
// window under deflate's 32 KiB, with its size (8 bits as zlib's 9) and
// its parameter, and says nothing when neither did.
func TestWindowsAgreed(t *testing.T) {
	tests := []struct {
		server, client int
		want           string
	}{
		{15, 15, ""},
		{12, 12, "each side's compressor refers at most 4 KiB back (server_max_window_bits=12, client_max_window_bits=12)"},
		{10, 15, "the server's compressor refers at most 1 KiB back (server_max_window_bits=10)"},
		{15, 9, "the client's compressor refers at most 512 bytes back (client_max_window_bits=9)"},
		{8, 14, "the server's compressor refers at most 512 bytes back and the client's 16 KiB (server_max_window_bits=8, client_max_window_bits=14)"},
	}
	for _, tc := range tests {
		if got := windowsAgreed(tc.server, tc.client); got != tc.want {
			t.Errorf("windowsAgreed(%d, %d) = %q, want %q", tc.server, tc.client, got, tc.want)
		}
	}
}
