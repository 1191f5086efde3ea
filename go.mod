module github.com/wsviz/wsviz

go 1.26.8

require (
	github.com/google/gopacket v1.1.19
	github.com/gorilla/websocket v1.5.3
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
)

require github.com/golang/snappy v1.0.0

require (
	github.com/klauspost/compress v1.20.4
	golang.org/x/crypto v0.59.0
)

require github.com/creack/pty v1.1.24
