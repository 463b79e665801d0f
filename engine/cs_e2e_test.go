package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
)

// await reads c until an envelope satisfies pred and returns it; what it
// skips is reported if pred never holds.
func await(t *testing.T, c client, what string, pred func(*proto.Envelope) bool) *proto.Envelope {
	t.Helper()
	var skipped []string
	for range 200 {
		env := c.recv(t)
		if pred(env) {
			return env
		}
		skipped = append(skipped, env.String())
	}
	t.Fatalf("no %s; skipped:\n%s", what, strings.Join(skipped, "\n"))
	return nil
}

func isType(typ proto.Type, id uint64) func(*proto.Envelope) bool {
	return func(e *proto.Envelope) bool { return e.Type == typ && e.Id == id }
}

func isNotice(kind, conv string) func(*proto.Envelope) bool {
	return func(e *proto.Envelope) bool {
		return e.Type == proto.Type_TYPE_NOTICE && e.Event == kind && e.Conversation == conv
	}
}

// isSystem matches a stored system message of the given type in conv and
// returns its parsed body through out.
func isSystem(typ, conv string, out *map[string]any) func(*proto.Envelope) bool {
	return func(e *proto.Envelope) bool {
		if e.Type != proto.Type_TYPE_MESSAGE || e.Sender != "s:system" || e.Conversation != conv {
			return false
		}
		m := map[string]any{}
		if json.Unmarshal([]byte(e.Body), &m) != nil || m["type"] != typ {
			return false
		}
		if out != nil {
			*out = m
		}
		return true
	}
}

func capacity(n int) testserver.Option {
	return func(c *server.Config) { c.Routing.DefaultCapacity = n }
}

