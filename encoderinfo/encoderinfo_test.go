package encoderinfo

import (
	"slices"
	"strings"
	"testing"
)

func installedSet(names ...string) func(string) bool {
	return func(f string) bool { return slices.Contains(names, f) }
}

// The factories issue 8 asks for, with the property and unit each
// element's documentation gives.
func TestTableBitrateUnits(t *testing.T) {
	cases := []struct {
		factory, codec string
		family         Family
		bps            uint
		want           [2]string
	}{
		{"x264enc", H264, Software, 600_000, [2]string{"bitrate", "600"}},
		{"x265enc", H265, Software, 600_000, [2]string{"bitrate", "600"}},
		{"openh264enc", H264, Software, 600_000, [2]string{"bitrate", "600000"}},
		{"vp8enc", VP8, Software, 600_000, [2]string{"target-bitrate", "600000"}},
		{"vp9enc", VP9, Software, 600_000, [2]string{"target-bitrate", "600000"}},
		{"av1enc", AV1, Software, 600_000, [2]string{"target-bitrate", "600"}},
		{"svtav1enc", AV1, Software, 600_000, [2]string{"target-bitrate", "600"}},
		{"rav1enc", AV1, Software, 600_000, [2]string{"bitrate", "600000"}},
		{"nvh264enc", H264, NVCodec, 600_000, [2]string{"bitrate", "600"}},
		{"nvh265enc", H265, NVCodec, 600_000, [2]string{"bitrate", "600"}},
		{"nvav1enc", AV1, NVCodec, 600_000, [2]string{"bitrate", "600"}},
		{"vah264enc", H264, VA, 600_000, [2]string{"bitrate", "600"}},
		{"vah265enc", H265, VA, 600_000, [2]string{"bitrate", "600"}},
		{"vavp8enc", VP8, VA, 600_000, [2]string{"bitrate", "600"}},
		{"vaapih264enc", H264, VAAPI, 600_000, [2]string{"bitrate", "600"}},
		{"qsvh264enc", H264, QSV, 600_000, [2]string{"bitrate", "600"}},
		{"nvv4l2h264enc", H264, V4L2, 600_000, [2]string{"bitrate", "600000"}},
		{"v4l2h264enc", H264, V4L2, 600_000, [2]string{"extra-controls", "controls,video_bitrate=(int)600000"}},
		// kbit/s properties reject 0: the floor is 1 kbit/s.
		{"x264enc", H264, Software, 400, [2]string{"bitrate", "1"}},
	}
	for _, c := range cases {
		e, ok := Lookup(c.factory)
		if !ok {
			t.Errorf("%s is not in the table", c.factory)
			continue
		}
		if e.Codec != c.codec || e.Family != c.family {
			t.Errorf("%s: codec %s family %s, want %s %s", c.factory, e.Codec, e.Family, c.codec, c.family)
		}
		if got := e.BitrateArg(c.bps); got != c.want {
			t.Errorf("%s at %d bit/s: %v, want %v", c.factory, c.bps, got, c.want)
		}
	}
}

func TestLookupUnknownAndPerDeviceNames(t *testing.T) {
	for _, f := range []string{"avenc_mpeg4", "theoraenc", "identity", "", "vah264enc2", "x264encfoo"} {
		if e, ok := Lookup(f); ok {
			t.Errorf("Lookup(%q) = %s, want a miss", f, e.Factory)
		}
	}
	for f, base := range map[string]string{
		"varenderD129h264enc": "vah264enc",
		"v4l2video11h264enc":  "v4l2h264enc",
		"nvh264device1enc":    "nvh264enc",
	} {
		e, ok := Lookup(f)
		if !ok {
			t.Errorf("Lookup(%q) missed; want %s's entry", f, base)
			continue
		}
		want, _ := Lookup(base)
		if e.Factory != f || e.BitrateArg(1_000_000) != want.BitrateArg(1_000_000) || e.Family != want.Family {
			t.Errorf("Lookup(%q) = %+v, want %s's entry under its own name", f, e, base)
		}
	}
}

