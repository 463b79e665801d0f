package mqtt

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// unhex decodes a hex string with spaces and newlines.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// normalize makes two packets comparable with reflect.DeepEqual: the
// remaining length (which differs between the short and long forms of an
// MQTT 5 acknowledgement) is zeroed and empty slices become nil.
func normalize(pk packets.Packet) packets.Packet {
	pk.FixedHeader.Remaining = 0
	nilIfEmpty := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		return b
	}
	pk.Payload = nilIfEmpty(pk.Payload)
	pk.ReasonCodes = nilIfEmpty(pk.ReasonCodes)
	c := &pk.Connect
	c.Password, c.Username = nilIfEmpty(c.Password), nilIfEmpty(c.Username)
	c.ProtocolName, c.WillPayload = nilIfEmpty(c.ProtocolName), nilIfEmpty(c.WillPayload)
	for _, p := range []*packets.Properties{&pk.Properties, &c.WillProperties} {
		p.CorrelationData = nilIfEmpty(p.CorrelationData)
		p.AuthenticationData = nilIfEmpty(p.AuthenticationData)
		if len(p.User) == 0 {
			p.User = nil
		}
		if len(p.SubscriptionIdentifier) == 0 {
			p.SubscriptionIdentifier = nil
		}
	}
	if len(pk.Filters) == 0 {
		pk.Filters = nil
	}
	return pk
}

func samePacket(a, b packets.Packet) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// decodeStream decodes chunks delivered one after another into a growing
// buffer, the way an event loop sees them, consuming every complete packet
// after each chunk. It returns the encoded bytes of each packet and the
// packets, and the first error.
func decodeStream(chunks [][]byte, version byte, maxPacket int) (raw [][]byte, pks []packets.Packet, err error) {
	var buf []byte
	for _, ch := range chunks {
		buf = append(buf, ch...)
		for {
			v := version
			pk, n, err := Decode(buf, v, maxPacket)
			if err != nil {
				return raw, pks, err
			}
			if n == 0 {
				break
			}
			raw = append(raw, append([]byte(nil), buf[:n]...))
			Detach(&pk)
			pks = append(pks, pk)
			buf = buf[n:]
		}
	}
	return raw, pks, nil
}
