package kefu

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/testutil"
	pb "github.com/kefu-im/kefu/proto"
)

// mode is one transport/encoding combination under test.
type mode struct {
	name   string
	tr     Transport
	binary bool
}

var modes = []mode{
	{"frame", TransportFrame, false},
	{"ws-json", TransportWS, false},
	{"ws-proto", TransportWS, true},
}

// forModes runs f as a subtest per mode, each with its own peer.
func forModes(t *testing.T, f func(t *testing.T, m mode, p *peer)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			testutil.CheckGoroutineLeaks(t)
			f(t, m, newPeer(t, m.tr))
		})
	}
}

func (m mode) options(p *peer, user string, role pb.Role) Options {
	return Options{
		Transport: m.tr, Addr: p.addr(), Binary: m.binary,
		Site: "demo", User: user, Role: role, Token: "ok",
	}
}

// dial connects with m's options changed by edit; the client is closed at
// the end of the test.
func dial(t *testing.T, p *peer, m mode, user string, role pb.Role, edit ...func(*Options)) *Client {
	t.Helper()
	opts := m.options(p, user, role)
	for _, e := range edit {
		e(&opts)
	}
	c, err := Dial(context.Background(), opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// next returns the next pushed envelope, failing after 5 s.
func next(t *testing.T, c *Client) *pb.Envelope {
	t.Helper()
	select {
	case env, ok := <-c.Messages():
		if !ok {
			t.Fatalf("push stream closed: %v", c.Err())
		}
		return env
	case <-time.After(5 * time.Second):
		t.Fatal("no push within 5s")
	}
	return nil
}

// quiet asserts that nothing was pushed: a Ping round trip first flushes
// whatever the server wrote before its answer.
func quiet(t *testing.T, c *Client) {
	t.Helper()
	if _, err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	select {
	case env := <-c.Messages():
		t.Fatalf("unexpected push %v", env)
	default:
	}
}

func seqs(envs []*pb.Envelope) []uint64 {
	out := make([]uint64, len(envs))
	for i, e := range envs {
		out[i] = e.Seq
	}
	return out
}

func TestFlow(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		ctx := context.Background()
		v := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		a := dial(t, p, m, "a1", pb.Role_ROLE_AGENT)
		if v.Identity() != "v:v1" || a.Identity() != "a:a1" {
			t.Fatalf("identities %q %q", v.Identity(), a.Identity())
		}

		op, err := v.Open(ctx, "", 0)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		conv := op.End.Conversation
		if op.End.Type != pb.Type_TYPE_JOINED || conv == "" || op.End.Seq != 0 || len(op.Messages) != 0 {
			t.Fatalf("Open page %v", op)
		}
		ack, err := v.Send(ctx, conv, "m1", "hello")
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if ack.Type != pb.Type_TYPE_ACK || ack.Seq != 1 || ack.ClientMsgId != "m1" || ack.Conversation != conv {
			t.Fatalf("ACK %v", ack)
		}
		var ids []string
		for range 2 {
			ack, err := v.Send(ctx, conv, "", "more")
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			ids = append(ids, ack.ClientMsgId)
		}
		if ids[0] == "" || ids[0] == ids[1] {
			t.Fatalf("generated client_msg_ids %q", ids)
		}

		jp, err := a.Join(ctx, conv, 1)
		if err != nil {
			t.Fatalf("Join: %v", err)
		}
		if got := seqs(jp.Messages); fmt.Sprint(got) != "[2 3]" || jp.End.Seq != 3 {
			t.Fatalf("Join page: messages %v, end %v", got, jp.End)
		}

		if _, err := a.Send(ctx, conv, "", "hi visitor"); err != nil {
			t.Fatalf("agent Send: %v", err)
		}
		if msg := next(t, v); msg.Type != pb.Type_TYPE_MESSAGE || msg.Seq != 4 || msg.Sender != "a:a1" || msg.Body != "hi visitor" {
			t.Fatalf("visitor got %v", msg)
		}
		if err := v.Event(conv, "typing", 0); err != nil {
			t.Fatalf("Event: %v", err)
		}
		if ev := next(t, a); ev.Type != pb.Type_TYPE_EVENT || ev.Event != "typing" || ev.Sender != "v:v1" {
			t.Fatalf("agent got %v", ev)
		}

		rp, err := v.Replay(ctx, conv, 0, 2)
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if got := seqs(rp.Messages); fmt.Sprint(got) != "[1 2]" || rp.End.Seq != 2 || !rp.End.More {
			t.Fatalf("Replay page 1: %v, end %v", got, rp.End)
		}
		rp, err = v.Replay(ctx, conv, 2, 0)
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if got := seqs(rp.Messages); fmt.Sprint(got) != "[3 4]" || rp.End.Seq != 4 || rp.End.More {
			t.Fatalf("Replay page 2: %v, end %v", got, rp.End)
		}

		if rtt, err := v.Ping(ctx); err != nil || rtt <= 0 {
			t.Fatalf("Ping = %v, %v", rtt, err)
		}

		_, err = a.Join(ctx, "missing", 0)
		var se *ServerError
		if !errors.As(err, &se) || se.Code != pb.Code_CODE_NOT_FOUND || se.Conversation != "missing" {
			t.Fatalf("Join missing: %v", err)
		}

		// After Leave (made sure of by a Ping on the same connection), the
		// agent gets nothing more.
		if err := a.Leave(conv); err != nil {
			t.Fatalf("Leave: %v", err)
		}
		if _, err := a.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Send(ctx, conv, "", "unheard"); err != nil {
			t.Fatal(err)
		}
		quiet(t, a)
		quiet(t, v)

		for _, c := range []*Client{v, a} {
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !errors.Is(c.Err(), ErrClosed) {
				t.Fatalf("Err after Close = %v", c.Err())
			}
			if _, ok := <-c.Messages(); ok {
				t.Fatal("push stream still open after Close")
			}
			if _, err := c.Send(ctx, conv, "", "late"); !errors.Is(err, ErrClosed) {
				t.Fatalf("Send after Close: %v", err)
			}
			if err := c.Event(conv, "typing", 0); !errors.Is(err, ErrClosed) {
				t.Fatalf("Event after Close: %v", err)
			}
		}
	})
}

