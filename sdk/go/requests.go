package kefu

import (
	"context"
	"encoding/binary"
	"time"

	pb "github.com/kefu-im/kefu/proto"
)

// Page is the answer to a request: the reply envelope (End) and, for OPEN,
// JOIN and REPLAY of a named conversation, the MESSAGEs of that
// conversation that arrived between the request and its reply, in arrival
// order (Messages).
type Page struct {
	// Messages are the collected MESSAGEs; they may include live messages
	// that arrived in the same window (de-duplicate by seq).
	Messages []*pb.Envelope
	// End is the reply: WELCOME, JOINED, ACK, REPLAY_END or PONG.
	End *pb.Envelope
}

// replyType returns the reply type that answers a request of type t, or 0
// when any reply is accepted.
func replyType(t pb.Type) pb.Type {
	switch t {
	case pb.Type_TYPE_HELLO:
		return pb.Type_TYPE_WELCOME
	case pb.Type_TYPE_OPEN, pb.Type_TYPE_JOIN:
		return pb.Type_TYPE_JOINED
	case pb.Type_TYPE_SEND:
		return pb.Type_TYPE_ACK
	case pb.Type_TYPE_REPLAY:
		return pb.Type_TYPE_REPLAY_END
	case pb.Type_TYPE_PING:
		return pb.Type_TYPE_PONG
	case pb.Type_TYPE_CLOSE, pb.Type_TYPE_CLAIM, pb.Type_TYPE_TRANSFER, pb.Type_TYPE_STATUS, pb.Type_TYPE_RATE:
		return pb.Type_TYPE_OK
	}
	return 0
}

// collects reports whether a request of type t for conversation conv
// collects that conversation's MESSAGEs until its reply.
func collects(t pb.Type, conv string) bool {
	switch t {
	case pb.Type_TYPE_OPEN, pb.Type_TYPE_JOIN, pb.Type_TYPE_REPLAY:
		return conv != ""
	}
	return false
}

// newCall makes a synchronous call for a request of type t; start gives it
// its id.
func newCall(t pb.Type, conv string) *call {
	return &call{
		want:    replyType(t),
		conv:    conv,
		collect: collects(t, conv),
		done:    make(chan struct{}),
	}
}

// req describes a request built in the write scratch envelope.
type req struct {
	typ                     pb.Type
	conv, cmid, body, event string
	seq                     uint64
	limit                   uint32
}

// start gives cl (nil for requests without a reply) the next request id,
// registers it and writes the request: env, or when env is nil the
// envelope r describes. The write lock is held throughout, so request ids
// and the order of collectors follow the order on the wire. A write error
// is returned only when cl is still pending; otherwise the end of the
// connection completes cl.
func (c *Client) start(cl *call, r *req, env *pb.Envelope) error {
	c.wmu.Lock()
	id := c.requestID()
	if cl != nil {
		cl.id = id
		if err := c.register(cl); err != nil {
			c.wmu.Unlock()
			return err
		}
	} else if err := c.usable(); err != nil {
		c.wmu.Unlock()
		return err
	}
	var err error
	switch {
	case env != nil:
		env.Id = id
		err = c.writeEnvelopeLocked(env)
	case r.typ == pb.Type_TYPE_PING && c.transport == TransportWS:
		// RFC 6455 §5.5.2: the pong echoes the 8-byte id.
		var p [8]byte
		binary.BigEndian.PutUint64(p[:], id)
		err = c.writeWSControlLocked(wsOpPing, p[:])
	default:
		e := &c.wenv
		e.Type, e.Id, e.Conversation, e.ClientMsgId, e.Body, e.Event, e.Seq, e.Limit =
			r.typ, id, r.conv, r.cmid, r.body, r.event, r.seq, r.limit
		if r.typ == pb.Type_TYPE_SEND {
			e.Kind = pb.Kind_KIND_TEXT
		}
		err = c.writeEnvelopeLocked(e)
		e.Reset()
	}
	c.wmu.Unlock()
	if err != nil && (cl == nil || c.unregister(cl)) {
		return err
	}
	return nil
}

