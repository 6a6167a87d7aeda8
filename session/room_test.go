package session

import (
	"errors"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

const testRoomTimeout = 400 * time.Millisecond

func participantUpdate(ps ...*livekit.ParticipantInfo) *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{Participants: ps}}}
}

func viewer(state livekit.ParticipantInfo_State) *livekit.ParticipantInfo {
	return &livekit.ParticipantInfo{Sid: "PA_viewer", Identity: "viewer", State: state}
}

// Alone in the room, room-timeout ends the session with ErrRoomTimeout,
// not before the timeout.
func TestRoomTimeoutEndsASessionAlone(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	joined := time.Now()
	_, w, _, _ := connected(t, srv, func(cfg *Config) { cfg.RoomTimeout = testRoomTimeout })
	err := w.waitFatal(t)
	if !errors.Is(err, ErrRoomTimeout) {
		t.Fatalf("ended with %v, want ErrRoomTimeout", err)
	}
	if took := time.Since(joined); took < testRoomTimeout {
		t.Fatalf("ended %s after the join, before the room timeout (%s)", took, testRoomTimeout)
	}
}

// Another participant (in the JoinResponse, or joining later) keeps the
// session; once the last one leaves, the timeout counts from then. Our own
// participant in an update does not count.
func TestRoomTimeoutWaitsWhileOthersAreThere(t *testing.T) {
	for _, inJoin := range []bool{true, false} {
		name := "joined later"
		if inJoin {
			name = "in the JoinResponse"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := signallertest.Options{}
			if inJoin {
				o.OtherParticipants = []*livekit.ParticipantInfo{viewer(livekit.ParticipantInfo_ACTIVE)}
			}
			srv := newFake(t, o)
			_, w, conn, first := connected(t, srv, func(cfg *Config) { cfg.RoomTimeout = testRoomTimeout })
			if !inJoin {
				if err := conn.Send(participantUpdate(viewer(livekit.ParticipantInfo_JOINED))); err != nil {
					t.Fatal(err)
				}
			}
			self := &livekit.ParticipantInfo{Sid: first.ParticipantSID, State: livekit.ParticipantInfo_ACTIVE}
			if err := conn.Send(participantUpdate(self)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * testRoomTimeout)
			if err := w.fatalErr(); err != nil {
				t.Fatalf("ended with %v while another participant was in the room", err)
			}
			left := time.Now()
			if err := conn.Send(participantUpdate(viewer(livekit.ParticipantInfo_DISCONNECTED))); err != nil {
				t.Fatal(err)
			}
			err := w.waitFatal(t)
			if !errors.Is(err, ErrRoomTimeout) {
				t.Fatalf("ended with %v, want ErrRoomTimeout", err)
			}
			if took := time.Since(left); took < testRoomTimeout {
				t.Fatalf("ended %s after the last participant left, before the room timeout (%s)", took, testRoomTimeout)
			}
		})
	}
}