func TestRequestRaw(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		ctx := context.Background()
		c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		// A request type the peer does not know gets ERROR UNSUPPORTED.
		_, err := c.Request(ctx, &pb.Envelope{Type: pb.Type_TYPE_WELCOME})
		var se *ServerError
		if !errors.As(err, &se) || se.Code != pb.Code_CODE_UNSUPPORTED {
			t.Fatalf("Request WELCOME: %v", err)
		}
		// SEND of another kind through Request.
		op, err := c.Open(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		env := &pb.Envelope{Type: pb.Type_TYPE_SEND, Conversation: op.End.Conversation,
			ClientMsgId: "img", Kind: pb.Kind_KIND_IMAGE, Body: "https://x/y.png"}
		pg, err := c.Request(ctx, env)
		if err != nil || pg.End.Type != pb.Type_TYPE_ACK || pg.End.Id != env.Id || env.Id == 0 {
			t.Fatalf("Request SEND = %v, %v (id %d)", pg, err, env.Id)
		}
	})
}

func TestDialRejected(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		opts := m.options(p, "v1", pb.Role_ROLE_VISITOR)
		opts.Token = "bad"
		c, err := Dial(context.Background(), opts)
		var se *ServerError
		if c != nil || !errors.As(err, &se) || se.Code != pb.Code_CODE_UNAUTHENTICATED || se.Message != "bad token" {
			t.Fatalf("Dial = %v, %v", c, err)
		}
	})
}

func TestDialErrors(t *testing.T) {
	testutil.CheckGoroutineLeaks(t)
	p := newPeer(t, TransportWS)
	p.noProto = true
	_, err := Dial(context.Background(), Options{Addr: p.addr(), Binary: true, Site: "demo", User: "v"})
	if !errors.Is(err, ErrSubprotocol) {
		t.Fatalf("Dial kefu.proto refused: %v", err)
	}
	// Nobody listens: the dial fails within DialTimeout.
	ln := newPeer(t, TransportFrame)
	addr := ln.addr()
	ln.close()
	if _, err := Dial(context.Background(), Options{Addr: addr, DialTimeout: time.Second}); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	if _, err := Dial(context.Background(), Options{}); err == nil {
		t.Fatal("Dial without Addr succeeded")
	}
}

func TestOriginAndLocalAddr(t *testing.T) {
	testutil.CheckGoroutineLeaks(t)
	p := newPeer(t, TransportWS)
	m := modes[1]
	c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR, func(o *Options) {
		o.Origin = "http://allowed.example"
		o.LocalAddr = "127.0.0.2"
	})
	p.mu.Lock()
	origins := p.origins
	p.mu.Unlock()
	if fmt.Sprint(origins) != "[http://allowed.example]" {
		t.Fatalf("origins seen %q", origins)
	}
	if got := p.conn(0).c.RemoteAddr().String(); !strings.HasPrefix(got, "127.0.0.2:") {
		t.Fatalf("connection from %s, want 127.0.0.2", got)
	}
	c.Close()
}

