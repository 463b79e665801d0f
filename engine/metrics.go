package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Close reasons, the label values of kefu_connections_closed_total.
type closeReason uint8

const (
	reasonNone closeReason = iota
	reasonPeer
	reasonError
	reasonHandshakeTimeout
	reasonIdleTimeout
	reasonBadHandshake
	reasonOriginDenied
	reasonUnknownProtocol
	reasonProtocolError
	reasonAuth
	reasonSlowConsumer
	reasonConnLimit
	reasonDraining
	reasonPanic
	reasonOverload
	reasonTakeover // MQTT: another connection took the session over
	numReasons
)

var reasonNames = [numReasons]string{
	"none", "peer", "error", "handshake_timeout", "idle_timeout", "bad_handshake", "origin_denied",
	"unknown_protocol", "protocol_error", "auth", "slow_consumer", "conn_limit", "draining", "panic", "overload",
	"takeover",
}

func (r closeReason) String() string { return reasonNames[r] }

// protocol index for per-protocol metric handles.
const (
	protoUnknown uint8 = iota
	protoWS
	protoFrame
	protoMQTT // MQTT over TCP; MQTT over WebSocket counts as ws
	numProtos
)

var protoNames = [numProtos]string{"unknown", "ws", "frame", "mqtt"}

type metrics struct {
	conns        [numProtos]prometheus.Gauge
	accepted     prometheus.Counter
	closed       [numReasons]prometheus.Counter
	framesIn     [numProtos]prometheus.Counter
	framesOut    [numProtos]prometheus.Counter
	bytesIn      [numProtos]prometheus.Counter
	bytesOut     [numProtos]prometheus.Counter
	decodeErrors *prometheus.CounterVec
	authFailures prometheus.Counter
	busy         prometheus.Counter
	slow         prometheus.Counter
	panics       prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	connsV := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kefu_connections", Help: "Open connections by protocol (unknown: not yet sniffed).",
	}, []string{"protocol"})
	closedV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_connections_closed_total", Help: "Closed connections by reason.",
	}, []string{"reason"})
	framesInV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_frames_received_total", Help: "Frames (WebSocket messages, binary frames) received.",
	}, []string{"protocol"})
	framesOutV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_frames_sent_total", Help: "Frames queued to connections.",
	}, []string{"protocol"})
	bytesInV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_received_bytes_total", Help: "Bytes received.",
	}, []string{"protocol"})
	bytesOutV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_sent_bytes_total", Help: "Bytes queued to connections.",
	}, []string{"protocol"})
	m := &metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_connections_accepted_total", Help: "Accepted connections.",
		}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_decode_errors_total", Help: "Malformed input by protocol and reason; the connection was closed.",
		}, []string{"protocol", "reason"}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_auth_failures_total", Help: "HELLOs refused.",
		}),
		busy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_busy_replies_total", Help: "Requests answered BUSY because a shard queue was full.",
		}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_slow_consumer_closes_total", Help: "Connections closed because their outbound queue passed the limit.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_panics_recovered_total", Help: "Panics recovered on an event loop; the connection was closed.",
		}),
	}
	for p := range numProtos {
		m.conns[p] = connsV.WithLabelValues(protoNames[p])
		m.framesIn[p] = framesInV.WithLabelValues(protoNames[p])
		m.framesOut[p] = framesOutV.WithLabelValues(protoNames[p])
		m.bytesIn[p] = bytesInV.WithLabelValues(protoNames[p])
		m.bytesOut[p] = bytesOutV.WithLabelValues(protoNames[p])
	}
	for r := range numReasons {
		m.closed[r] = closedV.WithLabelValues(reasonNames[r])
	}
	if reg != nil {
		reg.MustRegister(connsV, closedV, framesInV, framesOutV, bytesInV, bytesOutV,
			m.accepted, m.decodeErrors, m.authFailures, m.busy, m.slow, m.panics)
	}
	return m
}
