package mqtt

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

const t0 = int64(1_735_689_600) * int64(time.Second) // 2025-01-01

func fullMessage(topic, payload string) *Message {
	return &Message{Topic: topic, Payload: []byte(payload), QoS: 2, Retain: true,
		PayloadFormat: 1, PayloadFormatSet: true, ContentType: "application/json", ResponseTopic: "re/" + topic,
		CorrelationData: []byte{0, 1, 2}, User: []packets.UserProperty{{Key: "k", Val: "v"}, {Key: "k", Val: ""}},
		Created: t0, Expires: t0 + int64(time.Hour), Origin: "demo/dev-1/pub"}
}

// recordSessions are the round-trip cases: built so that decoding gives
// them back exactly (nil, not empty, slices).
func recordSessions() map[string]*SessionState {
	return map[string]*SessionState{
		"minimal": {ClientID: "c", Version: 4},
		"expiring": {ClientID: "demo/dev-1/sub", Version: 5, Expiry: int64(time.Hour), ExpiresAt: t0 + int64(time.Hour),
			Subscriptions: []StoredSubscription{{Filter: "kefu/demo/dev-1/#", QoS: 1}}},
		"full": {ClientID: "demo/dev-1/sub", Version: 5, Expiry: 90 * int64(time.Second), ExpiresAt: t0,
			Subscriptions: []StoredSubscription{
				{Filter: "a/+/c", QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2, ID: maxSubID},
				{Filter: "$share/g/jobs/#", QoS: 1, RetainHandling: 1, ID: 7},
			},
			Inflight: []StoredDelivery{
				{Message: fullMessage("a/b/c", "one"), QoS: 1, PacketID: 1, SubIDs: []uint32{7}},
				{Message: &Message{Topic: "a/x/c", QoS: 2, Created: -5}, QoS: 2, PacketID: 0xFFFF, Released: true, Retain: true},
				{Message: &Message{Topic: "jobs/1", Payload: []byte("j"), QoS: 2}, QoS: 2, PacketID: 300, SubIDs: []uint32{1, 2, maxSubID}},
			},
			Queued: []StoredDelivery{
				{Message: &Message{Topic: "a/q/c", Payload: bytes.Repeat([]byte{0xFF}, 300)}, QoS: 0},
				{Message: fullMessage("jobs/2", "two"), QoS: 1, Retain: true},
			},
			AwaitingRelease: []uint16{1, 128, 0xFFFF},
			Will:            &Message{Topic: "status/dev-1", Payload: []byte("offline"), QoS: 1, Retain: true, Created: t0},
			WillAt:          t0 + 5*int64(time.Second), WillExpiry: int64(time.Minute)},
	}
}

func TestSessionRecordRoundTrip(t *testing.T) {
	for name, st := range recordSessions() {
		t.Run(name, func(t *testing.T) {
			rec := AppendSessionRecord([]byte("prefix"), st)
			if !bytes.HasPrefix(rec, []byte("prefix")) || rec[6] != RecordVersion {
				t.Fatalf("record % X", rec)
			}
			got, err := DecodeSessionRecord(st.ClientID, rec[6:])
			if err != nil {
				t.Fatal(err)
			}
			exp, will, err := sessionRecordExpiry(rec[6:])
			if err != nil || exp != st.ExpiresAt || will != (st.Will != nil) {
				t.Fatalf("header: %d %v %v", exp, will, err)
			}
			for i := range rec {
				rec[i] = 0xEE // the decoded state must not alias the record
			}
			if !reflect.DeepEqual(got, st) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, st)
			}
		})
	}
}

// TestSessionRecordGolden pins the layout of a small record.
func TestSessionRecordGolden(t *testing.T) {
	st := &SessionState{ClientID: "c", Version: 5, Expiry: 1, ExpiresAt: 2,
		Subscriptions:   []StoredSubscription{{Filter: "a", QoS: 1, NoLocal: true, RetainHandling: 2, ID: 3}},
		Queued:          []StoredDelivery{{Message: &Message{Topic: "a", Payload: []byte("p"), QoS: 1, Created: 1, Origin: "o"}, QoS: 1}},
		AwaitingRelease: []uint16{9}}
	want := []byte{
		0x01, 0x00, 0x05, // version, flags, level
		0, 0, 0, 0, 0, 0, 0, 2, // ExpiresAt
		0x02,                        // Expiry 1, zig-zag
		0x01, 0x01, 'a', 0x25, 0x03, // one subscription: "a", QoS 1 | no local | rh 2, id 3
		0x00,                   // no in-flight
		0x01, 0x01, 0x00, 0x00, // one queued: QoS 1, id 0, no subscription ids
		0x01, 0x00, 0x01, 'a', 0x01, 'p', 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 'o', // message
		0x01, 0x09, // awaiting release
	}
	if got := AppendSessionRecord(nil, st); !bytes.Equal(got, want) {
		t.Fatalf("record\n got % X\nwant % X", got, want)
	}
}

func TestRetainedRecordRoundTrip(t *testing.T) {
	for _, m := range []*Message{
		fullMessage("kefu/demo/dev-1/state", "on"),
		{Topic: "t", Payload: []byte{0}, Retain: true},
	} {
		rec := AppendRetainedRecord(nil, m)
		got, err := DecodeRetainedRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
		}
		for i := range rec {
			rec[i] = 0xEE
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatal("the decoded message aliases the record")
		}
	}
}

