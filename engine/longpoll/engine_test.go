package longpoll_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/engine/longpoll"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
	kefu "github.com/kefu-im/kefu/sdk/go"
	"github.com/prometheus/client_golang/prometheus"
)

// The engine is the Handler.
var _ longpoll.Handler = (*engine.Engine)(nil)

// startReal runs a real kefu (internal/testserver) and a long-poll Server
// over its engine behind its own HTTP server on 127.0.0.1.
func startReal(t *testing.T) (*testserver.Server, *longpoll.Server, string) {
	t.Helper()
	ts := testserver.Start(t)
	g := ts.Config.Gateway
	lp, err := longpoll.New(longpoll.Options{Handler: ts.Engine, MaxBodyBytes: g.MaxFrameBytes, OutboundLimit: g.OutboundLimit, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	lp.Mount(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { // before the kefu stops (cleanups run last first)
		lp.Close()
		hs.Close()
	})
	return ts, lp, hs.URL
}

func dialAgent(t *testing.T, ts *testserver.Server, user string) *kefu.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := kefu.Dial(ctx, kefu.Options{Addr: ts.WSURL(), Site: testserver.Site, User: user, Role: proto.Role_ROLE_AGENT, Token: testserver.AgentToken(user)})
	if err != nil {
		t.Fatalf("agent dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func isType(typ proto.Type, id uint64) func(*proto.Envelope) bool {
	return func(e *proto.Envelope) bool { return e.Type == typ && e.Id == id }
}

// TestWithEngine: a long-poll visitor and a WebSocket agent in one
// conversation see the same stream; a lost poll answer comes again; a
// resend with the same client_msg_id is de-duplicated; events relay both
// ways; a foreign origin is refused by the engine's allow-list.
func TestWithEngine(t *testing.T) {
	ts, lp, base := startReal(t)
	v := longpoll.NewTestClient(t, base)
	v.Origin = "http://allowed.example" // testserver's allow-list
	if got := v.Connect(longpoll.Hello("lp-visitor")); len(got) != 1 || got[0].Type != proto.Type_TYPE_WELCOME || got[0].Sender != "v:lp-visitor" {
		t.Fatalf("connect: %v", got)
	}
	// seen collects the (seq, body) each side learns of.
	vSeen, aSeen := map[uint64]string{}, map[uint64]string{}
	note := func(m map[uint64]string, es ...*proto.Envelope) {
		for _, e := range es {
			if e.Type == proto.Type_TYPE_MESSAGE {
				m[e.Seq] = e.Body
			}
		}
	}
	v.Send(&proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	got := v.Until(isType(proto.Type_TYPE_JOINED, 2))
	note(vSeen, got...)
	conv := got[len(got)-1].Conversation
	if conv == "" {
		t.Fatalf("joined without a conversation: %v", got)
	}
	v.Send(&proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: conv, ClientMsgId: "m-1", Body: "Over long-poll <b>"})
	got = v.Until(isType(proto.Type_TYPE_ACK, 3))
	note(vSeen, got...)
	s1 := got[len(got)-1].Seq
	vSeen[s1] = "Over long-poll <b>"

	a := dialAgent(t, ts, "alice")
	page, err := a.Join(ctx5(t), conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	note(aSeen, page.Messages...)
	if aSeen[s1] != "Over long-poll <b>" {
		t.Fatalf("agent joined with %v, want seq %d", page.Messages, s1)
	}
	ack, err := a.Send(ctx5(t), conv, "a-1", "From the agent")
	if err != nil {
		t.Fatal(err)
	}
	aSeen[ack.Seq] = "From the agent"
	before := v.Next
	got = v.Until(func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_MESSAGE && e.Seq == ack.Seq })
	note(vSeen, got...)
	if m := got[len(got)-1]; m.Body != "From the agent" || m.Sender != "a:alice" {
		t.Fatalf("visitor got %v", m)
	}
	// The answer is lost: the next poll with the old ack brings it again.
	v.Next = before
	if again := v.Poll(0); !slices.ContainsFunc(again, func(e *proto.Envelope) bool { return e.Seq == ack.Seq && e.Body == "From the agent" }) {
		t.Fatalf("lost answer not sent again: %v", again)
	}

	// A resend of m-1 is acknowledged with its first seq and stored once.
	v.Send(&proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 5, Conversation: conv, ClientMsgId: "m-1", Body: "Over long-poll <b>"})
	got = v.Until(isType(proto.Type_TYPE_ACK, 5))
	note(vSeen, got...)
	if dup := got[len(got)-1]; dup.Seq != s1 || dup.ClientMsgId != "m-1" {
		t.Fatalf("resend acknowledged as %v, want seq %d", dup, s1)
	}

	// Typing both ways; the visitor's read reaches the agent.
	v.Send(&proto.Envelope{Type: proto.Type_TYPE_EVENT, Conversation: conv, Event: "typing"})
	if e := agentNext(t, a, proto.Type_TYPE_EVENT); e.Event != "typing" || e.Sender != "v:lp-visitor" {
		t.Fatalf("agent got %v", e)
	}
	if err := a.Event(conv, "typing", 0); err != nil {
		t.Fatal(err)
	}
	got = v.Until(func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_EVENT && e.Sender == "a:alice" })
	note(vSeen, got...)

	// One more each way, then both have seen the same stream: the log.
	v.Send(&proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 6, Conversation: conv, ClientMsgId: "m-2", Body: "Thanks"})
	got = v.Until(isType(proto.Type_TYPE_ACK, 6))
	note(vSeen, got...)
	vSeen[got[len(got)-1].Seq] = "Thanks"
	m := agentNext(t, a, proto.Type_TYPE_MESSAGE)
	note(aSeen, m)
	if m.ClientMsgId != "m-2" {
		t.Fatalf("agent got %v, want m-2 (the resend of m-1 must not reach it)", m)
	}
	log, err := a.Replay(ctx5(t), conv, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{}
	note(want, log.Messages...)
	for seq, body := range want {
		if vSeen[seq] != body || aSeen[seq] != body {
			t.Errorf("seq %d %q: visitor saw %q, agent %q", seq, body, vSeen[seq], aSeen[seq])
		}
	}
	if len(vSeen) != len(want) || len(aSeen) != len(want) {
		t.Errorf("log %v\nvisitor %v\nagent %v", want, vSeen, aSeen)
	}

	// The engine's allow-list decides the origin.
	evil := longpoll.NewTestClient(t, base)
	evil.Origin = "http://evil.example"
	if st, _, _ := evil.Do("POST", "connect", proto.AppendJSON(nil, longpoll.Hello("x"))); st != http.StatusForbidden {
		t.Fatalf("foreign origin: %d", st)
	}
	// A refused HELLO is 401 with the engine's error.
	bad := longpoll.NewTestClient(t, base)
	st, ans, _ := bad.Do("POST", "connect", proto.AppendJSON(nil, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1, Hello: &proto.Hello{Site: testserver.Site, Role: proto.Role_ROLE_AGENT, User: "mallory", Token: "1.x"}}))
	if env := bad.Envelopes(ans); st != http.StatusUnauthorized || len(env) != 1 || env[0].Error.GetCode() != proto.Code_CODE_UNAUTHENTICATED {
		t.Fatalf("bad token: %d %v", st, env)
	}
	if st, _, _ := v.Do("POST", "close", nil); st != http.StatusOK || lp.Sessions() != 0 {
		t.Fatalf("close: %d, %d sessions", st, lp.Sessions())
	}
}

