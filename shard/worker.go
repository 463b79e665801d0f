package shard

import (
	"time"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/internal/fnv"
	"github.com/kefu-im/kefu/internal/ring"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/storage"
	gproto "google.golang.org/protobuf/proto"
)

type pendKind uint8

const (
	pendMsg    pendKind = iota // a staged message: ack + fan-out after commit
	pendDup                    // a resend of a message staged in this drain
	pendJoined                 // a reply that waits for staged metadata
	pendEvent                  // an event, kept in order with staged messages
	pendCreate                 // a created conversation's JOINED reply
	pendReply                  // a reply (OK) sent once the batch is committed
)

// pending is work that must wait for the group commit.
type pending struct {
	kind  pendKind
	sink  Sink
	reqID uint64
	c     *conv
	env   *proto.Envelope
	pb    []byte
	agent string // pendJoined: the agent added to the conversation, for rollback
	who   *Identity
	after Op // OpRoute or OpClosed: tell the desk once committed
}

// outEntry gathers what one connection gets from one drain.
type outEntry struct {
	sink Sink
	bufs [][]byte
}

type sinkEntry struct {
	sink  Sink
	convs []*conv
}

// worker owns one shard. Every field is touched by its goroutine only,
// except q and note, which producers use.
type worker struct {
	idx   int
	r     *Router
	opts  *Options
	store *storage.Store
	q     *ring.MPSC[Request]
	note  *ring.Notifier
	empty func() bool // q.Empty, bound once

	convs     map[string]*conv
	sinks     map[uint64]*sinkEntry
	batch     *storage.Batch
	reqs      []Request
	pend      []pending
	outs      []outEntry
	outIdx    map[uint64]int
	nextSweep time.Time
	now       time.Time
	dirty     []*conv   // conversations whose record changed in this drain
	deskq     []Request // committed changes for the desk, sent after the writes
}

func newWorker(idx int, r *Router) *worker {
	w := &worker{
		idx:    idx,
		r:      r,
		opts:   &r.opts,
		store:  r.store,
		q:      ring.NewMPSC[Request](r.opts.RingSize),
		note:   ring.NewNotifier(),
		convs:  make(map[string]*conv),
		sinks:  make(map[uint64]*sinkEntry),
		batch:  r.store.NewBatch(),
		reqs:   make([]Request, 0, r.opts.BatchMax),
		outIdx: make(map[uint64]int),
	}
	w.empty = w.q.Empty
	return w
}

func (w *worker) run() {
	for {
		w.reqs = w.q.PopBatch(w.reqs[:0])
		w.now = w.opts.Now()
		if len(w.reqs) == 0 {
			select {
			case <-w.r.stop:
				w.flush()
				w.flushOut()
				return
			default:
			}
			w.maybeSweep()
			w.note.Wait(w.r.stop, w.empty)
			continue
		}
		w.r.m.drain.Observe(float64(len(w.reqs)))
		for i := range w.reqs {
			w.handle(&w.reqs[i])
			w.reqs[i] = Request{}
		}
		w.flush()
		w.flushOut()
		w.maybeSweep()
	}
}

func (w *worker) nowMillis() int64 { return w.now.UnixMilli() }

func (w *worker) handle(req *Request) {
	env := req.Env
	switch req.Op {
	case OpDrop:
		w.dropSink(req.Sink.ID())
		return
	case OpLeave:
		if c := w.convs[env.GetConversation()]; c != nil {
			w.unsubscribe(c, req.Sink.ID())
		}
		return
	case OpCreate:
		w.create(req)
		return
	case OpRouted:
		w.routed(req)
		return
	}
	c, err := w.load(env.GetConversation())
	if err != nil {
		w.opts.Logger.Error("loading conversation", "shard", w.idx, "err", err)
		w.replyErr(req.Sink, env, proto.Code_CODE_INTERNAL, "storage error", true)
		return
	}
	if c == nil || !c.mayRead(req.Who) {
		w.replyErr(req.Sink, env, proto.Code_CODE_NOT_FOUND, "no such conversation", false)
		return
	}
	c.touched = w.now.UnixNano()
	switch req.Op {
	case OpJoin:
		w.join(req, c)
	case OpReplay:
		w.replayReq(req, c)
	case OpSend:
		w.send(req, c)
	case OpClose:
		w.closeReq(req, c)
	case OpReopen:
		w.reopen(req, c)
	case OpRate:
		w.rate(req, c)
	case OpEvent:
		if !c.mayWrite(req.Who) {
			w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "join the conversation first", false)
			return
		}
		if env.GetEvent() == "read" {
			w.read(c, req.Who, env.GetSeq())
		}
		ev := &proto.Envelope{
			Type: proto.Type_TYPE_EVENT, Conversation: c.id, Sender: req.Who.Sender,
			Event: env.GetEvent(), Body: env.GetBody(), Seq: env.GetSeq(), Ts: w.nowMillis(),
		}
		w.pend = append(w.pend, pending{kind: pendEvent, sink: req.Sink, c: c, env: ev})
	}
}