func TestRecordCorrupt(t *testing.T) {
	good := AppendSessionRecord(nil, recordSessions()["full"])
	goodR := AppendRetainedRecord(nil, fullMessage("t", "x"))
	mut := func(src []byte, i int, b byte) []byte {
		c := bytes.Clone(src)
		c[i] = b
		return c
	}
	small := func(edit func(*SessionState)) []byte {
		st := &SessionState{ClientID: "c", Version: 4,
			Subscriptions: []StoredSubscription{{Filter: "a/b", QoS: 1}},
			Inflight:      []StoredDelivery{{Message: &Message{Topic: "a/b", QoS: 1}, QoS: 1, PacketID: 1}},
			Queued:        []StoredDelivery{{Message: &Message{Topic: "a/b", QoS: 1}, QoS: 1}}}
		edit(st)
		return AppendSessionRecord(nil, st)
	}
	sessions := []struct {
		name    string
		rec     []byte
		version bool
	}{
		{"empty", nil, false},
		{"header only in part", good[:5], false},
		{"version 0", mut(good, 0, 0), true},
		{"version 2", mut(good, 0, 2), true},
		{"unknown flag", mut(good, 1, 0x81), false},
		{"protocol level 3", mut(good, 2, 3), false},
		{"trailing byte", append(bytes.Clone(good), 0), false},
		{"huge subscription count", append(bytes.Clone(good[:sessionHeaderLen+2]), 0xFF, 0xFF, 0xFF, 0xFF, 0x0F), false},
		{"varint overflow", append(bytes.Clone(good[:sessionHeaderLen]), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), false},
		{"negative expiry", small(func(st *SessionState) { st.Expiry = -1 }), false},
		{"invalid filter", small(func(st *SessionState) { st.Subscriptions[0].Filter = "a/#/b" }), false},
		{"subscription QoS 3", small(func(st *SessionState) { st.Subscriptions[0].QoS = 3 }), false},
		{"retain handling 3", small(func(st *SessionState) { st.Subscriptions[0].RetainHandling = 3 }), false},
		{"in flight without packet id", small(func(st *SessionState) { st.Inflight[0].PacketID = 0 }), false},
		{"in flight QoS 0", small(func(st *SessionState) { st.Inflight[0].QoS = 0 }), false},
		{"released QoS 1", small(func(st *SessionState) { st.Inflight[0].Released = true }), false},
		{"queued with packet id", small(func(st *SessionState) { st.Queued[0].PacketID = 4 }), false},
		{"wildcard topic", small(func(st *SessionState) { st.Queued[0].Message = &Message{Topic: "a/+"} }), false},
		{"empty topic", small(func(st *SessionState) { st.Inflight[0].Message = &Message{QoS: 1} }), false},
		{"subscription id 0 on a delivery", small(func(st *SessionState) { st.Queued[0].SubIDs = []uint32{0} }), false},
		{"awaiting release id 0", small(func(st *SessionState) { st.AwaitingRelease = []uint16{0} }), false},
		{"will topic invalid", small(func(st *SessionState) { st.Will = &Message{Topic: "x\x00"} }), false},
	}
	for i := range len(good) { // every proper prefix
		sessions = append(sessions, struct {
			name    string
			rec     []byte
			version bool
		}{"truncated", good[:i], i > 0 && good[0] != RecordVersion})
	}
	for _, tc := range sessions {
		st, err := DecodeSessionRecord("c", tc.rec)
		want := ErrCorruptRecord
		if tc.version {
			want = ErrRecordVersion
		}
		if st != nil || !errors.Is(err, want) {
			t.Errorf("%s (% X): %+v, %v; want %v", tc.name, tc.rec, st, err, want)
		}
	}
	retained := map[string][]byte{
		"empty":          nil,
		"version 7":      mut(goodR, 0, 7),
		"no payload":     AppendRetainedRecord(nil, &Message{Topic: "t"}),
		"trailing":       append(bytes.Clone(goodR), 1),
		"message QoS 3":  mut(goodR, 1, 3),
		"message flag 4": mut(goodR, 1, 0x10|goodR[1]),
	}
	for i := range len(goodR) {
		retained["truncated"+string(rune('a'+i%26))+string(rune('0'+i/26))] = goodR[:i]
	}
	for name, rec := range retained {
		m, err := DecodeRetainedRecord(rec)
		want := ErrCorruptRecord
		if name == "version 7" {
			want = ErrRecordVersion
		}
		if m != nil || !errors.Is(err, want) {
			t.Errorf("retained %s (% X): %+v, %v; want %v", name, rec, m, err, want)
		}
	}
}

// TestRecordEncodeAllocs: encoding into a warmed buffer allocates nothing.
func TestRecordEncodeAllocs(t *testing.T) {
	st := recordSessions()["full"]
	m := fullMessage("t", "x")
	buf := AppendSessionRecord(nil, st)
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendSessionRecord(buf[:0], st)
		buf = AppendRetainedRecord(buf[:0], m)
	}); n != 0 {
		t.Fatalf("%v allocations per encode", n)
	}
}
