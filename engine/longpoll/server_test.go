package longpoll

import (
	"bytes"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/proto"
)

func TestConnectSendPoll(t *testing.T) {
	srv, f, base := startFake(t, Options{})
	c := NewTestClient(t, base)
	got := c.Connect(Hello("v1"))
	if len(got) != 1 || got[0].Type != proto.Type_TYPE_WELCOME || got[0].Sender != "v:v1" || c.Next != 1 {
		t.Fatalf("connect answered %v next %d", got, c.Next)
	}
	if srv.Sessions() != 1 || count(srv.m.sessions) != 1 {
		t.Fatalf("sessions %d, gauge %d", srv.Sessions(), count(srv.m.sessions))
	}
	// A batch: replies through poll, in order, from Reply and from Write.
	c.Send(&proto.Envelope{Type: proto.Type_TYPE_PING, Id: 2},
		&proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: "c1", ClientMsgId: "m1", Body: "hi <b>"})
	got = c.Poll(1)
	if len(got) != 2 || got[0].Type != proto.Type_TYPE_PONG || got[0].Id != 2 || got[1].Type != proto.Type_TYPE_ACK || got[1].ClientMsgId != "m1" || c.Next != 3 {
		t.Fatalf("poll got %v next %d", got, c.Next)
	}
	// Nothing more: an empty answer after wait, next unchanged.
	start := time.Now()
	if got = c.Poll(1); len(got) != 0 || c.Next != 3 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("idle poll got %v next %d after %v", got, c.Next, time.Since(start))
	}
	// A waiting poll is answered as soon as something comes.
	go func() {
		time.Sleep(100 * time.Millisecond)
		c2 := *c
		c2.t = t
		c2.Send(&proto.Envelope{Type: proto.Type_TYPE_PING, Id: 4})
	}()
	start = time.Now()
	if got = c.Poll(10); len(got) != 1 || got[0].Id != 4 || time.Since(start) > 5*time.Second {
		t.Fatalf("waiting poll got %v after %v", got, time.Since(start))
	}
	if st, _, _ := c.Do("POST", "close", nil); st != http.StatusOK {
		t.Fatalf("close: %d", st)
	}
	if srv.Sessions() != 0 || f.drops() != 1 || count(srv.m.closed[closeClient]) != 1 {
		t.Fatalf("after close: %d sessions, %d drops", srv.Sessions(), f.drops())
	}
	if st, a, _ := c.Do("GET", "poll", nil); st != http.StatusNotFound || a.Error.Code != "not_found" {
		t.Fatalf("poll after close: %d %+v", st, a)
	}
	if n := count(srv.m.polls[pollData]); n != 2 {
		t.Errorf("polls with data: %d", n)
	}
	if n := count(srv.m.polls[pollTimeout]); n != 1 {
		t.Errorf("empty polls: %d", n)
	}
}

// TestLostAnswerResent: an answer lost in transit (the client polls again
// with its old ack) comes again; acknowledging drops it.
func TestLostAnswerResent(t *testing.T) {
	srv, _, base := startFake(t, Options{})
	c := NewTestClient(t, base)
	c.Connect(Hello("v1"))
	c.Send(&proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 2, Conversation: "c1", ClientMsgId: "m1", Body: "a"},
		&proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 3, Conversation: "c1", ClientMsgId: "m2", Body: "b"})
	ack := c.Next
	first := c.Poll(1)
	if len(first) != 2 {
		t.Fatalf("first poll: %v", first)
	}
	c.Next = ack // the answer was lost
	again := c.Poll(1)
	if len(again) != 2 || again[0].ClientMsgId != "m1" || again[1].ClientMsgId != "m2" || c.Next != ack+2 {
		t.Fatalf("resent %v next %d", again, c.Next)
	}
	s := onlySession(t, srv)
	s.mu.Lock()
	n := len(s.out)
	s.mu.Unlock()
	if n != 2 {
		t.Fatalf("outbox holds %d before the ack, want 2", n)
	}
	if got := c.Poll(0); len(got) != 0 {
		t.Fatalf("after ack: %v", got)
	}
	s.mu.Lock()
	n, bytes := len(s.out), s.bytes
	s.mu.Unlock()
	if n != 0 || bytes != 0 {
		t.Fatalf("outbox holds %d (%d bytes) after the ack", n, bytes)
	}
	// An ack beyond what was sent is a client bug.
	c.Next = 99
	if st, a, _ := c.Do("GET", "poll?ack=99&wait=0", nil); st != http.StatusBadRequest || a.Error.Code != "bad_request" {
		t.Fatalf("ack beyond: %d %+v", st, a)
	}
}

