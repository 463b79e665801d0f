package gorillahub

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	pb "github.com/kefu-im/kefu/proto"
)

// Options configures a Hub. Zero values take the documented defaults.
type Options struct {
	// Addr to listen on. Default 127.0.0.1:7100.
	Addr string
	// Path of the WebSocket endpoint. Default /ws.
	Path string
	// ReadBufferSize and WriteBufferSize are gorilla's per-connection I/O
	// buffers. Default 1024 each (the chat example's).
	ReadBufferSize, WriteBufferSize int
	// SendQueue is the capacity of each connection's outbound channel.
	// Default 256 (the chat example's).
	SendQueue int
	// PingPeriod is how often the writer pings; PongWait how long the
	// reader waits for anything. Defaults 25s and 60s.
	PingPeriod, PongWait time.Duration
	// MaxMessage bounds an inbound message. Default 65536.
	MaxMessage int64
	// Logger. Default: discard.
	Logger *slog.Logger
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:7100"
	}
	if o.Path == "" {
		o.Path = "/ws"
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = 1024
	}
	if o.WriteBufferSize <= 0 {
		o.WriteBufferSize = 1024
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 256
	}
	if o.PingPeriod <= 0 {
		o.PingPeriod = 25 * time.Second
	}
	if o.PongWait <= 0 {
		o.PongWait = 60 * time.Second
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = 65536
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if o.PongWait <= o.PingPeriod {
		return errors.New("gorillahub: pong wait must exceed the ping period")
	}
	return nil
}

// Stats are the hub's counters.
type Stats struct {
	Connections, Messages, Dropped int64
}

// Hub is a running baseline server.
type Hub struct {
	opts     Options
	upgrader websocket.Upgrader
	srv      *http.Server
	ln       net.Listener

	register   chan *client
	unregister chan *client
	inbound    chan request
	quit       chan struct{}
	hubDone    chan struct{}

	conns, messages, dropped atomic.Int64
}

type client struct {
	hub      *Hub
	ws       *websocket.Conn
	send     chan []byte
	identity string         // hub goroutine only
	subs     map[*conv]bool // hub goroutine only
	gone     bool           // hub goroutine only
}

type request struct {
	c   *client
	env *pb.Envelope
}

type conv struct {
	id      string
	seq     uint64
	members map[*client]bool
}

// New returns a hub that is not yet listening.
func New(opts Options) (*Hub, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	h := &Hub{
		opts:       opts,
		register:   make(chan *client),
		unregister: make(chan *client),
		inbound:    make(chan request, 1024),
		quit:       make(chan struct{}),
		hubDone:    make(chan struct{}),
	}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  opts.ReadBufferSize,
		WriteBufferSize: opts.WriteBufferSize,
		Subprotocols:    []string{"kefu.json"},
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	mux := http.NewServeMux()
	mux.HandleFunc(opts.Path, h.serveWS)
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return h, nil
}

// Start listens and serves in the background.
func (h *Hub) Start() error {
	ln, err := net.Listen("tcp", h.opts.Addr)
	if err != nil {
		return err
	}
	h.ln = ln
	go h.run()
	go func() {
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.opts.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// Addr is the address the hub listens on.
func (h *Hub) Addr() string { return h.ln.Addr().String() }

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	return Stats{Connections: h.conns.Load(), Messages: h.messages.Load(), Dropped: h.dropped.Load()}
}

// Close stops listening, closes every connection and stops the hub.
func (h *Hub) Close(ctx context.Context) error {
	err := h.srv.Shutdown(ctx) // hijacked WebSocket connections are not closed by this
	close(h.quit)
	<-h.hubDone
	return err
}

func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &client{hub: h, ws: ws, send: make(chan []byte, h.opts.SendQueue)}
	select {
	case h.register <- c:
	case <-h.quit:
		_ = ws.Close()
		return
	}
	go c.writePump()
	go c.readPump()
}

// readPump reads envelopes and hands them to the hub.
func (c *client) readPump() {
	h := c.hub
	defer func() {
		select {
		case h.unregister <- c:
		case <-h.quit:
		}
		_ = c.ws.Close()
	}()
	c.ws.SetReadLimit(h.opts.MaxMessage)
	_ = c.ws.SetReadDeadline(time.Now().Add(h.opts.PongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(h.opts.PongWait)) })
	ping := c.ws.PingHandler()
	c.ws.SetPingHandler(func(data string) error {
		_ = c.ws.SetReadDeadline(time.Now().Add(h.opts.PongWait))
		return ping(data)
	})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(h.opts.PongWait))
		env := new(pb.Envelope)
		if err := pb.UnmarshalJSON(data, env); err != nil {
			env = &pb.Envelope{Type: pb.Type_TYPE_UNSPECIFIED}
		}
		select {
		case h.inbound <- request{c, env}:
		case <-h.quit:
			return
		}
	}
}

