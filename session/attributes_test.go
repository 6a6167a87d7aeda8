package session

import (
	"reflect"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// Media written with nil attributes reaches the chain with one map per
// stream, empty for every packet; attributes a writer passes go through.
func TestAttributesReusedPerStream(t *testing.T) {
	var maps []uintptr
	var lens []int
	next := interceptor.RTPWriterFunc(func(_ *rtp.Header, _ []byte, a interceptor.Attributes) (int, error) {
		maps = append(maps, reflect.ValueOf(a).Pointer())
		lens = append(lens, len(a))
		a.Set("twcc", uint8(3)) // as gcc.SendSideBWE does
		return 0, nil
	})
	w := (&attributesInterceptor{}).BindLocalStream(&interceptor.StreamInfo{}, next)
	for range 3 {
		if _, err := w.Write(&rtp.Header{}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if maps[0] == 0 || maps[1] != maps[0] || maps[2] != maps[0] {
		t.Fatalf("maps %v: want one non-nil map reused", maps)
	}
	if lens[1] != 0 || lens[2] != 0 {
		t.Fatalf("map lengths at entry %v: want it cleared for each packet", lens)
	}
	own := interceptor.Attributes{}
	_, _ = w.Write(&rtp.Header{}, nil, own)
	if maps[3] != reflect.ValueOf(own).Pointer() {
		t.Fatal("a writer's own attributes were replaced")
	}
	quiet := (&attributesInterceptor{}).BindLocalStream(&interceptor.StreamInfo{},
		interceptor.RTPWriterFunc(func(_ *rtp.Header, _ []byte, a interceptor.Attributes) (int, error) {
			a.Set("twcc", uint8(3))
			return 0, nil
		}))
	h := &rtp.Header{}
	if n := testing.AllocsPerRun(100, func() { _, _ = quiet.Write(h, nil, nil) }); n > 0 {
		t.Fatalf("%.1f allocations per packet, want none", n)
	}
}
