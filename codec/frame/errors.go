package frame

import (
	pb "github.com/kefu-im/kefu/proto"
)

// codecError is the type of every sentinel error of this package. It carries
// the metric label, the ERROR code to answer with, and whether the stream is
// out of sync afterwards.
type codecError struct {
	msg    string
	reason string
	code   pb.Code
	fatal  bool
}

func (e *codecError) Error() string { return e.msg }

// Header errors. Decode returns them as soon as the 12-byte header is
// buffered; the stream cannot be trusted afterwards, so the connection is
// answered with one ERROR frame (code from CodeFor) and closed.
var (
	// ErrBadMagic: byte 0 of a header is not Magic ('K'). The peer does not
	// speak this protocol, or the stream lost sync. Answered with
	// CODE_BAD_REQUEST (request id 0) and close.
	ErrBadMagic error = &codecError{"frame: bad magic", "bad_magic", pb.Code_CODE_BAD_REQUEST, true}

	// ErrBadVersion: byte 1 of a header is not Version. Answered with
	// CODE_UNSUPPORTED in a version-1 frame and close; a newer client
	// reconnects speaking version 1.
	ErrBadVersion error = &codecError{"frame: unsupported version", "bad_version", pb.Code_CODE_UNSUPPORTED, true}

	// ErrBadType: the type byte is 0, which no frame may carry (types the
	// receiver does not know are not an error of the codec). Also returned by
	// AppendEnvelope for an Envelope whose type is 0 or above 255. Answered
	// with CODE_BAD_REQUEST and close.
	ErrBadType error = &codecError{"frame: type 0", "bad_type", pb.Code_CODE_BAD_REQUEST, true}

	// ErrBadFlags: a reserved flag bit is set; version 1 defines none.
	// Answered with CODE_UNSUPPORTED and close.
	ErrBadFlags error = &codecError{"frame: reserved flags set", "bad_flags", pb.Code_CODE_UNSUPPORTED, true}

	// ErrTooLarge: the declared payload length exceeds the receiver's limit
	// (decided from the header alone, before the payload is read). Also
	// returned by AppendEnvelope when the payload would exceed
	// HardMaxPayload. Answered with CODE_TOO_LARGE and close.
	ErrTooLarge error = &codecError{"frame: payload too large", "too_large", pb.Code_CODE_TOO_LARGE, true}
)

// ErrBadPayload: the payload is not a valid Envelope (bad protobuf, invalid
// UTF-8 in a string field), or its type or id disagrees with the header.
// Framing is intact, so the connection stays open: the request is answered
// with CODE_BAD_REQUEST and its request id. DecodeEnvelope and AppendEnvelope
// wrap it with detail; test with errors.Is.
var ErrBadPayload error = &codecError{"frame: bad payload", "bad_payload", pb.Code_CODE_BAD_REQUEST, false}

// asCodecError finds the codecError in err's tree, like errors.As, without
// allocating (errors.As makes its target escape): Reason, CodeFor and Fatal
// run on every bad frame.
func asCodecError(err error) (*codecError, bool) {
	for err != nil {
		switch e := err.(type) {
		case *codecError:
			return e, true
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if ce, ok := asCodecError(inner); ok {
					return ce, true
				}
			}
			return nil, false
		default:
			return nil, false
		}
	}
	return nil, false
}

// Reason returns a short, stable label for err, for metrics: "bad_magic",
// "bad_version", "bad_type", "bad_flags", "too_large", "bad_payload"; ""
// for nil and "other" for an error that is not from this package.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if ce, ok := asCodecError(err); ok {
		return ce.reason
	}
	return "other"
}

// CodeFor returns the ERROR code to answer err with: CODE_UNSPECIFIED for
// nil, the code documented on each sentinel for errors of this package, and
// CODE_INTERNAL for any other error.
func CodeFor(err error) pb.Code {
	if err == nil {
		return pb.Code_CODE_UNSPECIFIED
	}
	if ce, ok := asCodecError(err); ok {
		return ce.code
	}
	return pb.Code_CODE_INTERNAL
}

// Fatal reports whether the connection must be closed after err (once the
// ERROR frame is written): true for the header errors and for any error not
// from this package, false for nil and ErrBadPayload.
func Fatal(err error) bool {
	if err == nil {
		return false
	}
	if ce, ok := asCodecError(err); ok {
		return ce.fatal
	}
	return true
}
