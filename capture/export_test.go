package capture

// Held returns what d's reassembly holds: bytes of buffers, fragments and
// datagrams, for the tests of its bounds.
func (d *Decoder) Held() (bytes, fragments, datagrams int) {
	return d.frags.bytes, d.frags.fragments, len(d.frags.table)
}
