package mqtt

import (
	"bytes"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// FuzzDecode checks, for MQTT 3.1.1 and 5.0, that Decode never panics; that
// a stream cut at any two points decodes to the same packets and the same
// error as the whole stream; that every error is one of this package's;
// that every decoded packet survives AppendPacket + Decode unchanged; and
// that a detached packet does not change when its buffer is overwritten.
func FuzzDecode(f *testing.F) {
	for _, g := range golden {
		b := unhex(f, g.hex)
		f.Add(b, g.version == 5, uint64(len(b)/2)<<32|1, uint32(0))
	}
	var v4, v5 []byte
	for _, g := range golden {
		if g.pk.FixedHeader.Type == packets.Connect {
			continue
		}
		if g.version == 5 {
			v5 = append(v5, unhex(f, g.hex)...)
		} else {
			v4 = append(v4, unhex(f, g.hex)...)
		}
	}
	f.Add(v4, false, uint64(17)<<32|5, uint32(0))
	f.Add(v5, true, uint64(33)<<32|9, uint32(64))
	f.Add([]byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, false, uint64(2), uint32(0))
	f.Add([]byte{0x36, 0x00}, true, uint64(1), uint32(0))
	f.Add([]byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x61}, true, uint64(3), uint32(0))
	f.Add([]byte{0x30, 0x09, 0x00, 0x01, 0x74, 0x01, 0x02, 0x00, 0x00, 0x00, 0x3C}, true, uint64(4), uint32(0))

	f.Fuzz(func(t *testing.T, data []byte, v5 bool, cuts uint64, maxPacket uint32) {
		version := byte(4)
		if v5 {
			version = 5
		}
		mp := int(maxPacket)
		rawW, whole, wholeErr := decodeStream([][]byte{data}, version, mp)

		c1 := int(cuts % uint64(len(data)+1))
		c2 := int((cuts >> 32) % uint64(len(data)+1))
		c1, c2 = min(c1, c2), max(c1, c2)
		rawS, split, splitErr := decodeStream([][]byte{data[:c1], data[c1:c2], data[c2:]}, version, mp)
		if wholeErr != splitErr {
			t.Fatalf("cut at %d,%d: error %v, whole %v", c1, c2, splitErr, wholeErr)
		}
		if len(whole) != len(split) {
			t.Fatalf("cut at %d,%d: %d packets, whole %d", c1, c2, len(split), len(whole))
		}
		for i := range whole {
			if !bytes.Equal(rawW[i], rawS[i]) || !samePacket(whole[i], split[i]) {
				t.Fatalf("cut at %d,%d: packet %d differs", c1, c2, i)
			}
		}
		if wholeErr != nil {
			if _, ok := wholeErr.(*Error); !ok {
				t.Fatalf("error %v (%T) is not a sentinel of this package", wholeErr, wholeErr)
			}
		}

		for i, pk := range whole {
			ev := version
			if pk.FixedHeader.Type == packets.Connect {
				ev = pk.ProtocolVersion
			}
			b, err := AppendPacket(nil, &pk, ev)
			if err != nil {
				t.Fatalf("packet %d (% X): AppendPacket: %v", i, rawW[i], err)
			}
			again, n, err := Decode(b, version, HardMaxPacket)
			if err != nil || n != len(b) {
				t.Fatalf("packet %d (% X): re-decode of % X: n %d err %v", i, rawW[i], b, n, err)
			}
			if !samePacket(again, pk) {
				t.Fatalf("packet %d (% X): re-encoded as % X, decodes to\n%+v\nwant\n%+v",
					i, rawW[i], b, normalize(again), normalize(pk))
			}
		}

		// Detach: decode from a scratch copy, detach, overwrite the copy.
		scratch := append([]byte(nil), data...)
		pk, n, err := Decode(scratch, version, mp)
		if err == nil && n > 0 {
			Detach(&pk)
			for i := range scratch {
				scratch[i] ^= 0xFF
			}
			if !samePacket(pk, whole[0]) {
				t.Fatalf("detached packet changed with its buffer")
			}
		}
	})
}
