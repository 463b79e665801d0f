package longpoll

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/proto"
)

// Prefix is where the long-poll endpoints live on the HTTP listener.
const Prefix = "/lp/v1/"

// SessionHeader carries the session of every request but connect.
const SessionHeader = "X-Kefu-Session"

// Handler is what the server needs of the engine; *engine.Engine
// implements it.
type Handler interface {
	// NewPeerID returns an id unique among the engine's connections.
	NewPeerID() uint64
	// HandlePeer handles one envelope of p as a WebSocket text message.
	HandlePeer(p engine.Peer, env *proto.Envelope)
	// DropPeer forgets p everywhere once its session has ended.
	DropPeer(p engine.Peer)
	// OriginAllowed reports whether a browser page of origin may talk for site.
	OriginAllowed(site, origin string) bool
}

// Server serves the long-poll transport under Prefix. It is an
// http.Handler; Mount adds it to a mux.
type Server struct {
	opts Options
	h    Handler
	log  *slog.Logger
	m    *metrics

	mu       sync.RWMutex
	sessions map[string]*session // by key

	count   atomic.Int64 // sessions, including ones being connected
	closing atomic.Bool
	stop    chan struct{}
	done    chan struct{}
	bufs    sync.Pool // *[]byte: request bodies and answers
}

// New builds a Server and starts its reaper; Close stops it.
func New(opts Options) (*Server, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	srv := &Server{
		opts:     opts,
		h:        opts.Handler,
		log:      opts.Logger,
		m:        newMetrics(opts.Registerer),
		sessions: make(map[string]*session),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go srv.reaper()
	return srv, nil
}

// Mount adds the server to mux under Prefix.
func (srv *Server) Mount(mux *http.ServeMux) { mux.Handle(Prefix, srv) }

// Sessions is the number of open sessions.
func (srv *Server) Sessions() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.sessions)
}

// Close ends every session (a waiting poll is answered with GOAWAY
// draining), refuses new ones and stops the reaper. Call it when the
// server starts draining, before the shards stop: it hands every session
// to Handler.DropPeer. Idempotent.
func (srv *Server) Close() {
	if srv.closing.Swap(true) {
		<-srv.done
		return
	}
	close(srv.stop)
	<-srv.done
	srv.mu.RLock()
	all := make([]*session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.RUnlock()
	for _, s := range all {
		srv.end(s, closeDraining)
	}
}

// ServeHTTP routes a request under Prefix.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodOptions {
		srv.preflight(w, r)
		return
	}
	var want string
	var fn func(http.ResponseWriter, *http.Request)
	switch r.URL.Path {
	case Prefix + "connect":
		want, fn = http.MethodPost, srv.connect
	case Prefix + "send":
		want, fn = http.MethodPost, srv.send
	case Prefix + "poll":
		want, fn = http.MethodGet, srv.poll
	case Prefix + "close":
		want, fn = http.MethodPost, srv.closeSession
	default:
		srv.reject(w, http.StatusNotFound, rejectMethod, "not_found", "no such endpoint")
		return
	}
	if r.Method != want {
		h.Set("Allow", want)
		srv.reject(w, http.StatusMethodNotAllowed, rejectMethod, "bad_request", "method not allowed")
		return
	}
	fn(w, r)
}

// preflight answers a CORS preflight. Which site a request talks for is
// known only from its HELLO or session, so the preflight lets any origin
// ask; the request itself is refused (403) when its origin is not allowed.
func (srv *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type, "+SessionHeader)
		h.Set("Access-Control-Max-Age", "3600")
		h.Add("Vary", "Origin")
	}
	w.WriteHeader(http.StatusNoContent)
}

// allowOrigin checks a browser's Origin against site and, when allowed,
// opens the answer to that origin (CORS). A request without Origin comes
// from a native client and is allowed.
func (srv *Server) allowOrigin(w http.ResponseWriter, r *http.Request, site string) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if !srv.h.OriginAllowed(site, o) {
		srv.reject(w, http.StatusForbidden, rejectOrigin, "forbidden", "origin not allowed")
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", o)
	w.Header().Add("Vary", "Origin")
	return true
}

