package gorillahub

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	pb "github.com/kefu-im/kefu/proto"
)

func dial(t *testing.T, h *Hub) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+h.Addr()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c *websocket.Conn, e *pb.Envelope) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, pb.AppendJSON(nil, e)); err != nil {
		t.Fatal(err)
	}
}

func recv(t *testing.T, c *websocket.Conn) *pb.Envelope {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var e pb.Envelope
	if err := pb.UnmarshalJSON(b, &e); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return &e
}

func TestRelay(t *testing.T) {
	h, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())

	v, a := dial(t, h), dial(t, h)
	send(t, v, &pb.Envelope{Type: pb.Type_TYPE_OPEN, Id: 1})
	if e := recv(t, v); e.Type != pb.Type_TYPE_ERROR || e.Error.GetCode() != pb.Code_CODE_UNAUTHENTICATED || e.Id != 1 {
		t.Fatalf("before HELLO: %v", e)
	}
	send(t, v, &pb.Envelope{Type: pb.Type_TYPE_HELLO, Id: 2, Hello: &pb.Hello{Site: "demo", Role: pb.Role_ROLE_VISITOR, User: "v1"}})
	if e := recv(t, v); e.Type != pb.Type_TYPE_WELCOME || e.Sender != "v:v1" || e.Id != 2 {
		t.Fatalf("welcome: %v", e)
	}
	send(t, a, &pb.Envelope{Type: pb.Type_TYPE_HELLO, Id: 1, Hello: &pb.Hello{Site: "demo", Role: pb.Role_ROLE_AGENT, User: "a1"}})
	if e := recv(t, a); e.Sender != "a:a1" {
		t.Fatalf("agent welcome: %v", e)
	}
	send(t, v, &pb.Envelope{Type: pb.Type_TYPE_OPEN, Id: 3})
	joined := recv(t, v)
	if joined.Type != pb.Type_TYPE_JOINED || joined.Conversation == "" || joined.Id != 3 {
		t.Fatalf("joined: %v", joined)
	}
	send(t, a, &pb.Envelope{Type: pb.Type_TYPE_JOIN, Id: 2, Conversation: "nope"})
	if e := recv(t, a); e.Error.GetCode() != pb.Code_CODE_NOT_FOUND {
		t.Fatalf("unknown conversation: %v", e)
	}
	send(t, a, &pb.Envelope{Type: pb.Type_TYPE_JOIN, Id: 3, Conversation: joined.Conversation})
	if e := recv(t, a); e.Type != pb.Type_TYPE_JOINED || e.Seq != 0 {
		t.Fatalf("agent joined: %v", e)
	}
	for i, body := range []string{"hi", "there"} {
		send(t, v, &pb.Envelope{Type: pb.Type_TYPE_SEND, Id: uint64(10 + i), Conversation: joined.Conversation, ClientMsgId: body, Body: body})
		ack := recv(t, v)
		if ack.Type != pb.Type_TYPE_ACK || ack.Seq != uint64(i+1) || ack.ClientMsgId != body || ack.Id != uint64(10+i) {
			t.Fatalf("ack: %v", ack)
		}
		m := recv(t, a)
		if m.Type != pb.Type_TYPE_MESSAGE || m.Seq != uint64(i+1) || m.Body != body || m.Sender != "v:v1" || m.ClientMsgId != body {
			t.Fatalf("message: %v", m)
		}
	}
	if s := h.Stats(); s.Connections != 2 || s.Messages != 2 {
		t.Fatalf("stats %+v", s)
	}
	send(t, v, &pb.Envelope{Type: pb.Type_TYPE_REPLAY, Id: 20})
	if e := recv(t, v); e.Error.GetCode() != pb.Code_CODE_UNSUPPORTED {
		t.Fatalf("outside the subset: %v", e)
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(Options{PingPeriod: time.Minute, PongWait: time.Second}); err == nil {
		t.Fatal("pong wait below ping period accepted")
	}
}
