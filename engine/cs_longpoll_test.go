package engine_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
)

// lpClient is a visitor on HTTP long-poll (engine/longpoll), speaking the
// same envelopes as the WebSocket clients: it implements client.
type lpClient struct {
	base, session string
	next          uint64
	queue         []*proto.Envelope
}

type lpAnswer struct {
	Session   string            `json:"session"`
	Envelopes []json.RawMessage `json:"envelopes"`
	Next      uint64            `json:"next"`
}

func (l *lpClient) do(t *testing.T, method, path string, body []byte) lpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, l.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if l.session != "" {
		req.Header.Set("X-Kefu-Session", l.session)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("long-poll %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("long-poll %s: %d %s", path, resp.StatusCode, b)
	}
	var a lpAnswer
	if len(b) > 0 && json.Unmarshal(b, &a) != nil {
		t.Fatalf("long-poll %s: %s", path, b)
	}
	for _, raw := range a.Envelopes {
		env := new(proto.Envelope)
		if err := proto.UnmarshalJSON(raw, env); err != nil {
			t.Fatalf("long-poll envelope %s: %v", raw, err)
		}
		l.queue = append(l.queue, env)
	}
	if a.Next > l.next {
		l.next = a.Next
	}
	return a
}

func dialLongPoll(t *testing.T, s *testserver.Server, hello *proto.Envelope) *lpClient {
	t.Helper()
	l := &lpClient{base: s.HTTPURL()}
	a := l.do(t, "POST", "/lp/v1/connect", proto.AppendJSON(nil, hello))
	l.session = a.Session
	return l
}

func (l *lpClient) send(t *testing.T, env *proto.Envelope) {
	t.Helper()
	l.do(t, "POST", "/lp/v1/send", proto.AppendJSON(nil, env))
}

func (l *lpClient) recv(t *testing.T) *proto.Envelope {
	t.Helper()
	deadline := time.Now().Add(readTimeout)
	for len(l.queue) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("long-poll: nothing arrived")
		}
		l.do(t, "GET", "/lp/v1/poll?wait=2&ack="+strconv.FormatUint(l.next, 10), nil)
	}
	env := l.queue[0]
	l.queue = l.queue[1:]
	return env
}

func (l *lpClient) close() {}

// TestLongPollVisitorRouted: a visitor on long-poll is queued, told its
// place, assigned when an agent (WebSocket) comes online, and talks with
// the agent; the close reaches it as a system message.
func TestLongPollVisitorRouted(t *testing.T) {
	s := testserver.Start(t, testserver.WithRouting())
	v := dialLongPoll(t, s, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1,
		Hello: &proto.Hello{Site: testserver.Site, Role: proto.Role_ROLE_VISITOR, User: "lp-visitor"}})
	await(t, v, "WELCOME", isType(proto.Type_TYPE_WELCOME, 1))
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 2})
	j := await(t, v, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
	if p := await(t, v, "queue position", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_EVENT && e.Event == "queue" }); p.Position != 1 {
		t.Fatalf("position %d", p.Position)
	}
	a := dialGorilla(t, s.WSURL(), nil)
	defer a.close()
	agent(t, a, "lp-agent")
	await(t, a, "assigned", isNotice("assigned", j.Conversation))
	await(t, v, "assigned message", isSystem("assigned", j.Conversation, nil))
	a.send(t, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Id: 2, Conversation: j.Conversation})
	await(t, a, "JOINED", isType(proto.Type_TYPE_JOINED, 2))
	v.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: j.Conversation, Body: "over long-poll", ClientMsgId: "lp1"})
	await(t, v, "ACK", isType(proto.Type_TYPE_ACK, 3))
	await(t, a, "the visitor's message", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_MESSAGE && e.Body == "over long-poll" })
	a.send(t, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: j.Conversation, Body: "over WebSocket", ClientMsgId: "ws1"})
	await(t, v, "the agent's message", func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_MESSAGE && e.Body == "over WebSocket" })
	a.send(t, &proto.Envelope{Type: proto.Type_TYPE_CLOSE, Id: 4, Conversation: j.Conversation})
	await(t, v, "closed message", isSystem("closed", j.Conversation, nil))
}
