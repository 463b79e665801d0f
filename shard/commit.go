package shard

import (
	"slices"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// flush commits what is staged (one group commit), then answers and fans
// out every pending item in the order it arrived.
func (w *worker) flush() {
	if len(w.pend) == 0 && w.batch.Len() == 0 && len(w.dirty) == 0 {
		return
	}
	w.stageDirty()
	if w.batch.Len() > 0 {
		if err := w.batch.Commit(); err != nil {
			w.r.m.commitFailed.Inc()
			w.opts.Logger.Error("group commit failed", "shard", w.idx, "pending", len(w.pend), "err", err)
			w.rollback()
			return
		}
	}
	for i := range w.pend {
		p := &w.pend[i]
		switch p.kind {
		case pendMsg:
			p.c.committed = p.env.Seq
			w.r.m.committed.Inc()
			var except uint64
			if p.sink != nil { // nil: a system message
				w.emit(p.sink, w.encode(p.sink.Format(), ackFor(p.reqID, p.c.id, p.env.Seq, p.env.ClientMsgId, p.env.Ts), nil))
				except = p.sink.ID()
			}
			w.fanout(p.c, p.env, p.pb, except)
		case pendDup:
			w.emit(p.sink, w.encode(p.sink.Format(), ackFor(p.reqID, p.c.id, p.env.Seq, p.env.ClientMsgId, 0), nil))
		case pendJoined, pendCreate, pendReply:
			if p.sink != nil {
				w.emit(p.sink, w.encode(p.sink.Format(), p.env, nil))
			}
		case pendEvent:
			var except uint64
			if p.sink != nil {
				except = p.sink.ID()
			}
			w.fanout(p.c, p.env, nil, except)
		}
		if p.after != 0 {
			w.tellDesk(p)
		}
		*p = pending{}
	}
	w.pend = w.pend[:0]
	w.commitDirty()
}

// rollback undoes in memory what a failed commit staged and tells every
// waiting sender to retry.
func (w *worker) rollback() {
	for i := len(w.pend) - 1; i >= 0; i-- {
		p := &w.pend[i]
		switch p.kind {
		case pendMsg:
			p.c.last = p.c.committed
			if id := p.env.ClientMsgId; id != "" {
				delete(p.c.dedup.seqs, dedupKey(p.env.Sender, id))
			}
			if p.sink != nil {
				w.replyErr(p.sink, &proto.Envelope{Id: p.reqID, Conversation: p.c.id}, proto.Code_CODE_INTERNAL, "commit failed", true)
			}
		case pendReply:
			if p.sink != nil {
				w.replyErr(p.sink, p.env, proto.Code_CODE_INTERNAL, "commit failed", true)
			}
		case pendDup:
			w.replyErr(p.sink, &proto.Envelope{Id: p.reqID, Conversation: p.c.id}, proto.Code_CODE_INTERNAL, "commit failed", true)
		case pendJoined:
			p.c.meta.Agents = slices.DeleteFunc(p.c.meta.Agents, func(a string) bool { return a == p.agent })
			w.unsubscribe(p.c, p.sink.ID())
			w.replyErr(p.sink, p.env, proto.Code_CODE_INTERNAL, "commit failed", true)
		case pendCreate:
			w.forget(p.c)
			w.replyErr(p.sink, p.env, proto.Code_CODE_INTERNAL, "commit failed", true)
		}
		*p = pending{}
	}
	w.pend = w.pend[:0]
	w.rollbackDirty()
}

// fanout emits env to every subscriber of c but the one with id except,
// encoding it once per wire format.
func (w *worker) fanout(c *conv, env *proto.Envelope, pb []byte, except uint64) {
	var enc [wire.NumFormats][]byte
	for _, s := range c.subs {
		if s.ID() == except {
			continue
		}
		f := s.Format()
		if enc[f] == nil {
			enc[f] = w.encode(f, env, pb)
		}
		w.emit(s, enc[f])
		w.r.m.relayed.Inc()
	}
}

func (w *worker) encode(f wire.Format, env *proto.Envelope, pb []byte) []byte {
	b, err := wire.Append(make([]byte, 0, 64+len(pb)+len(env.Body)), f, env, pb)
	if err != nil {
		panic("BUG: encoding an envelope: " + err.Error())
	}
	return b
}

func (w *worker) replyErr(s Sink, req *proto.Envelope, code proto.Code, msg string, retryable bool) {
	w.r.m.denied.WithLabelValues(proto.CodeName(code)).Inc()
	w.emit(s, w.encode(s.Format(), &proto.Envelope{
		Type: proto.Type_TYPE_ERROR, Id: req.GetId(), Conversation: req.GetConversation(),
		Error: &proto.Error{Code: code, Message: msg, Retryable: retryable},
	}, nil))
}

// emit queues b for s; everything a connection gets in one drain leaves in
// one Sink.Write, in order.
func (w *worker) emit(s Sink, b []byte) {
	id := s.ID()
	i, ok := w.outIdx[id]
	if !ok {
		i = len(w.outs)
		if i < cap(w.outs) {
			w.outs = w.outs[:i+1]
			w.outs[i].sink = s
		} else {
			w.outs = append(w.outs, outEntry{sink: s})
		}
		w.outIdx[id] = i
	}
	w.outs[i].bufs = append(w.outs[i].bufs, b)
}

func (w *worker) flushOut() {
	for i := range w.outs {
		o := &w.outs[i]
		if !o.sink.Write(o.bufs) {
			w.dropSink(o.sink.ID())
		}
		clear(o.bufs)
		o.bufs = o.bufs[:0]
		o.sink = nil
	}
	w.outs = w.outs[:0]
	clear(w.outIdx)
	w.sendDesk()
}

// load returns the conversation, from memory or the log; nil if unknown.
func (w *worker) load(id string) (*conv, error) {
	if c := w.convs[id]; c != nil {
		return c, nil
	}
	v, ok, err := w.store.Conversation(id)
	if err != nil || !ok {
		return nil, err
	}
	meta := new(proto.Conversation)
	if err := gproto.Unmarshal(v, meta); err != nil {
		return nil, err
	}
	last, err := w.store.LastSeq(id)
	if err != nil {
		return nil, err
	}
	c := &conv{id: id, meta: meta, last: last, committed: last, touched: w.now.UnixNano()}
	// Warm the de-duplication window with the newest messages, so that a
	// resend after a restart is recognised without an index lookup.
	if last > 0 {
		window := w.opts.DedupWindow
		ids := make([]string, 0, min(int(last), window))
		seqs := make([]uint64, 0, cap(ids))
		_, err = w.store.HistoryBefore(id, last+1, window, func(seq uint64, v []byte) error {
			m := new(proto.Envelope)
			if err := gproto.Unmarshal(v, m); err != nil {
				return err
			}
			if m.ClientMsgId != "" {
				ids = append(ids, dedupKey(m.Sender, m.ClientMsgId))
				seqs = append(seqs, seq)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for i := len(ids) - 1; i >= 0; i-- { // oldest first
			c.dedup.put(ids[i], seqs[i], window)
		}
	}
	w.convs[id] = c
	w.r.m.conversations.Inc()
	return c, nil
}

func (w *worker) subscribe(c *conv, s Sink) {
	if !c.subscribe(s) {
		return
	}
	e := w.sinks[s.ID()]
	if e == nil {
		e = &sinkEntry{sink: s}
		w.sinks[s.ID()] = e
	}
	e.convs = append(e.convs, c)
}

func (w *worker) unsubscribe(c *conv, id uint64) {
	c.unsubscribe(id)
	if e := w.sinks[id]; e != nil {
		e.convs = slices.DeleteFunc(e.convs, func(x *conv) bool { return x == c })
		if len(e.convs) == 0 {
			delete(w.sinks, id)
		}
	}
}

func (w *worker) dropSink(id uint64) {
	e := w.sinks[id]
	if e == nil {
		return
	}
	for _, c := range e.convs {
		c.unsubscribe(id)
	}
	delete(w.sinks, id)
}

func (w *worker) forget(c *conv) {
	for _, s := range slices.Clone(c.subs) {
		w.unsubscribe(c, s.ID())
	}
	delete(w.convs, c.id)
	w.r.m.conversations.Dec()
}

// maybeSweep forgets closed connections and evicts idle conversations.
func (w *worker) maybeSweep() {
	if w.now.Before(w.nextSweep) && len(w.convs) <= w.opts.MaxConversations {
		return
	}
	w.nextSweep = w.now.Add(w.opts.SweepInterval)
	if w.autoClose() > 0 {
		w.flush()
		w.flushOut()
	}
	for id, e := range w.sinks {
		if e.sink.Closed() {
			w.dropSink(id)
		}
	}
	idle := w.now.Add(-w.opts.IdleConversation).UnixNano()
	over := len(w.convs) > w.opts.MaxConversations
	for _, c := range w.convs {
		// Open and queued conversations stay until auto-close ends them.
		if len(c.subs) == 0 && c.last == c.committed && (over || c.touched < idle && (c.meta.State == stateClosed || w.opts.AutoClose <= 0)) {
			delete(w.convs, c.id)
			w.r.m.conversations.Dec()
		}
	}
}