// Request sends env as a request and waits for its reply. It sets env.Id to
// a fresh request id; env must not be changed until Request returns. The
// reply is matched by id: an ERROR becomes a *ServerError, a reply of the
// wrong type an error wrapping ErrUnexpectedReply. When ctx has no deadline,
// Options.RequestTimeout applies (ErrTimeout). Request is the general form
// of the methods below, for requests they do not cover (OPEN or JOIN with a
// limit, SEND of another kind, raw envelopes in tests).
func (c *Client) Request(ctx context.Context, env *pb.Envelope) (*Page, error) {
	cl := newCall(env.GetType(), env.GetConversation())
	if err := c.start(cl, nil, env); err != nil {
		return nil, err
	}
	if err := c.wait(ctx, cl); err != nil {
		return nil, err
	}
	return &Page{Messages: cl.msgs, End: cl.reply}, nil
}

// do starts the request r and waits for its reply.
func (c *Client) do(ctx context.Context, r *req) (*call, error) {
	cl := newCall(r.typ, r.conv)
	if err := c.start(cl, r, nil); err != nil {
		return nil, err
	}
	if err := c.wait(ctx, cl); err != nil {
		return nil, err
	}
	return cl, nil
}

// page returns the Page of a completed call, or the error.
func page(cl *call, err error) (*Page, error) {
	if err != nil {
		return nil, err
	}
	return &Page{Messages: cl.msgs, End: cl.reply}, nil
}