// TestCustomerServiceEndToEnd: two agents of capacity 1 (WebSocket and
// binary TCP), three visitors (WebSocket JSON, binary TCP, WebSocket
// protobuf). The first two are assigned, the third waits and is told its
// place; a close frees an agent and the third is assigned at once; typing
// and read receipts cross; a transfer moves a conversation with a system
// message; a returning visitor goes back to their previous agent.
func TestCustomerServiceEndToEnd(t *testing.T) {
	s := testserver.Start(t, testserver.WithRouting(), capacity(1))
	alice := dialGorilla(t, s.WSURL(), nil)
	defer alice.close()
	agent(t, alice, "alice")
	await(t, alice, "status online", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_STATUS && e.Status == "online" })
	bob := dialFrame(t, s.Addr())
	defer bob.close()
	agent(t, bob, "bob")
	await(t, bob, "status online", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_STATUS && e.Status == "online" })
	agents := map[string]client{"alice": alice, "bob": bob}

	// Visitor 1 and 2 are assigned, one to each agent.
	v1 := dialGorilla(t, s.WSURL(), nil)
	defer v1.close()
	visitor(t, v1, "v1")
	v1.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2, Tags: []string{"sales"}})
	j1 := await(t, v1, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
	if j1.State != "queued" {
		t.Fatalf("new conversation state %q, want queued until routed", j1.State)
	}
	var sys map[string]any
	await(t, v1, "assigned message", isSystem("assigned", j1.Conversation, &sys))
	agent1 := sys["agent"].(string)
	a1 := agents[agent1]
	await(t, a1, "assigned notice", isNotice("assigned", j1.Conversation))

	v2 := dialFrame(t, s.Addr())
	defer v2.close()
	visitor(t, v2, "v2")
	v2.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	j2 := await(t, v2, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
	await(t, v2, "assigned message", isSystem("assigned", j2.Conversation, &sys))
	agent2 := sys["agent"].(string)
	if agent2 == agent1 {
		t.Fatalf("both conversations went to %s, whose capacity is 1", agent1)
	}
	a2 := agents[agent2]
	await(t, a2, "assigned notice", isNotice("assigned", j2.Conversation))

	// Visitor 3 waits in the queue and is told its place.
	v3 := dialGobwas(t, s.WSURL())
	defer v3.close()
	visitor(t, v3, "v3")
	v3.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	j3 := await(t, v3, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
	pos := await(t, v3, "queue position", func(e *proto.Envelope) bool {
		return e.Type == proto.Type_TYPE_EVENT && e.Event == "queue" && e.Conversation == j3.Conversation
	})
	if pos.Position != 1 {
		t.Fatalf("queue position %d, want 1", pos.Position)
	}
	await(t, a1, "queue notice", func(e *proto.Envelope) bool {
		return e.Type == proto.Type_TYPE_NOTICE && e.Event == "queue" && e.Conversation == j3.Conversation && e.Position == 1
	})

	// Agent 1 joins, answers, then closes conversation 1: conversation 3
	// is assigned to agent 1 at once.
	a1.send(t, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Id: 10, Conversation: j1.Conversation})
	await(t, a1, "JOINED", isType(proto.Type_TYPE_JOINED, 10))
	a1.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 11, Conversation: j1.Conversation, Body: "hello v1", ClientMsgId: "a1-1"})
	await(t, a1, "ACK", isType(proto.Type_TYPE_ACK, 11))
	await(t, v1, "agent message", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_MESSAGE && e.Body == "hello v1" })
	a1.send(t, &proto.Envelope{Type: proto.Type_TYPE_CLOSE, Id: 12, Conversation: j1.Conversation})
	await(t, a1, "OK", isType(proto.Type_TYPE_OK, 12))
	await(t, v1, "closed message", isSystem("closed", j1.Conversation, &sys))
	if sys["by"] != "a:"+agent1 {
		t.Fatalf("closed by %v", sys["by"])
	}
	await(t, a1, "assigned notice for v3", isNotice("assigned", j3.Conversation))
	await(t, v3, "assigned message", isSystem("assigned", j3.Conversation, &sys))
	if sys["agent"] != agent1 {
		t.Fatalf("v3 assigned to %v, want %s (the one who freed up)", sys["agent"], agent1)
	}

	// Typing and read receipts reach the other side; the visitor rates.
	a1.send(t, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Id: 13, Conversation: j3.Conversation})
	await(t, a1, "JOINED", isType(proto.Type_TYPE_JOINED, 13))
	v3.send(t, &proto.Envelope{Type: proto.Type_TYPE_EVENT, Conversation: j3.Conversation, Event: "typing"})
	await(t, a1, "typing", func(e *proto.Envelope) bool {
		return e.Type == proto.Type_TYPE_EVENT && e.Event == "typing" && e.Sender == "v:v3"
	})
	v3.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: j3.Conversation, Body: "help", ClientMsgId: "v3-1"})
	ack := await(t, v3, "ACK", isType(proto.Type_TYPE_ACK, 3))
	a1.send(t, &proto.Envelope{Type: proto.Type_TYPE_EVENT, Conversation: j3.Conversation, Event: "read", Seq: ack.Seq})
	read := await(t, v3, "read receipt", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_EVENT && e.Event == "read" })
	if read.Seq != ack.Seq || read.Sender != "a:"+agent1 {
		t.Fatalf("read receipt %v", read)
	}
	v1.send(t, &proto.Envelope{Type: proto.Type_TYPE_RATE, Id: 4, Conversation: j1.Conversation, Rating: 5, Body: "great"})
	await(t, v1, "OK", isType(proto.Type_TYPE_OK, 4))

	// Agent 2 closes conversation 2; agent 1 transfers conversation 3 to
	// agent 2, who gets it with a system message.
	a2.send(t, &proto.Envelope{Type: proto.Type_TYPE_CLOSE, Id: 20, Conversation: j2.Conversation})
	await(t, a2, "OK", isType(proto.Type_TYPE_OK, 20))
	a1.send(t, &proto.Envelope{Type: proto.Type_TYPE_TRANSFER, Id: 14, Conversation: j3.Conversation, Agent: agent2})
	await(t, a1, "OK", isType(proto.Type_TYPE_OK, 14))
	await(t, a1, "unassigned", isNotice("unassigned", j3.Conversation))
	await(t, a2, "assigned after transfer", isNotice("assigned", j3.Conversation))
	await(t, v3, "transferred message", isSystem("transferred", j3.Conversation, &sys))
	if sys["from"] != agent1 || sys["agent"] != agent2 {
		t.Fatalf("transfer message %v", sys)
	}

	// Visitor 1 comes back: affinity gives them agent 1 again (free now).
	v1.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 5})
	j4 := await(t, v1, "JOINED", isType(proto.Type_TYPE_JOINED, 5))
	await(t, v1, "assigned message", isSystem("assigned", j4.Conversation, &sys))
	if sys["agent"] != agent1 {
		t.Fatalf("returning visitor went to %v, want %s", sys["agent"], agent1)
	}

	// Only agents claim; a visitor's CLAIM is refused.
	v1.send(t, &proto.Envelope{Type: proto.Type_TYPE_CLAIM, Id: 6})
	if e := await(t, v1, "ERROR", isType(proto.Type_TYPE_ERROR, 6)); e.Error.Code != proto.Code_CODE_FORBIDDEN {
		t.Fatalf("visitor claim: %v", e)
	}
}

