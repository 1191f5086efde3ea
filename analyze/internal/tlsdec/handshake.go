package tlsdec

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	hsHelloRequest        = 0
	hsClientHello         = 1
	hsServerHello         = 2
	hsNewSessionTicket    = 4
	hsEndOfEarlyData      = 5
	hsEncryptedExtensions = 8
	hsCertificate         = 11
	hsServerKeyExchange   = 12
	hsCertificateRequest  = 13
	hsServerHelloDone     = 14
	hsCertificateVerify   = 15
	hsClientKeyExchange   = 16
	hsFinished            = 20
	hsCertificateStatus   = 22
	hsKeyUpdate           = 24
	hsCompressedCert      = 25 // RFC 8879
	hsMessageHash         = 254
)

// HandshakeTypeName names a handshake message type as the RFCs spell it:
// "client_hello".
func HandshakeTypeName(t uint8) string {
	switch t {
	case hsHelloRequest:
		return "hello_request"
	case hsClientHello:
		return "client_hello"
	case hsServerHello:
		return "server_hello"
	case hsNewSessionTicket:
		return "new_session_ticket"
	case hsEndOfEarlyData:
		return "end_of_early_data"
	case hsEncryptedExtensions:
		return "encrypted_extensions"
	case hsCertificate:
		return "certificate"
	case hsServerKeyExchange:
		return "server_key_exchange"
	case hsCertificateRequest:
		return "certificate_request"
	case hsServerHelloDone:
		return "server_hello_done"
	case hsCertificateVerify:
		return "certificate_verify"
	case hsClientKeyExchange:
		return "client_key_exchange"
	case hsFinished:
		return "finished"
	case hsCertificateStatus:
		return "certificate_status"
	case hsKeyUpdate:
		return "key_update"
	case hsCompressedCert:
		return "compressed_certificate"
	case hsMessageHash:
		return "message_hash"
	}
	return fmt.Sprintf("unknown_%d", t)
}

// Extension types (IANA TLS ExtensionType Values).
const (
	extServerName          = 0  // RFC 6066 §3
	extALPN                = 16 // RFC 7301 §3.1
	extEncryptThenMAC      = 22 // RFC 7366 §2
	extExtendedMasterSec   = 23 // RFC 7627 §5.1
	extSessionTicket       = 35 // RFC 5077 §3.2
	extPreSharedKey        = 41 // RFC 8446 §4.2.11
	extEarlyData           = 42 // RFC 8446 §4.2.10
	extSupportedVersions   = 43 // RFC 8446 §4.2.1
	extPSKKeyExchangeModes = 45 // RFC 8446 §4.2.9
	extKeyShare            = 51 // RFC 8446 §4.2.8
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest
// (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest").
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// ClientHello is what wsviz reads of a ClientHello (RFC 8446 §4.1.2,
// RFC 5246 §7.4.1.2).
type ClientHello struct {
	LegacyVersion uint16
	Random        [32]byte
	SessionID     []byte
	Suites        []uint16
	SNI           string   // server_name host_name, "" when absent
	ALPN          []string // protocols offered
	Versions      []uint16 // supported_versions
	Ticket        int      // session_ticket extension length: -1 absent, 0 asks for one, >0 resumes
	TicketData    []byte   // the ticket presented, when Ticket > 0
	PSK           int      // pre_shared_key identities offered (TLS 1.3 resumption)
	EarlyData     bool     // early_data: 0-RTT data follows
	EMS           bool     // extended_master_secret offered
	ETM           bool     // encrypt_then_mac offered
}

// ServerHello is what wsviz reads of a ServerHello or HelloRetryRequest.
type ServerHello struct {
	LegacyVersion uint16
	Random        [32]byte
	SessionID     []byte
	Suite         uint16
	Version       uint16 // supported_versions selected_version, else LegacyVersion
	HelloRetry    bool   // a HelloRetryRequest (RFC 8446 §4.1.4)
	PSK           bool   // pre_shared_key: the server accepted a PSK (TLS 1.3 resumption)
	ALPN          string // TLS 1.2: the protocol selected (TLS 1.3 says it in EncryptedExtensions)
	EMS, ETM      bool
	Ticket        bool // session_ticket: a NewSessionTicket will follow (TLS 1.2)
}

// parseClientHello parses a ClientHello body (after the 4-byte header).
func parseClientHello(body []byte) (*ClientHello, error) {
	ch := &ClientHello{Ticket: -1}
	s := cryptobyte.String(body)
	var random, sid, suites, compression []byte
	if !s.ReadUint16(&ch.LegacyVersion) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) ||
		!s.ReadUint16LengthPrefixed((*cryptobyte.String)(&suites)) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&compression)) {
		return nil, fmt.Errorf("client_hello cut short or malformed (RFC 8446 §4.1.2)")
	}
	copy(ch.Random[:], random)
	if len(sid) > 32 {
		return nil, fmt.Errorf("client_hello: session id of %d bytes, at most 32 (RFC 8446 §4.1.2)", len(sid))
	}
	ch.SessionID = append([]byte(nil), sid...)
	if len(suites)%2 != 0 {
		return nil, fmt.Errorf("client_hello: cipher_suites of odd length %d", len(suites))
	}
	for i := 0; i+1 < len(suites); i += 2 {
		ch.Suites = append(ch.Suites, uint16(suites[i])<<8|uint16(suites[i+1]))
	}
	if s.Empty() {
		return ch, nil // no extensions (TLS 1.2 and earlier allow it)
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, fmt.Errorf("client_hello: malformed extensions")
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, fmt.Errorf("client_hello: malformed extension")
		}
		switch typ {
		case extServerName:
			// RFC 6066 §3: a list of (name_type, name); host_name is 0.
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) {
				return nil, fmt.Errorf("client_hello: malformed server_name")
			}
			for !list.Empty() {
				var nameType uint8
				var name cryptobyte.String
				if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
					return nil, fmt.Errorf("client_hello: malformed server_name")
				}
				if nameType == 0 && ch.SNI == "" {
					ch.SNI = string(name)
				}
			}
		case extALPN:
			alpn, err := parseALPNList(data)
			if err != nil {
				return nil, fmt.Errorf("client_hello: %w", err)
			}
			ch.ALPN = alpn
		case extSupportedVersions:
			var list cryptobyte.String
			if !data.ReadUint8LengthPrefixed(&list) {
				return nil, fmt.Errorf("client_hello: malformed supported_versions")
			}
			for !list.Empty() {
				var v uint16
				if !list.ReadUint16(&v) {
					return nil, fmt.Errorf("client_hello: malformed supported_versions")
				}
				ch.Versions = append(ch.Versions, v)
			}
		case extSessionTicket:
			ch.Ticket = len(data)
			ch.TicketData = append([]byte(nil), data...)
		case extPreSharedKey:
			var ids cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&ids) {
				return nil, fmt.Errorf("client_hello: malformed pre_shared_key")
			}
			for !ids.Empty() {
				var id cryptobyte.String
				var age uint32
				if !ids.ReadUint16LengthPrefixed(&id) || !ids.ReadUint32(&age) {
					return nil, fmt.Errorf("client_hello: malformed pre_shared_key")
				}
				ch.PSK++
			}
		case extEarlyData:
			ch.EarlyData = true
		case extExtendedMasterSec:
			ch.EMS = true
		case extEncryptThenMAC:
			ch.ETM = true
		}
	}
	return ch, nil
}

