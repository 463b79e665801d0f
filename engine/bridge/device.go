package bridge

import (
	"crypto/rand"
	"encoding/base32"
	"math"
	"sync"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
)

// Subscription states of a device's sink on its conversation.
const (
	stIdle    uint8 = iota // not subscribed: nothing is forwarded
	stJoining              // OpCreate or OpJoin submitted, JOINED due
	stLive                 // subscribed: MESSAGEs are forwarded
)

// device is one MQTT device as the bridge sees it, and its shard.Sink.
// Everything below mu is guarded by it.
type device struct {
	b      *Bridge
	id     uint64
	key    devKey
	who    *shard.Identity
	down   string // kefu/<site>/<device>/down
	events string // kefu/<site>/<device>/events

	mu       sync.Mutex
	conv     string // current conversation, "" for none
	cursor   uint64 // last seq of conv handed to the broker or sent by the device
	maxSeen  uint64 // highest seq of conv heard of
	state    uint8
	joinID   uint64 // request id of the OpCreate or OpJoin in flight
	replayID uint64 // request id of the OpReplay in flight
	replayAt uint64 // cursor when that replay was asked
	nextID   uint64
	reqs     map[uint64]*request // SENDs waiting for their ACK or ERROR
	convVer  uint64              // bumped when a conversation is opened
	durVer   uint64              // convVer of the last record committed
	waiting  []mqtt.Ticket       // acknowledgements waiting for durVer == convVer
	dirty    bool                // queued on the writer
}

// request is one up on its way through a shard.
type request struct {
	ticket  mqtt.Ticket
	conv    string
	cmid    string
	body    string
	tags    []string
	kind    proto.Kind
	retried bool
}

// ID implements shard.Sink.
func (d *device) ID() uint64 { return d.id }

// Format implements shard.Sink: bare JSON envelopes, the payload of down
// and events as they are.
func (d *device) Format() wire.Format { return wire.FormatJSON }

// Closed implements shard.Sink: devices live as long as the bridge.
func (d *device) Closed() bool { return d.b.closed.Load() }

// Write implements shard.Sink (shard workers): every buffer is one
// envelope for this device.
func (d *device) Write(bufs [][]byte) bool {
	if d.b.closed.Load() {
		return false
	}
	d.mu.Lock()
	for _, f := range bufs {
		d.envelopeLocked(f)
	}
	d.mu.Unlock()
	return true
}

func (d *device) envelopeLocked(f []byte) {
	h, ok := scanHead(f)
	if ok {
		switch h.typ {
		case proto.Type_TYPE_MESSAGE:
			d.messageLocked(&h, f)
			return
		case proto.Type_TYPE_ACK:
			d.ackLocked(&h)
			return
		case proto.Type_TYPE_EVENT:
			if string(h.conv) == d.conv && d.conv != "" {
				d.publishLocked(d.events, 0, f)
				d.b.m.eventsOut.Inc()
			}
			return
		case proto.Type_TYPE_UNSPECIFIED:
			return // a type the bridge has no use for
		}
	}
	env := new(proto.Envelope)
	if err := proto.UnmarshalJSON(f, env); err != nil {
		d.b.log.Error("BUG: undecodable envelope from a shard", "err", err)
		return
	}
	switch env.Type {
	case proto.Type_TYPE_JOINED:
		d.joinedLocked(env)
	case proto.Type_TYPE_REPLAY_END:
		d.replayEndLocked(env)
	case proto.Type_TYPE_ERROR:
		d.errorLocked(env)
	}
}

// publishLocked hands payload to the broker; it reports how many sessions
// it matched.
func (d *device) publishLocked(topic string, qos byte, payload []byte) int {
	n, err := d.b.pub.Publish(&mqtt.Message{
		Topic: topic, Payload: payload, QoS: qos,
		ContentType: ContentTypeJSON, PayloadFormat: 1, PayloadFormatSet: true,
	})
	if err != nil {
		panic("BUG: bridge topic refused by the broker: " + err.Error())
	}
	return n
}

