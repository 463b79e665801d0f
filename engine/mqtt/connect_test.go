package mqtt

import (
	"bytes"
	"strings"
	"testing"
	"time"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// creds is an Authenticator over a fixed table, and an Authorizer that
// lets each device use kefu/{site}/{device}/... only.
type creds struct{}

func (creds) AuthenticateMQTT(clientID, username string, password []byte) (Identity, error) {
	switch {
	case username == "banned":
		return Identity{}, ErrNotAuthorized
	case username == "" || string(password) != "pw-"+username:
		return Identity{}, ErrBadCredentials
	}
	site, device, _ := strings.Cut(username, ".")
	return Identity{Username: username, Site: site, Device: device}, nil
}

func (creds) CanSubscribe(id *Identity, filter string) bool {
	return strings.HasPrefix(filter, "kefu/"+id.Site+"/"+id.Device+"/")
}

func (creds) CanPublish(id *Identity, topic string) bool {
	return strings.HasPrefix(topic, "kefu/"+id.Site+"/"+id.Device+"/")
}

func TestConnectRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		v      byte
		pk     packets.Packet
		code   byte // CONNACK code, 0xFF: no CONNACK
		reason Reason
	}{
		{"bad_password_v5", 5, connectPacket(5, "d", withUser("s1.d1", "nope")), 0x86, ReasonBadCredentials},
		{"bad_password_v4", 4, connectPacket(4, "d", withUser("s1.d1", "nope")), 0x04, ReasonBadCredentials},
		{"no_credentials_v4", 4, connectPacket(4, "d"), 0x04, ReasonBadCredentials},
		{"banned_v5", 5, connectPacket(5, "d", withUser("banned", "x")), 0x87, ReasonNotAuthorized},
		{"banned_v4", 4, connectPacket(4, "d", withUser("banned", "x")), 0x05, ReasonNotAuthorized},
		{"empty_id_persistent_v4", 4, connectPacket(4, "", withUser("s1.d1", "pw-s1.d1"),
			func(pk *packets.Packet) { pk.Connect.Clean = false }), 0x02, ReasonBadClientID},
		{"id_too_long", 5, connectPacket(5, strings.Repeat("x", 300), withUser("s1.d1", "pw-s1.d1")), 0x85, ReasonBadClientID},
		{"auth_method", 5, connectPacket(5, "d", withUser("s1.d1", "pw-s1.d1"),
			func(pk *packets.Packet) { pk.Properties.AuthenticationMethod = "SCRAM" }), 0x8C, ReasonBadAuthMethod},
		{"will_not_allowed_v5", 5, connectPacket(5, "d", withUser("s1.d1", "pw-s1.d1"), withWill("other/topic", "x", 0, false, 0)),
			0x87, ReasonNotAuthorized},
		{"will_not_allowed_v4", 4, connectPacket(4, "d", withUser("s1.d1", "pw-s1.d1"), withWill("other/topic", "x", 0, false, 0)),
			0x05, ReasonNotAuthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Options{Authenticator: creds{}, Authorizer: creds{}})
			x := h.dial(c.v)
			x.send(c.pk)
			got := x.take()
			if !x.closed || x.reason != c.reason {
				t.Fatalf("closed %v reason %v, want %v", x.closed, x.reason, c.reason)
			}
			if len(got) != 1 || got[0].FixedHeader.Type != packets.Connack || got[0].ReasonCode != c.code {
				t.Fatalf("got %s %+v, want CONNACK %#x", names(got), got, c.code)
			}
			if h.b.Sessions() != 0 {
				t.Fatal("a refused client left a session")
			}
		})
	}
}

// TestConnectDecodeErrors: bad first packets, as the codec reports them.
func TestConnectDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  []byte
		want []byte // whole reply; nil: closed without CONNACK
	}{
		// Level 6: CONNACK 0x01 in the 3.1.1 format [MQTT-3.1.2-2].
		{"level_6", []byte{0x10, 0x0C, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 60, 0, 0}, []byte{0x20, 2, 0, 1}},
		// Level 3 ("MQIsdp"): not supported, CONNACK 0x01.
		{"level_3", []byte{0x10, 0x0E, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 2, 0, 60, 0, 0}, []byte{0x20, 2, 0, 1}},
		// Bad protocol name: closed without CONNACK [MQTT-3.1.2-1].
		{"bad_name", []byte{0x10, 0x0C, 0, 4, 'M', 'Q', 'T', 'X', 4, 2, 0, 60, 0, 0}, nil},
		// Malformed 3.1.1 CONNECT: no CONNACK.
		{"reserved_flag_v4", []byte{0x10, 0x0C, 0, 4, 'M', 'Q', 'T', 'T', 4, 3, 0, 60, 0, 0}, nil},
		// Malformed MQTT 5 CONNECT: CONNACK 0x81.
		{"reserved_flag_v5", []byte{0x10, 0x0D, 0, 4, 'M', 'Q', 'T', 'T', 5, 3, 0, 60, 0, 0, 0}, []byte{0x20, 3, 0, 0x81, 0}},
		// A packet before CONNECT: closed, nothing sent [MQTT-3.1.0-1].
		{"publish_first", []byte{0x30, 3, 0, 1, 't'}, nil},
		{"garbage_first", []byte{0x00, 0x00}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			x := h.dial(4)
			if c.name == "reserved_flag_v5" {
				x.v = 5 // how the test decodes the reply
			}
			x.sendRaw(c.raw)
			var out []byte
			for _, pk := range x.got {
				out, _ = codec.AppendPacket(out, &pk, max(pk.ProtocolVersion, 4))
			}
			if !x.closed || !bytes.Equal(out, c.want) {
				t.Fatalf("closed %v, reply % X, want % X", x.closed, out, c.want)
			}
		})
	}
}

