package bridge

import (
	"bytes"
	"testing"
)

// TestRecordGolden: the byte layout of storage table 'b' (storage/doc.go).
func TestRecordGolden(t *testing.T) {
	key := appendRecordKey(nil, "demo", "dev-1")
	if want := []byte("b\x04demo\x05dev-1"); !bytes.Equal(key, want) {
		t.Fatalf("key % x, want % x", key, want)
	}
	site, dev, ok := parseRecordKey(key)
	if !ok || string(site) != "demo" || string(dev) != "dev-1" {
		t.Fatalf("parsed %q %q %v", site, dev, ok)
	}
	for _, tc := range []struct {
		conv   string
		cursor uint64
		want   []byte
	}{
		{"0123456789abcdefghij", 300, []byte("\x01\x140123456789abcdefghij\xac\x02")},
		{"", 0, []byte{1, 0, 0}},
	} {
		v := appendRecord(nil, tc.conv, tc.cursor)
		if !bytes.Equal(v, tc.want) {
			t.Fatalf("value % x, want % x", v, tc.want)
		}
		conv, cursor, err := parseRecord(v)
		if err != nil || string(conv) != tc.conv || cursor != tc.cursor {
			t.Fatalf("parsed %q %d %v", conv, cursor, err)
		}
	}
	for _, bad := range [][]byte{nil, {2, 0, 0}, {1}, {1, 0}, {1, 0, 0, 0}, {1, 5, 'a'}, {1, 0, 0x80},
		append([]byte{1, 65}, make([]byte, 66)...)} {
		if _, _, err := parseRecord(bad); err == nil {
			t.Errorf("% x accepted", bad)
		}
	}
	for _, bad := range [][]byte{nil, []byte("c\x01a\x01b"), []byte("b\x00\x01b"), []byte("b\x01a\x00"),
		[]byte("b\x01a\x01bc"), []byte("b\x01a")} {
		if _, _, ok := parseRecordKey(bad); ok {
			t.Errorf("key %q accepted", bad)
		}
	}
}

// FuzzParseRecord: parsing never panics, and what parses encodes back to
// the same bytes (keys and values).
func FuzzParseRecord(f *testing.F) {
	f.Add(appendRecord(nil, "0123456789abcdefghij", 300), appendRecordKey(nil, "demo", "dev-1"))
	f.Add([]byte{1, 0, 0}, []byte("b\x01a\x01b"))
	f.Fuzz(func(t *testing.T, v, key []byte) {
		if conv, cursor, err := parseRecord(v); err == nil {
			if again := appendRecord(nil, string(conv), cursor); !bytes.Equal(again, v) {
				t.Fatalf("% x parsed as %q %d, encodes as % x", v, conv, cursor, again)
			}
		}
		if site, dev, ok := parseRecordKey(key); ok {
			if again := appendRecordKey(nil, string(site), string(dev)); !bytes.Equal(again, key) {
				t.Fatalf("key % x parsed as %q %q, encodes as % x", key, site, dev, again)
			}
		}
	})
}
