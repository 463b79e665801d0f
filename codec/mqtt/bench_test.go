package mqtt

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

func benchPackets(b *testing.B) []struct {
	name    string
	version byte
	pk      packets.Packet
} {
	hot := hotPackets()
	return []struct {
		name    string
		version byte
		pk      packets.Packet
	}{
		{"publish_qos1_256B/v4", 4, hot[0]},
		{"publish_qos1_256B/v5", 5, hot[0]},
		{"publish_qos0_256B_props/v5", 5, hot[1]},
		{"puback/v4", 4, hot[2]},
		{"puback/v5", 5, hot[2]},
		{"pubrec_reason/v5", 5, hot[3]},
		{"pingresp/v4", 4, hot[6]},
		{"subscribe/v5", 5, packets.Packet{FixedHeader: fh(packets.Subscribe), PacketID: 1,
			Properties: packets.Properties{SubscriptionIdentifier: []int{4}},
			Filters:    packets.Subscriptions{{Filter: "kefu/site/+/down", Qos: 1}, {Filter: "kefu/site/#", Qos: 2}}}},
		{"connect/v5", 5, packets.Packet{FixedHeader: fh(packets.Connect), ProtocolVersion: 5,
			Properties: packets.Properties{SessionExpiryInterval: 3600, SessionExpiryIntervalFlag: true, ReceiveMaximum: 20},
			Connect: packets.ConnectParams{Clean: true, Keepalive: 60, ClientIdentifier: "device-42",
				UsernameFlag: true, Username: []byte("site-1"), PasswordFlag: true, Password: []byte("secret")}}},
	}
}

func BenchmarkDecodeHeader(b *testing.B) {
	for _, c := range benchPackets(b)[:5] {
		src, _ := AppendPacket(nil, &c.pk, c.version)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if h, err := DecodeHeader(src, c.version, 0); err != nil || h.Size() != len(src) {
					b.Fatal(h, err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range benchPackets(b) {
		src, _ := AppendPacket(nil, &c.pk, c.version)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, n, err := Decode(src, c.version, 0); err != nil || n != len(src) {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	for _, c := range benchPackets(b) {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]byte, 0, 1024)
			var err error
			b.ReportAllocs()
			for b.Loop() {
				if dst, err = AppendPacket(dst[:0], &c.pk, c.version); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(dst)))
		})
	}
}

// BenchmarkMochiEncode is the baseline AppendPacket replaces: mochi's
// encoder into a bytes.Buffer.
func BenchmarkMochiEncode(b *testing.B) {
	for _, c := range benchPackets(b)[:5] {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			pk := c.pk
			pk.ProtocolVersion = c.version
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				var err error
				if pk.FixedHeader.Type == packets.Publish {
					err = pk.PublishEncode(&buf)
				} else {
					err = pk.PubackEncode(&buf)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}

func BenchmarkAppendAck(b *testing.B) {
	dst := make([]byte, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendAck(dst[:0], packets.Puback, 9, 0, 5)
	}
}

func BenchmarkAppendPublishSizes(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "a/b/c",
			PacketID: 1, Payload: make([]byte, size)}
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			dst := make([]byte, 0, size+64)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = AppendPacket(dst[:0], &pk, 5)
			}
		})
	}
}
