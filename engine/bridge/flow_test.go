package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestUpAndDown: an up opens a conversation and is acknowledged after its
// commit (with the device's record on disk); the agent's reply comes down,
// in JSON, and the device's own message does not; events go both ways.
func TestUpAndDown(t *testing.T) {
	for _, v := range []byte{4, 5} {
		for _, qos := range []byte{1, 2} {
			r := newRig(t, t.TempDir(), Options{})
			d := r.dial(v, "a", false)
			d.subscribe(root + "#")
			id := d.publish(root+"up", "hello", qos, packets.Properties{})
			typ := byte(packets.Puback)
			if qos == 2 {
				typ = packets.Pubrec
			}
			if rc := d.expectAck(typ, id); rc != 0 {
				t.Fatalf("v%d qos%d: ack %#x", v, qos, rc)
			}
			conv, cursor := r.br.Conversation(site, devName)
			h := r.history(conv) // committed before the acknowledgement
			if len(h) != 1 || h[0].Body != "hello" || h[0].Sender != "v:"+devName || !strings.HasPrefix(h[0].ClientMsgId, "mq.") || cursor != 1 {
				t.Fatalf("v%d qos%d: history %v, cursor %d", v, qos, h, cursor)
			}
			if _, ok, _ := r.store.Get(appendRecordKey(nil, site, devName)); !ok {
				t.Fatalf("v%d qos%d: acknowledged before the device record was written", v, qos)
			}
			if qos == 2 {
				d.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: id})
				if c := d.expectAck(packets.Pubcomp, id); c != 0 {
					t.Fatalf("PUBCOMP %#x", c)
				}
			}
			if j := d.recvEvents(); j.Type != proto.Type_TYPE_JOINED || j.Conversation != conv || j.Id != 0 {
				t.Fatalf("events: %v", j)
			}

			a := r.agent("alice")
			a.join(conv)
			seq := a.say(conv, "how can I help?")
			m := d.recv(root + "down")
			if m.Type != proto.Type_TYPE_MESSAGE || m.Seq != seq || seq != 2 || m.Body != "how can I help?" || m.Sender != "a:alice" {
				t.Fatalf("down: %v", m)
			}
			a.event(conv, "typing")
			if e := d.recvEvents(); e.Type != proto.Type_TYPE_EVENT || e.Event != "typing" || e.Sender != "a:alice" {
				t.Fatalf("events: %v", e)
			}
			d.publish(root+"events", `{"event":"typing"}`, 0, packets.Properties{})
			if e := a.wait(func(e *proto.Envelope) bool { return e.Type == proto.Type_TYPE_EVENT && e.Sender != shard.SystemSender }); e.Sender != "v:"+devName || e.Event != "typing" {
				t.Fatalf("agent got %v", e)
			}
			// The device's next message reaches the agent, not the device.
			id = d.publish(root+"up", "thanks", 1, packets.Properties{})
			if m := a.wait(func(e *proto.Envelope) bool {
				return e.Type == proto.Type_TYPE_MESSAGE && e.Sender != shard.SystemSender
			}); m.Body != "thanks" {
				t.Fatalf("agent got %v", m)
			}
			d.expectAck(packets.Puback, id)
			d.quiet(50 * time.Millisecond)
			if _, cursor := r.br.Conversation(site, devName); cursor != 3 {
				t.Fatalf("cursor %d, want 3", cursor)
			}
			if n := value(r.br.m.down); n != 1 {
				t.Fatalf("down %v", n)
			}
			r.close()
		}
	}
}

