package shard

import (
	"strconv"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// Conversation states (proto.Conversation.state).
const (
	stateQueued = "queued"
	stateOpen   = "open"
	stateClosed = "closed"
)

// SystemSender is the sender of system messages (assigned, transferred,
// queued, closed, rated).
const SystemSender = "s:system"

func unmarshalConversation(b []byte, m *proto.Conversation) error {
	return gproto.Unmarshal(b, m)
}

// touchMeta notes that c's record changes in this drain; it is written
// with the batch, and restored in memory if the commit fails.
func (w *worker) touchMeta(c *conv) {
	if c.prev != nil {
		return
	}
	c.prev = gproto.CloneOf(c.meta)
	w.dirty = append(w.dirty, c)
}

// stageDirty puts the changed records in the batch.
func (w *worker) stageDirty() {
	for _, c := range w.dirty {
		b, err := gproto.Marshal(c.meta)
		if err != nil {
			panic("BUG: marshal conversation: " + err.Error())
		}
		if err := w.batch.PutConversation(c.id, b); err != nil {
			panic("BUG: conversation record refused for a loaded conversation: " + err.Error())
		}
	}
}

func (w *worker) commitDirty() {
	for i, c := range w.dirty {
		c.prev = nil
		w.dirty[i] = nil
	}
	w.dirty = w.dirty[:0]
}

func (w *worker) rollbackDirty() {
	for i, c := range w.dirty {
		c.meta, c.prev = c.prev, nil
		w.dirty[i] = nil
	}
	w.dirty = w.dirty[:0]
}

// tellDesk queues a committed change the routing desk must know; it is
// submitted after the drain's writes (sendDesk), so that a requester sees
// its reply before the consequences (an agent's OK, then the notices).
func (w *worker) tellDesk(p *pending) {
	env := &proto.Envelope{Conversation: p.c.id, Tags: p.c.meta.Tags}
	w.deskq = append(w.deskq, Request{Op: p.after, Who: p.who, Env: env})
}

func (w *worker) sendDesk() {
	for i, req := range w.deskq {
		if !w.r.SubmitDesk(req) {
			w.opts.Logger.Warn("routing desk busy: change not routed", "conversation", req.Env.Conversation, "op", req.Op)
		}
		w.deskq[i] = Request{}
	}
	w.deskq = w.deskq[:0]
}

// systemMessage stages a stored message from the system into c.
func (w *worker) systemMessage(c *conv, body []byte) {
	c.last++
	msg := &proto.Envelope{
		Type: proto.Type_TYPE_MESSAGE, Conversation: c.id, Seq: c.last, Sender: SystemSender,
		Kind: proto.Kind_KIND_EVENT, Body: string(body), Ts: w.nowMillis(),
	}
	pb, err := wire.Marshal(make([]byte, 0, 48+len(c.id)+len(body)), msg)
	if err != nil {
		panic("BUG: marshal message: " + err.Error())
	}
	if err := w.stageMessage(c, "", pb); err != nil {
		panic("BUG: system message refused for a loaded conversation: " + err.Error())
	}
	w.pend = append(w.pend, pending{kind: pendMsg, c: c, env: msg, pb: pb})
}

// jsonObject builds a small JSON object from key/value pairs; values are
// strings unless they are an int.
func jsonObject(kv ...any) []byte {
	b := []byte{'{'}
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, kv[i].(string))
		b = append(b, ':')
		switch v := kv[i+1].(type) {
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case string:
			b = appendJSONString(b, v)
		}
	}
	return append(b, '}')
}

// appendJSONString quotes s as JSON (the envelope encoder's rules: valid
// UTF-8 out, HTML-significant characters escaped).
func appendJSONString(b []byte, s string) []byte {
	j := proto.AppendJSON(nil, &proto.Envelope{Body: s}) // {"body":"..."}
	return append(b, j[len(`{"body":`):len(j)-1]...)
}