func TestHelloCursors(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		ctx := context.Background()
		v := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		op, err := v.Open(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		conv := op.End.Conversation
		for i := range 3 {
			if _, err := v.Send(ctx, conv, "", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		// The same visitor on a second device resumes after seq 1.
		v2 := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR, func(o *Options) {
			o.Cursors = map[string]uint64{conv: 1, "missing": 0}
		})
		var got []string
		for range 4 {
			e := next(t, v2)
			got = append(got, fmt.Sprintf("%s/%s/%d/id=%d", e.Type, e.Conversation, e.Seq, e.Id))
		}
		want := []string{
			"TYPE_MESSAGE/" + conv + "/2/id=0",
			"TYPE_MESSAGE/" + conv + "/3/id=0",
			"TYPE_JOINED/" + conv + "/3/id=1",
			"TYPE_ERROR/missing/0/id=1",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pushes after HELLO:\n got %v\nwant %v", got, want)
		}
	})
}

func TestConcurrentRequests(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		ctx := context.Background()
		const workers, each = 8, 40
		// Every worker has one SEND in flight; the peer holds the ACKs
		// until it has one per worker and answers them in reverse order.
		p.reorder = workers
		c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		p.mu.Lock()
		p.logs["shuffle"] = nil
		p.mu.Unlock()
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = make(map[uint64]string)
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					id := fmt.Sprintf("w%d-%d", w, i)
					ack, err := c.Send(ctx, "shuffle", id, id)
					if err != nil {
						t.Errorf("Send %s: %v", id, err)
						return
					}
					if ack.ClientMsgId != id {
						t.Errorf("Send %s got the ACK of %s", id, ack.ClientMsgId)
					}
					mu.Lock()
					seen[ack.Seq] = id
					mu.Unlock()
					if i%10 == 0 { // other requests interleaved
						if _, err := c.Ping(ctx); err != nil {
							t.Errorf("Ping: %v", err)
						}
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != workers*each {
			t.Fatalf("%d distinct seqs, want %d", len(seen), workers*each)
		}
	})
}

func TestSendAsync(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		ctx := context.Background()
		c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		op, err := c.Open(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		conv := op.End.Conversation
		const n = 2000
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			acks []uint64
		)
		wg.Add(n)
		for i := range n {
			id := fmt.Sprint("a", i)
			err := c.SendAsync(conv, id, "x", func(ack *pb.Envelope, err error) {
				defer wg.Done()
				if err != nil || ack.ClientMsgId != id {
					t.Errorf("SendAsync %s: %v, %v", id, ack, err)
					return
				}
				mu.Lock()
				acks = append(acks, ack.Seq)
				mu.Unlock()
			})
			if err != nil {
				t.Fatalf("SendAsync: %v", err)
			}
		}
		wg.Wait()
		// One connection, one conversation: ACKs arrive in seq order.
		if len(acks) != n || !sort.SliceIsSorted(acks, func(i, j int) bool { return acks[i] < acks[j] }) ||
			acks[0] != 1 || acks[n-1] != n {
			t.Fatalf("acks: %d, first %d, last %d", len(acks), acks[0], acks[len(acks)-1])
		}
		if err := c.SendAsync(conv, "", "nil callback", nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestReplayCollection(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		ctx := context.Background()
		p.interleave = true
		c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		op, err := c.Open(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		conv := op.End.Conversation
		for i := range 10 {
			if _, err := c.Send(ctx, conv, "", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		// Concurrent replays of the same conversation: each gets its own
		// page, because pages come back in request order.
		var wg sync.WaitGroup
		for _, r := range []struct{ after, limit, want uint64 }{{0, 3, 3}, {3, 3, 3}, {6, 0, 4}, {10, 0, 0}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pg, err := c.Replay(ctx, conv, r.after, uint32(r.limit))
				if err != nil {
					t.Errorf("Replay %d: %v", r.after, err)
					return
				}
				if uint64(len(pg.Messages)) != r.want {
					t.Errorf("Replay after %d: %d messages, want %d", r.after, len(pg.Messages), r.want)
				}
				for i, msg := range pg.Messages {
					if msg.Conversation != conv || msg.Seq != r.after+uint64(i)+1 {
						t.Errorf("Replay after %d: message %d is %s/%d", r.after, i, msg.Conversation, msg.Seq)
					}
				}
			}()
		}
		wg.Wait()
		// The other conversation's MESSAGEs went to the push stream.
		for range 4 {
			if e := next(t, c); e.Conversation != "elsewhere" {
				t.Fatalf("push %v", e)
			}
		}
	})
}

func TestServerClose(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		for _, goaway := range []bool{false, true} {
			t.Run(fmt.Sprint("goaway=", goaway), func(t *testing.T) {
				ctx := context.Background()
				c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
				pc := p.lastConn()
				before := p.received.Load()
				asyncErr := make(chan error, 1)
				if err := c.SendAsync("blackhole", "", "x", func(_ *pb.Envelope, err error) { asyncErr <- err }); err != nil {
					t.Fatal(err)
				}
				syncErr := make(chan error, 1)
				go func() {
					_, err := c.Send(ctx, "blackhole", "", "y")
					syncErr <- err
				}()
				testutil.WaitFor(t, 5*time.Second, func() bool { return p.received.Load() == before+2 })
				if goaway {
					pc.send(&pb.Envelope{Type: pb.Type_TYPE_GOAWAY,
						Error: &pb.Error{Code: pb.Code_CODE_DRAINING, Retryable: true}})
					if e := next(t, c); e.Type != pb.Type_TYPE_GOAWAY || e.Error.GetCode() != pb.Code_CODE_DRAINING {
						t.Fatalf("push %v", e)
					}
				}
				pc.closeWith(1001, "going away")
				for _, err := range []error{<-syncErr, <-asyncErr} {
					if !errors.Is(err, ErrDisconnected) || errors.Is(err, ErrGoAway) != goaway {
						t.Fatalf("pending request failed with %v", err)
					}
					var ce *CloseError
					if m.tr == TransportWS && (!errors.As(err, &ce) || ce.Code != 1001 || ce.Reason != "going away") {
						t.Fatalf("pending request failed with %v, want close 1001", err)
					}
				}
				<-c.Done()
				if !errors.Is(c.Err(), ErrDisconnected) {
					t.Fatalf("Err = %v", c.Err())
				}
				if _, ok := <-c.Messages(); ok {
					t.Fatal("push stream open after the end")
				}
				if _, err := c.Send(ctx, "x", "", "y"); !errors.Is(err, ErrDisconnected) {
					t.Fatalf("Send after the end: %v", err)
				}
				if err := c.SendAsync("x", "", "y", func(*pb.Envelope, error) { t.Error("callback after a refused SendAsync") }); err == nil {
					t.Fatal("SendAsync after the end succeeded")
				}
				c.Close()
				if !errors.Is(c.Err(), ErrDisconnected) {
					t.Fatalf("Close replaced the cause: %v", c.Err())
				}
			})
		}
	})
}