// connect: POST Prefix+"connect", body = a HELLO envelope. Answer
// {"session":"…","envelopes":[…],"next":n}, or 401 with the refusal.
func (srv *Server) connect(w http.ResponseWriter, r *http.Request) {
	if srv.closing.Load() {
		srv.reject(w, http.StatusServiceUnavailable, rejectDraining, "draining", "server draining")
		return
	}
	buf, ok := srv.readBody(w, r)
	if !ok {
		return
	}
	env := new(proto.Envelope)
	err := proto.UnmarshalJSON(*buf, env)
	srv.putBuf(buf)
	if err != nil {
		srv.reject(w, http.StatusBadRequest, rejectBadRequest, "bad_request", "malformed envelope")
		return
	}
	if !srv.allowOrigin(w, r, env.GetHello().GetSite()) {
		return
	}
	if srv.count.Add(1) > int64(srv.opts.MaxSessions) {
		srv.count.Add(-1)
		srv.reject(w, http.StatusServiceUnavailable, rejectSessionLimit, "busy", "too many sessions")
		return
	}
	s := newSession(srv, srv.h.NewPeerID(), newKey())
	srv.m.received.Inc()
	srv.h.HandlePeer(s, env)
	ans := srv.getBuf()
	defer srv.putBuf(ans)
	if s.Who() == nil { // refused: the engine replied why
		srv.count.Add(-1)
		s.mu.Lock()
		b := append((*ans)[:0], '{')
		b, _ = s.appendBatchLocked(b, 0)
		s.closeLocked(closeClient)
		s.mu.Unlock()
		*ans = append(b, '}')
		srv.m.rejected[rejectAuth].Inc()
		writeJSON(w, http.StatusUnauthorized, *ans)
		return
	}
	srv.mu.Lock()
	srv.sessions[s.key] = s
	srv.mu.Unlock()
	srv.m.sessions.Inc()
	if srv.closing.Load() { // Close ran meanwhile and may not have seen s
		srv.end(s, closeDraining)
		srv.reject(w, http.StatusServiceUnavailable, rejectDraining, "draining", "server draining")
		return
	}
	// The answer carries what is queued already (WELCOME at least) and
	// counts it as delivered: a client that loses it connects again.
	s.mu.Lock()
	b := append((*ans)[:0], `{"session":"`...)
	b = append(b, s.key...)
	b = append(b, `",`...)
	b, next := s.appendBatchLocked(b, 0)
	s.ackLocked(next)
	s.mu.Unlock()
	*ans = append(b, '}')
	srv.log.Debug("long-poll session started", "sender", s.Who().Sender, "id", s.id)
	writeJSON(w, http.StatusOK, *ans)
}

// send: POST Prefix+"send", body = one envelope or an array of them, each
// handled as a WebSocket text message in order. Answer 202 {}; replies
// arrive through poll.
func (srv *Server) send(w http.ResponseWriter, r *http.Request) {
	s := srv.session(w, r)
	if s == nil {
		return
	}
	buf, ok := srv.readBody(w, r)
	if !ok {
		return
	}
	envs, err := parseBatch(*buf, srv.opts.MaxBatch)
	srv.putBuf(buf)
	switch err {
	case nil:
	case ErrBatchTooLarge:
		srv.reject(w, http.StatusRequestEntityTooLarge, rejectTooLarge, "too_large",
			"more than "+strconv.Itoa(srv.opts.MaxBatch)+" envelopes")
		return
	default:
		srv.reject(w, http.StatusBadRequest, rejectBadRequest, "bad_request", "malformed envelope")
		return
	}
	s.sendMu.Lock()
	for _, env := range envs {
		if s.Closed() {
			break
		}
		srv.h.HandlePeer(s, env)
	}
	s.sendMu.Unlock()
	srv.m.received.Add(float64(len(envs)))
	writeJSON(w, http.StatusAccepted, []byte("{}"))
}