// TestRefusals: bad ups are refused with their reason codes (MQTT 5) and
// counted; nothing is stored.
func TestRefusals(t *testing.T) {
	r := newRig(t, t.TempDir(), Options{MaxBodyBytes: 16})
	d := r.dial(5, "a", false)
	jsonCT := packets.Properties{ContentType: "application/json; charset=utf-8"}
	tests := []struct {
		topic, payload string
		props          packets.Properties
		code           byte
		rej            rejectReason
	}{
		{root + "events", `{"event":"typing"}`, packets.Properties{}, codeNoSubscribers, rejNoConversation},
		{root + "up", "\xff\xfe", packets.Properties{}, codePayloadFormat, rejBadUTF8},
		{root + "up", strings.Repeat("x", 17), packets.Properties{}, codeQuotaExceeded, rejTooLarge},
		{root + "up", `{"body":"x"`, jsonCT, codePayloadFormat, rejBadJSON},
		{root + "up", `{"body":"x","kind":"event"}`, jsonCT, codePayloadFormat, rejBadJSON},
		{root + "up", `{"body":"` + strings.Repeat("y", 17) + `"}`, jsonCT, codeQuotaExceeded, rejTooLarge},
		{root + "up", "x", packets.Properties{User: []packets.UserProperty{{Key: "client_msg_id", Val: strings.Repeat("k", 65)}}},
			codeImplSpecific, rejBadMsgID},
		{root + "down", "x", packets.Properties{}, codeNotAuthorized, rejDownTopic},
		{root + "events", `{"body":"no name"}`, packets.Properties{}, codePayloadFormat, rejBadEvent},
	}
	for _, tc := range tests {
		before := value(r.br.m.rejected[tc.rej])
		id := d.publish(tc.topic, tc.payload, 1, tc.props)
		if rc := d.expectAck(packets.Puback, id); rc != tc.code {
			t.Errorf("%s %q: %#x, want %#x", tc.topic, tc.payload, rc, tc.code)
		}
		if n := value(r.br.m.rejected[tc.rej]) - before; n != 1 {
			t.Errorf("%s %q: %s counted %v times", tc.topic, tc.payload, rejectNames[tc.rej], n)
		}
	}
	if conv, _ := r.br.Conversation(site, devName); conv != "" {
		t.Fatalf("a refused up opened %s", conv)
	}
	// MQTT 3.1.1: a plain PUBACK, counted.
	d3 := r.dial(4, "b", false)
	id := d3.publish(root+"up", "\xff", 1, packets.Properties{})
	if rc := d3.expectAck(packets.Puback, id); rc != 0 {
		t.Fatalf("v3 PUBACK %#x", rc)
	}
	if n := value(r.br.m.rejected[rejBadUTF8]); n != 2 {
		t.Fatalf("bad_utf8 %v", n)
	}
}

// TestClientMsgID: a JSON envelope (kind, client_msg_id) or the
// client_msg_id user property names the message; a second publication
// with the same id is acknowledged and not stored twice.
func TestClientMsgID(t *testing.T) {
	r := newRig(t, t.TempDir(), Options{})
	d := r.dial(5, "a", false)
	jsonCT := packets.Properties{ContentType: ContentTypeJSON}
	for range 2 {
		id := d.publish(root+"up", `{"type":"send","kind":"image","body":"https://x/1.png","client_msg_id":"img-1"}`, 1, jsonCT)
		if rc := d.expectAck(packets.Puback, id); rc != 0 {
			t.Fatalf("PUBACK %#x", rc)
		}
		id = d.publish(root+"up", "hi", 1, packets.Properties{User: []packets.UserProperty{{Key: "client_msg_id", Val: "t-1"}}})
		if rc := d.expectAck(packets.Puback, id); rc != 0 {
			t.Fatalf("PUBACK %#x", rc)
		}
	}
	conv, _ := r.br.Conversation(site, devName)
	h := r.history(conv)
	if len(h) != 2 || h[0].Kind != proto.Kind_KIND_IMAGE || h[0].ClientMsgId != "img-1" || h[1].ClientMsgId != "t-1" {
		t.Fatalf("history %v", h)
	}
}

// TestPauseAndCatchUp: with no session listening on down, forwarding
// pauses at the cursor; a subscription brings the missed messages, at
// most MaxCatchUp of them (the rest announced as skipped), in order.
func TestPauseAndCatchUp(t *testing.T) {
	r := newRig(t, t.TempDir(), Options{MaxCatchUp: 3, ReplayPage: 2})
	d := r.dial(5, "a", false)
	id := d.publish(root+"up", "hello", 1, packets.Properties{})
	d.expectAck(packets.Puback, id)
	conv, _ := r.br.Conversation(site, devName)
	a := r.agent("alice")
	a.join(conv)
	for _, s := range []string{"m2", "m3", "m4", "m5", "m6"} {
		a.say(conv, s)
	}
	if _, cursor := r.br.Conversation(site, devName); cursor != 1 {
		t.Fatalf("cursor %d while nobody listened", cursor)
	}
	if n := value(r.br.m.paused); n != 1 {
		t.Fatalf("paused %v", n)
	}
	d.subscribe(root + "#")
	if j := d.recvEvents(); j.Type != proto.Type_TYPE_JOINED || j.Seq != 6 {
		t.Fatalf("JOINED %v", j)
	}
	if s := d.recvEvents(); s.Event != "skipped" || s.Seq != 3 {
		t.Fatalf("skipped %v", s)
	}
	for _, want := range []string{"m4", "m5", "m6"} {
		if m := d.recv(root + "down"); m.Body != want {
			t.Fatalf("down %v, want %s", m, want)
		}
	}
	d.quiet(50 * time.Millisecond)
	a.say(conv, "m7") // live again
	if m := d.recv(root + "down"); m.Body != "m7" || m.Seq != 7 {
		t.Fatalf("down %v", m)
	}
}

