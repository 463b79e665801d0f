package mqtt

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

func TestBrokerPublish(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.client(5, "dev", func(pk *packets.Packet) { pk.Properties.TopicAliasMaximum = 0 })
	s.subscribe(1, sub("kefu/s1/dev/down", 1))
	for _, bad := range []*Message{{Topic: "a/+"}, {Topic: ""}, {Topic: "a", QoS: 3}} {
		if _, err := h.b.Publish(bad); err != ErrInvalidMessage {
			t.Fatalf("Publish(%+v) = %v", bad, err)
		}
	}
	n, err := h.b.Publish(&Message{Topic: "kefu/s1/dev/down", Payload: []byte("from agent"), QoS: 1,
		ContentType: "text/plain", User: []packets.UserProperty{{Key: "conversation", Val: "c1"}}})
	if err != nil || n != 1 {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	got := s.expect(packets.Publish)
	if string(got.Payload) != "from agent" || got.FixedHeader.Qos != 1 || got.Properties.ContentType != "text/plain" ||
		len(got.Properties.User) != 1 {
		t.Fatalf("got %+v", got)
	}
	if _, err := h.b.Publish(&Message{Topic: "kefu/s1/state", Payload: []byte("up"), Retain: true}); err != nil {
		t.Fatal(err)
	}
	if h.b.Retained() != 1 {
		t.Fatal("server message not retained")
	}
}

func TestDisabledFeatures(t *testing.T) {
	h := newHarness(t, Options{DisableWildcards: true, DisableShared: true, MaxSubscriptions: 2})
	x := h.client(5, "x")
	ack := x.subscribe(1, sub("a/+", 0), sub("$share/g/a", 0), sub("a", 1), sub("b", 2), sub("c", 0))
	if !slices.Equal(ack.ReasonCodes, []byte{0xA2, 0x9E, 1, 2, 0x97}) {
		t.Fatalf("SUBACK % X", ack.ReasonCodes)
	}
	y := h.client(4, "y")
	if ack := y.subscribe(1, sub("a/#", 0)); ack.ReasonCodes[0] != 0x80 {
		t.Fatalf("3.1.1 SUBACK % X", ack.ReasonCodes)
	}
	h2 := newHarness(t, Options{DisableSubIDs: true})
	z := h2.client(5, "z")
	z.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
		Properties: packets.Properties{SubscriptionIdentifier: []int{3}}, Filters: packets.Subscriptions{sub("a", 0)}})
	if got := z.take(); !z.closed || len(got) != 1 || got[0].ReasonCode != 0xA1 {
		t.Fatalf("got %s", names(got))
	}
}

// TestTimerHeap checks the indexed heap against a sorted list under random
// schedules, reschedules and removals.
func TestTimerHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h timerHeap
	live := map[*session]bool{}
	var all []*session
	for range 50 {
		all = append(all, &session{heapIdx: -1})
	}
	for range 5000 {
		s := all[r.IntN(len(all))]
		switch r.IntN(3) {
		case 0, 1:
			h.schedule(s, r.Int64N(1000))
			live[s] = true
		case 2:
			h.remove(s)
			delete(live, s)
		}
		for i, x := range h {
			if int(x.heapIdx) != i {
				t.Fatal("heap index out of date")
			}
			if i > 0 && h.less(i, (i-1)/2) {
				t.Fatal("heap order broken")
			}
		}
	}
	var want []int64
	for s := range live {
		want = append(want, s.deadline)
	}
	slices.Sort(want)
	var got []int64
	for len(h) > 0 {
		s := h[0]
		got = append(got, s.deadline)
		h.remove(s)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
}

func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for r := Reason(0); r < numReasons; r++ {
		if r.String() == "" || seen[r.String()] || strings.ContainsAny(r.String(), " -") {
			t.Fatalf("reason %d label %q", r, r.String())
		}
		seen[r.String()] = true
	}
	if Reason(200).String() != "unknown" || Reason(200).Code() != 0x80 {
		t.Fatal("out of range reason")
	}
	if ReasonBadCredentials.disconnectCode() != 0x80 || ReasonTakeover.disconnectCode() != 0x8E {
		t.Fatal("disconnect codes")
	}
}

func TestOptionsValidate(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.MaxInflight != 32 || o.ReceiveMaximum != 64 || o.MaxQueued != 1000 || o.MaxSessionExpiry != 24*time.Hour {
		t.Fatalf("defaults %+v", o)
	}
	for _, bad := range []Options{
		{ReceiveMaximum: 70000}, {MaxInflight: -1}, {MaxPacketSize: -5}, {TopicAliasMaximum: 70000},
		{MaxKeepAlive: 70000 * time.Second}, {MaxClientIDLen: 70000}, {MaxQueued: -1},
	} {
		bad.EnsureDefaults()
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := NewBroker(Options{MaxInflight: -1}); err == nil {
		t.Fatal("NewBroker accepted bad options")
	}
}

func TestDisconnectBeforeConnect(t *testing.T) {
	h := newHarness(t, Options{})
	x := h.dial(4)
	a := x.c.Disconnect(ReasonShutdown)
	if !a.Close || len(a.Out) != 0 {
		t.Fatalf("%+v", a)
	}
	x.c.Closed()
	if x.c.Connected() || x.c.Goodbye(ReasonShutdown) != nil {
		t.Fatal("not connected yet")
	}
	y := h.client(5, "y")
	if !y.c.Connected() {
		t.Fatal("not connected")
	}
}

func TestMemoryStore(t *testing.T) {
	h := newHarness(t, Options{})
	store := h.b.store.(*MemoryStore)
	x := h.client(5, "x", persistent(60))
	x.subscribe(1, sub("a", 1))
	x.drop()
	st := store.Session("x")
	if store.Sessions() != 1 || st == nil || len(st.Subscriptions) != 1 || st.ExpiresAt == 0 {
		t.Fatalf("stored %+v", st)
	}
	h.clock.advance(2 * time.Minute)
	h.b.Tick()
	if store.Sessions() != 0 {
		t.Fatal("expired session still stored")
	}
}
