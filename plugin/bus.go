package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"sort"
	"strings"

	"github.com/golivekitsink/golivekitsink/session"
)

// Bus messages posted by golivekitsink:
//
//	ERROR   (resource/settings or not-found) "signaller::<prop> is not set" ... at NULL->READY
//	ERROR   (stream/failed) "Signalling error: <err>"      session.Handler.OnFatal
//	WARNING (stream/failed) "<err>"                        session.Handler.OnWarning
//	WARNING (stream/failed) "<pad>: <err>"                 OnTrackError, AddTrack failures
//	ELEMENT golivekitsink-connection, state=(string), reason=(string),
//	        attempt=(int), participant-sid=(string), region=(string),
//	        url=(string), elapsed-ms=(guint64),
//	        track-sids=(string)"video_0=TR_x,audio_0=TR_y",
//	        transport=(string)"udp/host" (media path when connected: udp|tcp / host|srflx|prflx|relay)

func postError(el *C.GstElement, domain C.GQuark, code C.gint, text, debug string) {
	withCString(text, func(ct *C.char) {
		withCString(debug, func(cd *C.char) {
			C.lk_post_error(el, domain, code, ct, cd)
		})
	})
}

func postWarning(el *C.GstElement, domain C.GQuark, code C.gint, text, debug string) {
	withCString(text, func(ct *C.char) {
		withCString(debug, func(cd *C.char) {
			C.lk_post_warning(el, domain, code, ct, cd)
		})
	})
}

// trackSIDString renders name->SID pairs sorted by name: "audio_0=TR_b,video_0=TR_a".
func trackSIDString(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(m[n])
	}
	return b.String()
}

func postConnection(el *C.GstElement, sc session.StateChange) {
	strs := []string{sc.State.String(), sc.Reason, sc.ParticipantSID, sc.Region, sc.URL, trackSIDString(sc.TrackSIDs), sc.Transport}
	cs := make([]*C.char, len(strs))
	for i, s := range strs {
		cs[i] = C.CString(s)
	}
	defer func() {
		for _, c := range cs {
			freeC(c)
		}
	}()
	C.lk_post_connection(el, cs[0], cs[1], C.gint(sc.Attempt), cs[2], cs[3], cs[4],
		C.guint64(sc.Elapsed.Milliseconds()), cs[5], cs[6])
}