func (w *worker) create(req *Request) {
	id := req.Env.GetConversation()
	if _, ok := w.convs[id]; ok {
		w.replyErr(req.Sink, req.Env, proto.Code_CODE_INTERNAL, "conversation id collision", true)
		return
	}
	meta := &proto.Conversation{
		Id: id, Site: req.Who.Site, Visitor: req.Who.User, Created: w.nowMillis(), State: stateQueued,
		Tags: req.Env.GetTags(), QueuedAt: w.nowMillis(), VisitorTrust: uint32(req.Who.Trust),
	}
	after := OpRoute
	if w.opts.DisableRouting {
		meta.State, meta.QueuedAt, after = stateOpen, 0, 0
	}
	b, err := gproto.Marshal(meta)
	if err != nil {
		panic("BUG: marshal conversation: " + err.Error())
	}
	c := &conv{id: id, meta: meta, touched: w.now.UnixNano()}
	w.convs[id] = c
	w.r.m.conversations.Inc()
	if err := w.batch.PutConversation(id, b); err != nil {
		w.forget(c)
		w.replyErr(req.Sink, req.Env, proto.Code_CODE_BAD_REQUEST, err.Error(), false)
		return
	}
	if err := w.batch.PutConversationIndex(meta.Site, meta.Visitor, meta.Created, id); err != nil {
		panic("BUG: conversation index refused after the record was accepted: " + err.Error())
	}
	if w.opts.OnEvent != nil {
		w.opts.OnEvent(w.batch, "conversation.created", meta, nil)
	}
	w.subscribe(c, req.Sink)
	w.pend = append(w.pend, pending{kind: pendCreate, sink: req.Sink, c: c, who: req.Who, after: after,
		env: &proto.Envelope{Type: proto.Type_TYPE_JOINED, Id: req.Env.GetId(), Conversation: id, State: meta.State},
	})
}

func (w *worker) join(req *Request, c *conv) {
	env := req.Env
	var added string
	if req.Who.Role == proto.Role_ROLE_AGENT && !c.mayWrite(req.Who) {
		c.meta.Agents = append(c.meta.Agents, req.Who.User)
		added = req.Who.User
	}
	if c.last > c.committed {
		// Missed messages come from the log: commit what is staged first.
		w.flush()
	}
	var more bool
	if cursor := env.GetSeq(); cursor < c.committed {
		_, m, err := w.replay(req.Sink, c, cursor, w.limit(env))
		if err != nil {
			w.replyErr(req.Sink, env, proto.Code_CODE_INTERNAL, "storage error", true)
			return
		}
		more = m
	}
	w.subscribe(c, req.Sink)
	joined := &proto.Envelope{
		Type: proto.Type_TYPE_JOINED, Id: env.GetId(), Conversation: c.id, Seq: c.committed, More: more,
		State: c.meta.State, Agent: c.meta.Agent, Group: c.meta.Group, Position: c.position,
	}
	if added == "" {
		w.emit(req.Sink, w.encode(req.Sink.Format(), joined, nil))
		return
	}
	b, err := gproto.Marshal(c.meta)
	if err != nil {
		panic("BUG: marshal conversation: " + err.Error())
	}
	if err := w.batch.PutConversation(c.id, b); err != nil {
		panic("BUG: conversation record refused for a loaded conversation: " + err.Error())
	}
	w.pend = append(w.pend, pending{kind: pendJoined, sink: req.Sink, c: c, env: joined, agent: added})
}

func (w *worker) limit(env *proto.Envelope) int {
	l := int(env.GetLimit())
	if l <= 0 {
		return w.opts.ReplayLimit
	}
	return min(l, w.opts.MaxReplayLimit)
}

func (w *worker) replayReq(req *Request, c *conv) {
	if c.last > c.committed {
		w.flush()
	}
	after := req.Env.GetSeq()
	last, more, err := w.replay(req.Sink, c, after, w.limit(req.Env))
	if err != nil {
		w.replyErr(req.Sink, req.Env, proto.Code_CODE_INTERNAL, "storage error", true)
		return
	}
	if last == 0 {
		last = min(after, c.committed)
	}
	w.emit(req.Sink, w.encode(req.Sink.Format(), &proto.Envelope{
		Type: proto.Type_TYPE_REPLAY_END, Id: req.Env.GetId(), Conversation: c.id, Seq: last, More: more,
	}, nil))
}

