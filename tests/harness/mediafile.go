package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// frameSink turns a track's RTP packets into a media file. push and close
// return the number of complete frames written by that call.
type frameSink interface {
	push(p *rtp.Packet) int
	close() (int, error)
}

// newFrameSink picks the file format for mime; base is the path without
// extension. Packets are reordered and assembled into complete frames by
// pion's samplebuilder, so a lost packet costs a frame and never writes a
// broken one.
func newFrameSink(base, mime string, clockRate uint32, channels uint16) (frameSink, string, error) {
	switch strings.ToLower(mime) {
	case "video/h264":
		path := base + ".h264"
		f, err := os.Create(path)
		if err != nil {
			return nil, "", err
		}
		w := &annexBWriter{f: f}
		return newSBSink(512, &codecs.H264Packet{}, 90000, w.write, f.Close), path, nil
	case "video/h265":
		return newH265Sink(base) // h265file.go
	case "video/vp8", "video/vp9", "video/av1":
		path := base + ".ivf"
		fourcc := map[string]string{"video/vp8": "VP80", "video/vp9": "VP90", "video/av1": "AV01"}[strings.ToLower(mime)]
		w, err := newIVFWriter(path, fourcc)
		if err != nil {
			return nil, "", err
		}
		var dep rtp.Depacketizer
		switch fourcc {
		case "VP80":
			dep = &codecs.VP8Packet{}
		case "VP90":
			dep = &codecs.VP9Packet{}
		default:
			dep = &codecs.AV1Depacketizer{}
		}
		return newSBSink(512, dep, 90000, w.write, w.close), path, nil
	case "audio/opus":
		path := base + ".ogg"
		if channels == 0 {
			channels = 2
		}
		if clockRate == 0 {
			clockRate = 48000
		}
		w, err := oggwriter.New(path, clockRate, channels)
		if err != nil {
			return nil, "", err
		}
		var seq uint16
		write := func(s *media.Sample) error {
			seq++
			return w.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: s.PacketTimestamp}, Payload: s.Data})
		}
		return newSBSink(64, &codecs.OpusPacket{}, clockRate, write, w.Close), path, nil
	}
	return nil, "", fmt.Errorf("no file writer for %s", mime)
}

// errSkipFrame: the writer dropped the frame on purpose (before the first keyframe).
var errSkipFrame = errors.New("frame skipped before the first keyframe")

type sbSink struct {
	sb     *samplebuilder.SampleBuilder
	write  func(*media.Sample) error
	finish func() error
	err    error
}

func newSBSink(maxLate uint16, dep rtp.Depacketizer, rate uint32, write func(*media.Sample) error, finish func() error) *sbSink {
	return &sbSink{
		sb:    samplebuilder.New(maxLate, dep, rate, samplebuilder.WithMaxTimeDelay(time.Second)),
		write: write, finish: finish,
	}
}

func (s *sbSink) drain() int {
	n := 0
	for smp := s.sb.Pop(); smp != nil; smp = s.sb.Pop() {
		if len(smp.Data) == 0 {
			continue
		}
		if err := s.write(smp); err != nil {
			if err != errSkipFrame && s.err == nil {
				s.err = err
			}
			continue
		}
		n++
	}
	return n
}

func (s *sbSink) push(p *rtp.Packet) int {
	s.sb.Push(p)
	return s.drain()
}

func (s *sbSink) close() (int, error) {
	s.sb.Flush()
	n := s.drain()
	if err := s.finish(); err != nil && s.err == nil {
		s.err = err
	}
	return n, s.err
}

// annexBWriter writes H264 access units (Annex-B, as pion's depacketizer
// emits them), starting at the first one with an SPS or IDR.
type annexBWriter struct {
	f       *os.File
	started bool
	written int
}

func (w *annexBWriter) write(s *media.Sample) error {
	if !w.started {
		if !h264HasKeyframe(s.Data) {
			return errSkipFrame
		}
		w.started = true
	}
	_, err := w.f.Write(s.Data)
	return err
}

// h264HasKeyframe reports whether an Annex-B access unit holds an SPS or IDR NAL.
func h264HasKeyframe(b []byte) bool {
	for i := 0; i+3 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			t := b[i+3] & 0x1f
			if t == 5 || t == 7 {
				return true
			}
			i += 2
		}
	}
	return false
}

// ivfWriter writes an IVF file (timebase 1/90000, pts from RTP timestamps);
// frame count and, for VP8, the dimensions are patched into the header on close.
type ivfWriter struct {
	f        *os.File
	fourcc   string
	frames   uint32
	w, h     uint16
	started  bool
	firstTS  uint32
	lastPTS  uint64
	lastTS   uint32
	ptsValid bool
}

func newIVFWriter(path, fourcc string) (*ivfWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &ivfWriter{f: f, fourcc: fourcc}
	if _, err := f.Write(w.header()); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *ivfWriter) header() []byte {
	h := make([]byte, 32)
	copy(h[0:], "DKIF")
	binary.LittleEndian.PutUint16(h[4:], 0)
	binary.LittleEndian.PutUint16(h[6:], 32)
	copy(h[8:], w.fourcc)
	binary.LittleEndian.PutUint16(h[12:], w.w)
	binary.LittleEndian.PutUint16(h[14:], w.h)
	binary.LittleEndian.PutUint32(h[16:], 90000) // timebase denominator
	binary.LittleEndian.PutUint32(h[20:], 1)     // timebase numerator
	binary.LittleEndian.PutUint32(h[24:], w.frames)
	return h
}

func (w *ivfWriter) write(s *media.Sample) error {
	data := s.Data
	switch w.fourcc {
	case "VP80":
		key := len(data) >= 10 && data[0]&1 == 0
		if !w.started && !key {
			return errSkipFrame
		}
		if key && data[3] == 0x9d && data[4] == 0x01 && data[5] == 0x2a && w.w == 0 {
			w.w = binary.LittleEndian.Uint16(data[6:]) & 0x3fff
			w.h = binary.LittleEndian.Uint16(data[8:]) & 0x3fff
		}
	case "AV01":
		// A temporal unit starts with a temporal delimiter OBU (type 2).
		if len(data) > 0 && (data[0]>>3)&0x0f != 2 {
			data = append([]byte{0x12, 0x00}, data...)
		}
	}
	if !w.started {
		w.started, w.firstTS = true, s.PacketTimestamp
	}
	pts := uint64(s.PacketTimestamp - w.firstTS)
	if w.ptsValid && pts <= w.lastPTS { // keep pts strictly increasing
		pts = w.lastPTS + 1
	}
	w.lastPTS, w.ptsValid = pts, true
	fh := make([]byte, 12)
	binary.LittleEndian.PutUint32(fh[0:], uint32(len(data)))
	binary.LittleEndian.PutUint64(fh[4:], pts)
	if _, err := w.f.Write(fh); err != nil {
		return err
	}
	if _, err := w.f.Write(data); err != nil {
		return err
	}
	w.frames++
	return nil
}

func (w *ivfWriter) close() error {
	_, err := w.f.WriteAt(w.header(), 0)
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
