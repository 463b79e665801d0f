//go:build unix

package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// scripted is a WebSocket peer the test drives envelope by envelope, to
// put the SDK in the situations a real server produces only by chance: a
// lost ACK, duplicates and reordering, a paged resume, a vanished
// conversation, BUSY, GOAWAY, a silent server, refused credentials.
type scripted struct {
	t     *testing.T
	conns chan *websocket.Conn
	url   string
}

func newScripted(t *testing.T) *scripted {
	s := &scripted{t: t, conns: make(chan *websocket.Conn, 4)}
	up := websocket.Upgrader{Subprotocols: []string{"kefu.json"}, CheckOrigin: func(*http.Request) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if c.Subprotocol() != "kefu.json" {
			t.Errorf("subprotocol %q, want kefu.json", c.Subprotocol())
		}
		s.conns <- c
	}))
	t.Cleanup(srv.Close)
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	return s
}

// accept waits for the SDK's next connection.
func (s *scripted) accept() *peer {
	s.t.Helper()
	select {
	case c := <-s.conns:
		p := &peer{t: s.t, c: c, in: make(chan env, 64)}
		s.t.Cleanup(func() { c.Close() })
		go p.read()
		return p
	case <-time.After(10 * time.Second):
		s.t.Fatal("the SDK did not connect within 10s")
	}
	return nil
}

// none checks that the SDK does not connect within d.
func (s *scripted) none(d time.Duration) {
	s.t.Helper()
	select {
	case <-s.conns:
		s.t.Fatal("the SDK connected again")
	case <-time.After(d):
	}
}

// peer is one connection of the SDK. Its reader goroutine answers pings
// (unless silent) and passes every other envelope to in, closed when the
// connection ends.
type peer struct {
	t      *testing.T
	c      *websocket.Conn
	in     chan env
	wmu    sync.Mutex
	silent atomic.Bool
	err    error // read error, set before in is closed
}

// env is an envelope as the SDK writes it.
type env struct {
	Type         string `json:"type"`
	ID           int    `json:"id"`
	Conversation string `json:"conversation"`
	Seq          int    `json:"seq"`
	ClientMsgID  string `json:"client_msg_id"`
	Kind         string `json:"kind"`
	Body         string `json:"body"`
	Event        string `json:"event"`
	Hello        *struct {
		Site, Role, User, Token, Client string
	} `json:"hello"`
	raw string
}

func (p *peer) read() {
	defer close(p.in)
	for {
		_, b, err := p.c.ReadMessage()
		if err != nil {
			p.err = err
			return
		}
		var e env
		if err := json.Unmarshal(b, &e); err != nil {
			p.err = fmt.Errorf("SDK sent %s: %w", b, err)
			return
		}
		e.raw = string(b)
		if e.Type == "ping" && !p.silent.Load() {
			p.send(fmt.Sprintf(`{"type":"pong","id":%d}`, e.ID))
			continue
		}
		p.in <- e
	}
}

// expect returns the next envelope, which must be of type typ.
func (p *peer) expect(typ string) env {
	p.t.Helper()
	select {
	case e, ok := <-p.in:
		if !ok {
			p.t.Fatalf("waiting for %s: %v", typ, p.err)
		}
		if e.Type != typ {
			p.t.Fatalf("SDK sent %s, want %s", e.raw, typ)
		}
		return e
	case <-time.After(10 * time.Second):
		p.t.Fatalf("no %s within 10s", typ)
	}
	return env{}
}

// write sends one envelope, formatted with fmt.Sprintf.
func (p *peer) write(format string, args ...any) {
	p.t.Helper()
	if err := p.send(fmt.Sprintf(format, args...)); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

func (p *peer) send(msg string) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.c.WriteMessage(websocket.TextMessage, []byte(msg))
}

// closed waits until the SDK closes the connection, with nothing sent before.
func (p *peer) closed() {
	p.t.Helper()
	select {
	case e, ok := <-p.in:
		if ok {
			p.t.Fatalf("SDK sent %s, want a close", e.raw)
		}
	case <-time.After(10 * time.Second):
		p.t.Fatal("the SDK kept the connection open")
	}
}

