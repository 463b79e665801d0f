package mqtt

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// session is the MQTT session of one client identifier: what outlives a
// connection (subscriptions, queued and in-flight deliveries, inbound QoS 2
// state, a delayed will). It is shared: its owner's event loop drives it,
// other loops deliver into it, the broker's timer expires it. Everything
// below mu is guarded by mu; heapIdx and deadline by Broker.mu.
//
// Lock order: Broker.mu, then session.mu, then index.mu or retained.mu.
// No lock is held while calling Conn.Wake, the Store or the Authorizer.
type session struct {
	b      *Broker
	id     string
	serial uint64      // orders sessions when aggregating matches
	online atomic.Bool // owner != nil, read without mu by shared-subscription picks
	// heapIdx is the position in Broker.timers, -1 when not scheduled
	// (int32: beside online it fills a word; one session per entry bounds
	// it far below 2^31).
	heapIdx int32

	mu       sync.Mutex
	owner    *Client // the connected client, nil when offline
	ended    bool    // removed from the broker; deliveries are ignored
	wake     bool    // a Wake is pending on owner's connection
	version  byte
	nextID   uint16
	expiry   int64 // session expiry interval, ns; 0: ends with its connection
	expireAt int64 // when offline: when it ends, Unix ns
	subs     []sessionSub
	queue    []delivery // waiting behind the in-flight window: queue[head:]
	head     int
	inflight []delivery // sent, unacknowledged, in send order
	awaitRel []uint16   // inbound QoS 2 packet ids: PUBREC sent, PUBREL due
	// bridged holds inbound PUBLISHes whose acknowledgement is the
	// Bridge's (bridge.go): nil until the first bridged QoS 1 or 2 PUBLISH,
	// so that a session that never sends one does not carry it.
	bridged *heldList
	will    *Message // delayed will, published at willAt unless resumed
	willExp int64    // its Message Expiry Interval, ns
	willAt  int64

	deadline int64 // of heapIdx's entry; guarded by Broker.mu
}

// sessionSub is one subscription as the session remembers it.
type sessionSub struct {
	raw    string // as subscribed, "$share/g/" included; owned
	group  string // share name, a substring of raw; "" when not shared
	filter string // topic filter, a substring of raw
	rh     byte   // retain handling
	subOpts
}

func (s *session) queued() int { return len(s.queue) - s.head }

func (s *session) push(d delivery) { s.queue = append(s.queue, d) }

func (s *session) pop() delivery {
	d := s.queue[s.head]
	s.queue[s.head] = delivery{}
	s.head++
	switch {
	case s.head == len(s.queue):
		s.queue, s.head = s.queue[:0], 0
		if cap(s.queue) > 64 {
			s.queue = nil // an idle session keeps no large array
		}
	case s.head >= 64 && 2*s.head >= len(s.queue):
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue, s.head = s.queue[:n], 0
	}
	return d
}

// enqueue is the non-blocking delivery into a session, called by any
// event loop (and the broker's goroutines). It returns the connection to
// wake, if any, which the caller wakes after enqueue returns. A connected
// session whose queue is full has its client kicked as a slow consumer,
// unless soft is set (retained messages after SUBACK), in which case the
// message is dropped. Offline sessions queue QoS 1 and 2 up to the limit.
func (s *session) enqueue(d delivery, soft bool) (wake Conn) {
	b := s.b
	var snap *SessionState
	s.mu.Lock()
	switch {
	case s.ended:
	case s.owner == nil && d.qos == 0:
		b.m.dropped[dropOfflineQoS0].Inc()
	case s.queued() >= b.opts.MaxQueued:
		if s.owner == nil || soft {
			b.m.dropped[dropQueueFull].Inc()
		} else if s.owner.setKick(ReasonSlowConsumer) {
			wake = s.owner.conn
		}
	default:
		s.push(d)
		b.m.queued.Inc()
		b.m.delivered.Inc()
		if s.owner != nil && !s.wake {
			s.wake = true
			wake = s.owner.conn
		} else if s.owner == nil {
			// An offline persistent session keeps what it is sent: save it
			// now, not only at shutdown, so a crash does not lose it (the
			// store coalesces repeated saves of one session).
			snap = s.snapshot(b.now())
		}
	}
	s.mu.Unlock()
	if snap != nil {
		b.storeFailed(b.store.SaveSession(snap), "session", s.id)
	}
	return wake
}

// allocID returns a packet identifier not in flight [MQTT-2.2.1-3]. The
// in-flight window is at most 65,535, so one is always free.
func (s *session) allocID() uint16 {
	for {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		if s.findInflight(s.nextID) < 0 {
			return s.nextID
		}
	}
}

