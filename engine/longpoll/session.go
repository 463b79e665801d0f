package longpoll

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
)

// session is one long-poll client: a shard.Sink and an engine.Peer. Its
// outbox holds the JSON envelopes queued for the client and not yet
// acknowledged, numbered 1, 2, 3, … in the order they were queued.
//
// Goroutines: shard workers and the routing desk call Write and Closed;
// HTTP handlers call Reply (through the engine) and everything else. The
// fields under mu are shared by all of them; id, key and srv are fixed at
// creation; the atomics are read without the lock.
type session struct {
	srv *Server
	id  uint64
	key string

	who    atomic.Pointer[shard.Identity]
	closed atomic.Bool  // mirrors reason != closeNone, for Closed()
	last   atomic.Int64 // unix nanos of connect, or of the last poll's start or end
	polls  atomic.Int32 // polls in progress: the session is not idle

	// sendMu keeps the envelopes of a session's concurrent sends in order
	// of arrival at the engine.
	sendMu sync.Mutex

	mu     sync.Mutex
	reason closeReason
	first  uint64   // number of out[0] (the next number when out is empty)
	out    [][]byte // JSON envelopes, shared and immutable
	bytes  int      // sum of len(out[i]): what counts against the outbound limit
	waiter *waiter  // the poll waiting for envelopes, if any
}

// waiter is one poll waiting for envelopes. ch (capacity 1) is signalled
// when envelopes arrive, the session ends or a newer poll replaces it;
// replaced is set under the session's lock.
type waiter struct {
	ch       chan struct{}
	replaced bool
}

func newSession(srv *Server, id uint64, key string) *session {
	s := &session{srv: srv, id: id, key: key, first: 1}
	s.touch()
	return s
}

// ID implements shard.Sink.
func (s *session) ID() uint64 { return s.id }

// Format implements shard.Sink: workers hand the session bare JSON
// envelopes, one per buffer.
func (s *session) Format() wire.Format { return wire.FormatJSON }

// Closed implements shard.Sink.
func (s *session) Closed() bool { return s.closed.Load() }

// Who implements engine.Peer.
func (s *session) Who() *shard.Identity { return s.who.Load() }

// SetWho implements engine.Peer.
func (s *session) SetWho(who *shard.Identity) { s.who.Store(who) }

// Write implements shard.Sink. Each buffer is one JSON envelope, shared
// and immutable: the session keeps it until the client acknowledges it.
func (s *session) Write(bufs [][]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason != closeNone {
		return false
	}
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	if s.bytes+n > s.srv.opts.OutboundLimit {
		s.closeLocked(closeSlow)
		return false
	}
	s.out = append(s.out, bufs...)
	s.bytes += n
	s.wakeLocked()
	return true
}

// Reply implements engine.Peer: it queues env, encoded now.
func (s *session) Reply(env *proto.Envelope) {
	b := proto.AppendJSON(make([]byte, 0, 64+len(env.Body)), env)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason != closeNone {
		return
	}
	if s.bytes+len(b) > s.srv.opts.OutboundLimit {
		s.closeLocked(closeSlow)
		return
	}
	s.out = append(s.out, b)
	s.bytes += len(b)
	s.wakeLocked()
}

// touch records a poll for the session timeout.
func (s *session) touch() { s.last.Store(time.Now().UnixNano()) }

// close marks the session ended for r (the first reason wins) and wakes a
// waiting poll. It reports whether this call ended it.
func (s *session) close(r closeReason) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked(r)
}

func (s *session) closeLocked(r closeReason) bool {
	if s.reason != closeNone {
		return false
	}
	s.reason = r
	s.closed.Store(true)
	clear(s.out)
	s.out, s.bytes = nil, 0
	s.wakeLocked()
	return true
}

func (s *session) wakeLocked() {
	if s.waiter != nil {
		select {
		case s.waiter.ch <- struct{}{}:
		default:
		}
	}
}

// lastLocked is the number of the last envelope queued (0: none yet).
func (s *session) lastLocked() uint64 { return s.first + uint64(len(s.out)) - 1 }

// ackLocked drops the envelopes numbered up to n. An n below what was
// dropped already (a stale request) drops nothing.
func (s *session) ackLocked(n uint64) {
	if n < s.first {
		return
	}
	k := min(n-s.first+1, uint64(len(s.out)))
	for _, b := range s.out[:k] {
		s.bytes -= len(b)
	}
	m := copy(s.out, s.out[k:])
	clear(s.out[m:])
	s.out = s.out[:m]
	s.first += k
}

// appendBatchLocked appends the members of a poll's answer to dst:
//
//	"envelopes":[<env>,<env>,…],"next":<number of the last one>
//
// with the queued envelopes from the start of the outbox, up to
// maxResponseBytes (at least one); next is ack when there are none.
func (s *session) appendBatchLocked(dst []byte, ack uint64) ([]byte, uint64) {
	dst = append(dst, `"envelopes":[`...)
	size, k := 0, 0
	for _, b := range s.out {
		if k > 0 && size+len(b) > maxResponseBytes {
			break
		}
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, b...)
		size += len(b)
		k++
	}
	next := ack
	if k > 0 {
		next = s.first + uint64(k) - 1
	}
	dst = append(dst, `],"next":`...)
	return strconv.AppendUint(dst, next, 10), next
}