func onlySession(t *testing.T, srv *Server) *session {
	t.Helper()
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	if len(srv.sessions) != 1 {
		t.Fatalf("%d sessions, want 1", len(srv.sessions))
	}
	for _, s := range srv.sessions {
		return s
	}
	return nil
}

// TestOnePollAtATime: a second poll answers the first at once, empty.
func TestOnePollAtATime(t *testing.T) {
	srv, _, base := startFake(t, Options{})
	c := NewTestClient(t, base)
	c.Connect(Hello("v1"))
	done := make(chan []*proto.Envelope)
	first := *c
	go func() {
		_, a, _ := first.Do("GET", "poll?ack=1&wait=20", nil)
		done <- first.Envelopes(a)
	}()
	waitFor(t, func() bool { return onlySession(t, srv).polls.Load() == 1 })
	start := time.Now()
	go func() {
		time.Sleep(50 * time.Millisecond)
		c2 := *c
		c2.Send(&proto.Envelope{Type: proto.Type_TYPE_PING, Id: 9})
	}()
	got := c.Poll(20) // replaces the first, then gets the PONG
	select {
	case e := <-done:
		if len(e) != 0 {
			t.Fatalf("replaced poll got %v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first poll was not answered")
	}
	if len(got) != 1 || got[0].Type != proto.Type_TYPE_PONG || time.Since(start) > 5*time.Second {
		t.Fatalf("second poll got %v", got)
	}
	if n := count(srv.m.polls[pollReplaced]); n != 1 {
		t.Fatalf("replaced polls: %d", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRejections: every refusal has its status, error code and counter.
func TestRejections(t *testing.T) {
	srv, _, base := startFake(t, Options{MaxBodyBytes: 1024, MaxBatch: 2, MaxSessions: 2, OutboundLimit: 4096})
	good := NewTestClient(t, base)
	good.Origin = allowedOrigin
	good.Connect(Hello("v1"))
	ping := string(proto.AppendJSON(nil, &proto.Envelope{Type: proto.Type_TYPE_PING, Id: 5}))
	hi := string(proto.AppendJSON(nil, Hello("v2")))
	for _, tc := range []struct {
		name, method, path, body, origin string
		session                          bool
		status                           int
		code                             string
		reason                           rejectReason
	}{
		{"connect not JSON", "POST", "connect", "hello", "", false, 400, "bad_request", rejectBadRequest},
		{"connect array", "POST", "connect", "[" + hi + "]", "", false, 400, "bad_request", rejectBadRequest},
		{"connect oversize", "POST", "connect", `{"type":"hello","body":"` + strings.Repeat("x", 1024) + `"}`, "", false, 413, "too_large", rejectTooLarge},
		{"connect foreign origin", "POST", "connect", hi, "http://evil.example", false, 403, "forbidden", rejectOrigin},
		{"connect refused", "POST", "connect", `{"type":"hello","id":1,"hello":{"site":"nope","role":"visitor","user":"x"}}`, "", false, 401, "", rejectAuth},
		{"send unknown session", "POST", "send", ping, "", false, 404, "not_found", rejectUnknownSession},
		{"send bad JSON", "POST", "send", `{"type":"ping",}`, "", true, 400, "bad_request", rejectBadRequest},
		{"send bad enum", "POST", "send", `{"type":"pong-pong"}`, "", true, 400, "bad_request", rejectBadRequest},
		{"send too many", "POST", "send", "[" + ping + "," + ping + "," + ping + "]", "", true, 413, "too_large", rejectTooLarge},
		{"send oversize", "POST", "send", strings.Repeat(" ", 1025) + ping, "", true, 413, "too_large", rejectTooLarge},
		{"send foreign origin", "POST", "send", ping, "http://evil.example", true, 403, "forbidden", rejectOrigin},
		{"poll foreign origin", "GET", "poll?wait=0", "", "https://allowed.example", true, 403, "forbidden", rejectOrigin},
		{"poll bad ack", "GET", "poll?ack=-1", "", "", true, 400, "bad_request", rejectBadRequest},
		{"poll bad wait", "GET", "poll?wait=1.5", "", "", true, 400, "bad_request", rejectBadRequest},
		{"poll twice ack", "GET", "poll?ack=1&ack=1", "", "", true, 400, "bad_request", rejectBadRequest},
		{"poll unknown session", "GET", "poll", "", "", false, 404, "not_found", rejectUnknownSession},
		{"poll by POST", "POST", "poll", "", "", true, 405, "bad_request", rejectMethod},
		{"connect by GET", "GET", "connect", "", "", false, 405, "bad_request", rejectMethod},
		{"unknown path", "GET", "nope", "", "", false, 404, "not_found", rejectMethod},
		{"close unknown session", "POST", "close", "", "", false, 404, "not_found", rejectUnknownSession},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewTestClient(t, base)
			c.Origin = tc.origin
			if tc.session {
				c.Key = good.Key
			} else if tc.path != "connect" {
				c.Key = "AAAAAAAAAAAAAAAAAAAAAA"
			}
			before := count(srv.m.rejected[tc.reason])
			st, a, _ := c.Do(tc.method, tc.path, []byte(tc.body))
			if st != tc.status {
				t.Fatalf("status %d, want %d (%+v)", st, tc.status, a)
			}
			if tc.code != "" && (a.Error == nil || a.Error.Code != tc.code) {
				t.Fatalf("answer %+v, want code %s", a, tc.code)
			}
			if got := count(srv.m.rejected[tc.reason]); got != before+1 {
				t.Fatalf("%s counted %d times", rejectReasonNames[tc.reason], got-before)
			}
			if tc.status == 401 {
				env := c.Envelopes(a)
				if a.Session != "" || len(env) != 1 || env[0].Error.GetCode() != proto.Code_CODE_UNAUTHENTICATED {
					t.Fatalf("refused HELLO answered %+v", a)
				}
			}
		})
	}
	// The good session took none of it.
	good.Send(&proto.Envelope{Type: proto.Type_TYPE_PING, Id: 7})
	if got := good.Poll(1); len(got) != 1 || got[0].Id != 7 {
		t.Fatalf("good session: %v", got)
	}
	// Session limit: one more fits, then 503.
	NewTestClient(t, base).Connect(Hello("v3"))
	c := NewTestClient(t, base)
	if st, a, _ := c.Do("POST", "connect", []byte(hi)); st != http.StatusServiceUnavailable || a.Error.Code != "busy" {
		t.Fatalf("connect past the limit: %d %+v", st, a)
	}
	if count(srv.m.rejected[rejectSessionLimit]) != 1 || srv.Sessions() != 2 {
		t.Fatalf("session limit: %d sessions", srv.Sessions())
	}
}

// TestCORS: preflights are answered; allowed origins get their answers
// opened to them, native clients (no Origin) get no CORS headers.
func TestCORS(t *testing.T) {
	_, _, base := startFake(t, Options{})
	req, _ := http.NewRequest("OPTIONS", base+Prefix+"send", nil)
	req.Header.Set("Origin", allowedOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type, x-kefu-session")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	h := res.Header
	if res.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != allowedOrigin || !strings.Contains(h.Get("Access-Control-Allow-Headers"), SessionHeader) || h.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("preflight: %d %v", res.StatusCode, h)
	}
	c := NewTestClient(t, base)
	c.Origin = allowedOrigin
	st, a, hdr := c.Do("POST", "connect", proto.AppendJSON(nil, Hello("v1")))
	if st != 200 || hdr.Get("Access-Control-Allow-Origin") != allowedOrigin || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("connect from an allowed origin: %d %v", st, hdr)
	}
	c.Key, c.Origin = a.Session, ""
	if _, _, hdr = c.Do("GET", "poll?ack=1&wait=0", nil); hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("native poll got CORS headers: %v", hdr)
	}
}

