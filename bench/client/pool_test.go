package client

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/testserver"
	pb "github.com/kefu-im/kefu/proto"
)

// recorder is a Handler that forwards events to channels (tests only).
type recorder struct {
	mu     sync.Mutex
	ready  chan *Conn
	msgs   chan recorded
	closed chan string
	ticks  int
}

type recorded struct {
	c    *Conn
	typ  pb.Type
	id   uint64
	seq  uint64
	conv string
	cmid string
	code pb.Code
}

func newRecorder() *recorder {
	return &recorder{ready: make(chan *Conn, 64), msgs: make(chan recorded, 256), closed: make(chan string, 64)}
}

func (r *recorder) Ready(c *Conn) { r.ready <- c }
func (r *recorder) Message(c *Conn, m *Msg) {
	r.msgs <- recorded{c, m.Type, m.ID, m.Seq, string(m.Conversation), string(m.ClientMsgID), m.Code}
}
func (r *recorder) Closed(c *Conn, reason string) { r.closed <- reason }
func (r *recorder) Tick(*Loop, time.Duration) {
	r.mu.Lock()
	r.ticks++
	r.mu.Unlock()
}

func waitMsg(t *testing.T, ch chan recorded, typ pb.Type) recorded {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-ch:
			if m.typ == typ {
				return m
			}
		case <-timeout:
			t.Fatalf("no %v within 5s", typ)
		}
	}
}

func TestPoolRelay(t *testing.T) {
	srv := testserver.Start(t)
	for _, tr := range []Transport{Frame, WSJSON, WSProto} {
		t.Run(tr.String(), func(t *testing.T) {
			rec := newRecorder()
			p, err := New(Options{
				Addr: srv.Addr(), Transport: tr, Loops: 2, Handler: rec, Tick: 10 * time.Millisecond,
				Sources: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(2 * time.Second)
			ctx := context.Background()
			v := &Conn{Hello: Hello{Site: testserver.Site, Role: pb.Role_ROLE_VISITOR, User: "v-" + tr.String()}}
			a := &Conn{Hello: Hello{Site: testserver.Site, Role: pb.Role_ROLE_AGENT, User: "a-" + tr.String(),
				Token: testserver.AgentToken("a-" + tr.String())}}
			for _, c := range []*Conn{v, a} {
				if err := p.Dial(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				select {
				case <-rec.ready:
				case r := <-rec.closed:
					t.Fatalf("closed before ready: %s", r)
				case <-time.After(5 * time.Second):
					t.Fatal("not welcomed")
				}
			}
			v.Loop().Exec(func() { v.Send(&Request{Type: pb.Type_TYPE_OPEN}) })
			joined := waitMsg(t, rec.msgs, pb.Type_TYPE_JOINED)
			if joined.conv == "" || joined.c != v {
				t.Fatalf("bad JOINED %+v", joined)
			}
			a.Loop().Exec(func() { a.Send(&Request{Type: pb.Type_TYPE_JOIN, Conversation: []byte(joined.conv)}) })
			if j := waitMsg(t, rec.msgs, pb.Type_TYPE_JOINED); j.c != a {
				t.Fatalf("JOINED for the wrong connection")
			}
			v.Loop().Exec(func() {
				v.Send(&Request{Type: pb.Type_TYPE_SEND, Conversation: []byte(joined.conv), ClientMsgID: []byte("m1"), Body: []byte(`hello "world"`)})
			})
			var gotAck, gotMsg bool
			for !gotAck || !gotMsg {
				select {
				case m := <-rec.msgs:
					switch {
					case m.typ == pb.Type_TYPE_ACK && m.c == v && m.seq == 1 && m.cmid == "m1":
						gotAck = true
					case m.typ == pb.Type_TYPE_MESSAGE && m.c == a && m.seq == 1 && m.cmid == "m1":
						gotMsg = true
					default:
						t.Fatalf("unexpected %+v", m)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("ack %v message %v", gotAck, gotMsg)
				}
			}
			if err := p.Close(2 * time.Second); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if r := <-rec.closed; r != "client_close" {
					t.Fatalf("close reason %q", r)
				}
			}
		})
	}
}

func TestPoolHelloRefused(t *testing.T) {
	srv := testserver.Start(t)
	for _, tr := range []Transport{Frame, WSJSON} {
		rec := newRecorder()
		p, err := New(Options{Addr: srv.Addr(), Transport: tr, Loops: 1, Handler: rec})
		if err != nil {
			t.Fatal(err)
		}
		c := &Conn{Hello: Hello{Site: testserver.Site, Role: pb.Role_ROLE_AGENT, User: "x", Token: "1.bad"}}
		if err := p.Dial(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-rec.closed:
			if r != "hello_unauthenticated" {
				t.Fatalf("%v: reason %q", tr, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("not closed")
		}
		p.Close(time.Second)
	}
}
