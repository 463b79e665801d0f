package mqtt

import (
	"testing"
	"unsafe"

	"github.com/mochi-mqtt/server/v2/packets"
)

// TestPerConnectionSizes keeps what every idle MQTT connection holds in
// small allocation size classes: a Client (160 bytes) and its session
// (224 bytes). Wills, topic aliases and bridged PUBLISHes hang off
// pointers; a field more must be weighed against every idle connection.
func TestPerConnectionSizes(t *testing.T) {
	tests := []struct {
		name string
		size uintptr
		max  uintptr
	}{
		{"Client", unsafe.Sizeof(Client{}), 160},
		{"session", unsafe.Sizeof(session{}), 224},
	}
	for _, tt := range tests {
		if tt.size > tt.max {
			t.Errorf("%s is %d bytes, want at most %d", tt.name, tt.size, tt.max)
		}
	}
}

// TestUserName checks that a user name that begins the client identifier
// is shared with it, and any other is copied.
func TestUserName(t *testing.T) {
	tests := []struct {
		clientID, user string
		shared         bool
	}{
		{"demo/dev-1", "demo/dev-1", true},
		{"demo/dev-1/pub", "demo/dev-1", true},
		{"demo/dev-1", "", false},
		{"demo/dev-1", "demo/dev-2", false},
		{"dev", "demo/dev-1", false},
	}
	for _, tt := range tests {
		got := userName(tt.clientID, []byte(tt.user))
		if got != tt.user {
			t.Fatalf("userName(%q, %q) = %q", tt.clientID, tt.user, got)
		}
		if tt.shared && unsafe.StringData(got) != unsafe.StringData(tt.clientID) {
			t.Errorf("userName(%q, %q) is a copy, want a part of the client id", tt.clientID, tt.user)
		}
	}
}

// TestPacketStaysOnStack checks that HandlePacket keeps no pointer into the
// packet it is given: the engine decodes each packet into a local variable,
// which must not be moved to the heap (a packets.Packet is close to 900
// bytes: one such allocation per PINGREQ or CONNECT of every connection).
// Escape analysis is static: a leak anywhere below HandlePacket (the
// bridged PUBLISH path included, whose Inbound escapes through the Bridge
// interface) shows here as one allocation per call.
func TestPacketStaysOnStack(t *testing.T) {
	h := newHarness(t, Options{})
	x := h.client(5, "c")
	x.c.begin()
	x.c.buf() // the Client keeps its output buffer: no pool in the count
	allocs := testing.AllocsPerRun(100, func() {
		var pk packets.Packet
		pk.FixedHeader.Type = packets.Pingreq
		if a := x.c.HandlePacket(&pk); a.Close || len(a.Out) != 2 {
			t.Fatalf("PINGREQ: %+v", a)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per PINGREQ, want 0", allocs)
	}
}