// hello completes HELLO → WELCOME and returns the visitor id.
func (p *peer) hello() string {
	p.t.Helper()
	h := p.expect("hello")
	if h.Hello == nil || h.Hello.Site != "demo" || h.Hello.Role != "visitor" || h.Hello.User == "" || h.Hello.Client != "kefu-js/1.0.0" {
		p.t.Fatalf("hello %+v", h.Hello)
	}
	p.write(`{"type":"welcome","id":%d,"sender":"v:%s"}`, h.ID, h.Hello.User)
	return h.Hello.User
}

func TestSessionScripted(t *testing.T) {
	dir := needNode(t)
	d := startDriver(t, dir, needChromium(t))
	shots := t.ArtifactDir()
	site := pageServer(t, dir)
	s := newScripted(t)
	const v = "visitor"
	d.open(v, pageURL(site.URL, "endpoint", s.url, "retryMax", "400", "heartbeat", "300", "timeout", "2500"))
	d.eval(v, `(Kefu.open(), true)`, nil)

	// A new conversation; the visitor's message is committed (seq 1), but
	// the agent's seq 2 overtakes it, twice; the ACK comes last.
	p := s.accept()
	user := p.hello()
	if o := p.expect("open"); o.Conversation != "" || o.Seq != 0 {
		t.Fatalf("first open %+v, want a new conversation", o)
	} else {
		p.write(`{"type":"joined","id":%d,"conversation":"c1"}`, o.ID)
	}
	d.eval(v, `T.send("a")`, nil)
	a := p.expect("send")
	if a.Conversation != "c1" || a.Body != "a" || a.Kind != "text" || !strings.HasPrefix(a.ClientMsgID, "m-") {
		t.Fatalf("send %+v", a)
	}
	agent2 := `{"type":"message","conversation":"c1","seq":2,"sender":"a:alice","body":"two","ts":2}`
	p.write("%s", agent2)
	p.write("%s", agent2)
	p.write(`{"type":"message","conversation":"c1","seq":1,"client_msg_id":"%s","sender":"v:%s","body":"a","ts":1}`, a.ClientMsgID, user)
	p.write(`{"type":"ack","id":%d,"conversation":"c1","seq":1,"client_msg_id":"%s","ts":1}`, a.ID, a.ClientMsgID)
	d.wait(v, `T.msgs.length == 1 && T.acks.length == 1 && Kefu.pending().length == 0`)
	var cursor int
	d.eval(v, `JSON.parse(localStorage.getItem("kefu:demo:" + Kefu.user())).s.c1`, &cursor)
	if cursor != 2 {
		t.Fatalf("stored cursor %d, want 2", cursor)
	}

	// The connection drops after a SEND was committed but before its ACK.
	// The resume (OPEN c1 after 2) brings it back as a MESSAGE, which
	// settles it: no resend, no duplicate. The page has more: REPLAY.
	d.eval(v, `T.send("b")`, nil)
	b := p.expect("send")
	p.c.Close()
	p = s.accept()
	p.hello()
	o := p.expect("open")
	if o.Conversation != "c1" || o.Seq != 2 {
		t.Fatalf("resume %+v, want c1 after 2", o)
	}
	p.write(`{"type":"message","conversation":"c1","seq":3,"client_msg_id":"%s","sender":"v:%s","body":"b","ts":3}`, b.ClientMsgID, user)
	p.write(`{"type":"message","conversation":"c1","seq":4,"sender":"a:alice","body":"four","ts":4}`)
	p.write(`{"type":"joined","id":%d,"conversation":"c1","seq":4,"more":true}`, o.ID)
	r := p.expect("replay")
	if r.Conversation != "c1" || r.Seq != 4 {
		t.Fatalf("replay %+v, want c1 after 4", r)
	}
	p.write(`{"type":"message","conversation":"c1","seq":4,"sender":"a:alice","body":"four","ts":4}`)
	p.write(`{"type":"message","conversation":"c1","seq":5,"sender":"a:alice","body":"five","ts":5}`)
	p.write(`{"type":"replay_end","id":%d,"conversation":"c1","seq":5}`, r.ID)
	d.wait(v, `T.msgs.length == 3 && T.acks.length == 2`)
	var seqs []int
	d.eval(v, `T.msgs.map(m => m.seq).concat(T.acks.map(a => a.seq))`, &seqs)
	if fmt.Sprintf("%v", seqs) != "[2 4 5 1 3]" {
		t.Fatalf("messages and acks by seq %v, want [2 4 5 1 3]", seqs)
	}

	// GOAWAY: reconnect. The stored conversation is gone (not_found): the
	// SDK opens a new one and moves the unacknowledged message to it, with
	// the same client_msg_id.
	d.eval(v, `T.send("c")`, nil)
	c := p.expect("send")
	p.write(`{"type":"goaway","error":{"code":"draining","retryable":true}}`)
	p.closed()
	p = s.accept()
	p.hello()
	o = p.expect("open")
	p.write(`{"type":"error","id":%d,"conversation":"c1","error":{"code":"not_found","message":"no such conversation"}}`, o.ID)
	if o = p.expect("open"); o.Conversation != "" {
		t.Fatalf("open after not_found %+v, want a new conversation", o)
	}
	p.write(`{"type":"joined","id":%d,"conversation":"c2"}`, o.ID)
	c2 := p.expect("send")
	if c2.Conversation != "c2" || c2.ClientMsgID != c.ClientMsgID || c2.Body != "c" {
		t.Fatalf("resend %+v, want %s on c2", c2, c.ClientMsgID)
	}
	// BUSY: the same message again, shortly.
	p.write(`{"type":"error","id":%d,"conversation":"c2","error":{"code":"busy","retryable":true}}`, c2.ID)
	c3 := p.expect("send")
	if c3.ClientMsgID != c.ClientMsgID || c3.ID == c2.ID {
		t.Fatalf("retry %+v", c3)
	}
	p.write(`{"type":"ack","id":%d,"conversation":"c2","seq":1,"client_msg_id":"%s"}`, c3.ID, c3.ClientMsgID)
	d.wait(v, `T.acks.length == 3 && Kefu.pending().length == 0 && Kefu.conversation() == "c2"`)
	// A non-retryable refusal gives the message up and says so.
	d.eval(v, `T.send("too big")`, nil)
	tb := p.expect("send")
	p.write(`{"type":"error","id":%d,"conversation":"c2","error":{"code":"too_large","message":"body too large"}}`, tb.ID)
	d.wait(v, `T.errors.some(e => e.code == "too_large" && e.clientMsgId == `+js(tb.ClientMsgID)+`) && Kefu.pending().length == 0`)

	// A silent server: the heartbeat pings, gets nothing, reconnects.
	p.silent.Store(true)
	p.expect("ping")
	p = s.accept()
	p.hello()
	if o = p.expect("open"); o.Conversation != "c2" || o.Seq != 1 {
		t.Fatalf("resume %+v, want c2 after 1", o)
	}
	p.write(`{"type":"joined","id":%d,"conversation":"c2","seq":1}`, o.ID)
	d.wait(v, `Kefu.status() == "online"`)

	// Refused credentials: ERROR unauthenticated, close 1008. The SDK
	// reports it as fatal and stops.
	p.c.Close()
	p = s.accept()
	h := p.expect("hello")
	p.write(`{"type":"error","id":%d,"error":{"code":"unauthenticated","message":"bad token"}}`, h.ID)
	p.wmu.Lock()
	p.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1008, "auth"))
	p.wmu.Unlock()
	d.wait(v, `Kefu.status() == "closed" && T.errors.some(e => e.code == "unauthenticated" && e.fatal)`)
	s.none(time.Second)
	d.shot(v, shots+"/scripted.png")
	var pageErrs []string
	for _, l := range d.logs(v) {
		if strings.HasPrefix(l, "pageerror") {
			pageErrs = append(pageErrs, l)
		}
	}
	if len(pageErrs) > 0 {
		t.Errorf("page errors: %q", pageErrs)
	}
}