// TestForgedVisitorSignature: a verified visitor whose signature is
// forged, expired or made for another user is refused at HELLO.
func TestForgedVisitorSignature(t *testing.T) {
	s := testserver.Start(t, testserver.WithRouting())
	good := testserver.VisitorToken("carol")
	cases := []struct{ name, user, tok string }{
		{"forged", "carol", "4102444800.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"other user", "mallory", good},
		{"expired", "carol", testserver.ExpiredVisitorToken("carol")},
		{"garbage", "carol", "not-a-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialGorilla(t, s.WSURL(), nil)
			defer c.close()
			c.send(t, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1,
				Hello: &proto.Hello{Site: testserver.Site, Role: proto.Role_ROLE_VISITOR, User: tc.user, Token: tc.tok}})
			e := expect(t, c, proto.Type_TYPE_ERROR)
			if e.Error.Code != proto.Code_CODE_UNAUTHENTICATED {
				t.Fatalf("%s: %v", tc.name, e)
			}
		})
	}
	c := dialGorilla(t, s.WSURL(), nil)
	defer c.close()
	hello(t, c, proto.Role_ROLE_VISITOR, "carol", good)
	c.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	conv := await(t, c, "JOINED", isType(proto.Type_TYPE_JOINED, 2)).Conversation

	// Without the signature, "carol" is an anonymous visitor of the same
	// id: the verified carol's conversation is not theirs.
	anon := dialGorilla(t, s.WSURL(), nil)
	defer anon.close()
	hello(t, anon, proto.Role_ROLE_VISITOR, "carol", "")
	for i, typ := range []proto.Type{proto.Type_TYPE_JOIN, proto.Type_TYPE_OPEN, proto.Type_TYPE_SEND, proto.Type_TYPE_REPLAY} {
		id := uint64(10 + i)
		anon.send(t, &proto.Envelope{Type: typ, Id: id, Conversation: conv, Body: "x"})
		if e := await(t, anon, "ERROR", func(e *proto.Envelope) bool { return e.Id == id }); e.Type != proto.Type_TYPE_ERROR || e.Error.Code != proto.Code_CODE_NOT_FOUND {
			t.Fatalf("anonymous %v of a verified visitor's conversation: %v", typ, e)
		}
	}
}

// TestCapacityUnderBurst: many visitors arrive at once over real sockets;
// no agent ever holds more than its capacity, every conversation is either
// assigned once or waiting.
func TestCapacityUnderBurst(t *testing.T) {
	s := testserver.Start(t, testserver.WithRouting(), capacity(2))
	const nAgents, nVisitors = 3, 24
	for i := range nAgents {
		a := dialFrame(t, s.Addr())
		defer a.close()
		agent(t, a, fmt.Sprintf("ag%d", i))
		await(t, a, "online", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_STATUS })
	}
	type result struct {
		conv  string
		agent string
	}
	results := make(chan result, nVisitors)
	for i := range nVisitors {
		go func() {
			c := dialFrame(t, s.Addr())
			defer c.close()
			visitor(t, c, fmt.Sprintf("burst%d", i))
			c.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
			j := await(t, c, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
			r := result{conv: j.Conversation}
			for {
				e := c.recv(t)
				if e.Type == proto.Type_TYPE_EVENT && e.Event == "queue" {
					break
				}
				var sys map[string]any
				if isSystem("assigned", j.Conversation, &sys)(e) {
					r.agent = sys["agent"].(string)
					break
				}
			}
			results <- r
		}()
	}
	load := map[string]int{}
	queued := 0
	seen := map[string]bool{}
	for range nVisitors {
		r := <-results
		if seen[r.conv] {
			t.Fatalf("conversation %s reported twice", r.conv)
		}
		seen[r.conv] = true
		if r.agent == "" {
			queued++
			continue
		}
		load[r.agent]++
	}
	for a, n := range load {
		if n > 2 {
			t.Fatalf("agent %s holds %d conversations, capacity 2", a, n)
		}
	}
	if got := nAgents * 2; len(load) != nAgents || queued != nVisitors-got {
		t.Fatalf("load %v, %d queued; want every agent full and %d queued", load, queued, nVisitors-got)
	}
}

