// Command serve serves the built viewer (viewer/dist) on loopback and prints
// a page URL that carries a freshly minted subscriber token, so a browser can
// watch what golivekitsink publishes. Used by scripts/viewer-serve.sh.
//
//	go run ./viewer/serve -ws-url ws://127.0.0.1:7880 -api-key devkey -api-secret S -room demo
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/livekit/protocol/auth"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve the viewer on")
	dir := flag.String("dir", "viewer/dist", "built viewer (scripts/viewer-build.sh)")
	wsURL := flag.String("ws-url", env("LIVEKIT_URL", "ws://127.0.0.1:7880"), "LiveKit server URL the page joins")
	key := flag.String("api-key", env("LIVEKIT_API_KEY", "devkey"), "API key")
	secret := flag.String("api-secret", os.Getenv("LIVEKIT_API_SECRET"), "API secret")
	room := flag.String("room", env("ROOM", "demo"), "room to watch")
	identity := flag.String("identity", "viewer", "identity of the viewer participant")
	ttl := flag.Duration("ttl", 6*time.Hour, "token lifetime")
	flag.Parse()

	if *secret == "" {
		log.Fatal("viewer-serve: -api-secret (or LIVEKIT_API_SECRET) is required")
	}
	if _, err := os.Stat(filepath.Join(*dir, "index.html")); err != nil {
		log.Fatalf("viewer-serve: %v: run scripts/viewer-build.sh", err)
	}
	token, err := SubscriberToken(*key, *secret, *room, *identity, *ttl)
	if err != nil {
		log.Fatalf("viewer-serve: token: %v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("viewer-serve: %v", err)
	}
	// The one line scripts and tests parse: keep its shape.
	fmt.Printf("viewer: http://%s/?%s\n", ln.Addr(), url.Values{"url": {*wsURL}, "token": {token}}.Encode())

	srv := &http.Server{Handler: http.FileServer(http.Dir(*dir)), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		log.Fatalf("viewer-serve: %v", err)
	}
}

// SubscriberToken mints a join token that may subscribe but not publish.
func SubscriberToken(key, secret, room, identity string, ttl time.Duration) (string, error) {
	canPublish, canSubscribe := false, true
	at := auth.NewAccessToken(key, secret).
		SetIdentity(identity).
		SetName(identity).
		SetValidFor(ttl).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &canPublish, CanSubscribe: &canSubscribe})
	return at.ToJWT()
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
