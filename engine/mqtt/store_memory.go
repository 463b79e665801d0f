package mqtt

import (
	"maps"
	"slices"
	"sync"
)

// MemoryStore is a Store that keeps everything in memory: sessions and
// retained messages survive a Broker being closed and a new one built on
// the same MemoryStore (tests, single-process restarts), not the process.
// It is safe for concurrent use and never blocks for long.
type MemoryStore struct {
	mu       sync.Mutex
	retained map[string]*Message
	sessions map[string]*SessionState
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{retained: make(map[string]*Message), sessions: make(map[string]*SessionState)}
}

// SaveRetained implements Store.
func (s *MemoryStore) SaveRetained(m *Message) error {
	s.mu.Lock()
	s.retained[m.Topic] = m
	s.mu.Unlock()
	return nil
}

// DeleteRetained implements Store.
func (s *MemoryStore) DeleteRetained(topic string) error {
	s.mu.Lock()
	delete(s.retained, topic)
	s.mu.Unlock()
	return nil
}

// SaveSession implements Store.
func (s *MemoryStore) SaveSession(st *SessionState) error {
	s.mu.Lock()
	s.sessions[st.ClientID] = st
	s.mu.Unlock()
	return nil
}

// DeleteSession implements Store.
func (s *MemoryStore) DeleteSession(clientID string) error {
	s.mu.Lock()
	delete(s.sessions, clientID)
	s.mu.Unlock()
	return nil
}

// Load implements Store, in topic and client-id order.
func (s *MemoryStore) Load(retained func(*Message), session func(*SessionState)) error {
	s.mu.Lock()
	rs := slices.Sorted(maps.Keys(s.retained))
	ms := make([]*Message, len(rs))
	for i, t := range rs {
		ms[i] = s.retained[t]
	}
	ids := slices.Sorted(maps.Keys(s.sessions))
	ss := make([]*SessionState, len(ids))
	for i, id := range ids {
		ss[i] = s.sessions[id]
	}
	s.mu.Unlock()
	for _, m := range ms {
		retained(m)
	}
	for _, st := range ss {
		session(st)
	}
	return nil
}

// Sessions is the number of stored sessions.
func (s *MemoryStore) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Session returns the stored state of a session, or nil.
func (s *MemoryStore) Session(clientID string) *SessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[clientID]
}