// closeConv stages the close of c by `by` (a sender form).
func (w *worker) closeConv(c *conv, by, reason string) {
	w.touchMeta(c)
	c.meta.State = stateClosed
	c.meta.ClosedAt = w.nowMillis()
	c.meta.ClosedBy = by
	c.position = 0
	if reason == "" {
		w.systemMessage(c, jsonObject("type", "closed", "by", by))
	} else {
		w.systemMessage(c, jsonObject("type", "closed", "by", by, "reason", reason))
	}
	if w.opts.OnEvent != nil {
		w.opts.OnEvent(w.batch, "conversation.closed", c.meta, nil)
	}
}

// closeReq: CLOSE from the visitor or any agent of the site.
func (w *worker) closeReq(req *Request, c *conv) {
	who, env := req.Who, req.Env
	if !c.mayWrite(who) && who.Role != proto.Role_ROLE_AGENT {
		w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "not a participant", false)
		return
	}
	ok := &proto.Envelope{Type: proto.Type_TYPE_OK, Id: env.GetId(), Conversation: c.id, State: stateClosed}
	if c.meta.State == stateClosed {
		w.emit(req.Sink, w.encode(req.Sink.Format(), ok, nil))
		return
	}
	w.closeConv(c, who.Sender, "")
	w.pend = append(w.pend, pending{kind: pendReply, sink: req.Sink, c: c, env: ok, who: who, after: OpClosed})
}

// reopen: an agent brings a closed conversation back. It is queued and
// routed again (affinity usually gives it back to its last agent); the
// visitor sees a "reopened" system message. Reopening an open or queued
// conversation changes nothing.
func (w *worker) reopen(req *Request, c *conv) {
	who, env := req.Who, req.Env
	if who.Role != proto.Role_ROLE_AGENT {
		w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "agents reopen conversations", false)
		return
	}
	ok := &proto.Envelope{Type: proto.Type_TYPE_OK, Id: env.GetId(), Conversation: c.id}
	if c.meta.State != stateClosed {
		ok.State = c.meta.State
		w.emit(req.Sink, w.encode(req.Sink.Format(), ok, nil))
		return
	}
	w.touchMeta(c)
	c.meta.ClosedAt, c.meta.ClosedBy = 0, ""
	c.meta.Agent = ""
	after := OpRoute
	if w.opts.DisableRouting {
		c.meta.State, after = stateOpen, 0
	} else {
		c.meta.State, c.meta.QueuedAt = stateQueued, w.nowMillis()
	}
	ok.State = c.meta.State
	w.systemMessage(c, jsonObject("type", "reopened", "by", who.Sender))
	visitor := NewIdentity(c.meta.Site, c.meta.Visitor, proto.Role_ROLE_VISITOR).WithTrust(uint8(c.meta.VisitorTrust))
	w.pend = append(w.pend, pending{kind: pendReply, sink: req.Sink, c: c, env: ok, who: visitor, after: after})
}

// rate: RATE from the conversation's visitor, once, after the close.
func (w *worker) rate(req *Request, c *conv) {
	who, env := req.Who, req.Env
	switch {
	case who.Role != proto.Role_ROLE_VISITOR || !c.mayRead(who):
		w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "only the visitor rates", false)
		return
	case c.meta.State != stateClosed:
		w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "rate after the conversation is closed", false)
		return
	case c.meta.Rating != 0:
		w.replyErr(req.Sink, env, proto.Code_CODE_FORBIDDEN, "already rated", false)
		return
	}
	w.touchMeta(c)
	c.meta.Rating = env.GetRating()
	c.meta.Comment = env.GetBody()
	w.systemMessage(c, jsonObject("type", "rated", "rating", int(c.meta.Rating)))
	if w.opts.OnEvent != nil {
		w.opts.OnEvent(w.batch, "conversation.rated", c.meta, nil)
	}
	w.pend = append(w.pend, pending{kind: pendReply, sink: req.Sink, c: c,
		env: &proto.Envelope{Type: proto.Type_TYPE_OK, Id: env.GetId(), Conversation: c.id}})
}

