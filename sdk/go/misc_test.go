package kefu

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/internal/testutil"
	pb "github.com/kefu-im/kefu/proto"
)

func TestBigMessages(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		ctx := context.Background()
		v := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR)
		a := dial(t, p, m, "a1", pb.Role_ROLE_AGENT)
		op, err := v.Open(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		conv := op.End.Conversation
		if _, err := a.Join(ctx, conv, 0); err != nil {
			t.Fatal(err)
		}
		// 64-bit WebSocket lengths and frames bigger than the read buffer,
		// both ways; then a small one, to see the buffers recover.
		for _, size := range []int{100, 70 << 10, 300 << 10, 10} {
			body := strings.Repeat("z", size)
			ack, err := v.Send(ctx, conv, "", body)
			if err != nil {
				t.Fatalf("Send %d bytes: %v", size, err)
			}
			if got := next(t, a); got.Seq != ack.Seq || got.Body != body {
				t.Fatalf("agent got seq %d, %d bytes; want seq %d, %d bytes", got.Seq, len(got.Body), ack.Seq, size)
			}
		}
	})
}

func TestServerErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    ServerError
		want string
	}{
		{ServerError{Code: pb.Code_CODE_NOT_FOUND, Message: "no such conversation"},
			"kefu: server error CODE_NOT_FOUND: no such conversation"},
		{ServerError{Code: pb.Code_CODE_BUSY, Retryable: true}, "kefu: server error CODE_BUSY (retryable)"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
	if got := (&CloseError{Code: 1001, Reason: "drain"}).Error(); got != "websocket close 1001: drain" {
		t.Errorf("CloseError: %q", got)
	}
}

// pipeServer is the far end of a net.Pipe: the test reads the client's
// frames and writes what it likes.
type pipeServer struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// pipeClient returns a frame client over a net.Pipe, its reader running,
// and the server end.
func pipeClient(t *testing.T) (*Client, *pipeServer) {
	t.Helper()
	cli, srv := net.Pipe()
	opts := Options{Transport: TransportFrame, Addr: "pipe", RequestTimeout: 5 * time.Second}
	opts.EnsureDefaults()
	c := newClient(cli, cli, false, opts)
	go c.run()
	t.Cleanup(func() {
		srv.Close()
		c.Close()
	})
	return c, &pipeServer{t: t, c: srv, br: bufio.NewReader(srv)}
}

func (s *pipeServer) read() *pb.Envelope {
	s.t.Helper()
	hdr, err := s.br.Peek(frame.HeaderSize)
	if err != nil {
		s.t.Fatal(err)
	}
	f, _, err := frame.Decode(hdr, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	b, err := s.br.Peek(frame.HeaderSize + int(f.Length))
	if err != nil {
		s.t.Fatal(err)
	}
	f, n, _ := frame.Decode(b, 0)
	env, err := frame.DecodeEnvelope(f)
	if err != nil {
		s.t.Fatal(err)
	}
	s.br.Discard(n)
	return env
}

func (s *pipeServer) write(env *pb.Envelope) {
	s.t.Helper()
	b, err := frame.AppendEnvelope(nil, env)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.c.Write(b); err != nil {
		s.t.Fatal(err)
	}
}

func TestUnexpectedReply(t *testing.T) {
	testutil.CheckGoroutineLeaks(t)
	c, s := pipeClient(t)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Join(context.Background(), "c1", 0)
		errc <- err
	}()
	req := s.read()
	if req.Type != pb.Type_TYPE_JOIN || req.Id != 1 || req.Conversation != "c1" {
		t.Fatalf("request %v", req)
	}
	s.write(&pb.Envelope{Type: pb.Type_TYPE_ACK, Id: req.Id})
	if err := <-errc; !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("Join answered by ACK: %v", err)
	}
	// A late reply (its request gave up) is pushed.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := c.Send(ctx, "c1", "m", "x")
		errc <- err
	}()
	req = s.read()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Send: %v", err)
	}
	s.write(&pb.Envelope{Type: pb.Type_TYPE_ACK, Id: req.Id, Seq: 9})
	if e := next(t, c); e.Type != pb.Type_TYPE_ACK || e.Seq != 9 {
		t.Fatalf("late ACK pushed as %v", e)
	}
}