// TestSessionTimeout: a session nobody polls is dropped by the reaper; one
// that keeps polling stays.
func TestSessionTimeout(t *testing.T) {
	srv, f, base := startFake(t, Options{SessionTimeout: 300 * time.Millisecond, Tick: 20 * time.Millisecond})
	idle, busy := NewTestClient(t, base), NewTestClient(t, base)
	idle.Connect(Hello("v1"))
	busy.Connect(Hello("v2"))
	stop := time.Now().Add(700 * time.Millisecond)
	for time.Now().Before(stop) {
		busy.Poll(0)
		time.Sleep(50 * time.Millisecond)
	}
	if srv.Sessions() != 1 || f.drops() != 1 || count(srv.m.closed[closeTimeout]) != 1 {
		t.Fatalf("after the timeout: %d sessions, %d drops", srv.Sessions(), f.drops())
	}
	if st, _, _ := idle.Do("GET", "poll?ack=1&wait=0", nil); st != http.StatusNotFound {
		t.Fatalf("poll of a dropped session: %d", st)
	}
	// A long poll keeps its session even past the timeout.
	busy.Poll(1)
	if srv.Sessions() != 1 {
		t.Fatal("a polling session was dropped")
	}
}

// TestSlowConsumer: a session whose client does not acknowledge is closed
// past the outbound limit; a waiting poll gets GOAWAY, then 404.
func TestSlowConsumer(t *testing.T) {
	srv, f, base := startFake(t, Options{MaxBodyBytes: 1024, OutboundLimit: 2048, Tick: 20 * time.Millisecond})
	c := NewTestClient(t, base)
	c.Connect(Hello("v1"))
	s := onlySession(t, srv)
	msg := &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Conversation: "c", Seq: 1, Body: strings.Repeat("x", 900)}
	if !s.Write([][]byte{jsonEnv(msg)}) || !s.Write([][]byte{jsonEnv(msg)}) {
		t.Fatal("writes under the limit refused")
	}
	if got := c.Poll(0); len(got) != 2 { // delivered, not yet acknowledged
		t.Fatalf("poll got %d", len(got))
	}
	if s.Write([][]byte{jsonEnv(msg)}) || !s.Closed() {
		t.Fatal("a write past the limit was taken")
	}
	waitFor(t, func() bool { return srv.Sessions() == 0 })
	if count(srv.m.closed[closeSlow]) != 1 || f.drops() != 1 {
		t.Fatalf("slow consumer: counted %d, drops %d", count(srv.m.closed[closeSlow]), f.drops())
	}
	if st, _, _ := c.Do("GET", "poll?ack=3", nil); st != http.StatusNotFound {
		t.Fatalf("poll after the close: %d", st)
	}

	// A poll waiting when one write overflows gets GOAWAY busy.
	c = NewTestClient(t, base)
	c.Connect(Hello("v2"))
	s = onlySession(t, srv)
	done := make(chan []*proto.Envelope)
	go func() {
		_, a, _ := c.Do("GET", "poll?ack=1&wait=20", nil)
		done <- c.Envelopes(a)
	}()
	waitFor(t, func() bool { return s.polls.Load() == 1 })
	msg.Body = strings.Repeat("x", 2100)
	if s.Write([][]byte{jsonEnv(msg)}) {
		t.Fatal("an oversize write was taken")
	}
	select {
	case got := <-done:
		if len(got) != 1 || got[0].Type != proto.Type_TYPE_GOAWAY || got[0].Error.GetCode() != proto.Code_CODE_BUSY || got[0].Error.Message != "slow_consumer" {
			t.Fatalf("waiting poll got %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting poll was not answered")
	}
	if count(srv.m.polls[pollClosed]) != 1 {
		t.Fatal("poll not counted as closed")
	}
}

