package mqtt

// timerHeap orders offline sessions by their next deadline (a delayed will
// or the session's expiry). It is a binary min-heap indexed through
// session.heapIdx so that a resumed session leaves it in O(log n).
// Guarded by Broker.mu.
type timerHeap []*session

func (h timerHeap) less(i, j int) bool { return h[i].deadline < h[j].deadline }

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = int32(i), int32(j)
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// schedule sets s's deadline, adding s or moving it.
func (h *timerHeap) schedule(s *session, deadline int64) {
	s.deadline = deadline
	if i := int(s.heapIdx); i >= 0 {
		h.down(i)
		h.up(i)
		return
	}
	s.heapIdx = int32(len(*h))
	*h = append(*h, s)
	h.up(len(*h) - 1)
}

// remove takes s out of the heap if it is in it.
func (h *timerHeap) remove(s *session) {
	i := int(s.heapIdx)
	if i < 0 {
		return
	}
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	s.heapIdx = -1
	if i != last {
		h.down(i)
		h.up(i)
	}
}

// Tick publishes delayed wills that are due and ends sessions that have
// expired. The engine calls it periodically (every second is plenty) from
// one goroutine, its ticker; it does no I/O beyond Store calls.
func (b *Broker) Tick() {
	t := b.now()
	type due struct {
		m   *Message
		exp int64
	}
	var (
		wills []due
		ended []*session
	)
	b.mu.Lock()
	for len(b.timers) > 0 && b.timers[0].deadline <= t {
		s := b.timers[0]
		b.timers.remove(s)
		s.mu.Lock()
		if s.owner != nil || s.ended {
			s.mu.Unlock()
			continue
		}
		if s.will != nil && (s.willAt <= t || s.expireAt <= t) {
			wills = append(wills, due{s.will, s.willExp}) // [MQTT-3.1.3-9]: delay passed or session ends
			s.will = nil
		}
		if s.expireAt <= t {
			s.ended = true
			s.clearLocked()
			if b.sessions[s.id] == s {
				delete(b.sessions, s.id)
				b.m.sessions.Dec()
			}
			b.m.offline.Dec()
			ended = append(ended, s)
		} else {
			next := s.expireAt
			if s.will != nil {
				next = min(next, s.willAt)
			}
			b.timers.schedule(s, next)
		}
		s.mu.Unlock()
	}
	b.mu.Unlock()
	for _, s := range ended {
		b.log.Debug("mqtt session expired", "client", s.id)
		b.storeFailed(b.store.DeleteSession(s.id), "session", s.id)
	}
	for _, w := range wills {
		b.publishWill(w.m, w.exp)
	}
}