// TestOfflineGraceRequeues: an agent whose last connection goes stays
// assigned through the grace period, then the conversation goes back to
// the queue (a system message tells the visitor) and the next agent to
// come online takes it.
func TestOfflineGraceRequeues(t *testing.T) {
	grace := func(c *server.Config) { c.Routing.OfflineGrace = 300 * time.Millisecond }
	s := testserver.Start(t, testserver.WithRouting(), capacity(1), grace)
	a := dialGorilla(t, s.WSURL(), nil)
	agent(t, a, "gone")
	await(t, a, "online", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_STATUS })
	v := dialFrame(t, s.Addr())
	defer v.close()
	visitor(t, v, "left-behind")
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	j := await(t, v, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
	await(t, v, "assigned", isSystem("assigned", j.Conversation, nil))
	a.close()
	var sys map[string]any
	start := time.Now()
	await(t, v, "requeued", isSystem("queued", j.Conversation, &sys))
	if sys["reason"] != "offline" || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("requeued %v after %v", sys, time.Since(start))
	}
	b := dialFrame(t, s.Addr())
	defer b.close()
	agent(t, b, "next")
	await(t, b, "assigned notice", isNotice("assigned", j.Conversation))
	await(t, v, "assigned to the next agent", isSystem("assigned", j.Conversation, &sys))
	if sys["agent"] != "next" {
		t.Fatalf("assigned %v", sys)
	}
}

// TestVerifiedVisitorAcrossDevices: a verified visitor who opens from a
// second device gets their open conversation and its history; an
// anonymous visitor of the same id does not; after the close, OPEN starts
// a new conversation.
func TestVerifiedVisitorAcrossDevices(t *testing.T) {
	s := testserver.Start(t, testserver.WithRouting())
	tok := testserver.VisitorToken("vera")
	phone := dialGorilla(t, s.WSURL(), nil)
	defer phone.close()
	hello(t, phone, proto.Role_ROLE_VISITOR, "vera", tok)
	phone.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	conv := await(t, phone, "JOINED", isType(proto.Type_TYPE_JOINED, 2)).Conversation
	phone.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: conv, Body: "from my phone", ClientMsgId: "p1"})
	await(t, phone, "ACK", isType(proto.Type_TYPE_ACK, 3))

	laptop := dialFrame(t, s.Addr())
	defer laptop.close()
	hello(t, laptop, proto.Role_ROLE_VISITOR, "vera", tok)
	laptop.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	var history []string
	j := await(t, laptop, "JOINED", func(e *proto.Envelope) bool {
		if e.Type == proto.Type_TYPE_MESSAGE && e.Sender == "v:vera" {
			history = append(history, e.Body)
		}
		return e.Type == proto.Type_TYPE_JOINED && e.Id == 2
	})
	if j.Conversation != conv || len(history) != 1 || history[0] != "from my phone" {
		t.Fatalf("second device joined %s with %q, want %s with the phone's message", j.Conversation, history, conv)
	}
	laptop.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 4, Conversation: conv, Body: "from my laptop", ClientMsgId: "l1"})
	await(t, laptop, "ACK", isType(proto.Type_TYPE_ACK, 4))
	await(t, phone, "the laptop's message", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_MESSAGE && e.Body == "from my laptop" })

	anon := dialGorilla(t, s.WSURL(), nil)
	defer anon.close()
	hello(t, anon, proto.Role_ROLE_VISITOR, "vera", "")
	anon.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	if a := await(t, anon, "JOINED", isType(proto.Type_TYPE_JOINED, 2)); a.Conversation == conv {
		t.Fatal("an anonymous visitor resumed a verified visitor's conversation")
	}

	phone.send(t, &proto.Envelope{Type: proto.Type_TYPE_CLOSE, Id: 5, Conversation: conv})
	await(t, phone, "OK", isType(proto.Type_TYPE_OK, 5))
	time.Sleep(100 * time.Millisecond) // the close reaches the desk after the reply
	laptop.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 6})
	if n := await(t, laptop, "JOINED", isType(proto.Type_TYPE_JOINED, 6)); n.Conversation == conv || n.State != "queued" {
		t.Fatalf("OPEN after close joined %s (%s), want a new conversation", n.Conversation, n.State)
	}
}
