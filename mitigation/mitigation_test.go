package mitigation

import "testing"

func TestNextFollowsWebrtcsinkThresholdsWithHysteresis(t *testing.T) {
	in := Input{Width: 1280, Height: 720, FpsN: 30, FpsD: 1}
	all := Downscaled | Downsampled
	cases := []struct {
		bps, current int
		want         string
		mode         Mode
	}{
		{3_000_000, 0, "video/x-raw", 0},
		{1_500_000, 0, "video/x-raw", 0}, // 720p input: nothing to scale at level 1
		{800_000, 0, "video/x-raw,width=640,height=360", Downscaled},
		{400_000, 0, "video/x-raw,width=640,height=360,framerate=30/2", Downscaled | Downsampled},
		{550_000, 3, "video/x-raw,width=640,height=360,framerate=30/2", Downscaled | Downsampled}, // < 625k: stays
		{700_000, 3, "video/x-raw,width=640,height=360", Downscaled},
		{1_100_000, 2, "video/x-raw,width=640,height=360", Downscaled}, // < 1.25M: stays
		{2_600_000, 2, "video/x-raw", 0},
	}
	for _, c := range cases {
		st := Next(in, all, c.bps, c.current)
		if st.Caps() != c.want || st.Mode != c.mode {
			t.Errorf("%d bit/s from level %d: %s %v, want %s %v", c.bps, c.current, st.Caps(), st.Mode, c.want, c.mode)
		}
	}
	if st := Next(in, Downsampled, 400_000, 0); st.Caps() != "video/x-raw,framerate=30/2" || st.Mode != Downsampled {
		t.Errorf("downsampled only: %s %v", st.Caps(), st.Mode)
	}
	if st := Next(in, 0, 400_000, 0); st.Caps() != "video/x-raw" || st.Mode != 0 {
		t.Errorf("no modes allowed: %s %v", st.Caps(), st.Mode)
	}
}
