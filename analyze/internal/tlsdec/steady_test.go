package tlsdec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// callLog is a Handler that writes down every call with all it was told,
// to compare two decodes call by call.
type callLog struct{ calls []string }

func (l *callLog) add(format string, args ...any) {
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
}

func (l *callLog) Handshake(i *Info, d int, packet int64) {
	l.add("handshake %d %d %+v", d, packet, *i)
}
func (l *callLog) Message(m *Message) { l.add("message %+v", *m) }
func (l *callLog) Alert(a *Alert)     { l.add("alert %+v", *a) }
func (l *callLog) Record(r *Record)   { l.add("record %+v", *r) }
func (l *callLog) Carried(d int, typ uint8, length int, packet int64) {
	l.add("carried %d %d %d %d", d, typ, length, packet)
}
func (l *callLog) Data(d int, b []byte, packet int64) { l.add("data %d %d %q", d, packet, b) }

// CarriedData is logged as the two calls it stands for.
func (l *callLog) CarriedData(d int, length int, b []byte, packet int64) {
	l.Carried(d, typeApplicationData, length, packet)
	l.Data(d, b, packet)
}
func (l *callLog) Lost(d int, n int64, packet int64) { l.add("lost %d %d %d", d, n, packet) }

// segment is bytes of one direction written at once, as one TCP segment.
type segment struct {
	dir int
	b   []byte
}

// decodeBoth decodes segs twice, by the steady path where it applies and
// by the general path only, and fails t when anything reported differs.
// keysAt, when set, is called before each segment with its index (to grow
// the key log). It returns the steady decode's calls.
func decodeBoth(t *testing.T, segs []segment, keys func() *KeyLog, keysAt func(k *KeyLog, i int)) []string {
	t.Helper()
	var logs [2]*callLog
	for run, general := range []bool{false, true} {
		k := keys()
		l := &callLog{}
		c := NewConn(Config{Keys: k}, l)
		c.general = general
		for i, s := range segs {
			if keysAt != nil {
				keysAt(k, i)
			}
			c.Write(s.dir, s.b, int64(i+1))
		}
		c.End()
		logs[run] = l
	}
	if !slices.Equal(logs[0].calls, logs[1].calls) {
		i := 0
		for i < min(len(logs[0].calls), len(logs[1].calls)) && logs[0].calls[i] == logs[1].calls[i] {
			i++
		}
		at := func(l *callLog) string {
			if i < len(l.calls) {
				return l.calls[i]
			}
			return "(end)"
		}
		t.Fatalf("steady and general decodes differ at call %d of %d/%d:\nsteady:  %.300s\ngeneral: %.300s", i, len(logs[0].calls), len(logs[1].calls), at(logs[0]), at(logs[1]))
	}
	return logs[0].calls
}

// cut joins each direction's records and cuts them again at random
// points, alternating directions only where the records did, so that
// segments hold several records or parts of one.
func cut(rng *rand.Rand, steps []step, maxSeg int) []segment {
	var segs []segment
	for i := 0; i < len(steps); {
		j := i
		var b []byte
		for j < len(steps) && steps[j].dir == steps[i].dir {
			b = append(b, steps[j].b...)
			j++
		}
		for len(b) > 0 {
			n := min(len(b), 1+rng.IntN(maxSeg))
			segs = append(segs, segment{steps[i].dir, b[:n]})
			b = b[n:]
		}
		i = j
	}
	return segs
}

// TestSteadySameAsGeneral: the steady path (openSteady) reports exactly
// what the general path does, call by call, on crafted TLS 1.3 sessions
// cut into segments at random: records whole in a segment, several in one,
// across several; a KeyUpdate, a NewSessionTicket and an alert inside
// protected records; a record that fails authentication; a key log that
// grows while records flow (a line for another session).
func TestSteadySameAsGeneral(t *testing.T) {
	c := newCrafted(t)
	c.handshake()
	rng := rand.New(rand.NewPCG(3, 4))
	cseq, sseq := uint64(0), uint64(0)
	capN, sapN := c.cap, c.sap
	for i := range 60 {
		msg := bytes.Repeat([]byte{'a' + byte(i%26)}, 1+rng.IntN(3000))
		for range 1 + rng.IntN(3) {
			c.add(Client, seal13(c.s, capN, cseq, typeApplicationData, msg))
			cseq++
		}
		switch i {
		case 20:
			c.add(Server, seal13(c.s, sapN, sseq, typeHandshake, hsMsg(hsNewSessionTicket, make([]byte, 40))))
			sseq++
		case 30:
			c.add(Client, seal13(c.s, capN, cseq, typeHandshake, hsMsg(hsKeyUpdate, []byte{1})))
			capN, cseq = nextTrafficSecret(c.s, capN), 0
		case 40:
			c.add(Server, seal13(c.s, sapN, sseq, typeAlert, []byte{1, 90})) // user_canceled, a warning
			sseq++
		}
		rec := seal13(c.s, sapN, sseq, typeApplicationData, bytes.ToUpper(msg))
		sseq++
		if i == 10 {
			rec[len(rec)-1] ^= 1 // fails authentication
		}
		c.add(Server, rec)
	}
	c.add(Client, seal13(c.s, capN, cseq, typeAlert, []byte{1, 0})) // close_notify
	other := "CLIENT_TRAFFIC_SECRET_0 " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 32) + "\n"
	for _, maxSeg := range []int{1, 7, 100, 1500, 5000, 20000} {
		t.Run(fmt.Sprint(maxSeg), func(t *testing.T) {
			segs := cut(rng, c.steps, maxSeg)
			calls := decodeBoth(t, segs, func() *KeyLog { return c.keys(false) }, func(k *KeyLog, i int) {
				if i == len(segs)/2 {
					if err := k.Parse(strings.NewReader(other), "more", 0); err != nil {
						t.Fatal(err)
					}
				}
			})
			all := strings.Join(calls, "\n")
			for _, want := range []string{"tls.bad_record_mac", "Type:key_update", "Type:new_session_ticket", "Description:90", "Description:0"} {
				if !strings.Contains(all, want) {
					t.Errorf("no %s among the calls: the session does not test what it should", want)
				}
			}
		})
	}
}
