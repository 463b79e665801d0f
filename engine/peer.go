package engine

import (
	"strings"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
)

// Peer is a client that is not a gnet connection: an HTTP long-poll
// session. The engine handles its envelopes with the same rules as a
// WebSocket connection's. Its methods may be called from any goroutine
// (shard workers and the routing desk write to it).
type Peer interface {
	shard.Sink
	// Who is the identity HELLO established, nil before.
	Who() *shard.Identity
	// SetWho records the identity of an accepted HELLO.
	SetWho(*shard.Identity)
	// Reply queues one envelope for the client (WELCOME, PONG, refusals).
	Reply(env *proto.Envelope)
}

// client is what dispatch needs of a speaker: a gnet connection (*conn,
// on its event loop) or a Peer (on an HTTP handler's goroutine).
type client interface {
	shard.Sink
	identity() *shard.Identity
	setIdentity(*shard.Identity)
	reply(e *Engine, env *proto.Envelope)
	// authFailed ends a client whose HELLO was refused.
	authFailed()
	// joinedShard records that the client subscribed on shard i.
	joinedShard(i int)
	// originTag is the tag of a browser origin that only some sites allow
	// (0: none, or allowed for every site).
	originTag() uint32
}

// originTag summarizes a browser origin as 32 bits of FNV-1a over its
// lower-case form without a trailing slash; never 0.
func originTag(o []byte) uint32 {
	for len(o) > 0 && o[len(o)-1] == '/' {
		o = o[:len(o)-1]
	}
	h := uint32(2166136261)
	for _, c := range o {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint32(c)) * 16777619
	}
	if h == 0 {
		h = 1
	}
	return h
}

// originAllows reports whether a client whose origin has tag may speak
// for site: the site lists that origin.
func (e *Engine) originAllows(site string, tag uint32) bool {
	if tag == 0 {
		return true
	}
	if e.opts.SiteOrigins == nil {
		return false
	}
	for _, o := range e.opts.SiteOrigins(site) {
		if originTag([]byte(strings.TrimSpace(o))) == tag {
			return true
		}
	}
	return false
}

// NewPeerID returns an id for a Peer, unique among the engine's
// connections and peers.
func (e *Engine) NewPeerID() uint64 { return e.nextID.Add(1) }

// HandlePeer handles one envelope from p exactly as a WebSocket text frame
// of a connection: HELLO first (authentication, cursors), then validation,
// then the shards. A refused HELLO leaves p.Who() nil; the caller ends
// the session.
func (e *Engine) HandlePeer(p Peer, env *proto.Envelope) {
	e.dispatch(peerClient{p}, env)
}

// DropPeer forgets p on every shard and at the routing desk (call it once
// the session has ended).
func (e *Engine) DropPeer(p Peer) {
	pc := peerClient{p}
	e.forget(pc, pc.identity(), ^uint64(0))
}

// OriginAllowed reports whether a browser page of origin may talk for
// site: the gateway's allow-list, or the site's own origins
// (Options.SiteOrigins).
func (e *Engine) OriginAllowed(site, origin string) bool {
	if e.globalOrigin == nil || e.globalOrigin([]byte(origin)) {
		return true
	}
	if e.opts.SiteOrigins == nil {
		return false
	}
	origin = strings.ToLower(strings.TrimRight(origin, "/"))
	for _, o := range e.opts.SiteOrigins(site) {
		if matchOrigin(strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/")), []byte(origin)) {
			return true
		}
	}
	return false
}

type peerClient struct{ Peer }

func (p peerClient) identity() *shard.Identity            { return p.Who() }
func (p peerClient) setIdentity(who *shard.Identity)      { p.SetWho(who) }
func (p peerClient) reply(_ *Engine, env *proto.Envelope) { p.Reply(env) }
func (p peerClient) authFailed()                          {}
func (p peerClient) joinedShard(int)                      {}
func (p peerClient) originTag() uint32                    { return 0 } // long-poll checks Origin on every request

// The conn side of client. Event loop only.

func (c *conn) identity() *shard.Identity {
	if c.state != stateReady {
		return nil
	}
	return c.who
}

func (c *conn) setIdentity(who *shard.Identity) {
	c.who = who
	c.state = stateReady
	c.ready.Store(true)
}

func (c *conn) reply(e *Engine, env *proto.Envelope) { e.replyEnv(c, env) }
func (c *conn) authFailed()                          { c.closeOnLoop(reasonAuth) }
func (c *conn) joinedShard(i int)                    { c.shards |= 1 << uint(i) }
func (c *conn) originTag() uint32                    { return c.origin }
