package bridge

import "github.com/prometheus/client_golang/prometheus"

// Refusal reasons, the labels of kefu_mqtt_bridge_rejected_total.
type rejectReason uint8

const (
	rejTooLarge       rejectReason = iota // body over MaxBodyBytes (0x97)
	rejBadUTF8                            // a text up that is not UTF-8 (0x99)
	rejBadJSON                            // a JSON envelope that does not decode, or a bad kind (0x99)
	rejBadEvent                           // an event without a valid name or with a large body (0x99)
	rejBadMsgID                           // a client_msg_id over 64 bytes (0x83)
	rejBusy                               // a shard queue was full (0x97)
	rejRefused                            // the conversation refused the message (0x80, 0x87)
	rejNoConversation                     // an event before the device has a conversation (QoS ≥ 1: 0x10)
	rejDownTopic                          // a device published to its down topic (0x87)
	numRejects
)

var rejectNames = [numRejects]string{
	"too_large", "bad_utf8", "bad_json", "bad_event", "bad_client_msg_id", "busy", "refused",
	"no_conversation", "down_topic",
}

type metrics struct {
	up          prometheus.Counter
	down        prometheus.Counter
	eventsIn    prometheus.Counter
	eventsOut   prometheus.Counter
	rejected    [numRejects]prometheus.Counter
	opened      prometheus.Counter
	paused      prometheus.Counter
	skipped     prometheus.Counter
	storeErrors prometheus.Counter
	devices     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_bridge_events_total", Help: "EVENTs relayed between devices and conversations, by direction.",
	}, []string{"direction"})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_bridge_rejected_total", Help: "Device messages and events refused or dropped by the bridge, by reason.",
	}, []string{"reason"})
	m := &metrics{
		up: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_mqtt_bridge_up_total", Help: "Device messages committed to conversations.",
		}),
		down: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_mqtt_bridge_down_total", Help: "Conversation messages published to devices.",
		}),
		eventsIn:  events.WithLabelValues("in"),
		eventsOut: events.WithLabelValues("out"),
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_mqtt_bridge_conversations_opened_total", Help: "Conversations opened for devices.",
		}),
		paused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_mqtt_bridge_paused_total", Help: "Times a device's forwarding paused because no session listened.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_mqtt_bridge_skipped_messages_total", Help: "Missed messages not sent to a returning device (over the catch-up limit).",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_mqtt_bridge_store_errors_total", Help: "Failed writes of device records (retried).",
		}),
		devices: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kefu_mqtt_bridge_devices", Help: "Devices the bridge knows (with a record or seen since start).",
		}),
	}
	for r := range numRejects {
		m.rejected[r] = rejected.WithLabelValues(rejectNames[r])
	}
	if reg != nil {
		reg.MustRegister(events, rejected, m.up, m.down, m.opened, m.paused, m.skipped, m.storeErrors, m.devices)
	}
	return m
}