func TestProtocolErrorsAfterConnect(t *testing.T) {
	for _, c := range []struct {
		name   string
		v      byte
		pk     packets.Packet
		reason Reason
	}{
		{"second_connect", 5, connectPacket(5, "x"), ReasonProtocol},
		{"second_connect_v4", 4, connectPacket(4, "x"), ReasonProtocol},
		{"connack_from_client", 5, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}}, ReasonProtocol},
		{"auth_without_method", 5, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Auth}}, ReasonProtocol},
		{"sub_id_in_publish", 5, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "t",
			Properties: packets.Properties{SubscriptionIdentifier: []int{1}}}, ReasonProtocol},
		{"shared_no_local", 5, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
			Filters: packets.Subscriptions{{Filter: "$share/g/t", NoLocal: true}}}, ReasonProtocol},
		{"session_expiry_from_zero", 5, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect},
			Properties: packets.Properties{SessionExpiryInterval: 60, SessionExpiryIntervalFlag: true}}, ReasonProtocol},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			x := h.client(c.v, "c")
			x.send(c.pk)
			got := x.take()
			if !x.closed || x.reason != c.reason {
				t.Fatalf("closed %v reason %v", x.closed, x.reason)
			}
			if c.v == 5 && (len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != c.reason.Code()) {
				t.Fatalf("got %s %+v", names(got), got)
			}
			if c.v == 4 && len(got) != 0 {
				t.Fatalf("got %s", names(got))
			}
		})
	}
}

// TestBadPacketsAfterConnect: codec errors become DISCONNECT with the
// codec's reason code on MQTT 5.
func TestBadPacketsAfterConnect(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  []byte
		code byte
	}{
		{"qos3", []byte{0x36, 0x03, 0, 1, 't'}, 0x81},
		{"wildcard_topic", []byte{0x30, 0x04, 0, 1, '#', 0}, 0x90},
		{"bad_utf8_topic", []byte{0x30, 0x05, 0, 2, 0xC3, 0x28, 0}, 0x81},
		{"alias_0", []byte{0x30, 0x07, 0, 1, 't', 3, 0x23, 0, 0}, 0x94},
		{"too_large", []byte{0x30, 0xFF, 0xFF, 0x7F}, 0x95},
		{"subscribe_no_filters", []byte{0x82, 0x03, 0, 1, 0}, 0x82},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Options{MaxPacketSize: 1024})
			x := h.client(5, "c")
			x.sendRaw(c.raw)
			got := x.take()
			if !x.closed || len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != c.code {
				t.Fatalf("closed %v got %s %+v, want DISCONNECT %#x", x.closed, names(got), got, c.code)
			}
		})
	}
}

// TestACL: SUBSCRIBE refused per filter (0x87 / 0x80) and never granted;
// PUBLISH refused with PUBACK 0x87 on MQTT 5, acknowledged and dropped on
// 3.1.1.
func TestACL(t *testing.T) {
	h := newHarness(t, Options{Authenticator: creds{}, Authorizer: creds{}})
	spy := h.client(5, "spy", withUser("s1.spy", "pw-s1.spy"))
	for _, v := range []byte{4, 5} {
		x := h.client(v, "d"+string(rune('0'+v)), withUser("s1.d1", "pw-s1.d1"))
		sa := x.subscribe(1, sub("kefu/s1/d1/down", 1), sub("kefu/s1/d2/down", 1), sub("#", 0))
		deny := byte(0x87)
		if v == 4 {
			deny = 0x80
		}
		if !bytes.Equal(sa.ReasonCodes, []byte{1, deny, deny}) {
			t.Fatalf("v%d SUBACK % X", v, sa.ReasonCodes)
		}
		if h.b.Subscriptions() != 1 {
			t.Fatalf("v%d: %d subscriptions; refused ones must not exist", v, h.b.Subscriptions())
		}
		x.publish("kefu/s1/d2/up", "x", 1, false, 5)
		want := byte(0x87)
		if v == 4 {
			want = 0
		}
		if a := x.expect(packets.Puback); a.ReasonCode != want {
			t.Fatalf("v%d PUBACK %#x", v, a.ReasonCode)
		}
		x.publish("kefu/s1/d2/up", "x", 2, false, 6)
		if a := x.expect(packets.Pubrec); a.ReasonCode != want {
			t.Fatalf("v%d PUBREC %#x", v, a.ReasonCode)
		}
		x.send(ack(packets.Pubrel, 6))
		x.expect(packets.Pubcomp)
		x.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe}, PacketID: 2,
			Filters: packets.Subscriptions{{Filter: "kefu/s1/d1/down"}}})
		x.expect(packets.Unsuback)
	}
	spy.nothing()
}