// read stores who's read cursor (never backwards, never past the log).
func (w *worker) read(c *conv, who *Identity, seq uint64) {
	seq = min(seq, c.last)
	if seq == 0 {
		return
	}
	for _, r := range c.meta.Reads {
		if r.Who == who.Sender {
			if r.Seq >= seq {
				return
			}
			w.touchMeta(c) // keeps a copy; r is c.meta's own cursor
			r.Seq, r.Ts = seq, w.nowMillis()
			return
		}
	}
	w.touchMeta(c)
	c.meta.Reads = append(c.meta.Reads, &proto.ReadCursor{Who: who.Sender, Seq: seq, Ts: w.nowMillis()})
}

// routed applies a routing decision from the desk.
func (w *worker) routed(req *Request) {
	env := req.Env
	c, err := w.load(env.GetConversation())
	if err != nil {
		w.opts.Logger.Error("loading conversation", "shard", w.idx, "err", err)
		return
	}
	if c == nil || c.meta.State == stateClosed {
		return // closed meanwhile: the desk hears of it through OpClosed
	}
	// Routing is not activity: it does not postpone auto-close.
	reason := env.GetStatus()
	switch env.GetEvent() {
	case "assigned":
		w.touchMeta(c)
		c.meta.State = stateOpen
		c.meta.Agent = env.GetAgent()
		c.meta.Group = env.GetGroup()
		c.position = 0
		if c.meta.AssignedAt == 0 {
			c.meta.AssignedAt = w.nowMillis()
		}
		if !c.mayWrite(NewIdentity(c.meta.Site, env.GetAgent(), proto.Role_ROLE_AGENT)) {
			c.meta.Agents = append(c.meta.Agents, env.GetAgent())
		}
		switch {
		case reason == "restore":
		case env.GetSender() != "":
			w.systemMessage(c, jsonObject("type", "transferred", "from", env.GetSender(),
				"agent", env.GetAgent(), "name", env.GetBody()))
		default:
			w.systemMessage(c, jsonObject("type", "assigned", "agent", env.GetAgent(), "name", env.GetBody()))
		}
		if w.opts.OnEvent != nil && reason != "restore" {
			w.opts.OnEvent(w.batch, "conversation.assigned", c.meta, nil)
		}
	case "queued":
		w.touchMeta(c)
		c.meta.State = stateQueued
		c.meta.Agent = ""
		c.meta.Group = env.GetGroup()
		if reason != "restore" {
			c.meta.QueuedAt = w.nowMillis()
		}
		switch reason {
		case "transfer", "offline", "removed", "regroup":
			w.systemMessage(c, jsonObject("type", "queued", "group", env.GetGroup(), "reason", reason))
		}
		w.position(c, env.GetPosition())
	case "position":
		if c.meta.State == stateQueued {
			w.position(c, env.GetPosition())
		}
	case "refused":
		w.closeConv(c, SystemSender, env.GetBody())
	}
}

// position tells c's subscribers its place in the queue (not stored).
func (w *worker) position(c *conv, pos uint32) {
	if pos == 0 || pos == c.position {
		return
	}
	c.position = pos
	w.pend = append(w.pend, pending{kind: pendEvent, c: c, env: &proto.Envelope{
		Type: proto.Type_TYPE_EVENT, Conversation: c.id, Event: "queue", Position: pos, Group: c.meta.Group,
		Sender: SystemSender, Ts: w.nowMillis(),
	}})
}

// autoClose closes open and queued conversations idle for longer than
// Options.AutoClose; it reports how many it closed.
func (w *worker) autoClose() int {
	if w.opts.AutoClose <= 0 {
		return 0
	}
	limit := w.now.Add(-w.opts.AutoClose).UnixNano()
	n := 0
	for _, c := range w.convs {
		if c.meta.State != stateClosed && c.touched < limit {
			w.closeConv(c, SystemSender, "inactive")
			who := NewIdentity(c.meta.Site, c.meta.Visitor, proto.Role_ROLE_VISITOR)
			w.pend = append(w.pend, pending{kind: pendReply, c: c, who: who, after: OpClosed,
				env: &proto.Envelope{Type: proto.Type_TYPE_OK}})
			n++
		}
	}
	return n
}
