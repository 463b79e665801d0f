package engine

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"math/bits"
	"unicode/utf8"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
)

// Field limits enforced on the loop before anything is queued.
const (
	maxConversationID = 64
	maxClientMsgID    = 64
	maxEventName      = 32
	maxEventBody      = 1024
	maxCursors        = 100 // conversations one HELLO may resume
)

// Limits of the customer-service requests.
const (
	maxTags      = 16
	maxTagLen    = 64
	maxCommentLn = 1024
	maxIDLen     = 128 // agent and group ids (shard/routing.MaxIDLen)
)

// dispatch acts on one decoded envelope of c: on c's event loop for a
// connection, on an HTTP handler's goroutine for a Peer.
func (e *Engine) dispatch(c client, env *proto.Envelope) {
	who := c.identity()
	if who == nil {
		e.hello(c, env)
		return
	}
	var op shard.Op
	desk := false
	switch env.Type {
	case proto.Type_TYPE_OPEN:
		if who.Role != proto.Role_ROLE_VISITOR {
			if env.Conversation == "" {
				e.refuse(c, env, proto.Code_CODE_FORBIDDEN, "only visitors open new conversations")
				return
			}
			op = shard.OpReopen // an agent's OPEN of a conversation reopens it
			break
		}
		if !validTags(env.Tags) {
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "bad tags")
			return
		}
		op = shard.OpJoin
		if env.Conversation == "" {
			env.Conversation = newConversationID()
			op = shard.OpCreate
			if who.Trust == shard.TrustVerified {
				// A verified visitor resumes their open conversation from
				// any device; the desk knows it (or creates this one).
				c.joinedShard(e.router.ShardOf(env.Conversation)) // env is the desk's once submitted
				e.submitDesk(c, who, shard.OpOpen, env)
				return
			}
		}
	case proto.Type_TYPE_JOIN:
		op = shard.OpJoin
	case proto.Type_TYPE_SEND:
		switch {
		case len(env.Body) > e.opts.MaxBodyBytes:
			e.refuse(c, env, proto.Code_CODE_TOO_LARGE, "body too large")
			return
		case len(env.ClientMsgId) > maxClientMsgID:
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "client_msg_id too long")
			return
		case env.Kind < 0 || env.Kind > proto.Kind_KIND_FILE:
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "bad kind")
			return
		case !utf8.ValidString(env.Body) || !utf8.ValidString(env.ClientMsgId):
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "invalid UTF-8")
			return
		case (env.Kind == proto.Kind_KIND_IMAGE || env.Kind == proto.Kind_KIND_FILE) && !validAttachment(env.Body):
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, `an image or file body is a JSON object {"url","name","size","type"}`)
			return
		}
		op = shard.OpSend
	case proto.Type_TYPE_REPLAY:
		op = shard.OpReplay
	case proto.Type_TYPE_EVENT:
		if env.Event == "" || len(env.Event) > maxEventName || len(env.Body) > maxEventBody ||
			!utf8.ValidString(env.Event) || !utf8.ValidString(env.Body) {
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "bad event")
			return
		}
		op = shard.OpEvent
	case proto.Type_TYPE_LEAVE:
		op = shard.OpLeave
	case proto.Type_TYPE_CLOSE:
		op = shard.OpClose
	case proto.Type_TYPE_RATE:
		if env.Rating < 1 || env.Rating > 5 || len(env.Body) > maxCommentLn || !utf8.ValidString(env.Body) {
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "rating must be 1..5 with a comment of at most 1024 bytes")
			return
		}
		op = shard.OpRate
	case proto.Type_TYPE_CLAIM, proto.Type_TYPE_TRANSFER, proto.Type_TYPE_STATUS:
		if who.Role != proto.Role_ROLE_AGENT {
			e.refuse(c, env, proto.Code_CODE_FORBIDDEN, "agents only")
			return
		}
		switch env.Type {
		case proto.Type_TYPE_CLAIM:
			op = shard.OpClaim
			if env.Conversation == "" {
				e.submitDesk(c, who, op, env)
				return
			}
		case proto.Type_TYPE_TRANSFER:
			op = shard.OpTransfer
			if (env.Agent == "") == (env.Group == "") || len(env.Agent) > maxIDLen || len(env.Group) > maxIDLen {
				e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "transfer needs exactly one of agent or group")
				return
			}
		case proto.Type_TYPE_STATUS:
			if env.Status != "online" && env.Status != "away" && env.Status != "offline" {
				e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "status must be online, away or offline")
				return
			}
			e.submitDesk(c, who, shard.OpStatus, env)
			return
		}
		desk = true
	case proto.Type_TYPE_PING:
		c.reply(e, &proto.Envelope{Type: proto.Type_TYPE_PONG, Id: env.Id})
		return
	case proto.Type_TYPE_PONG:
		return
	case proto.Type_TYPE_HELLO:
		e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "already authenticated")
		return
	default:
		e.refuse(c, env, proto.Code_CODE_UNSUPPORTED, "unsupported type")
		return
	}
	if !validConversationID(env.Conversation) {
		e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "bad conversation id")
		return
	}
	if desk {
		e.submitDesk(c, who, op, env)
		return
	}
	e.submit(c, who, op, env)
}

