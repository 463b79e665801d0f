package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
)

func hello(t *testing.T, c client, role proto.Role, user, tok string, cursors ...*proto.Cursor) {
	t.Helper()
	c.send(t, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1, Cursors: cursors,
		Hello: &proto.Hello{Site: testserver.Site, Role: role, User: user, Token: tok}})
	w := expect(t, c, proto.Type_TYPE_WELCOME)
	if w.Id != 1 {
		t.Fatalf("WELCOME id %d", w.Id)
	}
}

func visitor(t *testing.T, c client, user string) {
	t.Helper()
	hello(t, c, proto.Role_ROLE_VISITOR, user, "")
}

func agent(t *testing.T, c client, user string) {
	t.Helper()
	hello(t, c, proto.Role_ROLE_AGENT, user, testserver.AgentToken(user))
}

// expect reads the next envelope and checks its type.
func expect(t *testing.T, c client, typ proto.Type) *proto.Envelope {
	t.Helper()
	env := c.recv(t)
	if env.Type != typ {
		t.Fatalf("got %v (%v), want %v", env.Type, env, typ)
	}
	return env
}

func open(t *testing.T, c client, id uint64) string {
	t.Helper()
	c.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: id})
	j := expect(t, c, proto.Type_TYPE_JOINED)
	if j.Id != id || j.Conversation == "" || j.Seq != 0 {
		t.Fatalf("JOINED = %v", j)
	}
	return j.Conversation
}

func join(t *testing.T, c client, id uint64, conv string, cursor uint64) (missed []*proto.Envelope, joined *proto.Envelope) {
	t.Helper()
	c.send(t, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Id: id, Conversation: conv, Seq: cursor})
	for {
		env := c.recv(t)
		switch env.Type {
		case proto.Type_TYPE_MESSAGE:
			missed = append(missed, env)
		case proto.Type_TYPE_JOINED:
			return missed, env
		default:
			t.Fatalf("during JOIN: %v", env)
		}
	}
}

func sendMsg(t *testing.T, c client, id uint64, conv, cmid, body string) *proto.Envelope {
	t.Helper()
	c.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: id, Conversation: conv, ClientMsgId: cmid, Body: body})
	a := expect(t, c, proto.Type_TYPE_ACK)
	if a.Id != id || a.Conversation != conv || a.ClientMsgId != cmid || a.Seq == 0 {
		t.Fatalf("ACK = %v", a)
	}
	return a
}

type dialer struct {
	name string
	dial func(t *testing.T, s *testserver.Server) client
}

var dialers = []dialer{
	{"gorilla-json", func(t *testing.T, s *testserver.Server) client { return dialGorilla(t, s.WSURL(), nil) }},
	{"gobwas-proto", func(t *testing.T, s *testserver.Server) client { return dialGobwas(t, s.WSURL()) }},
	{"frame", func(t *testing.T, s *testserver.Server) client { return dialFrame(t, s.Addr()) }},
}

// TestRelayEveryTransportPair: a visitor and an agent, each on any
// transport, talk through one conversation; acks carry gap-free seqs and
// every message reaches the other side with the same seq.
func TestRelayEveryTransportPair(t *testing.T) {
	s := testserver.Start(t)
	for _, vd := range dialers {
		for _, ad := range dialers {
			t.Run(vd.name+"→"+ad.name, func(t *testing.T) {
				v := vd.dial(t, s)
				defer v.close()
				a := ad.dial(t, s)
				defer a.close()
				visitor(t, v, "visitor-"+vd.name+"-"+ad.name)
				agent(t, a, "agent-"+ad.name)
				conv := open(t, v, 2)
				if missed, j := join(t, a, 2, conv, 0); len(missed) != 0 || j.Seq != 0 {
					t.Fatalf("join of an empty conversation: %v %v", missed, j)
				}
				for i := range 5 {
					ack := sendMsg(t, v, uint64(10+i), conv, fmt.Sprintf("v%d", i), fmt.Sprintf("hello %d", i))
					if ack.Seq != uint64(2*i+1) {
						t.Fatalf("visitor ack seq %d, want %d", ack.Seq, 2*i+1)
					}
					m := expect(t, a, proto.Type_TYPE_MESSAGE)
					if m.Seq != ack.Seq || m.Body != fmt.Sprintf("hello %d", i) || m.Sender != "v:visitor-"+vd.name+"-"+ad.name || m.Ts == 0 {
						t.Fatalf("agent got %v", m)
					}
					ack = sendMsg(t, a, uint64(20+i), conv, fmt.Sprintf("a%d", i), "reply <b>&</b> ☃")
					m = expect(t, v, proto.Type_TYPE_MESSAGE)
					if m.Seq != ack.Seq || m.Body != "reply <b>&</b> ☃" || m.Sender != "a:agent-"+ad.name {
						t.Fatalf("visitor got %v", m)
					}
				}
			})
		}
	}
}