func (s *session) findInflight(id uint16) int {
	for i := range s.inflight {
		if s.inflight[i].id == id {
			return i
		}
	}
	return -1
}

func (s *session) removeInflight(i int) {
	s.inflight = slices.Delete(s.inflight, i, i+1)
	if len(s.inflight) == 0 && cap(s.inflight) > 64 {
		s.inflight = nil
	}
	s.b.m.inflight.Dec()
}

// addSub adds or replaces a subscription, in the session and the index.
// It reports whether it existed, and false for ok when the session holds
// MaxSubscriptions already or is no longer c's.
func (s *session) addSub(c *Client, raw string, rh byte, o subOpts) (existed, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != c || s.ended {
		return false, false
	}
	i := slices.IndexFunc(s.subs, func(x sessionSub) bool { return x.raw == raw })
	if i < 0 {
		if len(s.subs) >= s.b.opts.MaxSubscriptions {
			return false, false
		}
		raw = strings.Clone(raw)
		group, filter, _ := parseFilter(raw)
		s.subs = append(s.subs, sessionSub{raw: raw, group: group, filter: filter})
		i = len(s.subs) - 1
	}
	sub := &s.subs[i]
	sub.rh, sub.subOpts = rh, o
	existed = s.b.index.subscribe(s, sub.group, sub.filter, o)
	s.b.m.subs.Set(float64(s.b.index.size()))
	return existed, true
}

// removeSub removes a subscription and reports whether it existed.
func (s *session) removeSub(c *Client, raw string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != c || s.ended {
		return false
	}
	i := slices.IndexFunc(s.subs, func(x sessionSub) bool { return x.raw == raw })
	if i < 0 {
		return false
	}
	sub := s.subs[i]
	s.subs = slices.Delete(s.subs, i, i+1)
	if len(s.subs) == 0 {
		s.subs = nil
	}
	s.b.index.unsubscribe(s, sub.group, sub.filter)
	s.b.m.subs.Set(float64(s.b.index.size()))
	return true
}

// clearLocked empties an ended session: subscriptions out of the index,
// queue and in-flight state dropped. mu must be held.
func (s *session) clearLocked() {
	for _, sub := range s.subs {
		s.b.index.unsubscribe(s, sub.group, sub.filter)
	}
	s.b.m.subs.Set(float64(s.b.index.size()))
	s.b.m.queued.Sub(float64(s.queued()))
	s.b.m.inflight.Sub(float64(len(s.inflight)))
	s.subs, s.queue, s.head, s.inflight, s.awaitRel = nil, nil, 0, nil, nil
	s.bridged = nil
}

// snapshot returns the stored form of the session. mu must be held.
func (s *session) snapshot(now int64) *SessionState {
	st := &SessionState{ClientID: s.id, Version: s.version, Expiry: s.expiry, ExpiresAt: s.expireAt,
		Will: s.will, WillAt: s.willAt, WillExpiry: s.willExp}
	if s.owner != nil {
		st.ExpiresAt = now + s.expiry
	}
	for _, sub := range s.subs {
		st.Subscriptions = append(st.Subscriptions, StoredSubscription{Filter: sub.raw, QoS: sub.qos,
			NoLocal: sub.noLocal, RetainAsPublished: sub.rap, RetainHandling: sub.rh, ID: sub.id})
	}
	for _, d := range s.inflight {
		st.Inflight = append(st.Inflight, storedDelivery(d))
	}
	for _, d := range s.queue[s.head:] {
		st.Queued = append(st.Queued, storedDelivery(d))
	}
	st.AwaitingRelease = slices.Clone(s.awaitRel)
	return st
}

func storedDelivery(d delivery) StoredDelivery {
	sd := StoredDelivery{Message: d.m, QoS: d.qos, Retain: d.retain, PacketID: d.id, Released: d.state == awaitComp}
	switch {
	case len(d.subIDs) > 0:
		sd.SubIDs = slices.Clone(d.subIDs)
	case d.subID != 0:
		sd.SubIDs = []uint32{d.subID}
	}
	return sd
}

func restoredDelivery(sd StoredDelivery) delivery {
	d := delivery{m: sd.Message, qos: sd.QoS, retain: sd.Retain, id: sd.PacketID}
	switch {
	case len(sd.SubIDs) == 1:
		d.subID = sd.SubIDs[0]
	case len(sd.SubIDs) > 1:
		d.subIDs = slices.Clone(sd.SubIDs)
	}
	if d.id != 0 {
		switch {
		case sd.Released:
			d.state = awaitComp
		case d.qos == 2:
			d.state = awaitRec
		default:
			d.state = awaitAck
		}
	}
	return d
}
