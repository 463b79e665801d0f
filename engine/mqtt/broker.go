package mqtt

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
)

// Conn is the broker's handle on a client's connection; the engine
// implements it.
type Conn interface {
	// Wake asks the connection's event loop to call Client.Drain soon.
	// It is called from any goroutine, never with a broker lock held; it
	// must not block, and the engine may coalesce calls.
	Wake()
}

// Broker is the state shared by every MQTT connection: the subscription
// index, retained messages, sessions (connected or not) and their timers.
// Its methods are safe for concurrent use; per-connection protocol state
// lives in Client.
type Broker struct {
	opts     Options
	m        *metrics
	log      *slog.Logger
	store    Store
	index    index
	retained retainedStore
	hits     sync.Pool // *[]hit, route scratch
	serial   atomic.Uint64

	mu       sync.Mutex
	sessions map[string]*session
	timers   timerHeap
	closed   bool
}

// ErrInvalidMessage is returned by Publish for a message whose topic is
// not a valid topic name or whose QoS is above 2.
var ErrInvalidMessage = errors.New("mqtt: invalid message")

// NewBroker builds a Broker and loads the sessions and retained messages
// of opts.Store.
func NewBroker(opts Options) (*Broker, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	b := &Broker{
		opts:     opts,
		m:        newMetrics(opts.Registerer),
		log:      opts.Logger,
		store:    opts.Store,
		sessions: make(map[string]*session),
	}
	b.hits.New = func() any { s := make([]hit, 0, 16); return &s }
	if err := b.load(); err != nil {
		return nil, err
	}
	return b, nil
}

// NewClient returns the protocol state of a new connection, waiting for
// CONNECT. conn is how the broker wakes the connection's loop.
func (b *Broker) NewClient(conn Conn) *Client {
	return &Client{b: b, conn: conn}
}

// MaxPacketSize is the inbound packet limit to pass to the codec's Decode.
func (b *Broker) MaxPacketSize() int { return b.opts.MaxPacketSize }

// Sessions is the number of sessions, connected or not.
func (b *Broker) Sessions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sessions)
}

// Retained is the number of retained messages.
func (b *Broker) Retained() int { return b.retained.size() }

// Subscriptions is the number of subscriptions.
func (b *Broker) Subscriptions() int { return b.index.size() }

func (b *Broker) now() int64 { return b.opts.Now() }

func (b *Broker) newSession(id string) *session {
	return &session{b: b, id: id, serial: b.serial.Add(1), heapIdx: -1}
}

// Publish routes a message the server itself publishes (the bridge from
// conversations, system messages) to every matching subscription, and
// retains it when m.Retain is set. It may be called from any goroutine and
// never blocks on a subscriber. m must not be modified afterwards. It
// returns the number of sessions the message was queued for.
func (b *Broker) Publish(m *Message) (int, error) {
	if !validTopicName(m.Topic) || m.QoS > 2 {
		return 0, ErrInvalidMessage
	}
	if m.Created == 0 {
		m.Created = b.now()
	}
	b.m.published.Inc()
	n, _ := b.route(m, nil, nil)
	if m.Retain {
		b.retain(m)
	}
	return n, nil
}

// route queues m to every session with a matching subscription: one
// delivery per session for its non-shared subscriptions (the highest
// granted QoS, every subscription identifier), one per shared group. from
// is the publisher's session (no-local), self its connection: a delivery
// that needs self woken is reported instead, for the caller to drain.
func (b *Broker) route(m *Message, from *session, self Conn) (matched int, selfQueued bool) {
	hp := b.hits.Get().(*[]hit)
	hits := b.index.match(m.Topic, (*hp)[:0])
	n := 0
	for _, h := range hits {
		if h.noLocal && h.s == from {
			continue // [MQTT-3.8.3-3]
		}
		hits[n] = h
		n++
	}
	hits = hits[:n]
	if len(hits) > 1 {
		slices.SortFunc(hits, func(x, y hit) int {
			switch {
			case x.shared != y.shared:
				if x.shared {
					return 1
				}
				return -1
			case x.s.serial < y.s.serial:
				return -1
			case x.s.serial > y.s.serial:
				return 1
			}
			return 0
		})
	}
	for i := 0; i < len(hits); {
		h := hits[i]
		d := delivery{m: m, qos: min(m.QoS, h.qos), retain: h.rap && m.Retain, subID: h.id}
		j := i + 1
		if !h.shared {
			ids := 0
			if h.id != 0 {
				ids = 1
			}
			for ; j < len(hits) && !hits[j].shared && hits[j].s == h.s; j++ {
				d.qos = max(d.qos, min(m.QoS, hits[j].qos)) // [MQTT-3.3.4-2]
				d.retain = d.retain || hits[j].rap && m.Retain
				if hits[j].id != 0 {
					ids++
				}
			}
			if ids > 1 { // MQTT 5 §3.3.4: every matching subscription's identifier
				d.subIDs, d.subID = make([]uint32, 0, ids), 0
				for _, x := range hits[i:j] {
					if x.id != 0 {
						d.subIDs = append(d.subIDs, x.id)
					}
				}
			} else if d.subID == 0 {
				for _, x := range hits[i+1 : j] {
					d.subID = max(d.subID, x.id)
				}
			}
		}
		matched++
		if w := h.s.enqueue(d, false); w != nil {
			if self != nil && w == self {
				selfQueued = true
			} else {
				w.Wake()
			}
		}
		i = j
	}
	clear(hits)
	*hp = hits[:0]
	b.hits.Put(hp)
	return matched, selfQueued
}

