//go:build !linux

package live

import (
	"errors"
	"fmt"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/filter"
)

// ErrUnsupported is returned by Open on systems other than Linux.
var ErrUnsupported = errors.New("live capture needs Linux (AF_PACKET)")

// Source is a live capture; on this system Open always fails.
type Source struct{}

// Open fails with ErrUnsupported: live capture uses Linux packet sockets.
func Open(iface string, opts Options) (*Source, error) {
	return nil, fmt.Errorf("capture: cannot open %s: %w", iface, ErrUnsupported)
}

// Name returns "".
func (s *Source) Name() string { return "" }

// LinkType returns 0.
func (s *Source) LinkType() capture.LinkType { return 0 }

// SnapLen returns 0.
func (s *Source) SnapLen() int { return 0 }

// Filter returns nil.
func (s *Source) Filter() *filter.Filter { return nil }

// ReadPacket fails with ErrUnsupported.
func (s *Source) ReadPacket() (capture.Packet, error) { return capture.Packet{}, ErrUnsupported }

// Stop does nothing.
func (s *Source) Stop() {}

// Stats returns zero counts.
func (s *Source) Stats() Stats { return Stats{} }

// Close does nothing.
func (s *Source) Close() error { return nil }
