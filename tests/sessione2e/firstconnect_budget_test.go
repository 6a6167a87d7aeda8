package sessione2e

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/session"
)

// ReconnectBudget bounds the first connect too: a server that is never
// reached ends the session with ErrBudgetSpent naming the budget and the
// server, whether the connection is refused or hangs.
func TestBudgetBoundsTheFirstConnect(t *testing.T) {
	const budget = 2 * time.Second
	for name, listen := range map[string]func(t *testing.T) string{
		"refused": func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close() // nothing listens there any more
			return addr
		},
		// Accepts and never answers: a dial is in flight when the budget ends.
		"silent": func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			accepted := make(chan []net.Conn, 1)
			go func() {
				var conns []net.Conn
				for {
					c, err := l.Accept()
					if err != nil {
						accepted <- conns
						return
					}
					conns = append(conns, c)
				}
			}()
			t.Cleanup(func() {
				l.Close()
				for _, c := range <-accepted {
					c.Close()
				}
			})
			return l.Addr().String()
		},
	} {
		t.Run(name, func(t *testing.T) {
			addr := listen(t)
			ev := newEvents(t)
			s, err := session.New(session.Config{URL: "ws://" + addr, APIKey: "k", APISecret: "secret", Room: "r",
				Identity: "pub", ReconnectBudget: budget, Logger: testLogger{t}}, ev)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			s.Start()
			t.Cleanup(s.Close)
			err = ev.waitFatal(budget + 5*time.Second)
			took := time.Since(start)
			if !errors.Is(err, session.ErrBudgetSpent) {
				t.Fatalf("fatal %v, want ErrBudgetSpent", err)
			}
			if took < budget || took > budget+time.Second {
				t.Errorf("gave up after %s, want the %s budget", took, budget)
			}
			for _, want := range []string{"reconnect-budget", addr, "not connected"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