// wait waits for cl to complete, for ctx, or for RequestTimeout when ctx
// has no deadline. A request given up is unregistered: its reply, if it
// comes, is pushed.
func (c *Client) wait(ctx context.Context, cl *call) error {
	var timeout <-chan time.Time
	if _, ok := ctx.Deadline(); !ok {
		t := time.NewTimer(c.opts.RequestTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-cl.done:
	case <-ctx.Done():
		if c.unregister(cl) {
			return ctx.Err()
		}
		<-cl.done
	case <-timeout:
		if c.unregister(cl) {
			return ErrTimeout
		}
		<-cl.done
	}
	return cl.err
}

// Open asks for a conversation: a new one when conversation is empty, or
// the resumption of conversation after seq cursor. The server subscribes
// this connection, sends the missed MESSAGEs (Page.Messages) and JOINED
// (Page.End; End.Conversation names a new conversation).
func (c *Client) Open(ctx context.Context, conversation string, cursor uint64) (*Page, error) {
	return page(c.do(ctx, &req{typ: pb.Type_TYPE_OPEN, conv: conversation, seq: cursor}))
}

// Join subscribes this connection to conversation; cursor is the last seq
// seen (0 = none). The page holds the missed MESSAGEs and JOINED{seq = last
// committed, more}.
func (c *Client) Join(ctx context.Context, conversation string, cursor uint64) (*Page, error) {
	return page(c.do(ctx, &req{typ: pb.Type_TYPE_JOIN, conv: conversation, seq: cursor}))
}

// Replay fetches committed messages of conversation after seq after, at
// most limit (0 = the server's page size). The page holds the MESSAGEs and
// REPLAY_END{seq = last sent, more}.
func (c *Client) Replay(ctx context.Context, conversation string, after uint64, limit uint32) (*Page, error) {
	return page(c.do(ctx, &req{typ: pb.Type_TYPE_REPLAY, conv: conversation, seq: after, limit: limit}))
}

// Send stores a text message in conversation and returns its ACK (seq, ts).
// An empty clientMsgID is replaced by NewClientMsgID(); to retry a send
// whose outcome is unknown, call Send again with the same clientMsgID.
func (c *Client) Send(ctx context.Context, conversation, clientMsgID, body string) (*pb.Envelope, error) {
	if clientMsgID == "" {
		clientMsgID = c.NewClientMsgID()
	}
	cl, err := c.do(ctx, &req{typ: pb.Type_TYPE_SEND, conv: conversation, cmid: clientMsgID, body: body})
	if err != nil {
		return nil, err
	}
	return cl.reply, nil
}

// SendAsync sends a text message without waiting, so that many can be in
// flight on one connection. When it returns nil, done is called exactly
// once, with the ACK or an error (a *ServerError, ErrTimeout after
// Options.RequestTimeout, or the connection's end); when it returns an
// error, done is never called. done runs on the reader goroutine (or the
// goroutine that ends the connection) and must not block or wait for a
// reply of this client. A nil done discards the outcome.
func (c *Client) SendAsync(conversation, clientMsgID, body string, done func(ack *pb.Envelope, err error)) error {
	if clientMsgID == "" {
		clientMsgID = c.NewClientMsgID()
	}
	if done == nil {
		done = discardReply
	}
	cl := &call{
		want:     pb.Type_TYPE_ACK,
		cb:       done,
		deadline: time.Now().Add(c.opts.RequestTimeout),
	}
	return c.start(cl, &req{typ: pb.Type_TYPE_SEND, conv: conversation, cmid: clientMsgID, body: body}, nil)
}

func discardReply(*pb.Envelope, error) {}

// Event sends an ephemeral event ("typing", "read" with seq) to the other
// participants of conversation. There is no reply on success; a failure
// comes back as an ERROR on the push stream. The error is the write's.
func (c *Client) Event(conversation, name string, seq uint64) error {
	return c.start(nil, &req{typ: pb.Type_TYPE_EVENT, conv: conversation, event: name, seq: seq}, nil)
}

// CloseConversation closes conversation (the visitor's, or any of the site's for an
// agent); the reply is OK.
func (c *Client) CloseConversation(ctx context.Context, conversation string) (*pb.Envelope, error) {
	return c.simple(ctx, &pb.Envelope{Type: pb.Type_TYPE_CLOSE, Conversation: conversation})
}

// Claim takes conversation from a queue of the agent's groups (""
// = the longest waiting); the OK names the conversation.
func (c *Client) Claim(ctx context.Context, conversation string) (*pb.Envelope, error) {
	return c.simple(ctx, &pb.Envelope{Type: pb.Type_TYPE_CLAIM, Conversation: conversation})
}

// Transfer hands conversation to agent, or to the queue of group (give
// exactly one).
func (c *Client) Transfer(ctx context.Context, conversation, agent, group string) (*pb.Envelope, error) {
	return c.simple(ctx, &pb.Envelope{Type: pb.Type_TYPE_TRANSFER, Conversation: conversation, Agent: agent, Group: group})
}

// SetStatus sets the agent's status: "online" or "away".
func (c *Client) SetStatus(ctx context.Context, status string) (*pb.Envelope, error) {
	return c.simple(ctx, &pb.Envelope{Type: pb.Type_TYPE_STATUS, Status: status})
}

// Rate rates a closed conversation 1..5 with an optional comment.
func (c *Client) Rate(ctx context.Context, conversation string, rating uint32, comment string) (*pb.Envelope, error) {
	return c.simple(ctx, &pb.Envelope{Type: pb.Type_TYPE_RATE, Conversation: conversation, Rating: rating, Body: comment})
}

// simple sends a request whose reply is OK, and returns it (an ERROR
// reply is an *Error).
func (c *Client) simple(ctx context.Context, env *pb.Envelope) (*pb.Envelope, error) {
	p, err := c.Request(ctx, env)
	if err != nil {
		return nil, err
	}
	return p.End, nil
}

// Leave unsubscribes this connection from conversation. There is no reply
// on success; a failure comes back as an ERROR on the push stream.
func (c *Client) Leave(conversation string) error {
	return c.start(nil, &req{typ: pb.Type_TYPE_LEAVE, conv: conversation}, nil)
}

// usable returns the error a new request gets when the connection is
// closed or ending, or nil.
func (c *Client) usable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closing:
		return ErrClosed
	case c.ended:
		return c.err
	}
	return c.cause
}

// Ping measures a round trip to the server: a PING frame answered by PONG
// on TransportFrame, a WebSocket ping control frame answered by pong on
// TransportWS (RFC 6455 §5.5.2).
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if _, err := c.do(ctx, &req{typ: pb.Type_TYPE_PING}); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