func TestTimeouts(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR, func(o *Options) { o.RequestTimeout = 50 * time.Millisecond })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := c.Send(ctx, "blackhole", "", "x"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send with a deadline: %v", err)
		}
		if _, err := c.Send(context.Background(), "blackhole", "", "x"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("Send without a deadline: %v", err)
		}
		errs := make(chan error, 3)
		for range 3 {
			if err := c.SendAsync("blackhole", "", "x", func(_ *pb.Envelope, err error) { errs <- err }); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			if err := <-errs; !errors.Is(err, ErrTimeout) {
				t.Fatalf("SendAsync: %v", err)
			}
		}
		// The connection is still fine, and the sweep re-arms.
		if _, err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping after timeouts: %v", err)
		}
		if err := c.SendAsync("blackhole", "", "x", func(_ *pb.Envelope, err error) { errs <- err }); err != nil {
			t.Fatal(err)
		}
		if err := <-errs; !errors.Is(err, ErrTimeout) {
			t.Fatalf("SendAsync after re-arm: %v", err)
		}
	})
}

func TestCloseFailsPendingNoLeak(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		var clients []*Client
		errs := make(chan error, 20)
		for i := range 10 {
			c := dial(t, p, m, fmt.Sprint("v", i), pb.Role_ROLE_VISITOR)
			clients = append(clients, c)
			if err := c.SendAsync("blackhole", "", "x", func(_ *pb.Envelope, err error) { errs <- err }); err != nil {
				t.Fatal(err)
			}
			go func() {
				_, err := c.Send(context.Background(), "blackhole", "", "y")
				errs <- err
			}()
		}
		testutil.WaitFor(t, 5*time.Second, func() bool { return p.received.Load() == 30 })
		for _, c := range clients {
			c.Close()
			c.Close() // idempotent
		}
		for range 20 {
			if err := <-errs; !errors.Is(err, ErrClosed) {
				t.Fatalf("pending request after Close: %v", err)
			}
		}
		if m.tr == TransportWS {
			if code := <-p.conn(0).closes; code != 1000 {
				t.Fatalf("server saw close code %d, want 1000", code)
			}
		}
	})
}

func TestServerPing(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		pc := p.conn(0)
		var want []byte
		if m.tr == TransportWS {
			want = []byte("hb")
			pc.writeWS(0x9, want) // ping
		} else {
			want = []byte("77")
			pc.send(&pb.Envelope{Type: pb.Type_TYPE_PING, Id: 77})
		}
		select {
		case got := <-pc.pongs:
			if string(got) != string(want) {
				t.Fatalf("pong %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no pong")
		}
		quiet(t, c)
	})
}