// TestCloseDrains: Close answers waiting polls with GOAWAY draining,
// drops every session and refuses new ones.
func TestCloseDrains(t *testing.T) {
	srv, f, base := startFake(t, Options{})
	c := NewTestClient(t, base)
	c.Connect(Hello("v1"))
	done := make(chan []*proto.Envelope)
	go func() {
		_, a, _ := c.Do("GET", "poll?ack=1&wait=20", nil)
		done <- c.Envelopes(a)
	}()
	waitFor(t, func() bool { return onlySession(t, srv).polls.Load() == 1 })
	srv.Close()
	select {
	case got := <-done:
		if len(got) != 1 || got[0].Type != proto.Type_TYPE_GOAWAY || got[0].Error.GetCode() != proto.Code_CODE_DRAINING || !got[0].Error.Retryable {
			t.Fatalf("waiting poll got %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not answer the waiting poll")
	}
	if srv.Sessions() != 0 || f.drops() != 1 || count(srv.m.sessions) != 0 {
		t.Fatalf("after Close: %d sessions, %d drops", srv.Sessions(), f.drops())
	}
	if st, a, _ := NewTestClient(t, base).Do("POST", "connect", proto.AppendJSON(nil, Hello("v2"))); st != 503 || a.Error.Code != "draining" {
		t.Fatalf("connect after Close: %d %+v", st, a)
	}
	srv.Close() // idempotent
}

// TestConcurrentWrites: workers write while the client polls; every
// envelope arrives once, in order.
func TestConcurrentWrites(t *testing.T) {
	srv, _, base := startFake(t, Options{})
	c := NewTestClient(t, base)
	c.Connect(Hello("v1"))
	s := onlySession(t, srv)
	const writers, each = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				env := &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Conversation: "c" + strconv.Itoa(w), Seq: uint64(i + 1), Body: "x"}
				if !s.Write([][]byte{jsonEnv(env)}) {
					t.Error("write refused")
					return
				}
			}
		})
	}
	last := make([]uint64, writers)
	total := 0
	for total < writers*each {
		for _, e := range c.Poll(2) {
			w, _ := strconv.Atoi(strings.TrimPrefix(e.Conversation, "c"))
			if e.Seq != last[w]+1 {
				t.Fatalf("writer %d: seq %d after %d", w, e.Seq, last[w])
			}
			last[w] = e.Seq
			total++
		}
	}
	wg.Wait()
	if got := c.Poll(0); len(got) != 0 {
		t.Fatalf("extra envelopes: %v", got)
	}
}

