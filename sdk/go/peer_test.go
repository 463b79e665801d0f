package kefu

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/kefu-im/kefu/codec/frame"
	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// peer is a scripted Kefu server for the client's tests: one goroutine per
// connection, the flows of docs/protocol-frame.md over an in-memory log,
// and hooks to misbehave on purpose. Special conversations:
//
//	"blackhole"   SENDs are read and never answered
//	"shuffle*"    ACKs are held and sent in reverse order, reorder at a time
//	"missing"     does not exist (NOT_FOUND)
type peer struct {
	t         testing.TB
	ln        net.Listener
	transport Transport
	reorder   int  // batch size of "shuffle" ACKs
	noProto   bool // WebSocket: refuse subprotocol kefu.proto
	// interleave: before a REPLAY page, push a MESSAGE of conversation
	// "elsewhere" (which no collector may take).
	interleave bool
	// fragment: WebSocket messages go in 3 fragments with a ping between.
	fragment bool

	mu       sync.Mutex
	conns    []*peerConn
	logs     map[string][]*pb.Envelope
	subs     map[string]map[*peerConn]bool
	nextConv int
	origins  []string
	received atomic.Int64 // requests read, all connections

	wg sync.WaitGroup
}

// peerConn is the server side of one connection.
type peerConn struct {
	p        *peer
	c        net.Conn
	br       *bufio.Reader
	ws       bool
	binary   bool // WebSocket: kefu.proto agreed
	identity string
	held     []*pb.Envelope // "shuffle" ACKs not yet sent

	wmu    sync.Mutex
	pongs  chan []byte // WebSocket pongs and frame PONG ids, as received
	closes chan uint16 // WebSocket close codes received
}

func newPeer(t testing.TB, tr Transport) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{
		t:         t,
		ln:        ln,
		transport: tr,
		reorder:   4,
		logs:      make(map[string][]*pb.Envelope),
		subs:      make(map[string]map[*peerConn]bool),
	}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// addr returns what Options.Addr should be.
func (p *peer) addr() string {
	if p.transport == TransportWS {
		return "ws://" + p.ln.Addr().String() + "/ws"
	}
	return p.ln.Addr().String()
}

func (p *peer) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, pc := range p.conns {
		pc.c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *peer) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// conn returns the i-th accepted connection, waiting for it.
func (p *peer) conn(i int) *peerConn {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		if i < len(p.conns) {
			pc := p.conns[i]
			p.mu.Unlock()
			return pc
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			p.t.Fatalf("peer: connection %d never came", i)
		}
		time.Sleep(time.Millisecond)
	}
}

// lastConn returns the most recent connection.
func (p *peer) lastConn() *peerConn {
	p.t.Helper()
	p.mu.Lock()
	n := len(p.conns)
	p.mu.Unlock()
	return p.conn(n - 1)
}

