package kefu

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/kefu-im/kefu/proto"
)

// closeWait bounds how long Close waits for the server's answer to a
// WebSocket close frame before it closes the TCP connection itself.
const closeWait = time.Second

// Client is one connection to a Kefu server, authenticated by its HELLO.
// All methods are safe for concurrent use. See the package documentation
// for what is a reply and what is pushed.
type Client struct {
	opts      Options
	transport Transport
	binary    bool // WebSocket: requests go in binary (protobuf) frames
	conn      net.Conn
	br        *bufio.Reader // read side; owned by the reader goroutine

	// Reader-owned scratch.
	rbuf []byte                // frame payloads that do not fit br; WebSocket message assembly
	hdr  [wsMaxHeaderSize]byte // WebSocket header read scratch
	ctl  [wsMaxControl]byte    // WebSocket control payload

	// Write side: one write at a time, encoded into wbuf.
	wmu  sync.Mutex
	wbuf []byte
	wenv pb.Envelope // request scratch, reset after each write

	mu         sync.Mutex
	pending    map[uint64]*call
	collectors []*call // pending OPEN/JOIN/REPLAY with a conversation, oldest first
	asyncN     int     // pending calls with a callback
	sweep      *time.Timer
	sweepArmed bool
	cause      error // first reason the connection is ending
	ended      bool  // the reader has stopped; err is final
	closing    bool  // Close was called before the end
	goaway     bool  // GOAWAY seen

	err      error         // final error; written before done is closed
	done     chan struct{} // closed when the connection has ended
	readerUp chan struct{} // closed when the reader goroutine has returned
	closeCh  chan struct{} // closed by Close: unblocks a reader waiting on msgs
	closed   sync.Once

	msgs     chan *pb.Envelope      // push stream, nil with OnMessage
	identity atomic.Pointer[string] // WELCOME.sender

	inCallback atomic.Bool // the reader is running OnMessage or a SendAsync callback
	nextID     atomic.Uint32
	nextMsgID  atomic.Uint64
	cmidPrefix string
}

// call is one request waiting for its reply.
type call struct {
	id      uint64
	want    pb.Type // reply type that answers it (ERROR always does); 0 = any
	conv    string  // conversation whose MESSAGEs it collects
	collect bool

	msgs  []*pb.Envelope // collected, under Client.mu until done
	reply *pb.Envelope
	err   error

	done     chan struct{}             // sync: closed on completion
	cb       func(*pb.Envelope, error) // async: called on completion
	deadline time.Time                 // async: when the sweep fails it
}

// Dial connects, sends HELLO and waits for WELCOME. A HELLO the server
// refuses returns its ERROR as a *ServerError (and the connection is
// closed). ctx bounds the whole handshake together with opts.DialTimeout.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	laddr, _ := opts.localTCPAddr()
	nd := &net.Dialer{}
	if laddr != nil {
		nd.LocalAddr = laddr
	}
	var (
		conn   net.Conn
		src    io.Reader
		binary bool
		err    error
	)
	switch opts.Transport {
	case TransportFrame:
		conn, err = nd.DialContext(ctx, "tcp", opts.Addr)
		src = conn
	case TransportWS:
		conn, src, binary, err = dialWS(ctx, nd, &opts)
	}
	if err != nil {
		return nil, err
	}
	c := newClient(conn, src, binary, opts)
	go c.run()

	hello := &pb.Envelope{
		Type: pb.Type_TYPE_HELLO,
		Hello: &pb.Hello{
			Site:   opts.Site,
			Role:   opts.Role,
			User:   opts.User,
			Token:  opts.Token,
			Client: opts.ClientName,
		},
	}
	for _, conv := range slices.Sorted(maps.Keys(opts.Cursors)) {
		hello.Cursors = append(hello.Cursors, &pb.Cursor{Conversation: conv, Seq: opts.Cursors[conv]})
	}
	p, err := c.Request(ctx, hello)
	if err != nil {
		c.Close()
		return nil, err
	}
	sender := p.End.GetSender()
	c.identity.Store(&sender)
	return c, nil
}

