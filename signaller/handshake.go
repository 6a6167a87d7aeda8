package signaller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// readFirst reads one frame with the dial deadline. A cancelled ctx closes
// the socket so the read returns at once; the watcher goroutine is joined
// before returning.
func readFirst(ctx context.Context, ws *websocket.Conn, deadline time.Time) (*livekit.SignalResponse, error) {
	_ = ws.SetReadDeadline(deadline)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer recoverLogged(nil, "first-message watcher")
		select {
		case <-ctx.Done():
			_ = ws.NetConn().Close()
		case <-stop:
		}
	}()
	mt, data, err := ws.ReadMessage()
	close(stop)
	wg.Wait()

	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, ErrFirstFrameTimeout
		}
		return nil, classifyReadErr(err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	msg, err := decode(mt, data)
	if err != nil {
		return nil, fmt.Errorf("signaller: first message: %w", err)
	}
	return msg, nil
}

// upgradeRefused builds an *HTTPError. When the refusal has no body, ask
// /rtc/validate for the reason, as the SDKs do.
func upgradeRefused(ctx context.Context, wsURL string, header http.Header, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	he := &HTTPError{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	if he.Message != "" {
		return he
	}
	u, err := httpForm(wsURL)
	if err != nil {
		return he
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/validate"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return he
	}
	req.Header = header.Clone()
	vr, err := httpClient.Do(req)
	if err != nil {
		return he
	}
	defer vr.Body.Close()
	vb, _ := io.ReadAll(io.LimitReader(vr.Body, maxErrorBody))
	he.Message = strings.TrimSpace(string(vb))
	return he
}

// decode accepts binary protobuf and, like the Go SDK, protojson text frames.
func decode(mt int, data []byte) (*livekit.SignalResponse, error) {
	msg := &livekit.SignalResponse{}
	var err error
	switch mt {
	case websocket.BinaryMessage:
		err = proto.Unmarshal(data, msg)
	case websocket.TextMessage:
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, msg)
	default:
		return nil, fmt.Errorf("unexpected websocket message type %d", mt)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding SignalResponse: %w", err)
	}
	return msg, nil
}

// classifyReadErr turns a server close frame into *CloseError and a frame
// over MaxMessageSize into ErrMessageTooLarge.
func classifyReadErr(err error) error {
	if errors.Is(err, websocket.ErrReadLimit) {
		return ErrMessageTooLarge
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: ce.Code, Text: ce.Text}
	}
	return err
}

// withoutQuery shortens a signalling URL for messages: the query repeats what
// the logs already say and would make every bus message a paragraph. The
// rest is redacted like any URL shown.
func withoutQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return RedactURL(u)
}
