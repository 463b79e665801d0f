package report

import (
	"fmt"
	"strings"
)

// row is one line of a comparison: how to read a figure from a case's
// result, and whether more is better.
type row struct {
	label  string
	cs     string
	unit   string
	higher bool
	get    func(*Result) (float64, bool)
}

// table is one comparison: its targets (columns), the Kefu targets whose
// ratios to each baseline are shown, its cases and rows, and the text
// around them.
type table struct {
	title     string
	intro     string
	targets   []string
	kefu      []string
	baselines []string
	names     map[string]string // column headers
	short     map[string]string // baseline names in ratio headers
	cases     []string
	rateCase  string // the case whose --rate replaces RATE in labels
	rows      []row
	notes     func(res Comparison) string
}

var targetNames = map[string]string{
	"kefu-sync": "Kefu sync", "kefu-async": "Kefu async", "gorilla": "gorilla hub",
	"mochi": "mochi-mqtt", "mosquitto": "mosquitto",
}

var compareTables = []*table{
	{
		intro: "Kefu with `sync` durability (fsync before every ACK, group-committed) and `async`; the baseline is\n" +
			"`kefu-bench baseline-hub` (gorilla/websocket, a reader and a writer goroutine per connection, one hub\n" +
			"goroutine, in memory, nothing stored). Same client (`kefu-bench`), same scenarios, one after another.\n",
		targets:   []string{"kefu-sync", "kefu-async", "gorilla"},
		kefu:      []string{"kefu-sync", "kefu-async"},
		baselines: []string{"gorilla"},
		names:     targetNames,
		short:     map[string]string{"gorilla": "hub"},
		cases:     []string{"idle", "relay-max", "relay-10k", "connect"},
		rateCase:  "relay-10k",
		rows: []row{
			{"Idle WebSocket connections held", "idle", "", true, peakOpen},
			{"Server RSS per idle WebSocket connection", "idle", "KiB", false, rssPerConn},
			{"Relay at saturation (closed loop), delivered", "relay-max", "msg/s", true, delivered},
			{"Relay at saturation, end-to-end p99", "relay-max", "ms", false, latency(HistE2E, 0.99)},
			{"Relay at RATE msg/s offered, delivered", "relay-10k", "msg/s", true, delivered},
			{"Relay at RATE msg/s, end-to-end p50", "relay-10k", "ms", false, latency(HistE2E, 0.5)},
			{"Relay at RATE msg/s, end-to-end p99", "relay-10k", "ms", false, latency(HistE2E, 0.99)},
			{"Relay at RATE msg/s, end-to-end p99.9", "relay-10k", "ms", false, latency(HistE2E, 0.999)},
			{"Relay at RATE msg/s, messages lost or unacknowledged", "relay-10k", "", false, lostOrUnacked},
			{"Connect rate (WebSocket upgrade + HELLO/WELCOME)", "connect", "conn/s", true, connectRate},
			{"Connect latency p99", "connect", "ms", false, latency(HistConnect, 0.99)},
		},
		notes: func(res Comparison) string {
			var b strings.Builder
			b.WriteString(rssNote)
			fmt.Fprintf(&b, "- **Idle**: %s WebSocket connections (JSON), each welcomed (HELLO/WELCOME), held %s with heartbeats.\n",
				res.param("idle", "conns", "?"), res.param("idle", "hold", "?"))
			fmt.Fprintf(&b, "- **Relay**: %s visitor/agent pairs, each in its own conversation; both sides send %s-byte messages;\n",
				res.param("relay-10k", "pairs", "?"), res.param("relay-10k", "payload", "100"))
			b.WriteString("  end-to-end latency is from the intended send time to the peer's receipt (open loop, so a stall counts).\n")
			b.WriteString("  Saturation is closed loop (each connection keeps its window of unacknowledged SENDs full).\n")
			fmt.Fprintf(&b, "- **Connect rate**: connections welcomed per second while opening %s as fast as they go (at most 2,048\n", res.param("connect", "conns", "?"))
			b.WriteString("  handshakes in flight), from dial to WELCOME.\n")
			return b.String()
		},
	},
	{
		title: "MQTT: Kefu's broker vs. mochi-mqtt and mosquitto",
		intro: "Kefu's MQTT broker (on the gateway's event loops; `sync` and `async` are the storage durability, with\n" +
			"which it persists sessions and retained messages: here one record per session at connect, none per\n" +
			"message, as `kefu/<site>/<device>/t` is outside the conversation bridge) against two MQTT brokers\n" +
			"with allow-all access: mochi-mqtt (`kefu-bench baseline-mochi`: Go, a read and a write goroutine per\n" +
			"client, mochi's default capabilities) and Debian's mosquitto (C, one thread, `persistence false`,\n" +
			"`set_tcp_nodelay true`) when it is installed. Kefu's clients authenticate with device tokens and use\n" +
			"their device's topics; the baselines get the same topic names.\n",
		targets:   []string{"kefu-sync", "kefu-async", "mochi", "mosquitto"},
		kefu:      []string{"kefu-sync", "kefu-async"},
		baselines: []string{"mochi", "mosquitto"},
		names:     targetNames,
		short:     map[string]string{"mochi": "mochi", "mosquitto": "mosquitto"},
		cases:     []string{"mqtt-idle", "mqtt-qos1-max", "mqtt-qos1-rate"},
		rateCase:  "mqtt-qos1-rate",
		rows: []row{
			{"Idle MQTT connections held", "mqtt-idle", "", true, peakOpen},
			{"Server RSS per idle MQTT connection (Kefu target ≤ 1.5 KiB)", "mqtt-idle", "KiB", false, rssPerConn},
			{"MQTT connect latency p99 (TCP + CONNECT/CONNACK)", "mqtt-idle", "ms", false, latency(HistConnect, 0.99)},
			{"QoS 1 point to point at saturation (closed loop), delivered", "mqtt-qos1-max", "msg/s", true, delivered},
			{"QoS 1 at saturation, end-to-end p50", "mqtt-qos1-max", "ms", false, latency(HistE2E, 0.5)},
			{"QoS 1 at saturation, end-to-end p99", "mqtt-qos1-max", "ms", false, latency(HistE2E, 0.99)},
			{"QoS 1 at RATE msg/s offered, delivered", "mqtt-qos1-rate", "msg/s", true, delivered},
			{"QoS 1 at RATE msg/s, end-to-end p50", "mqtt-qos1-rate", "ms", false, latency(HistE2E, 0.5)},
			{"QoS 1 at RATE msg/s, end-to-end p99", "mqtt-qos1-rate", "ms", false, latency(HistE2E, 0.99)},
			{"QoS 1 at RATE msg/s, PUBACK p99", "mqtt-qos1-rate", "ms", false, latency(HistAck, 0.99)},
			{"QoS 1 at RATE msg/s, messages lost or unacknowledged", "mqtt-qos1-rate", "", false, lostOrUnacked},
		},
		notes: func(res Comparison) string {
			var b strings.Builder
			b.WriteString(rssNote)
			fmt.Fprintf(&b, "- **Idle**: %s MQTT %s connections, each accepted (CONNECT/CONNACK), held %s, pinging (PINGREQ) after\n",
				res.param("mqtt-idle", "conns", "?"), mqttVersionName(res.param("mqtt-idle", "mqtt-version", "4")), res.param("mqtt-idle", "hold", "?"))
			b.WriteString("  20 s of silence within a 30 s keep alive.\n")
			fmt.Fprintf(&b, "- **QoS 1**: %s topics, each with one publisher and one subscriber (two client ids of one device),\n",
				res.param("mqtt-qos1-rate", "pairs", "?"))
			fmt.Fprintf(&b, "  %s-byte payloads, MQTT %s; end-to-end latency is from the intended send time to the subscriber's\n",
				res.param("mqtt-qos1-rate", "payload", "100"), mqttVersionName(res.param("mqtt-qos1-rate", "mqtt-version", "4")))
			b.WriteString("  receipt (open loop, so a stall counts), PUBACK latency to the publisher's PUBACK. Saturation is closed\n")
			b.WriteString("  loop: each publisher keeps one PUBLISH unacknowledged. A broker that delivers less than the offered\n")
			b.WriteString("  rate falls behind, and its latency at that rate measures its backlog.\n")
			return b.String()
		},
	},
}

