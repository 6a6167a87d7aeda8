package encoderinfo

// Choice is the encoder for a raw pad and how frames reach it.
type Choice struct {
	Encoder Encoder
	// Download is the element that brings the input's GPU memory to system
	// memory; "" when the encoder takes the frames as they are (ZeroCopy)
	// or they are in system memory already.
	Download string
	// ZeroCopy: the input is GPU memory the encoder takes directly, so the
	// chain has no download and no videoconvert.
	ZeroCopy bool
}

// Choose picks the encoder for raw input. codecs is the codec order
// (video-caps or audio-caps structure names, only those whose parser is
// installed), features the caps features of the input ("" for system
// memory), installed tells which factories exist. The first codec with an
// installed encoder wins; within it, an encoder that takes the input's GPU
// memory as it is comes first, then FamilyOrder (hardware before software,
// as on the reference). tried lists every installed-or-not candidate
// looked at, for the message when none is installed.
func Choose(codecs []string, features string, installed func(factory string) bool) (c Choice, tried []string, ok bool) {
	gpu := features != "" && features != "memory:SystemMemory"
	for _, codec := range codecs {
		cands := Candidates(codec)
		if gpu {
			for _, e := range cands {
				if e.Accepts(features) && installed(e.Factory) {
					return Choice{Encoder: e, ZeroCopy: true}, tried, true
				}
			}
		}
		for _, e := range cands {
			tried = append(tried, e.Factory)
			if installed(e.Factory) {
				c = Choice{Encoder: e}
				if gpu {
					c.Download = Downloaders[features]
				}
				return c, tried, true
			}
		}
	}
	return Choice{}, tried, false
}

// GOPFrames is the keyframe interval in frames for a frame rate of
// fpsN/fpsD (30 fps assumed when unknown).
func GOPFrames(e Encoder, fpsN, fpsD int) int {
	secs := e.KeyframeSeconds()
	if fpsN <= 0 || fpsD <= 0 {
		return 30 * secs
	}
	return max(secs*fpsN/fpsD, 1)
}