// retain stores m as its topic's retained message, or deletes it.
func (b *Broker) retain(m *Message) {
	delta, ok := b.retained.set(m, b.opts.MaxRetained)
	if !ok {
		b.m.dropped[dropRetainLimit].Inc()
		return
	}
	b.m.retained.Add(float64(delta))
	var err error
	if len(m.Payload) == 0 {
		err = b.store.DeleteRetained(m.Topic)
	} else {
		err = b.store.SaveRetained(m)
	}
	b.storeFailed(err, "retained", m.Topic)
}

func (b *Broker) storeFailed(err error, what, key string) {
	if err != nil {
		b.m.storeErrors.Inc()
		b.log.Warn("mqtt store write failed", "what", what, "key", key, "err", err)
	}
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// assignID returns a new client identifier: the prefix and 20 characters
// of [0-9a-v] from 100 random bits.
func (b *Broker) assignID() string {
	var r [13]byte
	_, _ = rand.Read(r[:])
	return b.opts.AssignedIDPrefix + idEncoding.EncodeToString(r[:])[:20]
}

// attach binds client c to the session of clientID: resumed when it
// exists and clean is false, new otherwise. A client connected to the
// session already is kicked with ReasonTakeover [MQTT-3.1.4-3]. It
// returns the session and whether it was resumed (session present).
func (b *Broker) attach(c *Client, clientID string, clean bool, expiry int64, version byte) (*session, bool) {
	var (
		s       *session
		present bool
		kicked  *Client
		ended   *session
		will    *Message
		willExp int64
	)
	b.mu.Lock()
	if old := b.sessions[clientID]; old != nil {
		b.timers.remove(old)
		old.mu.Lock()
		kicked = old.owner
		if kicked == nil {
			b.m.offline.Dec()
		}
		if clean {
			// Clean start: the old session ends here, its delayed will
			// with it [MQTT-3.1.2-4].
			ended, will, willExp = old, old.will, old.willExp
			old.ended, old.owner, old.will = true, nil, nil
			old.online.Store(false)
			old.clearLocked()
		} else {
			s, present = old, true
			old.will = nil // resumed in time: no will [MQTT-3.1.3-9]
		}
		old.mu.Unlock()
	}
	if s == nil {
		s = b.newSession(clientID)
		if ended == nil {
			b.m.sessions.Inc()
		}
		b.sessions[clientID] = s
	}
	s.mu.Lock()
	s.owner, s.wake, s.version, s.expiry, s.expireAt = c, false, version, expiry, 0
	s.online.Store(true)
	s.mu.Unlock()
	b.mu.Unlock()

	if kicked != nil && kicked.setKick(ReasonTakeover) {
		kicked.conn.Wake()
	}
	if ended != nil {
		b.storeFailed(b.store.DeleteSession(clientID), "session", clientID)
	}
	if will != nil {
		b.publishWill(will, willExp)
	}
	return s, present
}

// detach unbinds a closing client from its session. A session with expiry
// 0 ends; otherwise it waits offline until it expires, with the client's
// will delayed when it asked for a delay. It returns the will to publish
// now, if any.
func (b *Broker) detach(c *Client, will *Message, willDelay, willExp int64) (now *Message) {
	s := c.s
	t := b.now()
	var (
		end  bool
		snap *SessionState
	)
	b.mu.Lock()
	s.mu.Lock()
	switch {
	case s.owner != c:
		// Taken over: the session lives on with its new client, whose
		// arrival cancels a delayed will [MQTT-3.1.3-9].
		if willDelay > 0 && !s.ended {
			will = nil
		}
	case s.expiry == 0:
		end = true
		s.ended, s.owner, s.wake = true, nil, false
		s.online.Store(false)
		s.clearLocked()
		if b.sessions[s.id] == s {
			delete(b.sessions, s.id)
			b.m.sessions.Dec()
		}
	default:
		s.owner, s.wake, s.expireAt = nil, false, t+s.expiry
		s.online.Store(false)
		b.m.offline.Inc()
		next := s.expireAt
		if will != nil && willDelay > 0 {
			s.will, s.willExp, s.willAt = will, willExp, t+min(willDelay, s.expiry)
			next = min(next, s.willAt)
			will = nil
		}
		b.timers.schedule(s, next)
		snap = s.snapshot(t)
	}
	s.mu.Unlock()
	b.mu.Unlock()
	if end {
		b.storeFailed(b.store.DeleteSession(s.id), "session", s.id)
	}
	if snap != nil {
		b.storeFailed(b.store.SaveSession(snap), "session", s.id)
	}
	return will
}

// publishWill publishes a will message now: a copy stamped with the
// publication time and its expiry.
func (b *Broker) publishWill(w *Message, expiry int64) {
	m := *w
	m.Created = b.now()
	if expiry > 0 {
		m.Expires = m.Created + expiry
	}
	b.m.published.Inc()
	b.route(&m, nil, nil)
	if m.Retain {
		b.retain(&m)
	}
}

// Close saves every session that outlives its connection to the Store.
// Call it after the engine has disconnected the clients (DISCONNECT 0x8B
// through Client.Disconnect); sessions of clients still connected are
// saved as if they had just gone offline. The Broker must not be used
// afterwards.
func (b *Broker) Close() error {
	t := b.now()
	b.mu.Lock()
	b.closed = true
	list := make([]*session, 0, len(b.sessions))
	for _, s := range b.sessions {
		list = append(list, s)
	}
	b.mu.Unlock()
	var errs []error
	for _, s := range list {
		s.mu.Lock()
		var snap *SessionState
		if !s.ended && s.expiry > 0 {
			snap = s.snapshot(t)
		}
		s.mu.Unlock()
		if snap != nil {
			if err := b.store.SaveSession(snap); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// load restores the Store's retained messages and sessions.
func (b *Broker) load() error {
	t := b.now()
	var wills []*SessionState
	err := b.store.Load(func(m *Message) {
		if delta, ok := b.retained.set(m, int(^uint(0)>>1)); ok {
			b.m.retained.Add(float64(delta))
		}
	}, func(st *SessionState) {
		if st.ExpiresAt != 0 && st.ExpiresAt <= t {
			if st.Will != nil {
				wills = append(wills, st)
			}
			b.storeFailed(b.store.DeleteSession(st.ClientID), "session", st.ClientID)
			return
		}
		s := b.newSession(st.ClientID)
		s.version, s.expiry, s.expireAt = st.Version, st.Expiry, st.ExpiresAt
		if s.expireAt == 0 {
			s.expireAt = t + s.expiry
		}
		for _, ss := range st.Subscriptions {
			group, filter, ok := parseFilter(ss.Filter)
			if !ok {
				continue
			}
			o := subOpts{id: ss.ID, qos: ss.QoS, noLocal: ss.NoLocal, rap: ss.RetainAsPublished}
			s.subs = append(s.subs, sessionSub{raw: ss.Filter, group: group, filter: filter, rh: ss.RetainHandling, subOpts: o})
			b.index.subscribe(s, group, filter, o)
		}
		for _, sd := range st.Inflight {
			if sd.Message != nil && sd.PacketID != 0 {
				s.inflight = append(s.inflight, restoredDelivery(sd))
			}
		}
		for _, sd := range st.Queued {
			if sd.Message != nil {
				s.push(restoredDelivery(sd))
			}
		}
		s.awaitRel = slices.Clone(st.AwaitingRelease)
		next := s.expireAt
		if st.Will != nil {
			s.will, s.willExp, s.willAt = st.Will, st.WillExpiry, st.WillAt
			next = min(next, s.willAt)
		}
		b.m.inflight.Add(float64(len(s.inflight)))
		b.m.queued.Add(float64(s.queued()))
		b.m.sessions.Inc()
		b.m.offline.Inc()
		b.mu.Lock()
		b.sessions[s.id] = s
		b.timers.schedule(s, next)
		b.mu.Unlock()
	})
	b.m.subs.Set(float64(b.index.size()))
	for _, st := range wills {
		b.publishWill(st.Will, st.WillExpiry)
	}
	return err
}