// poll: GET Prefix+"poll?ack=<n>&wait=<s>". Drops the envelopes up to ack,
// then answers {"envelopes":[…],"next":n} with what follows, as soon as
// there is something or after wait. A newer poll of the same session ends
// this one with an empty answer; a session that ends answers GOAWAY.
func (srv *Server) poll(w http.ResponseWriter, r *http.Request) {
	s := srv.session(w, r)
	if s == nil {
		return
	}
	ack, wait, err := parsePoll(r.URL.RawQuery)
	if err != nil {
		srv.reject(w, http.StatusBadRequest, rejectBadRequest, "bad_request", err.Error())
		return
	}
	s.polls.Add(1)
	s.touch()
	defer func() {
		s.touch()
		s.polls.Add(-1)
	}()
	ans := srv.getBuf()
	defer srv.putBuf(ans)

	s.mu.Lock()
	if s.reason != closeNone {
		s.mu.Unlock()
		srv.reject(w, http.StatusNotFound, rejectUnknownSession, "not_found", "unknown session")
		return
	}
	if ack > s.lastLocked() {
		s.mu.Unlock()
		srv.reject(w, http.StatusBadRequest, rejectBadRequest, "bad_request", "ack beyond the last envelope sent")
		return
	}
	s.ackLocked(ack)
	if old := s.waiter; old != nil { // one poll at a time: the newest wins
		old.replaced = true
		s.waiter = nil
		select {
		case old.ch <- struct{}{}:
		default: // already signalled
		}
	}
	if len(s.out) > 0 || wait == 0 {
		res := pollTimeout
		if len(s.out) > 0 {
			res = pollData
		}
		*ans = srv.answerLocked(s, (*ans)[:0], ack)
		s.mu.Unlock()
		srv.m.polls[res].Inc()
		writeJSON(w, http.StatusOK, *ans)
		return
	}
	wt := &waiter{ch: make(chan struct{}, 1)}
	s.waiter = wt
	s.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	gone := false
	select {
	case <-wt.ch:
	case <-t.C:
	case <-r.Context().Done():
		gone = true
	}

	s.mu.Lock()
	if s.waiter == wt {
		s.waiter = nil
	}
	res := pollData
	switch {
	case wt.replaced:
		res = pollReplaced
		*ans = append(strconv.AppendUint(append((*ans)[:0], `{"envelopes":[],"next":`...), ack, 10), '}')
	case s.reason != closeNone:
		res = pollClosed
		*ans = appendGoaway((*ans)[:0], s.reason, ack)
	case gone:
		res = pollGone
	default:
		if len(s.out) == 0 {
			res = pollTimeout
		}
		*ans = srv.answerLocked(s, (*ans)[:0], ack)
	}
	s.mu.Unlock()
	srv.m.polls[res].Inc()
	if res != pollGone {
		writeJSON(w, http.StatusOK, *ans)
	}
}

// answerLocked appends {"envelopes":[…],"next":n} to dst.
func (srv *Server) answerLocked(s *session, dst []byte, ack uint64) []byte {
	dst = append(dst, '{')
	dst, _ = s.appendBatchLocked(dst, ack)
	return append(dst, '}')
}

// appendGoaway appends the answer of a poll whose session ended: a GOAWAY
// saying why, retryable (the client connects again and resumes).
func appendGoaway(dst []byte, r closeReason, ack uint64) []byte {
	env := &proto.Envelope{Type: proto.Type_TYPE_GOAWAY, Error: &proto.Error{Code: proto.Code_CODE_DRAINING, Message: r.String(), Retryable: true}}
	if r != closeDraining {
		env.Error.Code = proto.Code_CODE_BUSY
	}
	dst = append(dst, `{"envelopes":[`...)
	dst = proto.AppendJSON(dst, env)
	dst = append(dst, `],"next":`...)
	dst = strconv.AppendUint(dst, ack, 10)
	return append(dst, '}')
}

// closeSession: POST Prefix+"close" ends the session. Answer 200 {}.
func (srv *Server) closeSession(w http.ResponseWriter, r *http.Request) {
	s := srv.session(w, r)
	if s == nil {
		return
	}
	srv.end(s, closeClient)
	writeJSON(w, http.StatusOK, []byte("{}"))
}

