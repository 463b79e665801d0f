package mqtt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

func TestAppendPacketErrors(t *testing.T) {
	long := strings.Repeat("x", 0x10000)
	for _, c := range []struct {
		name    string
		version byte
		pk      packets.Packet
		want    error
	}{
		{"type0", 4, packets.Packet{}, ErrBadType},
		{"type16", 4, packets.Packet{FixedHeader: fh(16)}, ErrBadType},
		{"auth_v4", 4, packets.Packet{FixedHeader: fh(packets.Auth)}, ErrBadType},
		{"publish_qos3", 4, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 3}, TopicName: "t"}, ErrBadQoS},
		{"publish_id0", 4, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "t"}, ErrNoPacketID},
		{"publish_long_topic", 4, packets.Packet{FixedHeader: fh(packets.Publish), TopicName: long}, ErrTooLarge},
		{"publish_long_prop", 5, packets.Packet{FixedHeader: fh(packets.Publish), TopicName: "t",
			Properties: packets.Properties{ContentType: long}}, ErrTooLarge},
		{"subscribe_id0", 4, packets.Packet{FixedHeader: fh(packets.Subscribe), Filters: packets.Subscriptions{{Filter: "a"}}}, ErrNoPacketID},
		{"subscribe_qos3", 4, packets.Packet{FixedHeader: fh(packets.Subscribe), PacketID: 1, Filters: packets.Subscriptions{{Filter: "a", Qos: 3}}}, ErrBadQoS},
		{"connect_will_qos3", 4, packets.Packet{FixedHeader: fh(packets.Connect), Connect: packets.ConnectParams{WillFlag: true, WillQos: 3}}, ErrBadQoS},
		{"connect_long_password", 4, packets.Packet{FixedHeader: fh(packets.Connect), Connect: packets.ConnectParams{
			PasswordFlag: true, UsernameFlag: true, Password: []byte(long)}}, ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendPacket(dst, &c.pk, c.version)
			if err != c.want || !bytes.Equal(got, []byte("keep")) {
				t.Fatalf("AppendPacket = % X, %v; want dst unchanged, %v", got, err, c.want)
			}
		})
	}
}

func TestAppendPacketLargePayload(t *testing.T) {
	for _, size := range []int{0, 1, 120, 127, 128, 16380, 16384, 2 << 20} {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "a/b",
			PacketID: 7, Payload: bytes.Repeat([]byte{0xA5}, size)}
		for _, v := range []byte{4, 5} {
			b, err := AppendPacket([]byte{1, 2, 3}, &pk, v)
			if err != nil {
				t.Fatal(err)
			}
			got, n, err := Decode(b[3:], v, HardMaxPacket)
			if err != nil || n != len(b)-3 || !samePacket(got, withVersion(pk, v)) {
				t.Fatalf("size %d v%d: n %d err %v", size, v, n, err)
			}
		}
	}
}

func withVersion(pk packets.Packet, v byte) packets.Packet {
	pk.ProtocolVersion = v
	return pk
}

func TestAppendAck(t *testing.T) {
	for _, typ := range []byte{packets.Puback, packets.Pubrec, packets.Pubrel, packets.Pubcomp} {
		for _, v := range []byte{4, 5} {
			for _, reason := range []byte{0, 0x10, 0x92} {
				if !validReason(typ, reason) {
					continue
				}
				pk := packets.Packet{FixedHeader: fh(typ), PacketID: 0x0102, ReasonCode: reason}
				if v < 5 {
					pk.ReasonCode = 0
				}
				want, err := AppendPacket(nil, &pk, v)
				if err != nil {
					t.Fatal(err)
				}
				if got := AppendAck(nil, typ, 0x0102, reason, v); !bytes.Equal(got, want) {
					t.Errorf("AppendAck(%d, v%d, %#x) = % X, want % X", typ, v, reason, got, want)
				}
			}
		}
	}
	if got := AppendPingresp(nil); !bytes.Equal(got, []byte{0xD0, 0}) {
		t.Errorf("AppendPingresp = % X", got)
	}
}

