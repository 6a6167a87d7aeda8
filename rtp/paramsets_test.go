package rtp

import (
	"bytes"
	"testing"
)

// withSets is what Fill makes of au: sps and pps, each after a 4-byte start
// code, in front of it.
func withSets(sps, pps, au []byte) []byte {
	out := append(append([]byte{0, 0, 0, 1}, sps...), 0, 0, 0, 1)
	return append(append(out, pps...), au...)
}

func TestParameterSetsFill(t *testing.T) {
	aud := []byte{0x09, 0xf0}
	sps := []byte{0x67, 0x42, 0xc0, 0x28}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := []byte{0x65, 0x88, 0x84, 0x00}
	slice := []byte{0x41, 0x9a, 0x02}
	sps2 := []byte{0x67, 0x42, 0xc0, 0x1f}

	var c ParameterSets
	// Before any parameter set is known an IDR goes out as it is.
	if got := c.Fill(annexB(aud, idr)); !bytes.Equal(got, annexB(aud, idr)) {
		t.Fatalf("IDR without known sets changed: %x", got)
	}
	// An IDR with its sets is left alone, and the sets are kept.
	full := annexB(aud, sps, pps, idr)
	if got := c.Fill(full); &got[0] != &full[0] {
		t.Fatalf("complete IDR AU copied")
	}
	// Non-IDR AUs are never changed.
	p := annexB(aud, slice)
	if got := c.Fill(p); &got[0] != &p[0] {
		t.Fatalf("P frame changed")
	}
	// A later IDR without sets gets the kept ones in front.
	want := withSets(sps, pps, annexB(aud, idr))
	if got := c.Fill(annexB(aud, idr)); !bytes.Equal(got, want) {
		t.Fatalf("IDR without sets:\n got %x\nwant %x", got, want)
	}
	// A new SPS replaces the kept one, from any AU.
	c.Fill(annexB(sps2, slice))
	want = withSets(sps2, pps, annexB(idr))
	if got := c.Fill(annexB(idr)); !bytes.Equal(got, want) {
		t.Fatalf("after a new SPS:\n got %x\nwant %x", got, want)
	}
	// Sets after the first slice do not count for that AU.
	want = withSets(sps2, pps, annexB(idr, sps, pps))
	if got := c.Fill(annexB(idr, sps, pps)); !bytes.Equal(got, want) {
		t.Fatalf("sets after the slice:\n got %x\nwant %x", got, want)
	}
}
