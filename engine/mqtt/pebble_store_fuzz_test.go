package mqtt

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzStoreRecord feeds arbitrary bytes to the session (retained false)
// or retained (true) record decoder. It must never panic and must return
// either a value or ErrCorruptRecord / ErrRecordVersion. A value decoded
// from the bytes must encode to a record no longer than the input (counts
// are bounded by the input) that decodes to the same value, and every
// proper prefix of that record (the bytes cut anywhere) must be refused:
// a record is all or nothing.
func FuzzStoreRecord(f *testing.F) {
	for _, st := range recordSessions() {
		f.Add(false, AppendSessionRecord(nil, st))
	}
	f.Add(true, AppendRetainedRecord(nil, fullMessage("kefu/demo/dev-1/state", "on")))
	f.Add(true, AppendRetainedRecord(nil, &Message{Topic: "t", Payload: []byte{0}}))
	f.Add(false, []byte{RecordVersion, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(false, []byte{RecordVersion, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F})
	f.Add(true, []byte{2})
	f.Fuzz(func(t *testing.T, retained bool, data []byte) {
		decode := func(b []byte) (any, error) {
			if retained {
				m, err := DecodeRetainedRecord(b)
				if m == nil {
					return nil, err
				}
				return m, err
			}
			st, err := DecodeSessionRecord("fuzz", b)
			if st == nil {
				return nil, err
			}
			return st, err
		}
		encode := func(v any) []byte {
			if retained {
				return AppendRetainedRecord(nil, v.(*Message))
			}
			return AppendSessionRecord(nil, v.(*SessionState))
		}
		v, err := decode(data)
		if err != nil {
			if v != nil || !errors.Is(err, ErrCorruptRecord) && !errors.Is(err, ErrRecordVersion) {
				t.Fatalf("%v, %v", v, err)
			}
			return
		}
		rec := encode(v)
		if len(rec) > len(data) {
			t.Fatalf("a %d-byte input re-encodes to %d bytes", len(data), len(rec))
		}
		again, err := decode(rec)
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("re-encoded record: %+v, %v; want %+v", again, err, v)
		}
		for i := range len(rec) {
			if p, err := decode(rec[:i]); err == nil {
				t.Fatalf("the %d-byte prefix of a %d-byte record decoded: %+v", i, len(rec), p)
			}
		}
	})
}
