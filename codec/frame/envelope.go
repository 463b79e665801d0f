package frame

import (
	"fmt"

	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// AppendEnvelope appends env as one frame to dst: the type from env.Type, the
// request id from the low 32 bits of env.Id, and the protobuf encoding of env
// as payload, marshalled directly after a reserved header (no second copy).
// It returns ErrBadType when env is nil or env.Type is 0 or above 255,
// ErrTooLarge when the payload would exceed HardMaxPayload, and an error
// wrapping ErrBadPayload when env does not marshal (invalid UTF-8); on error
// dst is returned with its original length. The caller keeps env unchanged
// while this runs.
func AppendEnvelope(dst []byte, env *pb.Envelope) ([]byte, error) {
	t := env.GetType()
	if t <= 0 || t > 255 {
		return dst, ErrBadType
	}
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...) // reserve the header
	out, err := gproto.MarshalOptions{}.MarshalAppend(dst, env)
	if err != nil {
		return dst[:start], fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	n := len(out) - start - HeaderSize
	if n > HardMaxPayload {
		return out[:start], ErrTooLarge
	}
	PutHeader(out[start:], Header{Type: uint8(t), RequestID: uint32(env.GetId()), Length: uint32(n)})
	return out, nil
}

// DecodeEnvelope unmarshals the payload of f into a new Envelope. Strings are
// copied, so the Envelope does not alias f.Payload and may be handed to
// another goroutine. The header completes the Envelope: env.Type is set from
// f.Type when the payload's is 0, and env.Id from f.RequestID when the
// payload's is 0. A payload whose type differs from the header, or whose
// non-zero id has low 32 bits other than the header request id, is a bad
// payload (docs/protocol-frame.md §2). Errors: ErrBadType for f.Type 0,
// otherwise errors wrapping ErrBadPayload.
func DecodeEnvelope(f Frame) (*pb.Envelope, error) {
	if f.Type == 0 {
		return nil, ErrBadType
	}
	env := new(pb.Envelope)
	if err := gproto.Unmarshal(f.Payload, env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	switch ht := pb.Type(f.Type); {
	case env.Type == 0:
		env.Type = ht
	case env.Type != ht:
		return nil, fmt.Errorf("%w: payload type %d, header type %d", ErrBadPayload, env.Type, f.Type)
	}
	switch {
	case env.Id == 0:
		env.Id = uint64(f.RequestID)
	case uint32(env.Id) != f.RequestID:
		return nil, fmt.Errorf("%w: payload id %d, header request id %d", ErrBadPayload, env.Id, f.RequestID)
	}
	return env, nil
}