func (e *Engine) submit(c client, who *shard.Identity, op shard.Op, env *proto.Envelope) {
	i := e.router.ShardOf(env.Conversation)
	if !e.router.SubmitTo(i, shard.Request{Op: op, Sink: c, Who: who, Env: env}) {
		e.busy(c, env)
		return
	}
	if op == shard.OpCreate || op == shard.OpJoin {
		c.joinedShard(i)
	}
}

func (e *Engine) submitDesk(c client, who *shard.Identity, op shard.Op, env *proto.Envelope) {
	if !e.router.SubmitDesk(shard.Request{Op: op, Sink: c, Who: who, Env: env}) {
		e.busy(c, env)
	}
}

func (e *Engine) busy(c client, env *proto.Envelope) {
	e.m.busy.Inc()
	c.reply(e, &proto.Envelope{
		Type: proto.Type_TYPE_ERROR, Id: env.Id, Conversation: env.Conversation,
		Error: &proto.Error{Code: proto.Code_CODE_BUSY, Message: "server busy, retry", Retryable: true},
	})
}

// hello authenticates the client's first envelope.
func (e *Engine) hello(c client, env *proto.Envelope) {
	if env.Type != proto.Type_TYPE_HELLO || env.Hello == nil {
		e.m.authFailures.Inc()
		c.reply(e, errEnv(env.Id, proto.Code_CODE_UNAUTHENTICATED, "HELLO expected first", false))
		c.authFailed()
		return
	}
	if len(env.Cursors) > maxCursors {
		e.m.authFailures.Inc()
		c.reply(e, errEnv(env.Id, proto.Code_CODE_BAD_REQUEST, "too many cursors", false))
		c.authFailed()
		return
	}
	who, err := e.auth.Authenticate(env.Hello)
	if err != nil {
		e.m.authFailures.Inc()
		c.reply(e, errEnv(env.Id, proto.Code_CODE_UNAUTHENTICATED, "authentication failed", false))
		c.authFailed()
		return
	}
	if !e.originAllows(who.Site, c.originTag()) {
		// The page's origin was accepted for another site, not this one.
		e.m.authFailures.Inc()
		c.reply(e, errEnv(env.Id, proto.Code_CODE_FORBIDDEN, "origin not allowed for this site", false))
		c.authFailed()
		return
	}
	c.setIdentity(who)
	c.reply(e, &proto.Envelope{Type: proto.Type_TYPE_WELCOME, Id: env.Id, Sender: who.Sender})
	if who.Role == proto.Role_ROLE_AGENT {
		// Presence: the desk counts the agent's connections and pushes
		// the agent's status and notices to this one. A full desk ring
		// only delays presence until the agent's next connection.
		e.router.SubmitDesk(shard.Request{Op: shard.OpConnect, Sink: c, Who: who, Env: &proto.Envelope{}})
	}
	for _, cur := range env.Cursors {
		if !validConversationID(cur.GetConversation()) {
			continue
		}
		// docs/protocol-frame.md: the JOINED of a cursor carries the HELLO's id.
		e.submit(c, who, shard.OpJoin, &proto.Envelope{
			Type: proto.Type_TYPE_JOIN, Id: env.Id, Conversation: cur.Conversation, Seq: cur.Seq,
		})
	}
}

// forget drops a gone client from the shards in the mask, and from the
// desk when it was an agent.
func (e *Engine) forget(c client, who *shard.Identity, mask uint64) {
	n := e.router.Shards()
	for s := mask; s != 0; s &= s - 1 {
		i := bits.TrailingZeros64(s)
		if i >= n {
			break
		}
		// A full ring only delays the forgetting: the worker's sweep drops
		// closed connections too.
		e.router.SubmitTo(i, shard.Request{Op: shard.OpDrop, Sink: c})
	}
	if who != nil && who.Role == proto.Role_ROLE_AGENT {
		e.router.SubmitDesk(shard.Request{Op: shard.OpDisconnect, Sink: c, Who: who, Env: &proto.Envelope{}})
	}
}

func (e *Engine) refuse(c client, env *proto.Envelope, code proto.Code, msg string) {
	c.reply(e, &proto.Envelope{
		Type: proto.Type_TYPE_ERROR, Id: env.Id, Conversation: env.Conversation,
		Error: &proto.Error{Code: code, Message: msg},
	})
}

// validAttachment checks the shape of an image or file message's body: a
// JSON object with a non-empty string url. What a URL may become on screen
// is the renderer's decision (the widget and the console link only this
// server's /files/ and show anything else as text; their browser tests send
// javascript: and foreign links).
func validAttachment(body string) bool {
	var a struct {
		URL string `json:"url"`
	}
	return json.Unmarshal([]byte(body), &a) == nil && a.URL != ""
}

func validTags(tags []string) bool {
	if len(tags) > maxTags {
		return false
	}
	for _, t := range tags {
		if t == "" || len(t) > maxTagLen || !utf8.ValidString(t) {
			return false
		}
	}
	return true
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// newConversationID returns 20 characters of [0-9a-v] from 100 random bits.
func newConversationID() string {
	var b [13]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])[:20]
}

// validConversationID accepts 1..64 bytes of [0-9a-zA-Z_-].
func validConversationID(id string) bool {
	if len(id) == 0 || len(id) > maxConversationID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