// newClient wraps an established connection; src is what to read from
// (conn, or conn behind bytes already buffered by the handshake). The
// caller starts run.
func newClient(conn net.Conn, src io.Reader, binary bool, opts Options) *Client {
	var prefix [8]byte
	rand.Read(prefix[:])
	c := &Client{
		opts:       opts,
		transport:  opts.Transport,
		binary:     binary,
		conn:       conn,
		br:         bufio.NewReaderSize(src, opts.ReadBufferSize),
		pending:    make(map[uint64]*call),
		done:       make(chan struct{}),
		readerUp:   make(chan struct{}),
		closeCh:    make(chan struct{}),
		cmidPrefix: hex.EncodeToString(prefix[:]) + "-",
	}
	if opts.OnMessage == nil {
		c.msgs = make(chan *pb.Envelope, opts.MessageBuffer)
	}
	return c
}

// Identity returns the identity the server authenticated (WELCOME.sender):
// "v:<user>" for a visitor, "a:<agent>" for an agent.
func (c *Client) Identity() string {
	if s := c.identity.Load(); s != nil {
		return *s
	}
	return ""
}

// Messages returns the push stream (see the package documentation), or nil
// when Options.OnMessage is set. It is closed after the connection ends.
// While it is full the reader waits, and so do the replies behind it.
func (c *Client) Messages() <-chan *pb.Envelope { return c.msgs }

// Done is closed when the connection has ended, for any reason.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is up, and why it ended once Done is
// closed: ErrClosed after Close, otherwise an error wrapping
// ErrDisconnected (with a *CloseError for a WebSocket close from the server)
// or ErrProtocol; ErrGoAway is in the chain when GOAWAY came first.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close ends the connection: on WebSocket it sends a close frame (1000) and
// waits briefly for the server's answer. Requests in flight fail with
// ErrClosed. When Close returns, the reader goroutine has exited and the
// Messages channel is closed — except when Close is called from OnMessage
// or a SendAsync callback on the reader goroutine: then it does not wait,
// and the reader exits as soon as the callback returns. Close is
// idempotent and always returns nil.
func (c *Client) Close() error {
	c.closed.Do(func() {
		fromReader := c.inCallback.Load()
		c.mu.Lock()
		live := !c.ended && c.cause == nil
		if !c.ended {
			c.closing = true
		}
		c.mu.Unlock()
		close(c.closeCh)
		if live && c.transport == TransportWS && c.writeWSClose(1000, "") == nil && !fromReader {
			t := time.NewTimer(closeWait)
			select {
			case <-c.readerUp:
			case <-t.C:
			}
			t.Stop()
		}
		c.conn.Close()
		if !fromReader {
			<-c.readerUp
		}
	})
	return nil
}

// run is the reader goroutine.
func (c *Client) run() {
	var err error
	switch c.transport {
	case TransportFrame:
		err = c.readFrames()
	case TransportWS:
		err = c.readWS()
	}
	c.end(err)
	if c.msgs != nil {
		close(c.msgs)
	}
	close(c.readerUp)
}

// fail records why the connection is ending (the first reason wins) and
// closes the socket so that the reader stops.
func (c *Client) fail(err error) {
	c.setCause(err)
	c.conn.Close()
}

// setCause records why the connection is ending; the first reason wins,
// and none is recorded once Close was called.
func (c *Client) setCause(err error) {
	c.mu.Lock()
	if c.cause == nil && !c.closing {
		c.cause = err
	}
	c.mu.Unlock()
}

// end runs once, on the reader goroutine, when reading stopped with err: it
// fixes the final error and fails every pending request with it.
func (c *Client) end(err error) {
	c.mu.Lock()
	switch {
	case c.cause != nil: // recorded before any Close
		err = c.cause
	case c.closing:
		err = ErrClosed
	}
	if c.goaway && err != ErrClosed {
		err = fmt.Errorf("%w: %w", ErrGoAway, err)
	}
	c.ended = true
	c.err = err
	calls := make([]*call, 0, len(c.pending))
	for _, cl := range c.pending {
		calls = append(calls, cl)
	}
	clear(c.pending)
	c.collectors = nil
	c.asyncN = 0
	if c.sweep != nil {
		c.sweep.Stop()
	}
	c.mu.Unlock()
	c.conn.Close()
	close(c.done)
	// Complete in request order, so that callbacks see a sane sequence.
	slices.SortFunc(calls, byID)
	for _, cl := range calls {
		c.completeOnReader(cl, nil, err)
	}
}

