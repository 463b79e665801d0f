package mqtt

import (
	"bytes"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

func fh(typ byte) packets.FixedHeader { return packets.FixedHeader{Type: typ} }

// golden holds packets byte for byte as in the examples of the MQTT 3.1.1
// (OASIS Standard, §3) and 5.0 (OASIS Standard, §3) specifications,
// completed with a payload where the specification shows only a header.
// pk is what Decode returns (after normalize) and what AppendPacket
// encodes to exactly these bytes.
var golden = []struct {
	name    string
	version byte
	hex     string
	pk      packets.Packet
}{
	// 3.1.1 Figure 3.6: protocol name, level 4, flags 0xCE (user name,
	// password, will QoS 1, will flag, clean session), keep alive 10.
	{"v4_connect", 4, `10 1A 00 04 4D 51 54 54 04 CE 00 0A
		00 02 63 31  00 01 77  00 01 78  00 01 75  00 01 70`,
		packets.Packet{FixedHeader: fh(packets.Connect), ProtocolVersion: 4, Connect: packets.ConnectParams{
			ProtocolName: []byte("MQTT"), Clean: true, WillFlag: true, WillQos: 1, Keepalive: 10,
			UsernameFlag: true, PasswordFlag: true, ClientIdentifier: "c1", WillTopic: "w",
			WillPayload: []byte("x"), Username: []byte("u"), Password: []byte("p")}}},
	{"v4_connect_minimal", 4, `10 0C 00 04 4D 51 54 54 04 02 00 3C 00 00`,
		packets.Packet{FixedHeader: fh(packets.Connect), ProtocolVersion: 4, Connect: packets.ConnectParams{
			ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60}}},
	{"v4_connack", 4, `20 02 01 00`,
		packets.Packet{FixedHeader: fh(packets.Connack), ProtocolVersion: 4, SessionPresent: true}},
	{"v4_connack_refused", 4, `20 02 00 05`,
		packets.Packet{FixedHeader: fh(packets.Connack), ProtocolVersion: 4, ReasonCode: 5}},
	// 3.1.1 Figure 3.11: topic "a/b", packet identifier 10.
	{"v4_publish_qos1", 4, `32 09 00 03 61 2F 62 00 0A 68 69`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: 4,
			TopicName: "a/b", PacketID: 10, Payload: []byte("hi")}},
	{"v4_publish_qos0_retain", 4, `31 05 00 03 61 2F 62`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: true}, ProtocolVersion: 4,
			TopicName: "a/b"}},
	{"v4_publish_qos2_dup", 4, `3C 08 00 03 61 2F 62 12 34 00`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2, Dup: true}, ProtocolVersion: 4,
			TopicName: "a/b", PacketID: 0x1234, Payload: []byte{0}}},
	{"v4_puback", 4, `40 02 00 0A`, packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: 4, PacketID: 10}},
	{"v4_pubrec", 4, `50 02 00 0A`, packets.Packet{FixedHeader: fh(packets.Pubrec), ProtocolVersion: 4, PacketID: 10}},
	{"v4_pubrel", 4, `62 02 00 0A`, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel, Qos: 1}, ProtocolVersion: 4, PacketID: 10}},
	{"v4_pubcomp", 4, `70 02 00 0A`, packets.Packet{FixedHeader: fh(packets.Pubcomp), ProtocolVersion: 4, PacketID: 10}},
	// 3.1.1 Figure 3.22: packet identifier 10, "a/b" QoS 1, "c/d" QoS 2.
	{"v4_subscribe", 4, `82 0E 00 0A 00 03 61 2F 62 01 00 03 63 2F 64 02`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: 4, PacketID: 10,
			Filters: packets.Subscriptions{{Filter: "a/b", Qos: 1}, {Filter: "c/d", Qos: 2}}}},
	// 3.1.1 Figure 3.26: success QoS 0, success QoS 2, failure.
	{"v4_suback", 4, `90 05 00 0A 00 02 80`,
		packets.Packet{FixedHeader: fh(packets.Suback), ProtocolVersion: 4, PacketID: 10, ReasonCodes: []byte{0, 2, 0x80}}},
	// 3.1.1 Figure 3.30: packet identifier 10, "a/b", "c/d".
	{"v4_unsubscribe", 4, `A2 0C 00 0A 00 03 61 2F 62 00 03 63 2F 64`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, ProtocolVersion: 4, PacketID: 10,
			Filters: packets.Subscriptions{{Filter: "a/b"}, {Filter: "c/d"}}}},
	{"v4_unsuback", 4, `B0 02 00 0A`, packets.Packet{FixedHeader: fh(packets.Unsuback), ProtocolVersion: 4, PacketID: 10}},
	{"v4_pingreq", 4, `C0 00`, packets.Packet{FixedHeader: fh(packets.Pingreq), ProtocolVersion: 4}},
	{"v4_pingresp", 4, `D0 00`, packets.Packet{FixedHeader: fh(packets.Pingresp), ProtocolVersion: 4}},
	{"v4_disconnect", 4, `E0 00`, packets.Packet{FixedHeader: fh(packets.Disconnect), ProtocolVersion: 4}},

	// 5.0 §3.1.2.11 example: level 5, flags 0xCE, keep alive 10, properties
	// length 5, session expiry interval 10.
	{"v5_connect", 5, `10 21 00 04 4D 51 54 54 05 CE 00 0A 05 11 00 00 00 0A
		00 02 63 31  00  00 01 77  00 01 78  00 01 75  00 01 70`,
		packets.Packet{FixedHeader: fh(packets.Connect), ProtocolVersion: 5,
			Properties: packets.Properties{SessionExpiryInterval: 10, SessionExpiryIntervalFlag: true},
			Connect: packets.ConnectParams{
				ProtocolName: []byte("MQTT"), Clean: true, WillFlag: true, WillQos: 1, Keepalive: 10,
				UsernameFlag: true, PasswordFlag: true, ClientIdentifier: "c1", WillTopic: "w",
				WillPayload: []byte("x"), Username: []byte("u"), Password: []byte("p")}}},
	{"v5_connect_props", 5, `10 1F 00 04 4D 51 54 54 05 02 00 3C
		12 21 00 14 22 00 0A 26 00 01 6B 00 01 76 27 00 00 10 00
		00 00`,
		packets.Packet{FixedHeader: fh(packets.Connect), ProtocolVersion: 5,
			Properties: packets.Properties{ReceiveMaximum: 20, TopicAliasMaximum: 10, MaximumPacketSize: 4096,
				User: []packets.UserProperty{{Key: "k", Val: "v"}}},
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60}}},
	{"v5_connack", 5, `20 03 00 00 00`,
		packets.Packet{FixedHeader: fh(packets.Connack), ProtocolVersion: 5}},
	{"v5_connack_assigned", 5, `20 0C 00 00 09 12 00 01 78 21 00 40 24 01`,
		packets.Packet{FixedHeader: fh(packets.Connack), ProtocolVersion: 5,
			Properties: packets.Properties{AssignedClientID: "x", ReceiveMaximum: 64, MaximumQos: 1, MaximumQosFlag: true}}},
	{"v5_connack_refused", 5, `20 03 00 86 00`,
		packets.Packet{FixedHeader: fh(packets.Connack), ProtocolVersion: 5, ReasonCode: 0x86}},
	// 5.0 §3.3.2.3 example: topic "a/b", packet identifier 10, no properties.
	{"v5_publish", 5, `32 0A 00 03 61 2F 62 00 0A 00 68 69`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: 5,
			TopicName: "a/b", PacketID: 10, Payload: []byte("hi")}},
	{"v5_publish_props", 5, `30 26 00 03 61 2F 62
		1E 01 01 02 00 00 00 3C 03 00 01 74 08 00 01 72 09 00 02 AB CD 23 00 07 26 00 01 6B 00 01 76
		68 69`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 5,
			TopicName: "a/b", Payload: []byte("hi"), Properties: packets.Properties{
				PayloadFormat: 1, PayloadFormatFlag: true, MessageExpiryInterval: 60, ContentType: "t",
				ResponseTopic: "r", CorrelationData: []byte{0xAB, 0xCD}, TopicAlias: 7, TopicAliasFlag: true,
				User: []packets.UserProperty{{Key: "k", Val: "v"}}}}},
	{"v5_publish_alias_only", 5, `30 07 00 00 03 23 00 07 7A`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 5,
			Payload: []byte("z"), Properties: packets.Properties{TopicAlias: 7, TopicAliasFlag: true}}},
	{"v5_publish_subids", 5, `30 09 00 01 74 05 0B 01 0B 80 01`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 5,
			TopicName: "t", Properties: packets.Properties{SubscriptionIdentifier: []int{1, 128}}}},
	{"v5_puback_short", 5, `40 02 00 0A`, packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: 5, PacketID: 10}},
	{"v5_puback_reason", 5, `40 03 00 0A 10`,
		packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: 5, PacketID: 10, ReasonCode: 0x10}},
	{"v5_puback_reason_string", 5, `40 08 00 0A 87 04 1F 00 01 6E`,
		packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: 5, PacketID: 10, ReasonCode: 0x87,
			Properties: packets.Properties{ReasonString: "n"}}},
	{"v5_pubrel_notfound", 5, `62 03 00 0A 92`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel, Qos: 1}, ProtocolVersion: 5, PacketID: 10, ReasonCode: 0x92}},
	// Subscription identifier 5, "a/+" with QoS 1, no local, retain as
	// published, retain handling 1.
	{"v5_subscribe", 5, `82 0B 00 01 02 0B 05 00 03 61 2F 2B 1D`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: 5, PacketID: 1,
			Properties: packets.Properties{SubscriptionIdentifier: []int{5}},
			Filters: packets.Subscriptions{{Filter: "a/+", Qos: 1, NoLocal: true, RetainAsPublished: true,
				RetainHandling: 1, Identifier: 5}}}},
	{"v5_suback", 5, `90 05 00 01 00 01 87`,
		packets.Packet{FixedHeader: fh(packets.Suback), ProtocolVersion: 5, PacketID: 1, ReasonCodes: []byte{1, 0x87}}},
	{"v5_unsubscribe", 5, `A2 07 00 01 00 00 02 61 62`,
		packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, ProtocolVersion: 5, PacketID: 1,
			Filters: packets.Subscriptions{{Filter: "ab"}}}},
	{"v5_unsuback", 5, `B0 05 00 01 00 00 11`,
		packets.Packet{FixedHeader: fh(packets.Unsuback), ProtocolVersion: 5, PacketID: 1, ReasonCodes: []byte{0, 0x11}}},
	{"v5_disconnect", 5, `E0 00`, packets.Packet{FixedHeader: fh(packets.Disconnect), ProtocolVersion: 5}},
	{"v5_disconnect_takeover", 5, `E0 01 8E`,
		packets.Packet{FixedHeader: fh(packets.Disconnect), ProtocolVersion: 5, ReasonCode: 0x8E}},
	{"v5_disconnect_will", 5, `E0 07 04 05 11 00 00 00 3C`,
		packets.Packet{FixedHeader: fh(packets.Disconnect), ProtocolVersion: 5, ReasonCode: 0x04,
			Properties: packets.Properties{SessionExpiryInterval: 60, SessionExpiryIntervalFlag: true}}},
	{"v5_auth", 5, `F0 00`, packets.Packet{FixedHeader: fh(packets.Auth), ProtocolVersion: 5}},
	{"v5_auth_continue", 5, `F0 08 18 06 15 00 03 61 62 63`,
		packets.Packet{FixedHeader: fh(packets.Auth), ProtocolVersion: 5, ReasonCode: 0x18,
			Properties: packets.Properties{AuthenticationMethod: "abc"}}},
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			b := unhex(t, g.hex)
			pk, n, err := Decode(b, g.version, 0)
			if err != nil || n != len(b) {
				t.Fatalf("Decode = n %d err %v, want n %d", n, err, len(b))
			}
			if !samePacket(pk, g.pk) {
				t.Fatalf("Decode =\n%+v\nwant\n%+v", normalize(pk), normalize(g.pk))
			}
			h, err := DecodeHeader(b, g.version, 0)
			if err != nil || h.Size() != len(b) || h.Type != g.pk.FixedHeader.Type {
				t.Fatalf("DecodeHeader = %+v %v", h, err)
			}
		})
	}
}