// agentNext returns the agent's next pushed envelope of type typ, failing
// on a MESSAGE it did not ask for.
func agentNext(t *testing.T, a *kefu.Client, typ proto.Type) *proto.Envelope {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-a.Messages():
			if !ok {
				t.Fatalf("agent connection ended: %v", a.Err())
			}
			if e.Type == typ {
				return e
			}
			if e.Type == proto.Type_TYPE_MESSAGE && e.Sender != "s:system" {
				t.Fatalf("agent got an unexpected message: %v", e)
			}
		case <-timeout:
			t.Fatalf("agent: no %v within 10s", typ)
		}
	}
}

// TestResumeWithCursors: a new session resumes a conversation with HELLO
// cursors, getting exactly what it missed.
func TestResumeWithCursors(t *testing.T) {
	ts, _, base := startReal(t)
	v := longpoll.NewTestClient(t, base)
	v.Connect(longpoll.Hello("v-resume"))
	v.Send(&proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	got := v.Until(isType(proto.Type_TYPE_JOINED, 2))
	conv := got[len(got)-1].Conversation
	v.Send(&proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: conv, ClientMsgId: "m-1", Body: "one"})
	got = v.Until(isType(proto.Type_TYPE_ACK, 3))
	cursor := got[len(got)-1].Seq
	if st, _, _ := v.Do("POST", "close", nil); st != http.StatusOK {
		t.Fatal("close")
	}
	a := dialAgent(t, ts, "bob")
	if _, err := a.Join(ctx5(t), conv, 0); err != nil {
		t.Fatal(err)
	}
	ack, err := a.Send(ctx5(t), conv, "", "missed while away")
	if err != nil {
		t.Fatal(err)
	}
	v2 := longpoll.NewTestClient(t, base)
	h := longpoll.Hello("v-resume")
	h.Cursors = []*proto.Cursor{{Conversation: conv, Seq: cursor}}
	all := v2.Connect(h)
	all = append(all, v2.Until(func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_JOINED && e.Conversation == conv })...)
	var bodies []string
	for _, e := range all {
		if e.Type == proto.Type_TYPE_MESSAGE && e.Sender != "s:system" {
			bodies = append(bodies, e.Body)
		}
	}
	if !slices.Equal(bodies, []string{"missed while away"}) || all[len(all)-1].Seq < ack.Seq {
		t.Fatalf("resumed with %v", all)
	}
}