// TestRestart: the device's conversation and cursor survive a restart;
// it is sent what came while it was away, once.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, Options{})
	d := r.dial(5, "a", false)
	d.subscribe(root + "down")
	d.expectAck(packets.Puback, d.publish(root+"up", "hello", 1, packets.Properties{}))
	conv, _ := r.br.Conversation(site, devName)
	a := r.agent("alice")
	a.join(conv)
	a.say(conv, "before")
	if m := d.recv(root + "down"); m.Body != "before" {
		t.Fatalf("down %v", m)
	}
	r.close()

	r = newRig(t, dir, Options{})
	if c, cursor := r.br.Conversation(site, devName); c != conv || cursor != 2 {
		t.Fatalf("after restart: %s %d, want %s 2", c, cursor, conv)
	}
	a = r.agent("alice")
	a.join(conv)
	a.say(conv, "while away")
	d = r.dial(5, "a", false)
	d.subscribe(root + "down")
	if m := d.recv(root + "down"); m.Body != "while away" || m.Seq != 3 {
		t.Fatalf("down %v", m)
	}
	d.quiet(50 * time.Millisecond)
	d.expectAck(packets.Puback, d.publish(root+"up", "again", 1, packets.Properties{}))
	if c, _ := r.br.Conversation(site, devName); c != conv {
		t.Fatalf("a new conversation %s after restart", c)
	}
	if h := r.history(conv); len(h) != 4 {
		t.Fatalf("history %v", h)
	}
}

// TestGoneConversation: a record naming a conversation that no longer
// exists makes the next up open a new one; the message is not lost.
func TestGoneConversation(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, Options{})
	d := r.dial(5, "a", false)
	d.expectAck(packets.Puback, d.publish(root+"up", "hello", 1, packets.Properties{}))
	r.close()
	// Point the record at a conversation the log does not have.
	st := reopen(t, dir)
	b := st.NewBatch()
	if err := b.Put(appendRecordKey(nil, site, devName), appendRecord(nil, "gone", 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	r = newRig(t, dir, Options{})
	d = r.dial(5, "a", false) // Active: its JOIN is refused, the record forgotten
	if rc := d.expectAck(packets.Puback, d.publish(root+"up", "still here", 1, packets.Properties{})); rc != 0 {
		t.Fatalf("PUBACK %#x", rc)
	}
	conv, cursor := r.br.Conversation(site, devName)
	if conv == "gone" || conv == "" || cursor != 1 {
		t.Fatalf("conversation %q cursor %d", conv, cursor)
	}
	if h := r.history(conv); len(h) != 1 || h[0].Body != "still here" {
		t.Fatalf("history %v", h)
	}
}

// TestClosedOpensNew: after the agent closes the conversation the device
// gets the system notice on down, and its next up opens a new
// conversation, where the message is stored once.
func TestClosedOpensNew(t *testing.T) {
	r := newRig(t, t.TempDir(), Options{})
	d := r.dial(5, "a", false)
	d.subscribe(root + "down")
	d.expectAck(packets.Puback, d.publish(root+"up", "hello", 1, packets.Properties{}))
	first, _ := r.br.Conversation(site, devName)
	a := r.agent("alice")
	a.join(first)
	a.do(shard.OpClose, &proto.Envelope{Type: proto.Type_TYPE_CLOSE, Conversation: first}, proto.Type_TYPE_OK)
	if m := d.recv(root + "down"); m.Sender != shard.SystemSender || !strings.Contains(m.Body, `"closed"`) {
		t.Fatalf("down %v", m)
	}
	if rc := d.expectAck(packets.Puback, d.publish(root+"up", "are you there?", 1, packets.Properties{})); rc != 0 {
		t.Fatalf("PUBACK %#x", rc)
	}
	second, cursor := r.br.Conversation(site, devName)
	if second == first || second == "" || cursor != 1 {
		t.Fatalf("conversation %q (cursor %d) after %q closed", second, cursor, first)
	}
	if h := r.history(second); len(h) != 1 || h[0].Body != "are you there?" {
		t.Fatalf("history %v", h)
	}
	for _, m := range r.history(first) {
		if m.Body == "are you there?" {
			t.Fatal("stored in the closed conversation")
		}
	}
}