// TestRoundTrip encodes every golden packet, decodes it and encodes again.
func TestRoundTrip(t *testing.T) {
	for _, g := range golden {
		pk, _, err := Decode(unhex(t, g.hex), g.version, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := AppendPacket(nil, &pk, pk.ProtocolVersion)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		again, n, err := Decode(b, g.version, 0)
		if err != nil || n != len(b) || !samePacket(again, pk) {
			t.Fatalf("%s: round trip n %d err %v", g.name, n, err)
		}
	}
}

func TestDetach(t *testing.T) {
	for _, g := range golden {
		src := unhex(t, g.hex)
		orig := append([]byte(nil), src...)
		pk, _, err := Decode(src, g.version, 0)
		if err != nil {
			t.Fatal(err)
		}
		Detach(&pk)
		for i := range src {
			src[i] = 0xEE // the buffer is reused
		}
		want, _, _ := Decode(orig, g.version, 0)
		if !samePacket(pk, want) {
			t.Fatalf("%s: detached packet changed with its buffer:\n%+v", g.name, normalize(pk))
		}
	}
}

// hotPackets are the packets the broker encodes for every message.
func hotPackets() []packets.Packet {
	payload := bytes.Repeat([]byte("p"), 256)
	return []packets.Packet{
		{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "kefu/site/device-42/down",
			PacketID: 9, Payload: payload},
		{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "kefu/site/device-42/down", Payload: payload,
			Properties: packets.Properties{MessageExpiryInterval: 30, ContentType: "application/json",
				CorrelationData: []byte("corr"), SubscriptionIdentifier: []int{3}, TopicAlias: 2, TopicAliasFlag: true,
				User: []packets.UserProperty{{Key: "k", Val: "v"}}}},
		{FixedHeader: fh(packets.Puback), PacketID: 9},
		{FixedHeader: fh(packets.Pubrec), PacketID: 9, ReasonCode: 0x10},
		{FixedHeader: fh(packets.Pubrel), PacketID: 9},
		{FixedHeader: fh(packets.Pubcomp), PacketID: 9},
		{FixedHeader: fh(packets.Pingresp)},
	}
}

func TestAllocs(t *testing.T) {
	dst := make([]byte, 0, 4096)
	for _, pk := range hotPackets() {
		for _, v := range []byte{4, 5} {
			var err error
			if a := testing.AllocsPerRun(100, func() { _, err = AppendPacket(dst[:0], &pk, v) }); a != 0 || err != nil {
				t.Errorf("AppendPacket(type %d, v%d): %v allocs, err %v", pk.FixedHeader.Type, v, a, err)
			}
			b, _ := AppendPacket(nil, &pk, v)
			if a := testing.AllocsPerRun(100, func() { _, err = DecodeHeader(b, v, 0) }); a != 0 || err != nil {
				t.Errorf("DecodeHeader(type %d, v%d): %v allocs, err %v", pk.FixedHeader.Type, v, a, err)
			}
			// Decoding what carries no MQTT 5 properties stays in this
			// package or in mochi's allocation-free paths.
			if v == 4 || len(pk.Properties.User) == 0 {
				if a := testing.AllocsPerRun(100, func() { _, _, err = Decode(b, v, 0) }); a != 0 || err != nil {
					t.Errorf("Decode(type %d, v%d): %v allocs, err %v", pk.FixedHeader.Type, v, a, err)
				}
			}
		}
	}
	if a := testing.AllocsPerRun(100, func() {
		dst = AppendAck(dst[:0], packets.Puback, 9, 0, 5)
		dst = AppendPingresp(dst)
	}); a != 0 {
		t.Errorf("AppendAck/AppendPingresp: %v allocs", a)
	}
}