// TestEveryConnectionOfAParticipant: a message reaches all of the other
// side's connections and the sender's other connections, but not the
// sending connection itself (which gets the ACK).
func TestEveryConnectionOfAParticipant(t *testing.T) {
	s := testserver.Start(t)
	v1 := dialGorilla(t, s.WSURL(), nil)
	defer v1.close()
	visitor(t, v1, "multi")
	conv := open(t, v1, 2)
	v2 := dialFrame(t, s.Addr())
	defer v2.close()
	visitor(t, v2, "multi")
	v2.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 3, Conversation: conv})
	expect(t, v2, proto.Type_TYPE_JOINED)
	var agents []client
	for i, d := range dialers {
		a := d.dial(t, s)
		defer a.close()
		agent(t, a, "alice")
		join(t, a, uint64(i+5), conv, 0)
		agents = append(agents, a)
	}
	ack := sendMsg(t, v1, 9, conv, "x", "to everyone")
	for _, a := range agents {
		if m := expect(t, a, proto.Type_TYPE_MESSAGE); m.Seq != ack.Seq {
			t.Fatalf("agent got %v", m)
		}
	}
	if m := expect(t, v2, proto.Type_TYPE_MESSAGE); m.Seq != ack.Seq || m.Body != "to everyone" {
		t.Fatalf("visitor's second connection got %v", m)
	}
	// The agents' answer reaches both visitor connections, and the other
	// agent connections (the same agent on other devices).
	ack = sendMsg(t, agents[0], 10, conv, "y", "answer")
	for _, c := range []client{v1, v2, agents[1], agents[2]} {
		if m := expect(t, c, proto.Type_TYPE_MESSAGE); m.Seq != ack.Seq {
			t.Fatalf("got %v", m)
		}
	}
}

// TestResendSameClientMsgID: a resend gets the original seq and is stored
// once.
func TestResendSameClientMsgID(t *testing.T) {
	s := testserver.Start(t)
	v := dialFrame(t, s.Addr())
	defer v.close()
	visitor(t, v, "resender")
	conv := open(t, v, 2)
	first := sendMsg(t, v, 3, conv, "same-id", "once")
	for i := range 3 {
		again := sendMsg(t, v, uint64(4+i), conv, "same-id", "once")
		if again.Seq != first.Seq {
			t.Fatalf("resend got seq %d, want %d", again.Seq, first.Seq)
		}
	}
	next := sendMsg(t, v, 9, conv, "other-id", "twice")
	if next.Seq != first.Seq+1 {
		t.Fatalf("next seq %d, want %d", next.Seq, first.Seq+1)
	}
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_REPLAY, Id: 10, Conversation: conv})
	var got []uint64
	for {
		env := v.recv(t)
		if env.Type == proto.Type_TYPE_REPLAY_END {
			if env.Seq != next.Seq || env.More {
				t.Fatalf("REPLAY_END %v", env)
			}
			break
		}
		got = append(got, env.Seq)
	}
	if fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("history seqs %v, want [1 2]", got)
	}
}

// TestAuthorization: visitors reach only their own conversations; agents
// only their own site's; nobody sends before joining.
func TestAuthorization(t *testing.T) {
	s := testserver.Start(t)
	owner := dialGorilla(t, s.WSURL(), nil)
	defer owner.close()
	visitor(t, owner, "owner")
	conv := open(t, owner, 2)

	other := dialGorilla(t, s.WSURL(), nil)
	defer other.close()
	visitor(t, other, "intruder")
	other.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 3, Conversation: conv})
	if e := expect(t, other, proto.Type_TYPE_ERROR); e.Error.Code != proto.Code_CODE_NOT_FOUND || e.Id != 3 {
		t.Fatalf("other visitor's OPEN: %v", e)
	}
	other.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 4, Conversation: conv, Body: "hi"})
	if e := expect(t, other, proto.Type_TYPE_ERROR); e.Error.Code != proto.Code_CODE_NOT_FOUND {
		t.Fatalf("other visitor's SEND: %v", e)
	}
	other.send(t, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Id: 5, Conversation: "nosuchconversation"})
	if e := expect(t, other, proto.Type_TYPE_ERROR); e.Error.Code != proto.Code_CODE_NOT_FOUND {
		t.Fatalf("unknown conversation: %v", e)
	}
	other.send(t, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Id: 6, Conversation: "bad id!"})
	if e := expect(t, other, proto.Type_TYPE_ERROR); e.Error.Code != proto.Code_CODE_BAD_REQUEST {
		t.Fatalf("bad conversation id: %v", e)
	}

	a := dialFrame(t, s.Addr())
	defer a.close()
	agent(t, a, "bob")
	a.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 7, Conversation: conv, Body: "not joined"})
	if e := expect(t, a, proto.Type_TYPE_ERROR); e.Error.Code != proto.Code_CODE_FORBIDDEN {
		t.Fatalf("agent SEND before JOIN: %v", e)
	}
	a.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 8})
	if e := expect(t, a, proto.Type_TYPE_ERROR); e.Error.Code != proto.Code_CODE_FORBIDDEN {
		t.Fatalf("agent OPEN: %v", e)
	}
	// Big body: refused on the loop, the connection stays usable.
	owner.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 9, Conversation: conv, Body: strings.Repeat("a", 20000)})
	if e := expect(t, owner, proto.Type_TYPE_ERROR); e.Error.Code != proto.Code_CODE_TOO_LARGE {
		t.Fatalf("big body: %v", e)
	}
	sendMsg(t, owner, 10, conv, "ok", "still fine")
}
