package mqtt

import (
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// TestMochiCorpus runs mochi's own packet fixtures through Decode: every
// case mochi decodes must decode to the same packet, every case it rejects
// must be rejected, except where mochi accepts what the specification
// forbids (listed below, each with its clause).
func TestMochiCorpus(t *testing.T) {
	stricter := map[string]string{
		"dup":                              "DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]",
		"miscellaneous protocol violation": "3.1.1 CONNACK return code above 5 (3.1.1 Table 3.1 reserved)",
		"bad protocol version":             "3.1.1 CONNACK return code above 5",
		"bad client id":                    "3.1.1 CONNACK return code above 5",
		"server unavailable":               "3.1.1 CONNACK return code above 5",
		"bad username or password":         "3.1.1 CONNACK return code above 5",
		"not authorised":                   "3.1.1 CONNACK return code above 5",
	}
	checked := 0
	for typ, cases := range packets.TPacketData {
		for _, c := range cases {
			if c.Packet == nil || c.RawBytes == nil || c.FailFirst != nil || c.Group != "" && c.Group != "decode" {
				continue
			}
			v := c.Packet.ProtocolVersion
			if v == 0 {
				v = 4
			}
			pk, n, err := Decode(c.RawBytes, v, HardMaxPacket)
			if why, ok := stricter[c.Desc]; ok {
				if err == nil {
					t.Errorf("type %d %q: accepted; want rejected (%s)", typ, c.Desc, why)
				}
				continue
			}
			checked++
			switch {
			case c.Expect != nil && err == nil:
				t.Errorf("type %d %q: accepted; mochi rejects it with %v", typ, c.Desc, c.Expect)
			case c.Expect == nil && (err != nil || n != len(c.RawBytes)):
				t.Errorf("type %d %q: n %d err %v", typ, c.Desc, n, err)
			case c.Expect == nil:
				want := *c.Packet
				want.Mods, want.ProtocolVersion = packets.Mods{}, v
				if !samePacket(pk, want) {
					t.Errorf("type %d %q: decoded\n%+v\nwant\n%+v", typ, c.Desc, normalize(pk), normalize(want))
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d mochi cases checked", checked)
	}
}