// Every entry is complete: a codec the chain table knows, a family in the
// order, and (video) a way to set the bitrate.
func TestTableEntriesComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range All() {
		if seen[e.Factory] {
			t.Errorf("%s listed twice", e.Factory)
		}
		seen[e.Factory] = true
		if !slices.Contains([]string{H264, H265, VP8, VP9, AV1, Opus}, e.Codec) {
			t.Errorf("%s: codec %q", e.Factory, e.Codec)
		}
		if !slices.Contains(FamilyOrder, e.Family) {
			t.Errorf("%s: family %q not in FamilyOrder", e.Factory, e.Family)
		}
		if e.BitrateProperty == "" && !e.ExtraControls {
			t.Errorf("%s: no bitrate property", e.Factory)
		}
		args := e.Args(1_000_000, 60)
		if !slices.ContainsFunc(args, func(a [2]string) bool { return a[0] == e.BitrateArg(1_000_000)[0] }) {
			t.Errorf("%s: Args %v do not set the bitrate", e.Factory, args)
		}
		if e.Codec != Opus && !slices.ContainsFunc(args, func(a [2]string) bool { return strings.Contains(a[1], "60") }) {
			t.Errorf("%s: Args %v do not set the 60-frame keyframe interval", e.Factory, args)
		}
		if e.Hardware() == (e.Family == Software) {
			t.Errorf("%s: Hardware() %v for family %s", e.Factory, e.Hardware(), e.Family)
		}
	}
}

func TestArgsKeepTodaysSoftwareDefaults(t *testing.T) {
	e, _ := Lookup("x264enc")
	want := [][2]string{{"tune", "zerolatency"}, {"speed-preset", "ultrafast"}, {"key-int-max", "60"},
		{"b-adapt", "false"}, {"vbv-buf-capacity", "120"}, {"bitrate", "2048"}}
	if got := e.Args(2_048_000, 60); !slices.Equal(got, want) {
		t.Errorf("x264enc args %v, want %v", got, want)
	}
	v, _ := Lookup("v4l2h264enc")
	if got := v.Args(500_000, 30); len(got) != 1 || got[0][1] != "controls,video_bitrate=(int)500000,video_gop_size=(int)30,repeat_sequence_header=(int)1" {
		t.Errorf("v4l2h264enc args %v: want one extra-controls structure", got)
	}
}

func TestCandidatesFollowFamilyOrder(t *testing.T) {
	cases := map[string][]string{
		H264: {"nvh264enc", "vah264enc", "vah264lpenc", "vaapih264enc", "qsvh264enc", "nvv4l2h264enc", "v4l2h264enc", "x264enc", "openh264enc"},
		VP8:  {"vavp8enc", "vaapivp8enc", "nvv4l2vp8enc", "v4l2vp8enc", "vp8enc"},
		AV1:  {"nvav1enc", "vaav1enc", "qsvav1enc", "nvv4l2av1enc", "svtav1enc", "rav1enc", "av1enc"},
		Opus: {"opusenc"},
	}
	for codec, want := range cases {
		var got []string
		for _, e := range Candidates(codec) {
			got = append(got, e.Factory)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Candidates(%s) = %v, want %v", codec, got, want)
		}
	}
}