func (p *peer) serve(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	pc := &peerConn{
		p:      p,
		c:      c,
		br:     bufio.NewReader(c),
		ws:     p.transport == TransportWS,
		pongs:  make(chan []byte, 16),
		closes: make(chan uint16, 1),
	}
	if pc.ws {
		var origin string
		u := ws.Upgrader{
			Protocol: func(b []byte) bool {
				s := string(b)
				return s == SubprotocolJSON || (s == SubprotocolProto && !p.noProto)
			},
			OnHeader: func(k, v []byte) error {
				if strings.EqualFold(string(k), "Origin") {
					origin = string(v)
				}
				return nil
			},
		}
		hs, err := u.Upgrade(c)
		if err != nil {
			return
		}
		pc.binary = hs.Protocol == SubprotocolProto
		p.mu.Lock()
		p.origins = append(p.origins, origin)
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.conns = append(p.conns, pc)
	p.mu.Unlock()
	defer p.unsubscribeAll(pc)
	for {
		env, err := pc.read()
		if err != nil {
			return
		}
		p.received.Add(1)
		if !p.handle(pc, env) {
			return
		}
	}
}

// read returns the next envelope from the client, answering WebSocket
// control frames on the way.
func (pc *peerConn) read() (*pb.Envelope, error) {
	if !pc.ws {
		for {
			hdr, err := pc.br.Peek(frame.HeaderSize)
			if err != nil {
				return nil, err
			}
			f, _, err := frame.Decode(hdr, frame.HardMaxPayload)
			if err != nil {
				return nil, err
			}
			b := make([]byte, frame.HeaderSize+int(f.Length))
			if _, err := io.ReadFull(pc.br, b); err != nil {
				return nil, err
			}
			f, _, err = frame.Decode(b, frame.HardMaxPayload)
			if err != nil {
				return nil, err
			}
			env, err := frame.DecodeEnvelope(f)
			if err != nil {
				return nil, err
			}
			if env.Type == pb.Type_TYPE_PONG {
				pc.pongs <- []byte(fmt.Sprint(env.Id))
				continue
			}
			return env, nil
		}
	}
	for {
		f, err := ws.ReadFrame(pc.br)
		if err != nil {
			return nil, err
		}
		if !f.Header.Masked { // RFC 6455 §5.1: clients mask every frame
			return nil, errors.New("peer: unmasked client frame")
		}
		ws.Cipher(f.Payload, f.Header.Mask, 0)
		switch f.Header.OpCode {
		case ws.OpPing:
			pc.writeWS(ws.OpPong, f.Payload)
		case ws.OpPong:
			pc.pongs <- f.Payload
		case ws.OpClose:
			code := uint16(ws.StatusNoStatusRcvd)
			if len(f.Payload) >= 2 {
				code = uint16(f.Payload[0])<<8 | uint16(f.Payload[1])
			}
			select {
			case pc.closes <- code:
			default:
			}
			pc.writeWS(ws.OpClose, f.Payload)
			return nil, io.EOF
		case ws.OpText:
			env := new(pb.Envelope)
			if err := pb.UnmarshalJSON(f.Payload, env); err != nil {
				return nil, err
			}
			return env, nil
		case ws.OpBinary:
			env := new(pb.Envelope)
			if err := gproto.Unmarshal(f.Payload, env); err != nil {
				return nil, err
			}
			return env, nil
		}
	}
}

// send writes env in the connection's format.
func (pc *peerConn) send(env *pb.Envelope) error {
	if !pc.ws {
		b, err := frame.AppendEnvelope(nil, env)
		if err != nil {
			return err
		}
		return pc.writeRaw(b)
	}
	op, payload := ws.OpText, pb.AppendJSON(nil, env)
	if pc.binary {
		var err error
		op = ws.OpBinary
		if payload, err = gproto.Marshal(env); err != nil {
			return err
		}
	}
	if !pc.p.fragment || len(payload) < 3 {
		return pc.writeWS(op, payload)
	}
	// RFC 6455 §5.4: fragments, with a control frame between them.
	third := len(payload) / 3
	pc.wmu.Lock()
	defer pc.wmu.Unlock()
	for _, f := range []ws.Frame{
		ws.NewFrame(op, false, payload[:third]),
		ws.NewPingFrame([]byte("mid")),
		ws.NewFrame(ws.OpContinuation, false, payload[third:2*third]),
		ws.NewFrame(ws.OpContinuation, true, payload[2*third:]),
	} {
		if err := ws.WriteFrame(pc.c, f); err != nil {
			return err
		}
	}
	return nil
}

func (pc *peerConn) writeWS(op ws.OpCode, payload []byte) error {
	pc.wmu.Lock()
	defer pc.wmu.Unlock()
	return ws.WriteFrame(pc.c, ws.NewFrame(op, true, payload))
}

func (pc *peerConn) writeRaw(b []byte) error {
	pc.wmu.Lock()
	defer pc.wmu.Unlock()
	_, err := pc.c.Write(b)
	return err
}

// closeWith ends the connection from the server side: a WebSocket close
// frame with code and reason first, or a plain TCP close.
func (pc *peerConn) closeWith(code uint16, reason string) {
	if pc.ws {
		pc.writeWS(ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
	}
	pc.c.Close()
}

func errEnv(id uint64, code pb.Code, msg string) *pb.Envelope {
	return &pb.Envelope{Type: pb.Type_TYPE_ERROR, Id: id, Error: &pb.Error{Code: code, Message: msg}}
}

// handle answers one request; false closes the connection.
func (p *peer) handle(pc *peerConn, env *pb.Envelope) bool {
	switch env.Type {
	case pb.Type_TYPE_HELLO:
		h := env.GetHello()
		if h.GetToken() == "bad" {
			pc.send(errEnv(env.Id, pb.Code_CODE_UNAUTHENTICATED, "bad token"))
			return false
		}
		pc.identity = "v:" + h.GetUser()
		if h.GetRole() == pb.Role_ROLE_AGENT {
			pc.identity = "a:" + h.GetUser()
		}
		pc.send(&pb.Envelope{Type: pb.Type_TYPE_WELCOME, Id: env.Id, Sender: pc.identity})
		for _, cur := range env.Cursors {
			p.join(pc, env.Id, cur.Conversation, cur.Seq)
		}
	case pb.Type_TYPE_OPEN:
		if env.Conversation != "" {
			p.join(pc, env.Id, env.Conversation, env.Seq)
			break
		}
		p.mu.Lock()
		p.nextConv++
		conv := fmt.Sprintf("c%d", p.nextConv)
		p.logs[conv] = nil
		p.subscribeLocked(pc, conv)
		p.mu.Unlock()
		pc.send(&pb.Envelope{Type: pb.Type_TYPE_JOINED, Id: env.Id, Conversation: conv})
	case pb.Type_TYPE_JOIN:
		p.join(pc, env.Id, env.Conversation, env.Seq)
	case pb.Type_TYPE_SEND:
		p.commit(pc, env)
	case pb.Type_TYPE_REPLAY:
		p.replay(pc, env)
	case pb.Type_TYPE_EVENT:
		p.mu.Lock()
		for other := range p.subs[env.Conversation] {
			if other != pc {
				other.send(&pb.Envelope{Type: pb.Type_TYPE_EVENT, Conversation: env.Conversation,
					Event: env.Event, Seq: env.Seq, Sender: pc.identity, Ts: time.Now().UnixMilli()})
			}
		}
		p.mu.Unlock()
	case pb.Type_TYPE_LEAVE:
		p.mu.Lock()
		delete(p.subs[env.Conversation], pc)
		p.mu.Unlock()
	case pb.Type_TYPE_PING:
		pc.send(&pb.Envelope{Type: pb.Type_TYPE_PONG, Id: env.Id})
	default:
		pc.send(errEnv(env.Id, pb.Code_CODE_UNSUPPORTED, "unsupported"))
	}
	return true
}

func (p *peer) subscribeLocked(pc *peerConn, conv string) {
	if p.subs[conv] == nil {
		p.subs[conv] = make(map[*peerConn]bool)
	}
	p.subs[conv][pc] = true
}

func (p *peer) unsubscribeAll(pc *peerConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.subs {
		delete(s, pc)
	}
}

// join sends the messages after seq, then JOINED with id, and subscribes.
func (p *peer) join(pc *peerConn, id uint64, conv string, seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	log, ok := p.logs[conv]
	if !ok {
		pc.send(&pb.Envelope{Type: pb.Type_TYPE_ERROR, Id: id, Conversation: conv,
			Error: &pb.Error{Code: pb.Code_CODE_NOT_FOUND, Message: "no such conversation"}})
		return
	}
	for _, m := range log[min(int(seq), len(log)):] {
		pc.send(m)
	}
	p.subscribeLocked(pc, conv)
	pc.send(&pb.Envelope{Type: pb.Type_TYPE_JOINED, Id: id, Conversation: conv, Seq: uint64(len(log))})
}

// commit stores a SEND, fans it out and acknowledges it.
func (p *peer) commit(pc *peerConn, env *pb.Envelope) {
	if env.Conversation == "blackhole" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	log, ok := p.logs[env.Conversation]
	if !ok {
		pc.send(&pb.Envelope{Type: pb.Type_TYPE_ERROR, Id: env.Id, Conversation: env.Conversation,
			Error: &pb.Error{Code: pb.Code_CODE_NOT_FOUND, Message: "no such conversation"}})
		return
	}
	m := &pb.Envelope{
		Type: pb.Type_TYPE_MESSAGE, Conversation: env.Conversation, Seq: uint64(len(log) + 1),
		ClientMsgId: env.ClientMsgId, Sender: pc.identity, Kind: env.Kind, Body: env.Body,
		Ts: time.Now().UnixMilli(),
	}
	p.logs[env.Conversation] = append(log, m)
	for other := range p.subs[env.Conversation] {
		if other != pc {
			other.send(m)
		}
	}
	ack := &pb.Envelope{Type: pb.Type_TYPE_ACK, Id: env.Id, Conversation: m.Conversation,
		Seq: m.Seq, ClientMsgId: m.ClientMsgId, Ts: m.Ts}
	if !strings.HasPrefix(env.Conversation, "shuffle") {
		pc.send(ack)
		return
	}
	pc.held = append(pc.held, ack)
	if len(pc.held) == p.reorder {
		slices.Reverse(pc.held)
		for _, a := range pc.held {
			pc.send(a)
		}
		pc.held = pc.held[:0]
	}
}

// replay sends the page after env.Seq and REPLAY_END.
func (p *peer) replay(pc *peerConn, env *pb.Envelope) {
	p.mu.Lock()
	defer p.mu.Unlock()
	log, ok := p.logs[env.Conversation]
	if !ok {
		pc.send(errEnv(env.Id, pb.Code_CODE_NOT_FOUND, "no such conversation"))
		return
	}
	if p.interleave {
		pc.send(&pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "elsewhere", Seq: 1, Body: "live"})
	}
	limit := int(env.Limit)
	if limit == 0 {
		limit = 100
	}
	from := min(int(env.Seq), len(log))
	to := min(from+limit, len(log))
	last := env.Seq
	for _, m := range log[from:to] {
		pc.send(m)
		last = m.Seq
	}
	pc.send(&pb.Envelope{Type: pb.Type_TYPE_REPLAY_END, Id: env.Id, Conversation: env.Conversation,
		Seq: last, More: to < len(log)})
}