// messageLocked forwards a stored message of the conversation, in seq
// order, unless it is the device's own.
func (d *device) messageLocked(h *head, f []byte) {
	if string(h.conv) != d.conv || d.conv == "" {
		return // an earlier conversation
	}
	d.maxSeen = max(d.maxSeen, h.seq)
	switch {
	case h.seq <= d.cursor:
		return // forwarded already (a replay overlapping live messages)
	case h.seq > d.cursor+1:
		d.replayLocked() // a gap: the log fills it, in order
		return
	case string(h.sender) == d.who.Sender:
		d.advanceLocked(h.seq) // the device's own, replayed: not sent back
		return
	case d.state != stLive:
		return // not listening: the next join replays it
	}
	if d.publishLocked(d.down, 1, f) == 0 {
		d.pauseLocked() // no session of the device subscribes to down
		return
	}
	d.b.m.down.Inc()
	d.advanceLocked(h.seq)
}

func (d *device) advanceLocked(seq uint64) {
	d.cursor = seq
	d.b.w.markLocked(d, false)
}

// ackLocked completes a SEND: the message is committed.
func (d *device) ackLocked(h *head) {
	r := d.reqs[h.id]
	if r == nil {
		return
	}
	delete(d.reqs, h.id)
	d.b.m.up.Inc()
	if string(h.conv) == d.conv && d.conv != "" {
		d.maxSeen = max(d.maxSeen, h.seq)
		switch {
		case h.seq == d.cursor+1:
			d.advanceLocked(h.seq)
		case h.seq > d.cursor+1:
			d.replayLocked()
		}
	}
	if r.ticket == (mqtt.Ticket{}) {
		return
	}
	if d.durVer < d.convVer {
		d.waiting = append(d.waiting, r.ticket) // until the device's record is on disk
		return
	}
	r.ticket.Ack(codeOK)
}

// durableLocked notes that the record of convVer ver is committed and
// releases the acknowledgements that waited for it. Writer goroutine.
func (d *device) durableLocked(ver uint64) {
	d.durVer = max(d.durVer, ver)
	if d.durVer < d.convVer || len(d.waiting) == 0 {
		return
	}
	for i, t := range d.waiting {
		t.Ack(codeOK)
		d.waiting[i] = mqtt.Ticket{}
	}
	d.waiting = d.waiting[:0]
}

// errorLocked handles the ERROR answering one of the device's requests.
func (d *device) errorLocked(env *proto.Envelope) {
	code := env.GetError().GetCode()
	gone := code == proto.Code_CODE_NOT_FOUND || code == proto.Code_CODE_FORBIDDEN
	switch id := env.Id; {
	case id == 0:
	case id == d.joinID:
		d.joinID, d.state = 0, stIdle
		if gone && env.Conversation == d.conv {
			d.forgetLocked()
		}
	case id == d.replayID:
		d.replayID = 0
	default:
		r := d.reqs[id]
		if r == nil {
			return
		}
		delete(d.reqs, id)
		if gone && !r.retried {
			// The conversation is closed or gone: the message opens a new
			// one, once.
			r.retried = true
			if r.conv == d.conv {
				d.forgetLocked()
			}
			if d.sendLocked(r) {
				return
			}
			code = proto.Code_CODE_BUSY
		}
		rej, reason := rejRefused, codeUnspecified
		switch code {
		case proto.Code_CODE_BUSY, proto.Code_CODE_TOO_LARGE:
			rej, reason = rejBusy, codeQuotaExceeded
		case proto.Code_CODE_FORBIDDEN, proto.Code_CODE_NOT_FOUND:
			reason = codeNotAuthorized
		}
		d.b.m.rejected[rej].Inc()
		r.ticket.Ack(reason)
	}
}

// sendLocked submits r into the current conversation, opening one first
// when there is none. It reports false when a shard queue is full; r is
// then forgotten.
func (d *device) sendLocked(r *request) bool {
	if d.conv == "" && !d.openLocked(r.tags) {
		return false
	}
	d.nextID++
	id := d.nextID
	r.conv = d.conv
	env := &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: id, Conversation: r.conv, ClientMsgId: r.cmid,
		Kind: r.kind, Body: r.body}
	d.reqs[id] = r
	if !d.b.router.Submit(shard.Request{Op: shard.OpSend, Sink: d, Who: d.who, Env: env}) {
		delete(d.reqs, id)
		return false
	}
	return true
}

// openLocked creates a conversation for the device; the SEND that follows
// in the same ring finds it.
func (d *device) openLocked(tags []string) bool {
	conv := newConversationID()
	d.nextID++
	id := d.nextID
	env := &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: id, Conversation: conv, Tags: tags}
	if !d.b.router.Submit(shard.Request{Op: shard.OpCreate, Sink: d, Who: d.who, Env: env}) {
		return false
	}
	d.conv, d.cursor, d.maxSeen = conv, 0, 0
	d.state, d.joinID, d.replayID = stJoining, id, 0
	d.convVer++
	d.b.w.markLocked(d, true)
	d.b.m.opened.Inc()
	return true
}

