package kefu

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/codec/frame"
	pb "github.com/kefu-im/kefu/proto"
)

// Transport selects the wire protocol of a Client.
type Transport int

const (
	// TransportAuto (the zero value) picks TransportWS when Addr starts with
	// "ws://" and TransportFrame otherwise.
	TransportAuto Transport = iota
	// TransportFrame is the binary TCP frame protocol (docs/protocol-frame.md).
	TransportFrame
	// TransportWS is WebSocket, JSON text frames (subprotocol kefu.json) or
	// protobuf binary frames (kefu.proto, Options.Binary).
	TransportWS
)

// String returns "auto", "frame" or "ws".
func (t Transport) String() string {
	switch t {
	case TransportAuto:
		return "auto"
	case TransportFrame:
		return "frame"
	case TransportWS:
		return "ws"
	}
	return "Transport(" + strconv.Itoa(int(t)) + ")"
}

// WebSocket subprotocols (RFC 6455 §1.9).
const (
	SubprotocolJSON  = "kefu.json"
	SubprotocolProto = "kefu.proto"
)

// Defaults applied by EnsureDefaults.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultMessageBuffer  = 1024
	DefaultReadBufferSize = 4096
	DefaultClientName     = "kefu-go/1"
	// DefaultMaxPayload is the largest inbound frame payload or WebSocket
	// message accepted: the protocol's hard cap, 16 MiB (an SDK accepts what
	// any server may send, docs/protocol-frame.md §9).
	DefaultMaxPayload = frame.HardMaxPayload
)

// Options configure Dial. The zero value of every field but Addr has a
// documented default.
type Options struct {
	// Transport selects the protocol. Zero: TransportAuto (by Addr).
	Transport Transport
	// Addr is "host:port" for TransportFrame and a URL
	// ("ws://127.0.0.1:7000/ws") for TransportWS. Required.
	Addr string
	// Origin is the WebSocket Origin header. Zero: none is sent.
	Origin string
	// Binary selects WebSocket subprotocol kefu.proto (binary frames carrying
	// protobuf). Zero: kefu.json (text frames carrying JSON). Ignored for
	// TransportFrame.
	Binary bool

	// Site, User, Role and Token make the HELLO; they are sent as given and
	// checked by the server. Role zero: ROLE_VISITOR.
	Site  string
	User  string
	Role  pb.Role
	Token string
	// ClientName is HELLO.client. Zero: DefaultClientName.
	ClientName string
	// Cursors are conversations to resume in the HELLO (conversation → last
	// seq seen). The server answers each with its missed MESSAGEs and a
	// JOINED after the WELCOME; they arrive on the push stream. Zero: none.
	Cursors map[string]uint64

	// LocalAddr is the source address to dial from, an IP ("127.0.0.2") or
	// "ip:port". Zero: chosen by the kernel.
	LocalAddr string
	// DialTimeout bounds connect, WebSocket upgrade and HELLO/WELCOME
	// together. Zero: DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds a request whose context has no deadline, the wait
	// of a SendAsync for its ACK, and each write. Zero: DefaultRequestTimeout.
	RequestTimeout time.Duration

	// OnMessage, when set, receives every pushed envelope (see Client) on
	// the reader goroutine, in arrival order. It must not block for long and
	// must not wait for a reply of the same client (the reader is the one
	// that would read it). Zero: pushes go to Messages().
	OnMessage func(*pb.Envelope)
	// MessageBuffer is the capacity of the Messages channel when OnMessage is
	// nil. Zero: DefaultMessageBuffer.
	MessageBuffer int
	// ReadBufferSize is the size of the connection's read buffer. Zero:
	// DefaultReadBufferSize.
	ReadBufferSize int
	// MaxPayload is the largest inbound frame payload or WebSocket message,
	// in bytes; a bigger one is a protocol violation. Zero:
	// DefaultMaxPayload (16 MiB, also the maximum).
	MaxPayload int
}

// EnsureDefaults replaces zero values with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Transport == TransportAuto {
		o.Transport = TransportFrame
		if strings.HasPrefix(o.Addr, "ws://") || strings.HasPrefix(o.Addr, "wss://") {
			o.Transport = TransportWS
		}
	}
	if o.Role == pb.Role_ROLE_UNSPECIFIED {
		o.Role = pb.Role_ROLE_VISITOR
	}
	if o.ClientName == "" {
		o.ClientName = DefaultClientName
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MessageBuffer == 0 {
		o.MessageBuffer = DefaultMessageBuffer
	}
	if o.ReadBufferSize == 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
}

// Validate reports options that cannot work. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	switch {
	case o.Transport != TransportFrame && o.Transport != TransportWS:
		return errors.New("kefu: unknown transport " + o.Transport.String())
	case o.Addr == "":
		return errors.New("kefu: Options.Addr is required")
	case o.Transport == TransportWS && !strings.HasPrefix(o.Addr, "ws://") && !strings.HasPrefix(o.Addr, "wss://"):
		return errors.New("kefu: websocket Addr must be a ws:// or wss:// URL")
	case o.DialTimeout < 0 || o.RequestTimeout < 0:
		return errors.New("kefu: negative timeout")
	case o.MessageBuffer < 0 || o.ReadBufferSize < 0:
		return errors.New("kefu: negative buffer size")
	case o.ReadBufferSize > 0 && o.ReadBufferSize < 64:
		return errors.New("kefu: ReadBufferSize below 64 bytes")
	case strings.ContainsAny(o.Origin, "\r\n"):
		return errors.New("kefu: Origin must not contain CR or LF")
	case o.MaxPayload < 0 || o.MaxPayload > frame.HardMaxPayload:
		return errors.New("kefu: MaxPayload out of range (0..16 MiB)")
	}
	if o.LocalAddr != "" {
		if _, err := o.localTCPAddr(); err != nil {
			return err
		}
	}
	return nil
}

// localTCPAddr parses LocalAddr.
func (o *Options) localTCPAddr() (*net.TCPAddr, error) {
	if o.LocalAddr == "" {
		return nil, nil
	}
	if ip := net.ParseIP(o.LocalAddr); ip != nil {
		return &net.TCPAddr{IP: ip}, nil
	}
	a, err := net.ResolveTCPAddr("tcp", o.LocalAddr)
	if err != nil {
		return nil, errors.New("kefu: bad LocalAddr " + o.LocalAddr + ": " + err.Error())
	}
	return a, nil
}