func TestGoldenEncode(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			want := unhex(t, g.hex)
			pk := g.pk
			prefix := []byte("xyz")
			got, err := AppendPacket(prefix, &pk, g.version)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[:3], prefix) || !bytes.Equal(got[3:], want) {
				t.Fatalf("AppendPacket =\n% X\nwant\n% X", got[3:], want)
			}
		})
	}
}

// TestRemainingLength checks the Variable Byte Integer examples of
// [MQTT-1.5.5] (3.1.1 Table 2.4, 5.0 Table 1-1) at both ends of each size.
func TestRemainingLength(t *testing.T) {
	for _, c := range []struct {
		v   int
		hex string
	}{
		{0, "00"}, {127, "7F"}, {128, "80 01"}, {16383, "FF 7F"}, {16384, "80 80 01"},
		{2097151, "FF FF 7F"}, {2097152, "80 80 80 01"}, {268435455, "FF FF FF 7F"},
	} {
		want := unhex(t, c.hex)
		if got := AppendVarint(nil, c.v); !bytes.Equal(got, want) || VarintLen(c.v) != len(want) {
			t.Errorf("AppendVarint(%d) = % X (len %d), want % X", c.v, got, VarintLen(c.v), want)
		}
		src := append([]byte{0x30}, want...)
		h, err := DecodeHeader(src, 4, HardMaxPacket)
		if err != nil || h.Remaining != c.v || h.Len != 1+len(want) {
			t.Errorf("DecodeHeader(% X) = %+v %v", src, h, err)
		}
		// Every shorter prefix is "need more".
		for i := 0; i < len(src); i++ {
			if h, err := DecodeHeader(src[:i], 4, HardMaxPacket); err != nil || h.Len != 0 {
				t.Errorf("DecodeHeader(% X) = %+v %v, want need more", src[:i], h, err)
			}
		}
	}
}