// writePump writes what the hub queued, and pings.
func (c *client) writePump() {
	t := time.NewTicker(c.hub.opts.PingPeriod)
	defer func() {
		t.Stop()
		_ = c.ws.Close()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if !ok {
				_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
				return
			}
			if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-t.C:
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// run is the hub goroutine: it owns the clients and conversations.
func (h *Hub) run() {
	defer close(h.hubDone)
	clients := make(map[*client]bool)
	convs := make(map[string]*conv)
	var next uint64
	drop := func(c *client) {
		if c.gone {
			return
		}
		c.gone = true
		delete(clients, c)
		for cv := range c.subs {
			delete(cv.members, c)
		}
		close(c.send)
		h.conns.Add(-1)
	}
	deliver := func(c *client, env *pb.Envelope) {
		if c.gone {
			return
		}
		select {
		case c.send <- pb.AppendJSON(nil, env):
		default: // slow consumer: drop it, as the chat example does
			h.dropped.Add(1)
			drop(c)
		}
	}
	fail := func(c *client, id uint64, code pb.Code, msg string) {
		deliver(c, &pb.Envelope{Type: pb.Type_TYPE_ERROR, Id: id, Error: &pb.Error{Code: code, Message: msg}})
	}
	for {
		select {
		case <-h.quit:
			for c := range clients {
				drop(c)
			}
			return
		case c := <-h.register:
			clients[c] = true
			c.subs = make(map[*conv]bool)
			h.conns.Add(1)
		case c := <-h.unregister:
			drop(c)
		case r := <-h.inbound:
			c, e := r.c, r.env
			if c.gone {
				continue
			}
			if c.identity == "" && e.Type != pb.Type_TYPE_HELLO {
				fail(c, e.Id, pb.Code_CODE_UNAUTHENTICATED, "hello first")
				continue
			}
			switch e.Type {
			case pb.Type_TYPE_HELLO:
				hl := e.GetHello()
				if hl.GetUser() == "" || hl.GetSite() == "" {
					fail(c, e.Id, pb.Code_CODE_BAD_REQUEST, "site and user required")
					continue
				}
				prefix := "v:"
				if hl.GetRole() == pb.Role_ROLE_AGENT {
					prefix = "a:"
				}
				c.identity = prefix + hl.GetUser()
				deliver(c, &pb.Envelope{Type: pb.Type_TYPE_WELCOME, Id: e.Id, Sender: c.identity})
			case pb.Type_TYPE_OPEN, pb.Type_TYPE_JOIN:
				cv := convs[e.Conversation]
				if e.Type == pb.Type_TYPE_OPEN && e.Conversation == "" {
					next++
					cv = &conv{id: "g" + strconv.FormatUint(next, 36), members: make(map[*client]bool)}
					convs[cv.id] = cv
				}
				if cv == nil {
					fail(c, e.Id, pb.Code_CODE_NOT_FOUND, "no such conversation")
					continue
				}
				cv.members[c] = true
				c.subs[cv] = true
				deliver(c, &pb.Envelope{Type: pb.Type_TYPE_JOINED, Id: e.Id, Conversation: cv.id, Seq: cv.seq})
			case pb.Type_TYPE_SEND:
				cv := convs[e.Conversation]
				if cv == nil {
					fail(c, e.Id, pb.Code_CODE_NOT_FOUND, "no such conversation")
					continue
				}
				cv.seq++
				ts := time.Now().UnixMilli()
				h.messages.Add(1)
				deliver(c, &pb.Envelope{Type: pb.Type_TYPE_ACK, Id: e.Id, Conversation: cv.id, Seq: cv.seq, ClientMsgId: e.ClientMsgId, Ts: ts})
				msg := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: cv.id, Seq: cv.seq, ClientMsgId: e.ClientMsgId,
					Sender: c.identity, Kind: e.Kind, Body: e.Body, Ts: ts}
				for m := range cv.members {
					if m != c {
						deliver(m, msg)
					}
				}
			case pb.Type_TYPE_LEAVE:
				if cv := convs[e.Conversation]; cv != nil {
					delete(cv.members, c)
					delete(c.subs, cv)
				}
			case pb.Type_TYPE_PING:
				deliver(c, &pb.Envelope{Type: pb.Type_TYPE_PONG, Id: e.Id})
			default:
				fail(c, e.Id, pb.Code_CODE_UNSUPPORTED, "not in the baseline's subset")
			}
		}
	}
}
