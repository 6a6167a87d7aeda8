package simulcast

import (
	"testing"

	"github.com/golivekitsink/golivekitsink/session"
)

func TestPlanSizesAndOrder(t *testing.T) {
	l, err := Plan(1280, 720, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]int{{int(session.QualityLow), 320, 180}, {int(session.QualityMedium), 640, 360}, {int(session.QualityHigh), 1280, 720}}
	for i, w := range want {
		if int(l[i].Quality) != w[0] || l[i].Width != w[1] || l[i].Height != w[2] {
			t.Errorf("layer %d = %v %dx%d, want %v", i, l[i].Quality, l[i].Width, l[i].Height, w)
		}
	}
	l2, _ := Plan(642, 362, 2)
	if l2[0].Quality != session.QualityLow || l2[0].Width != 320 || l2[0].Height != 180 || l2[1].Width != 642 {
		t.Errorf("2 layers of 642x362: %+v", l2)
	}
	if _, err := Plan(640, 360, 4); err == nil {
		t.Error("4 layers accepted")
	}
	if _, err := Plan(0, 360, 3); err == nil {
		t.Error("unknown size accepted")
	}
}

func TestSplitKeepsLiveKitRatios(t *testing.T) {
	l, _ := Plan(1280, 720, 3)
	r := Split(2_310_000, l, nil, 0)
	// 160 : 450 : 1700 of 2310 kbit/s.
	if r[0] != 160_000 || r[1] != 450_000 || r[2] != 1_700_000 {
		t.Errorf("split = %v", r)
	}
	// The top layer paused: its share goes to the others.
	r = Split(610_000, l, map[session.Quality]bool{session.QualityHigh: false}, 1000)
	if r[0] != 160_000 || r[1] != 450_000 || r[2] != 1000 {
		t.Errorf("split without HIGH = %v", r)
	}
}
