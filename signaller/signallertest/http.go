package signallertest

import (
	"net/http"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
)

// The plain HTTP endpoints next to /rtc.

func (s *Server) serveValidate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.validates = append(s.validates, r.URL.RawQuery)
	var last Answer
	if n := len(s.connects); n > 0 {
		last = s.connects[n-1].Answer
	}
	s.bump()
	s.mu.Unlock()
	if !s.authorized(r) {
		http.Error(w, "validate: invalid token", http.StatusUnauthorized)
		return
	}
	if last.Status == 0 {
		_, _ = w.Write([]byte("success"))
		return
	}
	w.WriteHeader(last.Status)
	_, _ = w.Write([]byte(last.Validate))
}

func (s *Server) serveRegions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.regionHits++
	rs := s.regions
	s.bump()
	s.mu.Unlock()
	if !s.authorized(r) {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	if rs == nil {
		http.NotFound(w, r)
		return
	}
	b, err := protojson.Marshal(rs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if s.o.Token != "" {
		return h == "Bearer "+s.o.Token
	}
	return strings.HasPrefix(h, "Bearer ") && len(h) > len("Bearer ")
}
