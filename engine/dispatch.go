package engine

import (
	"crypto/rand"
	"encoding/base32"
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

// dispatch acts on one decoded envelope. Event loop only.
func (e *Engine) dispatch(c *conn, env *proto.Envelope) {
	if c.state == stateHello {
		e.hello(c, env)
		return
	}
	var op shard.Op
	switch env.Type {
	case proto.Type_TYPE_OPEN:
		if c.who.Role != proto.Role_ROLE_VISITOR {
			e.refuse(c, env, proto.Code_CODE_FORBIDDEN, "only visitors open conversations")
			return
		}
		op = shard.OpJoin
		if env.Conversation == "" {
			env.Conversation = newConversationID()
			op = shard.OpCreate
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
		}
		op = shard.OpSend
	case proto.Type_TYPE_REPLAY:
		op = shard.OpReplay
	case proto.Type_TYPE_EVENT:
		if env.Event == "" || len(env.Event) > maxEventName || len(env.Body) > maxEventBody {
			e.refuse(c, env, proto.Code_CODE_BAD_REQUEST, "bad event")
			return
		}
		op = shard.OpEvent
	case proto.Type_TYPE_LEAVE:
		op = shard.OpLeave
	case proto.Type_TYPE_PING:
		e.replyEnv(c, &proto.Envelope{Type: proto.Type_TYPE_PONG, Id: env.Id})
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
	e.submit(c, op, env)
}

func (e *Engine) submit(c *conn, op shard.Op, env *proto.Envelope) {
	i := e.router.ShardOf(env.Conversation)
	if !e.router.SubmitTo(i, shard.Request{Op: op, Sink: c, Who: c.who, Env: env}) {
		e.m.busy.Inc()
		e.replyEnv(c, &proto.Envelope{
			Type: proto.Type_TYPE_ERROR, Id: env.Id, Conversation: env.Conversation,
			Error: &proto.Error{Code: proto.Code_CODE_BUSY, Message: "server busy, retry", Retryable: true},
		})
		return
	}
	if op == shard.OpCreate || op == shard.OpJoin {
		c.shards |= 1 << uint(i)
	}
}

// hello authenticates the connection's first envelope.
func (e *Engine) hello(c *conn, env *proto.Envelope) {
	if env.Type != proto.Type_TYPE_HELLO || env.Hello == nil {
		e.m.authFailures.Inc()
		e.replyEnv(c, errEnv(env.Id, proto.Code_CODE_UNAUTHENTICATED, "HELLO expected first", false))
		c.closeOnLoop(reasonAuth)
		return
	}
	if len(env.Cursors) > maxCursors {
		e.m.authFailures.Inc()
		e.replyEnv(c, errEnv(env.Id, proto.Code_CODE_BAD_REQUEST, "too many cursors", false))
		c.closeOnLoop(reasonAuth)
		return
	}
	who, err := e.auth.Authenticate(env.Hello)
	if err != nil {
		e.m.authFailures.Inc()
		e.replyEnv(c, errEnv(env.Id, proto.Code_CODE_UNAUTHENTICATED, "authentication failed", false))
		c.closeOnLoop(reasonAuth)
		return
	}
	c.who = who
	c.state = stateReady
	c.ready.Store(true)
	e.replyEnv(c, &proto.Envelope{Type: proto.Type_TYPE_WELCOME, Id: env.Id, Sender: who.Sender})
	for _, cur := range env.Cursors {
		if !validConversationID(cur.GetConversation()) {
			continue
		}
		// docs/protocol-frame.md: the JOINED of a cursor carries the HELLO's id.
		e.submit(c, shard.OpJoin, &proto.Envelope{
			Type: proto.Type_TYPE_JOIN, Id: env.Id, Conversation: cur.Conversation, Seq: cur.Seq,
		})
	}
}

func (e *Engine) refuse(c *conn, env *proto.Envelope, code proto.Code, msg string) {
	e.replyEnv(c, &proto.Envelope{
		Type: proto.Type_TYPE_ERROR, Id: env.Id, Conversation: env.Conversation,
		Error: &proto.Error{Code: code, Message: msg},
	})
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
