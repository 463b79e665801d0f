package shard

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// ErrBusy is returned by Call when the request could not be queued.
var ErrBusy = errors.New("shard: busy, retry")

// Call submits env as who, exactly as a connection would, and waits for
// the reply that carries env.Id (OK, ACK, JOINED, REPLAY_END or ERROR).
// Other envelopes sent to the caller on the way (replayed MESSAGEs) are
// discarded. env.Id must not be 0. For in-process callers such as the
// REST API; env belongs to the router once passed.
func (r *Router) Call(ctx context.Context, who *Identity, env *proto.Envelope) (*proto.Envelope, error) {
	if env.GetId() == 0 {
		return nil, errors.New("shard: Call needs a request id")
	}
	s := &callSink{id: r.callID.Add(1), want: env.Id, done: make(chan *proto.Envelope, 1)}
	defer s.closed.Store(true)
	op, desk, err := opOf(env)
	if err != nil {
		return nil, err
	}
	req := Request{Op: op, Sink: s, Who: who, Env: env}
	var ok bool
	if desk {
		ok = r.SubmitDesk(req)
	} else {
		ok = r.Submit(req)
	}
	if !ok {
		return nil, ErrBusy
	}
	select {
	case rep := <-s.done:
		if op == OpJoin || op == OpCreate {
			// The call subscribed nobody who listens: forget the sink.
			r.SubmitTo(r.ShardOf(env.GetConversation()), Request{Op: OpDrop, Sink: s})
		}
		return rep, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// opOf maps a request type to its op, and whether the desk handles it.
func opOf(env *proto.Envelope) (Op, bool, error) {
	switch env.GetType() {
	case proto.Type_TYPE_SEND:
		return OpSend, false, nil
	case proto.Type_TYPE_JOIN:
		return OpJoin, false, nil
	case proto.Type_TYPE_REPLAY:
		return OpReplay, false, nil
	case proto.Type_TYPE_EVENT:
		return OpEvent, false, nil
	case proto.Type_TYPE_CLOSE:
		return OpClose, false, nil
	case proto.Type_TYPE_OPEN: // an agent's OPEN of an existing conversation: reopen
		if env.GetConversation() == "" {
			return 0, false, errors.New("shard: Call opens only existing conversations (reopen)")
		}
		return OpReopen, false, nil
	case proto.Type_TYPE_RATE:
		return OpRate, false, nil
	case proto.Type_TYPE_CLAIM:
		return OpClaim, true, nil
	case proto.Type_TYPE_TRANSFER:
		return OpTransfer, true, nil
	case proto.Type_TYPE_STATUS:
		return OpStatus, true, nil
	}
	return 0, false, errors.New("shard: Call does not handle " + env.GetType().String())
}

// callSink receives the replies of one Call.
type callSink struct {
	id     uint64
	want   uint64
	done   chan *proto.Envelope
	once   sync.Once
	closed atomic.Bool
}

func (s *callSink) ID() uint64          { return s.id }
func (s *callSink) Format() wire.Format { return wire.FormatProto }
func (s *callSink) Closed() bool        { return s.closed.Load() }

func (s *callSink) Write(bufs [][]byte) bool {
	for _, b := range bufs {
		env := new(proto.Envelope)
		if gproto.Unmarshal(b, env) != nil || env.Id != s.want {
			continue
		}
		switch env.Type {
		case proto.Type_TYPE_OK, proto.Type_TYPE_ACK, proto.Type_TYPE_JOINED,
			proto.Type_TYPE_REPLAY_END, proto.Type_TYPE_ERROR:
			s.once.Do(func() { s.done <- env })
		}
	}
	return !s.closed.Load()
}
