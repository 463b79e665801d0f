package mqtt

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-im/kefu/storage"
)

// benchSession is a session with two subscriptions, queued deliveries of
// payload bytes each and one in flight.
func benchSession(queued, payload int) *SessionState {
	st := &SessionState{ClientID: "demo/dev-1/sub", Version: 5, Expiry: int64(time.Hour), ExpiresAt: t0,
		Subscriptions: []StoredSubscription{{Filter: "kefu/demo/dev-1/down", QoS: 1}, {Filter: "kefu/demo/dev-1/cmd/+", QoS: 2, ID: 4}},
		Inflight: []StoredDelivery{{Message: &Message{Topic: "kefu/demo/dev-1/down", Payload: make([]byte, payload), QoS: 1,
			Created: t0, Origin: "demo/dev-1/pub"}, QoS: 1, PacketID: 7}},
	}
	for i := range queued {
		st.Queued = append(st.Queued, StoredDelivery{QoS: 1, Message: &Message{Topic: fmt.Sprintf("kefu/demo/dev-1/cmd/%d", i),
			Payload: make([]byte, payload), QoS: 1, Created: t0 + int64(i), Origin: "demo/dev-1/pub"}, SubIDs: []uint32{4}})
	}
	return st
}

var benchSizes = []struct {
	name            string
	queued, payload int
}{{"idle", 0, 64}, {"queued100x256B", 100, 256}}

func BenchmarkSessionRecord(b *testing.B) {
	for _, sz := range benchSizes {
		st := benchSession(sz.queued, sz.payload)
		rec := AppendSessionRecord(nil, st)
		b.Run("encode/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			buf := make([]byte, 0, len(rec))
			for b.Loop() {
				buf = AppendSessionRecord(buf[:0], st)
			}
		})
		b.Run("decode/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			for b.Loop() {
				if _, err := DecodeSessionRecord(st.ClientID, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPebbleStoreSaveSession measures what SaveSession costs:
//
//   - note: the call on the event loop (the writer lingers: nothing is
//     written during the loop);
//   - commit-each/<durability>: one save then Flush per op, the worst
//     case of one commit (and with sync one fsync) per save;
//   - burst: saves of 16 sessions in a loop with the default linger, the
//     way state changes arrive; disk-B/op and commits/op show how much
//     coalescing saves.
func BenchmarkPebbleStoreSaveSession(b *testing.B) {
	open := func(b *testing.B, d storage.Durability, o PebbleStoreOptions) *PebbleStore {
		db, err := storage.Open(storage.Options{Dir: b.TempDir(), Durability: d})
		if err != nil {
			b.Fatal(err)
		}
		ps, err := NewPebbleStore(db, o)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if err := ps.Close(); err != nil {
				b.Error(err)
			}
			if err := db.Close(); err != nil {
				b.Error(err)
			}
		})
		return ps
	}
	report := func(b *testing.B, ps *PebbleStore) {
		if err := ps.Flush(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(counterValue(ps.m.bytes)/float64(b.N), "disk-B/op")
		b.ReportMetric(counterValue(ps.m.commits)/float64(b.N), "commits/op")
	}
	for _, sz := range benchSizes {
		st := benchSession(sz.queued, sz.payload)
		b.Run("note/"+sz.name, func(b *testing.B) {
			ps := open(b, storage.DurabilityAsync, PebbleStoreOptions{Linger: time.Hour})
			b.ReportAllocs()
			for b.Loop() {
				if err := ps.SaveSession(st); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, d := range []storage.Durability{storage.DurabilitySync, storage.DurabilityAsync} {
			b.Run("commit-each/"+d.String()+"/"+sz.name, func(b *testing.B) {
				ps := open(b, d, PebbleStoreOptions{Linger: -1})
				b.ReportAllocs()
				for b.Loop() {
					if err := ps.SaveSession(st); err != nil {
						b.Fatal(err)
					}
					if err := ps.Flush(); err != nil {
						b.Fatal(err)
					}
				}
				report(b, ps)
			})
		}
		b.Run("burst/sync/"+sz.name, func(b *testing.B) {
			ps := open(b, storage.DurabilitySync, PebbleStoreOptions{})
			sessions := make([]*SessionState, 16)
			for i := range sessions {
				c := *st
				c.ClientID = fmt.Sprintf("demo/dev-%d/sub", i)
				sessions[i] = &c
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := ps.SaveSession(sessions[i%len(sessions)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, ps)
		})
	}
}
