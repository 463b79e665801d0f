package mqtt

import (
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
)

// Labels of kefu_mqtt_messages_dropped_total.
const (
	dropQueueFull   = iota // offline session's queue full
	dropOfflineQoS0        // QoS 0 for an offline session
	dropTooLarge           // over the client's Maximum Packet Size
	dropExpired            // Message Expiry Interval passed before sending
	dropRetainLimit        // a new retained topic beyond MaxRetained
	dropACL                // PUBLISH refused by the Authorizer
	numDrops
)

var dropNames = [numDrops]string{"queue_full", "offline_qos0", "too_large", "expired", "retain_limit", "acl"}

type metrics struct {
	clients      prometheus.Gauge
	sessions     prometheus.Gauge
	offline      prometheus.Gauge
	subs         prometheus.Gauge
	retained     prometheus.Gauge
	inflight     prometheus.Gauge
	queued       prometheus.Gauge
	in           [16]prometheus.Counter
	out          [16]prometheus.Counter
	authFailures prometheus.Counter
	aclPublish   prometheus.Counter
	aclSubscribe prometheus.Counter
	dropped      [numDrops]prometheus.Counter
	disconnects  [numReasons]prometheus.Counter
	published    prometheus.Counter
	delivered    prometheus.Counter
	storeErrors  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	inV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_packets_received_total", Help: "MQTT packets received, by type.",
	}, []string{"type"})
	outV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_packets_sent_total", Help: "MQTT packets sent, by type.",
	}, []string{"type"})
	aclV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_acl_denials_total", Help: "PUBLISH and SUBSCRIBE refused by the authorizer.",
	}, []string{"action"})
	dropV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_messages_dropped_total", Help: "Messages not delivered to a session, by reason.",
	}, []string{"reason"})
	discV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_disconnects_total", Help: "MQTT connections ended or refused by the broker, by reason.",
	}, []string{"reason"})
	m := &metrics{
		clients:      gauge("kefu_mqtt_clients", "Connected MQTT clients."),
		sessions:     gauge("kefu_mqtt_sessions", "MQTT sessions, connected or not."),
		offline:      gauge("kefu_mqtt_sessions_offline", "Persistent MQTT sessions without a connection (stored)."),
		subs:         gauge("kefu_mqtt_subscriptions", "MQTT subscriptions."),
		retained:     gauge("kefu_mqtt_retained_messages", "Retained MQTT messages."),
		inflight:     gauge("kefu_mqtt_inflight_messages", "QoS 1/2 deliveries sent and not acknowledged."),
		queued:       gauge("kefu_mqtt_queued_messages", "Deliveries waiting behind the in-flight window."),
		authFailures: counter("kefu_mqtt_auth_failures_total", "MQTT CONNECTs refused for credentials."),
		aclPublish:   aclV.WithLabelValues("publish"),
		aclSubscribe: aclV.WithLabelValues("subscribe"),
		published:    counter("kefu_mqtt_messages_received_total", "Application messages received and routed."),
		delivered:    counter("kefu_mqtt_messages_delivered_total", "Application messages queued to sessions."),
		storeErrors:  counter("kefu_mqtt_store_errors_total", "Session or retained writes the store refused."),
	}
	for t := byte(1); t <= packets.Auth; t++ {
		name := packets.PacketNames[t]
		m.in[t] = inV.WithLabelValues(name)
		m.out[t] = outV.WithLabelValues(name)
	}
	m.in[0], m.out[0] = inV.WithLabelValues("Reserved"), outV.WithLabelValues("Reserved")
	for i := range m.dropped {
		m.dropped[i] = dropV.WithLabelValues(dropNames[i])
	}
	for r := Reason(0); r < numReasons; r++ {
		m.disconnects[r] = discV.WithLabelValues(r.String())
	}
	if reg != nil {
		reg.MustRegister(m.clients, m.sessions, m.offline, m.subs, m.retained, m.inflight, m.queued,
			inV, outV, aclV, dropV, discV, m.authFailures, m.published, m.delivered, m.storeErrors)
	}
	return m
}
