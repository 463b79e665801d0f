package mqtt

import (
	"crypto/rand"
	"hash/crc32"
	"strconv"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Bridge takes the PUBLISHes of some topics out of MQTT routing and hands
// them to another system (engine/bridge: customer-service conversations).
// A claimed message is neither routed to subscribers nor retained; the
// bridge decides its acknowledgement, possibly later (Ticket).
//
// Every method runs on the event loop of the client concerned: no I/O, no
// blocking, no call back into the Client. The broker holds no lock while
// calling them.
type Bridge interface {
	// Claims reports whether a PUBLISH to topic from the client id is the
	// bridge's. It is asked after authorization, for every PUBLISH, so it
	// must be cheap and allocate nothing.
	Claims(id *Identity, topic string) bool
	// Take receives one claimed PUBLISH; in aliases the connection's read
	// buffer and is valid only during the call. It returns the reason code
	// to acknowledge with now (QoS 0: ignored), or held = true: the
	// acknowledgement waits until the bridge calls in.Ticket.Ack, exactly
	// once, from any goroutine (before Take returns is fine). A held QoS 0
	// message has no ticket and needs no Ack.
	Take(in *Inbound) (reason byte, held bool)
	// Active tells the bridge that a client of identity id may listen
	// again: its CONNECT was accepted, or it subscribed.
	Active(id *Identity)
}

// Inbound is one PUBLISH claimed by the Bridge. Everything in it aliases
// the connection's read buffer: copy what outlives Take.
type Inbound struct {
	// Client is who published.
	Client *Identity
	// Topic is the topic name, topic aliases resolved.
	Topic   string
	Payload []byte
	QoS     byte
	// V5 is set for MQTT 5 clients.
	V5 bool
	// Properties are the PUBLISH's MQTT 5 properties (content type, user
	// properties, …); empty for 3.1.1.
	Properties *packets.Properties
	// Key names this publication uniquely and for good (QoS 1 and 2:
	// random per session, then a counter); "" for QoS 0. A resend of a
	// held packet is not taken again (the broker answers it once the held
	// one is acknowledged), so Key does not change across resends; a
	// bridge that stores messages may use it as their idempotency key.
	Key string
	// Ticket acknowledges a held QoS 1 or 2 PUBLISH; zero for QoS 0.
	Ticket Ticket
}

// Ticket is the pending acknowledgement of a held bridged PUBLISH. The
// zero Ticket acknowledges nothing.
type Ticket struct {
	s  *session
	n  uint64
	id uint16
}

// Ack ends a held PUBLISH with reason (0x00 success; 0x80 and above a
// refusal, sent to MQTT 5 clients only — a 3.1.1 client gets a plain
// PUBACK or PUBREC). The acknowledgement is written by the event loop of
// the connection the PUBLISH (or its latest resend) arrived on, woken for
// it; if that connection is gone, the resend that follows a reconnection
// is answered with it. Any goroutine; later calls for the same Ticket, and
// calls after the session ended or the packet id was reused, do nothing.
func (t Ticket) Ack(reason byte) {
	s := t.s
	if s == nil {
		return
	}
	var wake Conn
	s.mu.Lock()
	hl := s.bridged
	if i := hl.find(t.id); i >= 0 && !s.ended {
		if e := &hl.list[i]; e.n == t.n && e.state == heldWaiting {
			e.state, e.reason = heldDone, reason
			hl.done++
			if o := s.owner; o != nil && o == e.client && !s.wake {
				s.wake = true
				wake = o.conn
			}
		}
	}
	s.mu.Unlock()
	if wake != nil {
		wake.Wake()
	}
}

// States of a held PUBLISH.
const (
	heldWaiting uint8 = iota + 1 // taken by the bridge, Ack not yet called
	heldDone                     // Ack called, acknowledgement not yet written
	heldAcked                    // QoS 1 acknowledged with success: kept for resends
)

// maxAckedKept bounds the QoS 1 PUBLISHes a session remembers after
// acknowledging them: a PUBACK lost with its connection is followed by a
// resend (DUP) after the client reconnects [MQTT-4.4.0-1], which must not
// reach the bridge again. A client that had more than this many
// acknowledgements in flight when its connection died may get the oldest
// ones delivered twice (QoS 1 is at least once).
const maxAckedKept = 16

// held is one bridged QoS 1 or 2 PUBLISH whose acknowledgement is the
// bridge's, or a QoS 1 one acknowledged recently.
type held struct {
	client *Client // where the latest copy arrived: the acknowledgement goes there
	sum    uint32  // CRC-32C of the payload: a resend carries the same
	size   int
	n      uint64 // ticket number
	id     uint16
	qos    byte
	state  uint8
	reason byte
}

// heldList is a session's held PUBLISHes, guarded by the session's mutex.
// It holds at most the client's unacknowledged bridged PUBLISHes (bounded
// by Receive Maximum for MQTT 5 clients, by the 65,535 packet ids for
// 3.1.1 ones) and maxAckedKept acknowledged ones.
type heldList struct {
	list  []held // in arrival order
	next  uint64 // last ticket number
	done  int    // entries in heldDone
	acked int    // entries in heldAcked
	epoch string // key prefix, random, set at the first bridged PUBLISH
}

// find returns the index of the entry for packet id, -1 if none (or hl is
// nil: nothing held yet).
func (hl *heldList) find(id uint16) int {
	if hl == nil {
		return -1
	}
	for i := range hl.list {
		if hl.list[i].id == id {
			return i
		}
	}
	return -1
}

func (hl *heldList) remove(i int) {
	switch hl.list[i].state {
	case heldDone:
		hl.done--
	case heldAcked:
		hl.acked--
	}
	copy(hl.list[i:], hl.list[i+1:])
	hl.list[len(hl.list)-1] = held{}
	hl.list = hl.list[:len(hl.list)-1]
	if len(hl.list) == 0 && cap(hl.list) > 64 {
		hl.list = nil
	}
}

// open counts the PUBLISHes still owed an acknowledgement.
func (hl *heldList) open() int {
	if hl == nil {
		return 0
	}
	return len(hl.list) - hl.acked
}

// acknowledged turns entry i, whose acknowledgement was just written, into
// a remembered QoS 1 success or drops it, keeping at most maxAckedKept.
func (hl *heldList) acknowledged(i int) {
	e := &hl.list[i]
	if e.qos != 1 || e.reason >= 0x80 {
		hl.remove(i)
		return
	}
	if e.state == heldDone {
		hl.done--
	}
	if e.state != heldAcked {
		e.state, e.client = heldAcked, nil
		hl.acked++
	}
	for j := 0; hl.acked > maxAckedKept && j < len(hl.list); {
		if hl.list[j].state == heldAcked {
			hl.remove(j) // the oldest first
			continue
		}
		j++
	}
}

// key is the idempotency key of ticket n: the session's epoch, then n.
func (hl *heldList) key(n uint64) string {
	if hl.epoch == "" {
		var r [10]byte
		_, _ = rand.Read(r[:])
		hl.epoch = "mq." + idEncoding.EncodeToString(r[:])[:16] + "."
	}
	return hl.epoch + strconv.FormatUint(n, 36)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bridgePublish hands a claimed PUBLISH to the bridge and acknowledges it
// now or later. A QoS 1 or 2 PUBLISH whose packet id is held with the same
// payload is a resend (the DUP flag is not required of it: a client may
// not reuse a packet id before its acknowledgement [MQTT-2.2.1-3], but a
// PUBLISH without DUP after an acknowledgement is a new one): it is
// answered from the held entry, never taken twice.
func (c *Client) bridgePublish(br Bridge, topic string, pk *packets.Packet) {
	qos, id := pk.FixedHeader.Qos, pk.PacketID
	// A copy of the properties: Take is an interface call, so whatever in
	// points to escapes, and pointing into pk would move every decoded
	// packet of the connection (PINGREQ and CONNECT included) to the heap.
	props := pk.Properties
	in := Inbound{Client: &c.id, Topic: topic, Payload: pk.Payload, QoS: qos, V5: c.v5, Properties: &props}
	if qos == 0 {
		br.Take(&in)
		return
	}
	sum, size := crc32.Checksum(pk.Payload, castagnoli), len(pk.Payload)
	s := c.s
	s.mu.Lock()
	if s.bridged == nil {
		s.bridged = &heldList{}
	}
	hl := s.bridged
	if i := hl.find(id); i >= 0 {
		e := &hl.list[i]
		resend := e.sum == sum && e.size == size && e.qos == qos && (e.state != heldAcked || pk.FixedHeader.Dup)
		switch {
		case resend && e.state == heldWaiting:
			e.client = c // its acknowledgement goes out on this connection
			s.mu.Unlock()
			return
		case resend:
			c.ackBridgedLocked(s, qos, id, e.reason)
			hl.acknowledged(i)
			s.mu.Unlock()
			return
		}
		hl.remove(i) // the packet id is reused: what it held is over
	}
	if c.v5 && hl.open()+len(s.awaitRel) >= c.b.opts.ReceiveMaximum {
		s.mu.Unlock()
		c.fail(ReasonReceiveMaximum) // [MQTT-3.3.4-9]
		return
	}
	hl.next++
	n := hl.next
	hl.list = append(hl.list, held{client: c, sum: sum, size: size, n: n, id: id, qos: qos, state: heldWaiting})
	in.Key, in.Ticket = hl.key(n), Ticket{s: s, n: n, id: id}
	s.mu.Unlock()

	reason, kept := br.Take(&in)
	if kept {
		return
	}
	s.mu.Lock()
	hl = s.bridged // nil if the session ended meanwhile
	if i := hl.find(id); i >= 0 && hl.list[i].n == n {
		hl.list[i].reason = reason
		c.ackBridgedLocked(s, qos, id, reason)
		hl.acknowledged(i)
	}
	s.mu.Unlock()
}

// ackBridgedLocked writes the acknowledgement of a bridged PUBLISH: a
// PUBACK (QoS 1) or a PUBREC (QoS 2, after which the id waits for PUBREL
// unless an MQTT 5 client was refused). A 3.1.1 client has no reason
// codes: it gets a plain acknowledgement, and the bridge counts the
// refusal. s.mu must be held.
func (c *Client) ackBridgedLocked(s *session, qos byte, id uint16, reason byte) {
	if !c.v5 {
		reason = 0
	}
	if qos == 1 {
		c.sendAck(packets.Puback, id, reason) // [MQTT-4.3.2-2], after the commit
		return
	}
	c.sendAck(packets.Pubrec, id, reason) // [MQTT-4.3.3-2], after the commit
	if reason < 0x80 {
		s.awaitRel = append(s.awaitRel, id) // method B: remember until PUBREL
	}
}

// flushHeldLocked writes the acknowledgements the bridge gave for
// PUBLISHes that arrived on this connection. s.mu must be held and
// s.owner == c.
func (c *Client) flushHeldLocked(s *session) {
	hl := s.bridged
	if hl == nil {
		return
	}
	for i := 0; hl.done > 0 && i < len(hl.list); {
		e := &hl.list[i]
		if e.state != heldDone || e.client != c {
			i++
			continue
		}
		c.ackBridgedLocked(s, e.qos, e.id, e.reason)
		hl.acknowledged(i) // may drop entries anywhere in the list:
		i = 0              // look again from the start (a few dozen at most)
	}
}