// forgetLocked drops the current conversation (closed or gone): the next
// up opens a new one.
func (d *device) forgetLocked() {
	if d.state != stIdle {
		d.leaveLocked()
	}
	d.conv, d.cursor, d.maxSeen = "", 0, 0
	d.b.w.markLocked(d, false)
}

// activeLocked joins the conversation again after a pause, or fills a gap
// left open.
func (d *device) activeLocked() {
	switch {
	case d.conv == "":
	case d.state == stIdle:
		d.nextID++
		id := d.nextID
		// seq = the largest: no replay with the JOINED, which tells the
		// last committed seq; the catch-up follows from the cursor.
		env := &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: id, Conversation: d.conv, Seq: math.MaxUint64}
		if d.b.router.Submit(shard.Request{Op: shard.OpJoin, Sink: d, Who: d.who, Env: env}) {
			d.state, d.joinID = stJoining, id
		}
	case d.state == stLive && d.maxSeen > d.cursor:
		d.replayLocked()
	}
}

// joinedLocked: the sink is subscribed; the device hears of it on events
// (conversation, state, queue position), then catches up.
func (d *device) joinedLocked(env *proto.Envelope) {
	if env.Id != d.joinID || env.Conversation != d.conv {
		if env.Conversation != d.conv || d.state == stIdle {
			d.leave(env.Conversation) // a join overtaken by events: not listening there
		}
		return
	}
	d.joinID, d.state = 0, stLive
	env.Id, env.More = 0, false
	d.publishLocked(d.events, 0, proto.AppendJSON(nil, env))
	d.maxSeen = max(d.maxSeen, env.Seq)
	if behind := d.maxSeen - d.cursor; behind > uint64(d.b.opts.MaxCatchUp) {
		skipped := behind - uint64(d.b.opts.MaxCatchUp)
		d.advanceLocked(d.cursor + skipped)
		d.b.m.skipped.Add(float64(skipped))
		d.publishLocked(d.events, 0, proto.AppendJSON(nil, &proto.Envelope{
			Type: proto.Type_TYPE_EVENT, Conversation: d.conv, Event: "skipped", Seq: d.cursor,
		}))
	}
	if d.maxSeen > d.cursor {
		d.replayLocked()
	}
}

// replayLocked asks the log for what follows the cursor, unless a replay
// is in flight or the device is not listening.
func (d *device) replayLocked() {
	if d.state != stLive || d.replayID != 0 {
		return
	}
	d.nextID++
	id := d.nextID
	env := &proto.Envelope{Type: proto.Type_TYPE_REPLAY, Id: id, Conversation: d.conv, Seq: d.cursor,
		Limit: uint32(d.b.opts.ReplayPage)}
	if d.b.router.Submit(shard.Request{Op: shard.OpReplay, Sink: d, Who: d.who, Env: env}) {
		d.replayID, d.replayAt = id, d.cursor
	}
}

func (d *device) replayEndLocked(env *proto.Envelope) {
	if env.Id != d.replayID {
		return
	}
	d.replayID = 0
	if (env.More || d.maxSeen > d.cursor) && d.cursor > d.replayAt {
		d.replayLocked() // the next page; a page that moved nothing ends it
	}
}

// pauseLocked stops forwarding: nobody listens. The cursor stays.
func (d *device) pauseLocked() {
	d.leaveLocked()
	d.b.m.paused.Inc()
}

func (d *device) leaveLocked() {
	d.leave(d.conv)
	d.state, d.joinID, d.replayID = stIdle, 0, 0
}

// leave unsubscribes the sink from conv. A full ring only delays it: the
// device ignores what it is sent while idle.
func (d *device) leave(conv string) {
	d.b.router.Submit(shard.Request{Op: shard.OpLeave, Sink: d, Who: d.who,
		Env: &proto.Envelope{Type: proto.Type_TYPE_LEAVE, Conversation: conv}})
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// newConversationID returns 20 characters of [0-9a-v] from 100 random
// bits, like the conversations the other transports open.
func newConversationID() string {
	var b [13]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])[:20]
}