// session finds the request's session and checks its origin; on failure
// it answers and returns nil.
func (srv *Server) session(w http.ResponseWriter, r *http.Request) *session {
	key := r.Header.Get(SessionHeader)
	srv.mu.RLock()
	s := srv.sessions[key]
	srv.mu.RUnlock()
	if s == nil {
		srv.reject(w, http.StatusNotFound, rejectUnknownSession, "not_found", "unknown session")
		return nil
	}
	if !srv.allowOrigin(w, r, s.Who().Site) {
		return nil
	}
	return s
}

// end finishes a session: marks it closed (the first reason counts),
// forgets it and hands it to Handler.DropPeer, once.
func (srv *Server) end(s *session, r closeReason) {
	s.close(r)
	srv.mu.Lock()
	_, ok := srv.sessions[s.key]
	delete(srv.sessions, s.key)
	srv.mu.Unlock()
	if !ok {
		return
	}
	srv.count.Add(-1)
	srv.m.sessions.Dec()
	s.mu.Lock()
	reason := s.reason
	s.mu.Unlock()
	srv.m.closed[reason].Inc()
	srv.h.DropPeer(s)
	srv.log.Debug("long-poll session ended", "id", s.id, "reason", reason.String())
}

// reaper ends, once per Tick, the sessions nobody polled for
// SessionTimeout and the ones closed as slow consumers.
func (srv *Server) reaper() {
	defer close(srv.done)
	t := time.NewTicker(srv.opts.Tick)
	defer t.Stop()
	var victims []*session
	for {
		select {
		case <-srv.stop:
			return
		case <-t.C:
		}
		victims = srv.idle(victims[:0])
		for i, s := range victims {
			srv.end(s, closeTimeout)
			victims[i] = nil
		}
	}
}

// idle appends the sessions to end now to dst.
func (srv *Server) idle(dst []*session) []*session {
	limit := time.Now().Add(-srv.opts.SessionTimeout).UnixNano()
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	for _, s := range srv.sessions {
		if s.Closed() || s.polls.Load() == 0 && s.last.Load() < limit {
			dst = append(dst, s)
		}
	}
	return dst
}

// readBody reads a request body of at most MaxBodyBytes into a pooled
// buffer; on failure it answers (413 or 400) and returns false.
func (srv *Server) readBody(w http.ResponseWriter, r *http.Request) (*[]byte, bool) {
	max := srv.opts.MaxBodyBytes
	if r.ContentLength > int64(max) { // the declared length, before reading anything
		srv.reject(w, http.StatusRequestEntityTooLarge, rejectTooLarge, "too_large", "body too large")
		return nil, false
	}
	buf := srv.getBuf()
	b := (*buf)[:0]
	body := io.LimitReader(r.Body, int64(max)+1) // one byte more tells an oversize body
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b
			srv.putBuf(buf)
			srv.reject(w, http.StatusBadRequest, rejectBadRequest, "bad_request", "body unreadable")
			return nil, false
		}
	}
	*buf = b
	if len(b) > max {
		srv.putBuf(buf)
		srv.reject(w, http.StatusRequestEntityTooLarge, rejectTooLarge, "too_large", "body too large")
		return nil, false
	}
	return buf, true
}

// reject answers an error in the REST API's form and counts it.
func (srv *Server) reject(w http.ResponseWriter, status int, why rejectReason, code, msg string) {
	srv.m.rejected[why].Inc()
	b := make([]byte, 0, 64+len(msg))
	b = append(b, `{"error":{"code":`...)
	b = strconv.AppendQuote(b, code)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, msg)
	writeJSON(w, status, append(b, "}}"...))
}

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Buffers for bodies and answers; big ones are not kept.
const (
	bufSize    = 4 << 10
	maxPoolBuf = 64 << 10
)

func (srv *Server) getBuf() *[]byte {
	if b, ok := srv.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, bufSize)
	return &b
}

func (srv *Server) putBuf(b *[]byte) {
	if cap(*b) > maxPoolBuf {
		return
	}
	*b = (*b)[:0]
	srv.bufs.Put(b)
}

// newKey returns a session key: 128 random bits, base64url.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