func TestRequestIDsFollowWireOrder(t *testing.T) {
	testutil.CheckGoroutineLeaks(t)
	c, s := pipeClient(t)
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SendAsync("c1", "", "x", nil)
		}()
	}
	for i := range n {
		if req := s.read(); req.Id != uint64(i+1) {
			t.Fatalf("request %d on the wire has id %d", i, req.Id)
		}
	}
	wg.Wait()
}

func TestRequestIDWrap(t *testing.T) {
	var pushed []*pb.Envelope
	c, _ := scriptClient(TransportFrame, false, nil, &pushed)
	c.nextID.Store(1<<32 - 2)
	for _, want := range []uint64{1<<32 - 1, 1, 2} {
		if got := c.requestID(); got != want {
			t.Fatalf("requestID = %d, want %d", got, want)
		}
	}
}

// failConn is a connection whose writes fail and whose reads wait for
// Close.
type failConn struct {
	net.Conn // nil: only the methods below are used
	once     sync.Once
	closed   chan struct{}
}

func (f *failConn) Read([]byte) (int, error)         { <-f.closed; return 0, net.ErrClosed }
func (f *failConn) Write([]byte) (int, error)        { return 0, errors.New("boom") }
func (f *failConn) Close() error                     { f.once.Do(func() { close(f.closed) }); return nil }
func (f *failConn) SetWriteDeadline(time.Time) error { return nil }

func TestWriteFailureEndsConnection(t *testing.T) {
	testutil.CheckGoroutineLeaks(t)
	conn := &failConn{closed: make(chan struct{})}
	opts := Options{Transport: TransportFrame, Addr: "x"}
	opts.EnsureDefaults()
	c := newClient(conn, conn, false, opts)
	go c.run()
	defer c.Close()
	if _, err := c.Send(context.Background(), "c1", "", "x"); !errors.Is(err, ErrDisconnected) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Send: %v", err)
	}
	<-c.Done()
	if err := c.Err(); !errors.Is(err, ErrDisconnected) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Err = %v", err)
	}
	if err := c.SendAsync("c1", "", "x", nil); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("SendAsync after the end: %v", err)
	}
	if _, err := c.Ping(context.Background()); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Ping after the end: %v", err)
	}
}

// TestCloseFromCallback closes the client from its own callbacks (a
// reconnect-on-GOAWAY pattern), which must not deadlock.
func TestCloseFromCallback(t *testing.T) {
	forModes(t, func(t *testing.T, m mode, p *peer) {
		var self atomic.Pointer[Client]
		closed := make(chan struct{})
		c := dial(t, p, m, "v1", pb.Role_ROLE_VISITOR, func(o *Options) {
			o.OnMessage = func(e *pb.Envelope) {
				if e.Type == pb.Type_TYPE_GOAWAY {
					self.Load().Close()
					close(closed)
				}
			}
		})
		self.Store(c)
		p.lastConn().send(&pb.Envelope{Type: pb.Type_TYPE_GOAWAY})
		<-closed
		<-c.Done()
		if !errors.Is(c.Err(), ErrClosed) {
			t.Fatalf("Err = %v", c.Err())
		}

		c2 := dial(t, p, m, "v2", pb.Role_ROLE_VISITOR)
		done := make(chan error, 1)
		if err := c2.SendAsync("blackhole", "", "x", func(_ *pb.Envelope, err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
		// The callback runs on the reader when the server closes; it
		// closes the client from there.
		if err := c2.SendAsync("blackhole", "", "y", func(*pb.Envelope, error) { c2.Close() }); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 5*time.Second, func() bool { return p.received.Load() >= 4 })
		p.lastConn().closeWith(1001, "")
		if err := <-done; !errors.Is(err, ErrDisconnected) {
			t.Fatalf("first callback: %v", err)
		}
		<-c2.Done()
	})
}