func byID(a, b *call) int { return cmp.Compare(a.id, b.id) }

// lost wraps a read or write error of the socket.
func lost(err error) error { return fmt.Errorf("%w: %w", ErrDisconnected, err) }

// protocolErr makes an ErrProtocol with detail.
func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// requestID returns the next request id: a u32 counter starting at 1 that
// skips 0 when it wraps (docs/protocol-frame.md §2).
func (c *Client) requestID() uint64 {
	id := c.nextID.Add(1)
	if id == 0 {
		id = c.nextID.Add(1)
	}
	return uint64(id)
}

// NewClientMsgID returns a client message id unique to this client: a
// random per-client prefix and a counter.
func (c *Client) NewClientMsgID() string {
	var b [48]byte
	x := append(b[:0], c.cmidPrefix...)
	x = strconv.AppendUint(x, c.nextMsgID.Add(1), 10)
	return string(x)
}

// register adds cl to the pending requests; it fails once the connection
// is ending or closed.
func (c *Client) register(cl *call) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closing:
		return ErrClosed
	case c.ended:
		return c.err
	case c.cause != nil:
		return c.cause
	}
	c.pending[cl.id] = cl
	if cl.collect {
		c.collectors = append(c.collectors, cl)
	}
	if cl.cb != nil {
		c.asyncN++
		if !c.sweepArmed {
			c.sweepArmed = true
			if c.sweep == nil {
				c.sweep = time.AfterFunc(c.opts.RequestTimeout, c.sweepAsync)
			} else {
				c.sweep.Reset(c.opts.RequestTimeout)
			}
		}
	}
	return nil
}

// takeLocked removes the pending request id and returns it, or nil.
func (c *Client) takeLocked(id uint64) *call {
	cl := c.pending[id]
	if cl == nil {
		return nil
	}
	delete(c.pending, id)
	if cl.collect {
		if i := slices.Index(c.collectors, cl); i >= 0 {
			c.collectors = slices.Delete(c.collectors, i, i+1)
		}
	}
	if cl.cb != nil {
		c.asyncN--
	}
	return cl
}

// unregister removes cl if it is still pending and reports whether it was;
// false means the reader or the end of the connection completes it.
func (c *Client) unregister(cl *call) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[cl.id] != cl {
		return false
	}
	c.takeLocked(cl.id)
	return true
}

// sweepAsync fails the SendAsync calls whose time is up and re-arms itself
// for the earliest remaining one.
func (c *Client) sweepAsync() {
	now := time.Now()
	var expired []*call
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	var next time.Time
	for id, cl := range c.pending {
		if cl.cb == nil {
			continue
		}
		if !cl.deadline.After(now) {
			expired = append(expired, c.takeLocked(id))
		} else if next.IsZero() || cl.deadline.Before(next) {
			next = cl.deadline
		}
	}
	if c.asyncN > 0 {
		c.sweep.Reset(max(next.Sub(now), time.Millisecond))
	} else {
		c.sweepArmed = false
	}
	c.mu.Unlock()
	slices.SortFunc(expired, byID)
	for _, cl := range expired {
		cl.complete(nil, ErrTimeout)
	}
}

// complete records the outcome and wakes the waiter or runs the callback.
func (cl *call) complete(reply *pb.Envelope, err error) {
	cl.reply, cl.err = reply, err
	if cl.cb != nil {
		cl.cb(reply, err)
		return
	}
	close(cl.done)
}

