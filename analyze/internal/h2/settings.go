package h2

import (
	"encoding/binary"
	"fmt"
)

// applySettings reads the SETTINGS payload buffered in side.ctl (RFC 9113
// §6.5.1), checks and remembers each parameter, applies those the decoder
// depends on, and reports them.
func (c *Conn) applySettings(side int, packet int64) {
	s := &c.sides[side]
	s.settings = s.settings[:0]
	for p := s.ctl; len(p) >= settingLen; p = p[settingLen:] {
		set := Setting{ID: binary.BigEndian.Uint16(p), Value: binary.BigEndian.Uint32(p[2:])}
		s.settings = append(s.settings, set)
		valid := c.checkSetting(side, set, packet)
		if s.values == nil {
			s.values = make(map[uint16]uint32)
		}
		if _, ok := s.values[set.ID]; ok || len(s.values) < maxSettingIDs {
			s.values[set.ID] = set.Value
		}
		switch {
		case set.ID == SettingHeaderTableSize:
			// RFC 9113 §6.5.2: the size the sender's decoder allows, so
			// the limit of the peer's encoder.
			c.sides[1-side].allowTableSize(set.Value)
		case set.ID == SettingMaxFrameSize && valid:
			s.maxFrame = set.Value
		}
	}
	c.h.Settings(side, s.settings, packet)
}

// checkSetting reports a value its setting's definition forbids, and says
// whether the value is valid.
func (c *Conn) checkSetting(side int, set Setting, packet int64) bool {
	var rule string
	switch set.ID {
	case SettingEnablePush:
		switch {
		case set.Value > 1:
			rule = "is neither 0 nor 1 (RFC 9113 §6.5.2)"
		case set.Value == 1 && side == Server:
			rule = "is 1 from a server, which RFC 9113 §6.5.2 forbids"
		}
	case SettingInitialWindowSize:
		if set.Value > maxWindowSize {
			rule = fmt.Sprintf("exceeds %d (RFC 9113 §6.5.2)", maxWindowSize)
		}
	case SettingMaxFrameSize:
		if set.Value < defaultMaxFrameSize || set.Value > maxMaxFrameSize {
			rule = fmt.Sprintf("is outside %d..%d (RFC 9113 §6.5.2), so the %d in force is kept", defaultMaxFrameSize, maxMaxFrameSize, c.sides[side].maxFrame)
		}
	case SettingEnableConnectProtocol:
		switch {
		case set.Value > 1:
			rule = "is neither 0 nor 1 (RFC 8441 §3)"
		case set.Value == 0 && c.sides[side].values[set.ID] == 1:
			rule = "is 0 after the side announced 1, which RFC 8441 §3 forbids"
		}
	case SettingNoRFC7540Priorities:
		if set.Value > 1 {
			rule = "is neither 0 nor 1 (RFC 9218 §2.1)"
		}
	}
	if rule == "" {
		return true
	}
	c.problem(side, CodeSettingsValue, 0, packet, false, fmt.Sprintf("%s = %d %s", SettingName(set.ID), set.Value, rule))
	return false
}