func TestAssignedClientID(t *testing.T) {
	h := newHarness(t, Options{})
	x := h.dial(5)
	ack := x.connect("")
	id := ack.Properties.AssignedClientID
	if !strings.HasPrefix(id, "auto-") || len(id) != 25 || x.c.Identity().ClientID != id {
		t.Fatalf("assigned %q", id)
	}
	y := h.dial(4)
	y.connect("")
	if y.c.Identity().ClientID == id || y.c.Identity().ClientID == "" {
		t.Fatal("3.1.1 empty id not assigned a fresh one")
	}
}

func TestConnackProperties(t *testing.T) {
	h := newHarness(t, Options{MaxKeepAlive: 60 * time.Second, MaxSessionExpiry: time.Hour, DisableRetain: true,
		DisableShared: true, ReceiveMaximum: 10, MaxPacketSize: 4096, TopicAliasMaximum: 5})
	x := h.dial(5)
	ack := x.connect("c", persistent(0xFFFFFFFF), func(pk *packets.Packet) { pk.Connect.Keepalive = 0 })
	p := ack.Properties
	if p.ReceiveMaximum != 10 || p.MaximumPacketSize != 4096 || p.TopicAliasMaximum != 5 ||
		!p.ServerKeepAliveFlag || p.ServerKeepAlive != 60 || !p.SessionExpiryIntervalFlag || p.SessionExpiryInterval != 3600 ||
		!p.RetainAvailableFlag || p.RetainAvailable != 0 || !p.SharedSubAvailableFlag || p.SharedSubAvailable != 0 ||
		p.WildcardSubAvailableFlag {
		t.Fatalf("CONNACK properties %+v", p)
	}
	if x.c.KeepAlive() != 90*time.Second {
		t.Fatalf("keep alive %v, want 1.5 × 60 s", x.c.KeepAlive())
	}
	x.publish("t", "r", 0, true, 0)
	if got := x.take(); !x.closed || len(got) != 1 || got[0].ReasonCode != 0x9A {
		t.Fatalf("retain while unavailable: %s", names(got))
	}
	y := h.client(4, "y", func(pk *packets.Packet) { pk.Connect.Keepalive = 10 })
	if y.c.KeepAlive() != 15*time.Second {
		t.Fatalf("keep alive %v", y.c.KeepAlive())
	}
	if g := y.c.Goodbye(ReasonShutdown); g != nil {
		t.Fatalf("3.1.1 goodbye % X", g)
	}
	z := h.client(5, "z")
	if g := z.c.Goodbye(ReasonShutdown); !bytes.Equal(g, []byte{0xE0, 1, 0x8B}) {
		t.Fatalf("MQTT 5 goodbye % X", g)
	}
}

func TestPingAndUnsubscribe(t *testing.T) {
	h := newHarness(t, Options{})
	x := h.client(5, "x")
	x.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	x.expect(packets.Pingresp)
	x.subscribe(1, sub("a", 0), sub("$share/g/b", 0))
	x.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe}, PacketID: 2,
		Filters: packets.Subscriptions{{Filter: "a"}, {Filter: "zz"}, {Filter: "a/#/b"}, {Filter: "$share/g/b"}}})
	if u := x.expect(packets.Unsuback); !bytes.Equal(u.ReasonCodes, []byte{0, 0x11, 0x8F, 0}) || u.PacketID != 2 {
		t.Fatalf("UNSUBACK %+v", u)
	}
	if h.b.Subscriptions() != 0 {
		t.Fatal("subscriptions left")
	}
	ack := x.subscribe(3, sub("a/#/b", 0), sub("$share//x", 1), sub("ok", 2))
	if !bytes.Equal(ack.ReasonCodes, []byte{0x8F, 0x8F, 2}) {
		t.Fatalf("SUBACK % X", ack.ReasonCodes)
	}
}