func parseALPNList(data cryptobyte.String) ([]string, error) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return nil, fmt.Errorf("malformed application_layer_protocol_negotiation (RFC 7301 §3.1)")
	}
	var out []string
	for !list.Empty() {
		var p cryptobyte.String
		if !list.ReadUint8LengthPrefixed(&p) || len(p) == 0 {
			return nil, fmt.Errorf("malformed application_layer_protocol_negotiation (RFC 7301 §3.1)")
		}
		out = append(out, string(p))
	}
	return out, nil
}

// parseServerHello parses a ServerHello body.
func parseServerHello(body []byte) (*ServerHello, error) {
	sh := &ServerHello{}
	s := cryptobyte.String(body)
	var random, sid []byte
	var compression uint8
	if !s.ReadUint16(&sh.LegacyVersion) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) || !s.ReadUint16(&sh.Suite) || !s.ReadUint8(&compression) {
		return nil, fmt.Errorf("server_hello cut short or malformed (RFC 8446 §4.1.3)")
	}
	copy(sh.Random[:], random)
	sh.HelloRetry = sh.Random == helloRetryRandom
	sh.SessionID = append([]byte(nil), sid...)
	sh.Version = sh.LegacyVersion
	if s.Empty() {
		return sh, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, fmt.Errorf("server_hello: malformed extensions")
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, fmt.Errorf("server_hello: malformed extension")
		}
		switch typ {
		case extSupportedVersions:
			if !data.ReadUint16(&sh.Version) {
				return nil, fmt.Errorf("server_hello: malformed supported_versions")
			}
		case extPreSharedKey:
			sh.PSK = true
		case extALPN:
			alpn, err := parseALPNList(data)
			if err != nil || len(alpn) != 1 {
				return nil, fmt.Errorf("server_hello: the server must select exactly one protocol (RFC 7301 §3.1)")
			}
			sh.ALPN = alpn[0]
		case extExtendedMasterSec:
			sh.EMS = true
		case extEncryptThenMAC:
			sh.ETM = true
		case extSessionTicket:
			sh.Ticket = true
		}
	}
	return sh, nil
}

// encryptedExtensions is what wsviz reads of EncryptedExtensions (RFC 8446
// §4.3.1).
type encryptedExtensions struct {
	alpn      string
	earlyData bool // the server accepted 0-RTT data (RFC 8446 §4.2.10)
}

func parseEncryptedExtensions(body []byte) (*encryptedExtensions, error) {
	ee := &encryptedExtensions{}
	s := cryptobyte.String(body)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, fmt.Errorf("encrypted_extensions: malformed (RFC 8446 §4.3.1)")
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, fmt.Errorf("encrypted_extensions: malformed extension")
		}
		switch typ {
		case extALPN:
			alpn, err := parseALPNList(data)
			if err != nil || len(alpn) != 1 {
				return nil, fmt.Errorf("encrypted_extensions: the server must select exactly one protocol (RFC 7301 §3.1)")
			}
			ee.alpn = alpn[0]
		case extEarlyData:
			ee.earlyData = true
		}
	}
	return ee, nil
}

// parseTicket12 returns the ticket of a TLS 1.2 NewSessionTicket (RFC 5077
// §3.3: uint32 lifetime hint, opaque ticket<0..2^16-1>).
func parseTicket12(body []byte) ([]byte, error) {
	s := cryptobyte.String(body)
	var lifetime uint32
	var ticket cryptobyte.String
	if !s.ReadUint32(&lifetime) || !s.ReadUint16LengthPrefixed(&ticket) || !s.Empty() {
		return nil, fmt.Errorf("new_session_ticket: malformed (RFC 5077 §3.3)")
	}
	return ticket, nil
}
