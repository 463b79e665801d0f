package engine_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
)

// TestRestartKeepsAckedMessages: everything acknowledged before a restart
// is there after it, in order, once; seq continues without a gap.
func TestRestartKeepsAckedMessages(t *testing.T) {
	dir := t.TempDir()
	s := testserver.StartAt(t, dir)
	v := dialFrame(t, s.Addr())
	visitor(t, v, "durable")
	conv := open(t, v, 2)
	const n = 50
	for i := range n {
		sendMsg(t, v, uint64(10+i), conv, fmt.Sprintf("m%d", i), fmt.Sprintf("body %d", i))
	}
	v.close()
	s.Stop()

	s = testserver.StartAt(t, dir)
	a := dialGobwas(t, s.WSURL())
	defer a.close()
	agent(t, a, "after-restart")
	missed, joined := join(t, a, 2, conv, 0)
	if len(missed) != n || joined.Seq != n || joined.More {
		t.Fatalf("after restart: %d missed, JOINED %v", len(missed), joined)
	}
	for i, m := range missed {
		if m.Seq != uint64(i+1) || m.Body != fmt.Sprintf("body %d", i) || m.ClientMsgId != fmt.Sprintf("m%d", i) {
			t.Fatalf("message %d = %v", i, m)
		}
	}
	// seq continues, and a resend of a pre-restart id is still recognised.
	v = dialFrame(t, s.Addr())
	defer v.close()
	visitor(t, v, "durable")
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 3, Conversation: conv, Seq: n})
	if j := expect(t, v, proto.Type_TYPE_JOINED); j.Seq != n {
		t.Fatalf("re-OPEN: %v", j)
	}
	if ack := sendMsg(t, v, 4, conv, "m7", "body 7"); ack.Seq != 8 {
		t.Fatalf("resend after restart got seq %d, want 8", ack.Seq)
	}
	if ack := sendMsg(t, v, 5, conv, "new", "after"); ack.Seq != n+1 {
		t.Fatalf("first seq after restart %d, want %d", ack.Seq, n+1)
	}
	if m := expect(t, a, proto.Type_TYPE_MESSAGE); m.Seq != n+1 {
		t.Fatalf("agent got %v", m)
	}
}

// TestReconnectReceivesExactlyWhatItMissed: a client that drops and comes
// back with its cursor (in HELLO) gets the messages after it, once, then
// live ones.
func TestReconnectReceivesExactlyWhatItMissed(t *testing.T) {
	s := testserver.Start(t)
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			v := dialFrame(t, s.Addr())
			defer v.close()
			visitor(t, v, "v-"+d.name)
			conv := open(t, v, 2)
			a := d.dial(t, s)
			agent(t, a, "a-"+d.name)
			join(t, a, 2, conv, 0)
			for i := range 3 {
				sendMsg(t, v, uint64(10+i), conv, fmt.Sprintf("before%d", i), "before")
				expect(t, a, proto.Type_TYPE_MESSAGE)
			}
			a.close() // the agent saw seq 3
			for i := range 4 {
				sendMsg(t, v, uint64(20+i), conv, fmt.Sprintf("during%d", i), fmt.Sprintf("during %d", i))
			}
			a = d.dial(t, s)
			defer a.close()
			hello(t, a, proto.Role_ROLE_AGENT, "a-"+d.name, testserver.AgentToken("a-"+d.name),
				&proto.Cursor{Conversation: conv, Seq: 3})
			for i := range 4 {
				m := expect(t, a, proto.Type_TYPE_MESSAGE)
				if m.Seq != uint64(4+i) || m.Body != fmt.Sprintf("during %d", i) {
					t.Fatalf("missed message %d = %v", i, m)
				}
			}
			if j := expect(t, a, proto.Type_TYPE_JOINED); j.Seq != 7 || j.More {
				t.Fatalf("JOINED after resume = %v", j)
			}
			ack := sendMsg(t, v, 30, conv, "after", "live")
			if m := expect(t, a, proto.Type_TYPE_MESSAGE); m.Seq != ack.Seq || m.Seq != 8 {
				t.Fatalf("live after resume = %v", m)
			}
		})
	}
}

// TestReplayPages: a long history comes in pages with `more`.
func TestReplayPages(t *testing.T) {
	s := testserver.Start(t)
	v := dialFrame(t, s.Addr())
	defer v.close()
	visitor(t, v, "pager")
	conv := open(t, v, 2)
	for i := range 25 {
		sendMsg(t, v, uint64(10+i), conv, fmt.Sprintf("p%d", i), "x")
	}
	var cursor uint64
	pages := 0
	for {
		v.send(t, &proto.Envelope{Type: proto.Type_TYPE_REPLAY, Id: 100, Conversation: conv, Seq: cursor, Limit: 10})
		got := 0
		for {
			env := v.recv(t)
			if env.Type == proto.Type_TYPE_REPLAY_END {
				if env.Seq != cursor {
					t.Fatalf("REPLAY_END seq %d, last sent %d", env.Seq, cursor)
				}
				pages++
				if !env.More {
					if cursor != 25 || pages != 3 {
						t.Fatalf("ended at %d after %d pages", cursor, pages)
					}
					return
				}
				break
			}
			if env.Seq != cursor+1 {
				t.Fatalf("replayed seq %d after %d", env.Seq, cursor)
			}
			cursor = env.Seq
			got++
		}
		if got != 10 {
			t.Fatalf("page of %d", got)
		}
	}
}

// TestDrain: on shutdown, readiness goes false, WebSocket clients get close
// 1001 and binary clients GOAWAY, and what was acked stays acked.
func TestDrain(t *testing.T) {
	dir := t.TempDir()
	s := testserver.StartAt(t, dir)
	g := dialGorilla(t, s.WSURL(), nil)
	defer g.close()
	visitor(t, g, "drainee")
	conv := open(t, g, 2)
	sendMsg(t, g, 3, conv, "d1", "before drain")
	f := dialFrame(t, s.Addr())
	defer f.close()
	agent(t, f, "drain-agent")
	join(t, f, 2, conv, 0)

	if code := httpStatus(t, s.HTTPURL()+"/readyz"); code != 200 {
		t.Fatalf("readyz before drain: %d", code)
	}
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()

	_ = g.c.SetReadDeadline(time.Now().Add(readTimeout))
	_, _, err := g.c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("WebSocket client: %v, want close 1001", err)
	}
	if env := f.recv(t); env.Type != proto.Type_TYPE_GOAWAY {
		t.Fatalf("frame client got %v, want GOAWAY", env)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not finish")
	}
	s = testserver.StartAt(t, dir)
	a := dialFrame(t, s.Addr())
	defer a.close()
	agent(t, a, "drain-agent")
	if missed, _ := join(t, a, 2, conv, 0); len(missed) != 1 || missed[0].Body != "before drain" {
		t.Fatalf("after drain and restart: %v", missed)
	}
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}