const rssNote = "- **RSS per idle connection**: growth of the server's resident memory (`/proc/PID/status` VmRSS) from before the\n" +
	"  first connection to when all were open, divided by the connections (user space only; the kernel adds its\n" +
	"  socket buffers on either design).\n"

func mqttVersionName(v string) string {
	if v == "5" {
		return "5"
	}
	return "3.1.1"
}

func peakOpen(r *Result) (float64, bool) { return float64(r.Summary.PeakOpen), true }

func rssPerConn(r *Result) (float64, bool) {
	if r.Server == nil || r.Server.RSSPerConn == 0 {
		return 0, false
	}
	return r.Server.RSSPerConn / 1024, true
}

func delivered(r *Result) (float64, bool) { return r.Summary.MsgsPerSec, r.Summary.Delivered > 0 }

func lostOrUnacked(r *Result) (float64, bool) {
	return float64(r.Summary.Lost + r.Summary.Unacked), true
}

func connectRate(r *Result) (float64, bool) { return r.Summary.ConnectRate, r.Summary.ConnectRate > 0 }

func latency(h string, q float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		p, ok := r.Summary.Latency[h]
		if !ok || p.Count == 0 {
			return 0, false
		}
		switch q {
		case 0.5:
			return p.P50, true
		case 0.99:
			return p.P99, true
		}
		return p.P999, true
	}
}
