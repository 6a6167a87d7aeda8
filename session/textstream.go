package session

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/livekit/protocol/livekit"
)

// LiveKit text streams (docs/protocol.md, "Text streams and transcriptions"):
// a header, chunks of at most 15000 bytes cut at UTF-8 boundaries, and a
// trailer, all on the reliable channel, as server-sdk-go's StreamText and
// livekit-client's streamText send them.

const (
	// TopicTranscription is the topic livekit-client's transcription
	// helpers read.
	TopicTranscription = "lk.transcription"
	// Attributes livekit-client (TranscriptionAttributes) and LiveKit's
	// agents give a transcription stream.
	AttrSegmentID          = "lk.segment_id"
	AttrTranscriptionFinal = "lk.transcription_final"
	AttrTranscribedTrack   = "lk.transcribed_track_id"

	textChunkSize = 15000
)

// TextOptions are the optional parts of a text stream.
type TextOptions struct {
	// StreamID defaults to a random UUID.
	StreamID string
	// Timestamp defaults to now.
	Timestamp time.Time
	// Destinations: only these participant identities; all when empty.
	Destinations []string
}

// SendText sends text as one text stream on topic. All its packets are
// queued together or, past the recovery queue's bound, none
// (ErrDataQueueFull).
func (s *Session) SendText(topic, text string, attributes map[string]string, opts TextOptions) error {
	return s.publishPackets(textStream(topic, text, attributes, opts), true)
}

// SendTranscription sends text as a transcription segment of track on
// lk.transcription: the segment's interim versions share segmentID, and
// the last one is final. track may be nil (no audio track to attach to).
func (s *Session) SendTranscription(text, segmentID string, final bool, track *Track, opts TextOptions) error {
	return s.SendText(TopicTranscription, text, TranscriptionAttributes(segmentID, final, track), opts)
}

// TranscriptionAttributes are the text stream attributes livekit-client
// reads for a transcription segment.
func TranscriptionAttributes(segmentID string, final bool, track *Track) map[string]string {
	attrs := map[string]string{AttrSegmentID: segmentID, AttrTranscriptionFinal: strconv.FormatBool(final)}
	if track != nil && track.SID() != "" {
		attrs[AttrTranscribedTrack] = track.SID()
	}
	return attrs
}

// textStream builds the packets of one text stream.
func textStream(topic, text string, attributes map[string]string, opts TextOptions) []*livekit.DataPacket {
	id := opts.StreamID
	if id == "" {
		id = uuid.NewString()
	}
	ts := opts.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	size := uint64(len(text))
	header := &livekit.DataStream_Header{
		StreamId: id, MimeType: "text/plain", Topic: topic, Timestamp: ts.UnixMilli(),
		TotalLength: &size, Attributes: attributes,
		ContentHeader: &livekit.DataStream_Header_TextHeader{TextHeader: &livekit.DataStream_TextHeader{
			OperationType: livekit.DataStream_CREATE,
		}},
	}
	dest := opts.Destinations
	pkts := []*livekit.DataPacket{{DestinationIdentities: dest, Value: &livekit.DataPacket_StreamHeader{StreamHeader: header}}}
	for i, chunk := range chunkUTF8(text, textChunkSize) {
		pkts = append(pkts, &livekit.DataPacket{DestinationIdentities: dest, Value: &livekit.DataPacket_StreamChunk{
			StreamChunk: &livekit.DataStream_Chunk{StreamId: id, ChunkIndex: uint64(i), Content: chunk},
		}})
	}
	return append(pkts, &livekit.DataPacket{DestinationIdentities: dest, Value: &livekit.DataPacket_StreamTrailer{
		StreamTrailer: &livekit.DataStream_Trailer{StreamId: id},
	}})
}

// chunkUTF8 cuts s into pieces of at most max bytes, never inside a rune.
func chunkUTF8(s string, max int) [][]byte {
	var out [][]byte
	for len(s) > max {
		k := max
		for k > 0 && !utf8.RuneStart(s[k]) {
			k--
		}
		out = append(out, []byte(s[:k]))
		s = s[k:]
	}
	if len(s) > 0 {
		out = append(out, []byte(s))
	}
	return out
}