func TestChoose(t *testing.T) {
	h264 := []string{H264}
	cases := []struct {
		name      string
		codecs    []string
		features  string
		installed []string
		encoder   string
		download  string
		zeroCopy  bool
	}{
		{"software only (this machine)", []string{VP8, H264}, "", []string{"vp8enc", "x264enc"}, "vp8enc", "", false},
		{"codec order before hardware", []string{VP8, H264}, "", []string{"vp8enc", "nvh264enc"}, "vp8enc", "", false},
		{"hardware before software", h264, "", []string{"x264enc", "vah264enc", "qsvh264enc"}, "vah264enc", "", false},
		{"nvcodec first", h264, "", []string{"x264enc", "vah264enc", "nvh264enc", "v4l2h264enc"}, "nvh264enc", "", false},
		{"v4l2 before software", h264, "", []string{"openh264enc", "v4l2h264enc"}, "v4l2h264enc", "", false},
		{"second codec when the first has none", []string{VP9, H264}, "", []string{"x264enc"}, "x264enc", "", false},
		{"system memory feature is system memory", h264, "memory:SystemMemory", []string{"x264enc"}, "x264enc", "", false},
		{"CUDA to nvh264enc without download", h264, CUDAMemory, []string{"x264enc", "vah264enc", "nvh264enc"}, "nvh264enc", "", true},
		{"VA memory skips nvcodec for va", h264, VAMemory, []string{"nvh264enc", "vah264enc", "x264enc"}, "vah264enc", "", true},
		{"VA memory to qsv when no va", h264, VAMemory, []string{"nvh264enc", "qsvh264enc"}, "qsvh264enc", "", true},
		{"NVMM to Jetson's encoder", h264, NVMM, []string{"x264enc", "nvv4l2h264enc"}, "nvv4l2h264enc", "", true},
		{"CUDA without nvcodec: download to software", h264, CUDAMemory, []string{"x264enc"}, "x264enc", "cudadownload", false},
		{"VA memory to nvcodec needs a download", h264, VAMemory, []string{"nvh264enc"}, "nvh264enc", "vapostproc", false},
		{"GL memory to nvh264enc directly", h264, GLMemory, []string{"nvh264enc", "x264enc"}, "nvh264enc", "", true},
		{"GL memory without nvcodec", h264, GLMemory, []string{"x264enc"}, "x264enc", "gldownload", false},
		{"zero-copy only within the codec order", []string{VP8, H264}, CUDAMemory, []string{"vp8enc", "nvh264enc"}, "vp8enc", "cudadownload", false},
		{"unknown memory: no download known", h264, "memory:Foo", []string{"x264enc"}, "x264enc", "", false},
		{"opus", []string{Opus}, "", []string{"opusenc"}, "opusenc", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, ok := Choose(c.codecs, c.features, installedSet(c.installed...))
			if !ok {
				t.Fatalf("no choice")
			}
			if got.Encoder.Factory != c.encoder || got.Download != c.download || got.ZeroCopy != c.zeroCopy {
				t.Errorf("chose %s download=%q zeroCopy=%v, want %s download=%q zeroCopy=%v",
					got.Encoder.Factory, got.Download, got.ZeroCopy, c.encoder, c.download, c.zeroCopy)
			}
		})
	}
}

func TestChooseNoneInstalled(t *testing.T) {
	_, tried, ok := Choose([]string{VP8, H264}, "", installedSet("opusenc"))
	if ok {
		t.Fatalf("chose an encoder with none installed")
	}
	if !slices.Contains(tried, "vp8enc") || !slices.Contains(tried, "x264enc") || !slices.Contains(tried, "nvh264enc") {
		t.Errorf("tried %v: want every candidate of both codecs", tried)
	}
	if _, _, ok := Choose(nil, "", installedSet("x264enc")); ok {
		t.Errorf("chose an encoder for no codec")
	}
}

func TestGOPFrames(t *testing.T) {
	x264, _ := Lookup("x264enc")
	vp9, _ := Lookup("vp9enc")
	nvav1, _ := Lookup("nvav1enc")
	for _, c := range []struct {
		e          Encoder
		fpsN, fpsD int
		want       int
	}{
		{x264, 30, 1, 60}, {x264, 0, 1, 60}, {x264, 15, 1, 30}, {vp9, 30, 1, 30}, {nvav1, 30000, 1001, 29},
		{x264, 1, 10, 1},
	} {
		if got := GOPFrames(c.e, c.fpsN, c.fpsD); got != c.want {
			t.Errorf("GOPFrames(%s, %d/%d) = %d, want %d", c.e.Factory, c.fpsN, c.fpsD, got, c.want)
		}
	}
}
