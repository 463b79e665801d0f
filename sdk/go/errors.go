package kefu

import (
	"errors"
	"strconv"

	pb "github.com/kefu-im/kefu/proto"
)

var (
	// ErrClosed is returned by requests on a client that Close was called
	// on, and by Err after a Close that ended a live connection. Requests in
	// flight at Close fail with it.
	ErrClosed = errors.New("kefu: client closed")

	// ErrDisconnected wraps the cause when the connection ends without a
	// Close: the server closed the TCP stream or sent a WebSocket close frame
	// (then a *CloseError is in the chain too), or a read or write failed.
	// Requests in flight fail with the same error.
	ErrDisconnected = errors.New("kefu: connection lost")

	// ErrGoAway is in the chain of Err (and of the errors of requests that
	// were in flight) when the server sent GOAWAY before the connection
	// ended: it was draining, and the client should reconnect elsewhere.
	ErrGoAway = errors.New("kefu: server sent GOAWAY")

	// ErrProtocol wraps a violation of the wire protocol by the server: a bad
	// frame header, an undecodable envelope, a masked or fragmented control
	// WebSocket frame. The client closes the connection (WebSocket: close
	// 1002, or 1009 for a message over the limit).
	ErrProtocol = errors.New("kefu: protocol violation by server")

	// ErrTimeout is returned by a request whose context has no deadline when
	// no reply came within Options.RequestTimeout, and given to a SendAsync
	// callback whose ACK did not come within that time. The connection stays
	// open; a reply that arrives later is pushed like an unsolicited one.
	ErrTimeout = errors.New("kefu: request timed out")

	// ErrUnexpectedReply wraps a reply whose type does not answer the
	// request that carried its id (for example an ACK to a JOIN).
	ErrUnexpectedReply = errors.New("kefu: unexpected reply type")

	// ErrSubprotocol is returned by Dial when the server did not agree to the
	// WebSocket subprotocol the options ask for.
	ErrSubprotocol = errors.New("kefu: websocket subprotocol not accepted")
)

// ServerError is an ERROR envelope answering a request: the request failed
// on the server. Switch on Code; Message is for humans.
type ServerError struct {
	Code      pb.Code
	Message   string
	Retryable bool
	// Conversation is the ERROR's conversation, when the server set it.
	Conversation string
}

// Error implements error.
func (e *ServerError) Error() string {
	s := "kefu: server error " + e.Code.String()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Retryable {
		s += " (retryable)"
	}
	return s
}

// serverError converts an ERROR envelope.
func serverError(env *pb.Envelope) *ServerError {
	e := env.GetError()
	return &ServerError{
		Code:         e.GetCode(),
		Message:      e.GetMessage(),
		Retryable:    e.GetRetryable(),
		Conversation: env.GetConversation(),
	}
}

// CloseError is a WebSocket close frame received from the server (RFC 6455
// §5.5.1). Code is 1005 (no status received) when the frame had no body.
// It is found with errors.As in the chain of Err.
type CloseError struct {
	Code   uint16
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	s := "websocket close " + strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}
