package handshake

import (
	"errors"
	"fmt"
	"strings"
)

// extension is one item of Sec-WebSocket-Extensions (RFC 6455 §9.1):
//
//	extension-list  = 1#extension
//	extension       = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
type extension struct {
	name   string
	params []extensionParam
}

// extensionParam is one extension-param; value is unquoted.
type extensionParam struct {
	name, value string
	hasValue    bool
}

// value is the value of param, "" when e does not have it or it has none.
func (e extension) value(param string) string {
	for _, p := range e.params {
		if strings.EqualFold(p.name, param) {
			return p.value
		}
	}
	return ""
}

func (e extension) has(param string) bool {
	for _, p := range e.params {
		if strings.EqualFold(p.name, param) {
			return true
		}
	}
	return false
}

// parseExtensions parses a Sec-WebSocket-Extensions value. On a syntax
// error it returns the extensions before it and the error. Empty list
// items are allowed (RFC 9110 §5.6.1).
func parseExtensions(s string) ([]extension, error) {
	var exts []extension
	i := 0
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return exts, nil
		}
		if s[i] == ',' {
			i++
			continue
		}
		name, j := token(s, i)
		if name == "" {
			return exts, fmt.Errorf("%q at offset %d does not start an extension token", s[i], i)
		}
		e := extension{name: name}
		i = j
		for {
			i = skipOWS(s, i)
			if i == len(s) || s[i] == ',' {
				break
			}
			if s[i] != ';' {
				return exts, fmt.Errorf("%q at offset %d, where ';' or ',' should be", s[i], i)
			}
			i = skipOWS(s, i+1)
			pname, j := token(s, i)
			if pname == "" {
				return exts, fmt.Errorf("no parameter name at offset %d", i)
			}
			p := extensionParam{name: pname}
			i = skipOWS(s, j)
			if i < len(s) && s[i] == '=' {
				i = skipOWS(s, i+1)
				var v string
				var err error
				if i < len(s) && s[i] == '"' {
					v, i, err = quoted(s, i)
					if err != nil {
						return exts, err
					}
					// RFC 6455 §9.1: a quoted value must be a token once
					// unquoted.
					if t, k := token(v, 0); t == "" || k != len(v) {
						return exts, fmt.Errorf("the quoted value %q of %s is not a token", v, pname)
					}
				} else if v, i = token(s, i); v == "" {
					return exts, fmt.Errorf("parameter %s has '=' but no value", pname)
				}
				p.value, p.hasValue = v, true
			}
			e.params = append(e.params, p)
		}
		exts = append(exts, e)
	}
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// token returns the token (RFC 9110 §5.6.2) at s[i:] and the offset after
// it; "" when there is none.
func token(s string, i int) (string, int) {
	j := i
	for j < len(s) && isTchar(s[j]) {
		j++
	}
	return s[i:j], j
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

var errUnterminated = errors.New("a quoted-string is not terminated")

// quoted returns the unescaped quoted-string (RFC 9110 §5.6.4) that
// starts at s[i] == '"' and the offset after it.
func quoted(s string, i int) (string, int, error) {
	var v []byte
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; c {
		case '"':
			return string(v), j + 1, nil
		case '\\':
			if j+1 == len(s) {
				return "", 0, errUnterminated
			}
			j++
			v = append(v, s[j])
		default:
			v = append(v, c)
		}
	}
	return "", 0, errUnterminated
}
