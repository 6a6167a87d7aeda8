package session

import (
	"errors"
	"strings"
	"testing"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

func isUpdate(match func(*livekit.UpdateParticipantMetadata) bool) func(*livekit.SignalRequest) bool {
	return func(r *livekit.SignalRequest) bool {
		u := r.GetUpdateMetadata()
		return u != nil && match(u)
	}
}

func TestParticipantUpdatesAreSentAndReappliedToANewParticipant(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, w, conn, first := connected(t, srv, nil)
	if err := s.SetName("Camera 1"); err != nil {
		t.Fatal(err)
	}
	_ = s.SetMetadata(`{"room":"hall"}`)
	_ = s.SetAttributes(map[string]string{"kind": "camera", "floor": "2"})
	_ = s.SetAttributes(map[string]string{"floor": ""}) // removes it
	conn.WaitRequest(waitLong, isUpdate(func(u *livekit.UpdateParticipantMetadata) bool {
		_, floor := u.GetAttributes()["floor"]
		return u.GetAttributes()["floor"] == "" && floor
	}))
	var names, metas []string
	for _, r := range conn.Requests() {
		if u := r.GetUpdateMetadata(); u != nil {
			if u.GetRequestId() == 0 {
				t.Fatalf("update without a request id: %v", u)
			}
			names, metas = append(names, u.GetName()), append(metas, u.GetMetadata())
		}
	}
	if !strings.Contains(strings.Join(names, ","), "Camera 1") || !strings.Contains(strings.Join(metas, ","), "hall") {
		t.Fatalf("updates sent names %q metadata %q", names, metas)
	}

	// A full reconnect makes a new participant: it gets all of it at once.
	from := w.count()
	if err := s.Simulate("leave-full-reconnect"); err != nil {
		t.Fatal(err)
	}
	back, _ := w.waitState(t, from, StateConnected)
	if back.ParticipantSID == first.ParticipantSID {
		t.Fatal("no new participant after the full reconnect")
	}
	second := srv.Connects()[len(srv.Connects())-1].Conn
	second.WaitRequest(waitLong, isUpdate(func(u *livekit.UpdateParticipantMetadata) bool {
		a := u.GetAttributes()
		return u.GetName() == "Camera 1" && u.GetMetadata() == `{"room":"hall"}` && a["kind"] == "camera" && a["floor"] == ""
	}))
}

func TestRefusedUpdateWarnsNamingTheGrant(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, w, conn, _ := connected(t, srv, nil)
	_ = s.SetMetadata("x")
	req := conn.WaitRequest(waitLong, isUpdate(func(*livekit.UpdateParticipantMetadata) bool { return true })).GetUpdateMetadata()
	// What livekit-server answers a token without canUpdateOwnMetadata.
	if err := conn.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{
		RequestId: req.GetRequestId(), Reason: livekit.RequestResponse_NOT_ALLOWED,
		Message: "does not have permission to update own metadata",
		Request: &livekit.RequestResponse_UpdateMetadata{UpdateMetadata: req},
	}}}); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "a warning", func() bool { return len(w.warnings) > 0 })
	err := w.warnings[0]
	if !errors.Is(err, ErrMetadataNotAllowed) || !strings.Contains(err.Error(), "canUpdateOwnMetadata") {
		t.Fatalf("warning %v, want ErrMetadataNotAllowed naming canUpdateOwnMetadata", err)
	}
	if w.fatalErr() != nil {
		t.Fatalf("a refused update ended the session: %v", w.fatalErr())
	}
}