// replay emits committed messages after seq `after` to s, at most limit.
func (w *worker) replay(s Sink, c *conv, after uint64, limit int) (last uint64, more bool, err error) {
	f := s.Format()
	hdr := &proto.Envelope{Type: proto.Type_TYPE_MESSAGE} // frame header fields of a stored message
	more, err = w.store.History(c.id, after, limit, func(seq uint64, v []byte) error {
		var b []byte
		if f == wire.FormatWSJSON || f == wire.FormatJSON {
			env := new(proto.Envelope)
			if err := gproto.Unmarshal(v, env); err != nil {
				return err
			}
			b = w.encode(f, env, nil)
		} else {
			b = w.encode(f, hdr, v) // copies v, which is valid only here
		}
		w.emit(s, b)
		last = seq
		return nil
	})
	return last, more, err
}

func (w *worker) send(req *Request, c *conv) {
	env := req.Env
	if !c.mayWrite(req.Who) {
		w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "join the conversation first", false)
		return
	}
	if c.meta.State == stateClosed {
		w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "conversation closed", false)
		return
	}
	cmid := env.GetClientMsgId()
	var key string // client_msg_ids are unique per sender, not per conversation
	if cmid != "" {
		key = dedupKey(req.Who.Sender, cmid)
		seq, ok := c.dedup.get(key)
		if !ok && c.last > uint64(w.opts.DedupWindow) {
			var err error
			seq, ok, err = w.store.Dedup(c.id, key)
			if err != nil {
				w.replyErr(req.Sink, env, proto.Code_CODE_INTERNAL, "storage error", true)
				return
			}
		}
		if ok {
			w.r.m.deduplicated.Inc()
			if seq <= c.committed {
				w.emit(req.Sink, w.encode(req.Sink.Format(), ackFor(env.GetId(), c.id, seq, cmid, 0), nil))
				return
			}
			w.pend = append(w.pend, pending{kind: pendDup, sink: req.Sink, reqID: env.GetId(), c: c,
				env: &proto.Envelope{Seq: seq, ClientMsgId: cmid}})
			return
		}
	}
	kind := env.GetKind()
	if kind == proto.Kind_KIND_UNSPECIFIED {
		kind = proto.Kind_KIND_TEXT
	}
	c.last++
	msg := &proto.Envelope{
		Type: proto.Type_TYPE_MESSAGE, Conversation: c.id, Seq: c.last, ClientMsgId: cmid,
		Sender: req.Who.Sender, Kind: kind, Body: env.GetBody(), Ts: w.nowMillis(),
	}
	pb, err := wire.Marshal(make([]byte, 0, 48+len(c.id)+len(cmid)+len(msg.Sender)+len(msg.Body)), msg)
	if err != nil {
		panic("BUG: marshal message: " + err.Error())
	}
	if err := w.stageMessage(c, key, pb); err != nil {
		c.last--
		w.replyErr(req.Sink, env, proto.Code_CODE_BAD_REQUEST, err.Error(), false)
		return
	}
	if req.Who.Role == proto.Role_ROLE_AGENT && c.meta.FirstResponse == 0 {
		w.touchMeta(c)
		c.meta.FirstResponse = msg.Ts
	}
	if w.opts.OnEvent != nil {
		w.opts.OnEvent(w.batch, "message.created", c.meta, msg)
	}
	w.pend = append(w.pend, pending{kind: pendMsg, sink: req.Sink, reqID: env.GetId(), c: c, env: msg, pb: pb})
}

func ackFor(id uint64, conv string, seq uint64, cmid string, ts int64) *proto.Envelope {
	return &proto.Envelope{Type: proto.Type_TYPE_ACK, Id: id, Conversation: conv, Seq: seq, ClientMsgId: cmid, Ts: ts}
}

// stageMessage puts a message and its de-duplication entry (under key, ""
// for none) in the batch. The storage package validates ids; the engine
// already did, so an error here is a rejected request, not a broken batch:
// nothing was staged.
func (w *worker) stageMessage(c *conv, key string, pb []byte) error {
	if key != "" {
		if err := storage.ValidClientMsgID(key); err != nil {
			return err
		}
	}
	if err := w.batch.PutMessage(c.id, c.last, pb); err != nil {
		return err
	}
	if key != "" {
		if err := w.batch.PutDedup(c.id, key, c.last); err != nil {
			panic("BUG: dedup entry refused after validation: " + err.Error())
		}
		c.dedup.put(key, c.last, w.opts.DedupWindow)
	}
	return nil
}

// dedupKey scopes a client_msg_id to its sender: two participants may
// each number their messages from 1. The sender is folded into 16 hex
// digits of FNV-1a so the key stays within storage's id limit.
func dedupKey(sender, cmid string) string {
	h := fnv.String64(sender)
	const hexdigits = "0123456789abcdef"
	var b [17]byte
	for i := 15; i >= 0; i-- {
		b[i] = hexdigits[h&0xf]
		h >>= 4
	}
	b[16] = ':'
	return string(b[:]) + cmid
}