// TestSplitEveryOffset feeds the golden packets of each version as one
// stream cut at every offset (and byte by byte) and checks that the same
// packets come out as from the whole stream.
func TestSplitEveryOffset(t *testing.T) {
	for _, version := range []byte{4, 5} {
		var stream []byte
		var want []packets.Packet
		for _, g := range golden {
			if g.version != version || g.pk.FixedHeader.Type == packets.Connect {
				continue
			}
			stream = append(stream, unhex(t, g.hex)...)
			want = append(want, g.pk)
		}
		check := func(name string, chunks [][]byte) {
			_, pks, err := decodeStream(chunks, version, 0)
			if err != nil || len(pks) != len(want) {
				t.Fatalf("v%d %s: %d packets, err %v; want %d", version, name, len(pks), err, len(want))
			}
			for i := range pks {
				if !samePacket(pks[i], want[i]) {
					t.Fatalf("v%d %s: packet %d = %+v, want %+v", version, name, i, pks[i], want[i])
				}
			}
		}
		check("whole", [][]byte{stream})
		for cut := 0; cut <= len(stream); cut++ {
			check("cut", [][]byte{stream[:cut], stream[cut:]})
		}
		var bytewise [][]byte
		for i := range stream {
			bytewise = append(bytewise, stream[i:i+1])
		}
		check("bytewise", bytewise)
	}
}

// TestDecodeTruncated checks that every proper prefix of every golden
// packet is "need more", never an error or a packet.
func TestDecodeTruncated(t *testing.T) {
	for _, g := range golden {
		b := unhex(t, g.hex)
		for i := 0; i < len(b); i++ {
			if _, n, err := Decode(b[:i], g.version, 0); n != 0 || err != nil {
				t.Fatalf("%s: Decode(prefix %d) = n %d err %v", g.name, i, n, err)
			}
		}
	}
}