// TestBodyReadLimits: a body is read up to the limit whatever its
// Content-Length says (chunked bodies have none).
func TestBodyReadLimits(t *testing.T) {
	_, _, base := startFake(t, Options{MaxBodyBytes: 1024})
	c := NewTestClient(t, base)
	c.Connect(Hello("v1"))
	for _, n := range []int{1023, 1024, 1025, 5000} {
		body := append(proto.AppendJSON(nil, &proto.Envelope{Type: proto.Type_TYPE_PING, Id: 3}), bytes.Repeat([]byte{' '}, 1)...)
		body = append(body, bytes.Repeat([]byte{' '}, max(0, n-len(body)))...)
		req, _ := http.NewRequest("POST", base+Prefix+"send", struct{ *bytes.Reader }{bytes.NewReader(body)}) // no Content-Length
		req.Header.Set(SessionHeader, c.Key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := http.StatusAccepted
		if n > 1024 {
			want = http.StatusRequestEntityTooLarge
		}
		if res.StatusCode != want {
			t.Fatalf("%d-byte chunked body: %d, want %d", n, res.StatusCode, want)
		}
	}
}

// TestNoGoroutineLeft: the reaper is the server's only goroutine and
// Close stops it.
func TestNoGoroutineLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, err := New(Options{Handler: &fake{}, Tick: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}
