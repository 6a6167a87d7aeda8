package session

import (
	"bytes"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/e2ee"
	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// receivedFrames reads a remote H.264 track and reassembles its frames as a
// browser's depacketizer does (Annex-B, 4-byte start codes, marker ends a
// frame) until the track ends.
func receivedFrames(tr *webrtc.TrackRemote, out chan<- []byte) {
	var d codecs.H264Packet
	var frame []byte
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		b, err := d.Unmarshal(pkt.Payload)
		if err != nil {
			frame = nil
			continue
		}
		frame = append(frame, b...)
		if pkt.Marker {
			select {
			case out <- frame:
			default: // the test has what it needs
			}
			frame = nil
		}
	}
}

// TestEncryptedTrack: a track with an Encryptor is announced as AES-GCM
// encrypted, one without as unencrypted, and what a pion receiver gets of
// the encrypted one is ciphertext that decrypts, with the shared key, to
// the access unit the encoder produced.
func TestEncryptedTrack(t *testing.T) {
	frames := make(chan []byte, 16)
	srv := signallertest.NewServer(t, signallertest.Options{AnswerOffers: true, OnTrack: func(tr *webrtc.TrackRemote) {
		if tr.Codec().MimeType == webrtc.MimeTypeH264 {
			receivedFrames(tr, frames)
		}
	}})
	s, _, conn, _ := connected(t, srv, nil)

	var keys e2ee.KeyRing
	if err := keys.SetSharedKey("the shared key", 2); err != nil {
		t.Fatal(err)
	}
	enc, err := e2ee.NewTrackEncryptor(&keys, rtp.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	video, err := s.AddTrack(TrackSpec{Name: "video_0", Codec: rtp.CodecH264, Width: 320, Height: 240, Encryptor: enc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTrack(TrackSpec{Name: "audio_0", Codec: rtp.CodecOpus, Channels: 2}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]livekit.Encryption_Type{"video_0": livekit.Encryption_GCM, "audio_0": livekit.Encryption_NONE} {
		req := conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetAddTrack().GetName() == name })
		if req == nil {
			t.Fatalf("no AddTrackRequest for %s", name)
		}
		if got := req.GetAddTrack().GetEncryption(); got != want {
			t.Errorf("%s: AddTrackRequest.encryption %s, want %s", name, got, want)
		}
	}

	sps := []byte{0x67, 0x42, 0xc0, 0x1e, 0x95, 0xa0, 0xa0, 0xfd, 0x00, 0x80}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := append([]byte{0x65, 0x88, 0x84}, bytes.Repeat([]byte("test pattern "), 400)...)
	au := append(append(append(append([]byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1}, sps...), 0, 0, 0, 1), pps...), append([]byte{0, 0, 0, 1}, idr...)...)
	wantPlain := append(append(append(append([]byte{0, 0, 0, 1}, sps...), 0, 0, 0, 1), pps...), append([]byte{0, 0, 0, 1}, idr...)...)

	// Frames are dropped until the sender is negotiated: write until one arrives.
	tick := time.NewTicker(30 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLong)
	var got []byte
	for pts := time.Duration(0); got == nil; pts += 33 * time.Millisecond {
		select {
		case got = <-frames:
		case <-tick.C:
			if err := video.WriteFrame(au, pts); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatal("no frame reached the receiver")
		}
	}
	if bytes.Contains(got, []byte("test pattern")) {
		t.Fatal("the slice data crossed the wire in clear")
	}
	if got[len(got)-1] != 2 {
		t.Errorf("trailer key index %d, want 2", got[len(got)-1])
	}
	dec, err := e2ee.NewCryptor(&keys, rtp.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := dec.Decrypt(got)
	if err != nil {
		t.Fatalf("decrypting the received frame: %v", err)
	}
	if !bytes.Equal(plain, wantPlain) {
		t.Fatalf("decrypted %d bytes, want the %d-byte access unit without its AUD", len(plain), len(wantPlain))
	}
	var wrong e2ee.KeyRing
	if err := wrong.SetSharedKey("another key", 2); err != nil {
		t.Fatal(err)
	}
	other, _ := e2ee.NewCryptor(&wrong, rtp.CodecH264)
	if _, err := other.Decrypt(got); err == nil {
		t.Fatal("another key decrypted the frame")
	}
}

// TestEncryptedSimulcastLayers: each layer of a simulcast track is
// encrypted (the layers share the track's encryptor) and decrypts on the
// receiver to what was written on it.
func TestEncryptedSimulcastLayers(t *testing.T) {
	var keys e2ee.KeyRing
	if err := keys.SetSharedKey("the shared key", 0); err != nil {
		t.Fatal(err)
	}
	dec, err := e2ee.NewCryptor(&keys, rtp.CodecVP8)
	if err != nil {
		t.Fatal(err)
	}
	plain := func(rid string) []byte { // a VP8 key frame naming its layer
		return append([]byte{0x50, 0x43, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}, bytes.Repeat([]byte("layer "+rid), 200)...)
	}
	decrypted := make(chan string, 64)
	srv := signallertest.NewServer(t, signallertest.Options{AnswerOffers: true, OnTrack: func(tr *webrtc.TrackRemote) {
		var frame []byte
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			var d codecs.VP8Packet
			b, err := d.Unmarshal(pkt.Payload)
			if err != nil {
				continue
			}
			frame = append(frame, b...)
			if !pkt.Marker {
				continue
			}
			if got, err := dec.Decrypt(frame); err == nil && bytes.Equal(got, plain(tr.RID())) && !bytes.Contains(frame, []byte("layer")) {
				select {
				case decrypted <- tr.RID():
				default:
				}
			}
			frame = nil
		}
	}})
	s, _, _, _ := connected(t, srv, nil)
	enc, err := e2ee.NewTrackEncryptor(&keys, rtp.CodecVP8)
	if err != nil {
		t.Fatal(err)
	}
	video, err := s.AddTrack(TrackSpec{Name: "video_0", Codec: rtp.CodecVP8, Layers: testLayers, Encryptor: enc})
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(30 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLong)
	seen := map[string]bool{}
	for pts := time.Duration(0); len(seen) < len(testLayers); pts += 33 * time.Millisecond {
		select {
		case rid := <-decrypted:
			seen[rid] = true
		case <-tick.C:
			for _, l := range video.Layers() {
				if err := l.WriteFrame(plain(l.RID()), pts); err != nil {
					t.Fatal(err)
				}
			}
		case <-deadline:
			t.Fatalf("layers whose frames arrived encrypted and decrypted: %v", seen)
		}
	}
}