// dispatch routes one envelope read from the server. It runs on the reader
// goroutine.
func (c *Client) dispatch(env *pb.Envelope) {
	switch env.Type {
	case pb.Type_TYPE_MESSAGE:
		c.mu.Lock()
		for _, cl := range c.collectors {
			if cl.conv == env.Conversation {
				cl.msgs = append(cl.msgs, env)
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		c.push(env)
	case pb.Type_TYPE_WELCOME, pb.Type_TYPE_JOINED, pb.Type_TYPE_ACK,
		pb.Type_TYPE_REPLAY_END, pb.Type_TYPE_ERROR, pb.Type_TYPE_PONG, pb.Type_TYPE_OK:
		if env.Id != 0 {
			c.mu.Lock()
			cl := c.takeLocked(env.Id)
			c.mu.Unlock()
			if cl != nil {
				c.finish(cl, env)
				return
			}
		}
		if env.Type != pb.Type_TYPE_PONG { // an unsolicited PONG carries nothing
			c.push(env)
		}
	case pb.Type_TYPE_PING:
		// docs/protocol-frame.md §7: answer PING with PONG, same request id.
		c.writeEnvelope(&pb.Envelope{Type: pb.Type_TYPE_PONG, Id: env.Id})
	case pb.Type_TYPE_GOAWAY:
		c.mu.Lock()
		c.goaway = true
		c.mu.Unlock()
		c.push(env)
	case pb.Type_TYPE_EVENT, pb.Type_TYPE_NOTICE, pb.Type_TYPE_STATUS:
		c.push(env)
	default:
		// Unknown or client-only types: skipped (docs/protocol-frame.md §8).
	}
}

// finish completes cl with its reply envelope.
func (c *Client) finish(cl *call, env *pb.Envelope) {
	switch {
	case env.Type == pb.Type_TYPE_ERROR:
		c.completeOnReader(cl, env, serverError(env))
	case cl.want != 0 && env.Type != cl.want:
		c.completeOnReader(cl, env, fmt.Errorf("%w: %s answers request %d (want %s)", ErrUnexpectedReply, env.Type, cl.id, cl.want))
	default:
		c.completeOnReader(cl, env, nil)
	}
}

// completeOnReader completes cl on the reader goroutine, flagging the time
// spent in a user callback (see Close).
func (c *Client) completeOnReader(cl *call, reply *pb.Envelope, err error) {
	if cl.cb == nil {
		cl.complete(reply, err)
		return
	}
	c.inCallback.Store(true)
	cl.complete(reply, err)
	c.inCallback.Store(false)
}

// push hands env to OnMessage or the Messages channel.
func (c *Client) push(env *pb.Envelope) {
	if c.opts.OnMessage != nil {
		c.inCallback.Store(true)
		c.opts.OnMessage(env)
		c.inCallback.Store(false)
		return
	}
	select {
	case c.msgs <- env:
	case <-c.closeCh:
	}
}

// writeEnvelope encodes env and writes it as one frame or WebSocket
// message. A write error ends the connection.
func (c *Client) writeEnvelope(env *pb.Envelope) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeEnvelopeLocked(env)
}

// writeEnvelopeLocked is writeEnvelope with c.wmu held.
func (c *Client) writeEnvelopeLocked(env *pb.Envelope) error {
	var (
		b     []byte
		start int
		err   error
	)
	switch c.transport {
	case TransportFrame:
		b, err = appendFrame(c.wbuf[:0], env)
	case TransportWS:
		b, start, err = c.appendWSMessage(c.wbuf[:0], env)
	}
	if err != nil {
		return err
	}
	c.wbuf = b
	return c.flushLocked(b[start:])
}

// flushLocked writes b with the write deadline; c.wmu is held.
func (c *Client) flushLocked(b []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.opts.RequestTimeout))
	_, err := c.conn.Write(b)
	if cap(c.wbuf) > maxKeptBuffer {
		c.wbuf = nil
	}
	if err != nil {
		err = lost(err)
		c.fail(err)
		return err
	}
	return nil
}

// maxKeptBuffer is the largest read or write buffer kept between messages;
// a bigger one (after a big message) is dropped.
const maxKeptBuffer = 64 << 10
