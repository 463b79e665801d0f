package storage

import (
	"bytes"
	"strings"
	"testing"
)

func TestKeyGolden(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"message", AppendMessageKey(nil, "ab", 0x0102030405060708),
			[]byte{'m', 2, 'a', 'b', 1, 2, 3, 4, 5, 6, 7, 8}},
		{"message seq 1", AppendMessageKey(nil, "a", 1),
			[]byte{'m', 1, 'a', 0, 0, 0, 0, 0, 0, 0, 1}},
		{"message prefix", AppendMessagePrefix(nil, "a"), []byte{'m', 1, 'a'}},
		{"conversation", AppendConversationKey(nil, "xyz"), []byte{'c', 3, 'x', 'y', 'z'}},
		{"dedup", AppendDedupKey(nil, "a", "id-1"), []byte{'d', 1, 'a', 'i', 'd', '-', '1'}},
		{"dedup prefix", AppendDedupPrefix(nil, "a"), []byte{'d', 1, 'a'}},
		{"component 64", AppendComponent(nil, strings.Repeat("x", 64))[:2], []byte{64, 'x'}},
		{"component 200", AppendComponent(nil, strings.Repeat("x", 200))[:3], []byte{0xc8, 0x01, 'x'}},
		{"append to dst", AppendMessagePrefix([]byte("pre"), "a"), []byte{'p', 'r', 'e', 'm', 1, 'a'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Fatalf("got % x, want % x", tt.got, tt.want)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	long := strings.Repeat("c", MaxConversationIDLen)
	msgTests := []struct {
		name string
		key  []byte
		conv string
		seq  uint64
		ok   bool
	}{
		{"valid", AppendMessageKey(nil, "conv", 42), "conv", 42, true},
		{"max id", AppendMessageKey(nil, long, 1<<63), long, 1 << 63, true},
		{"empty", nil, "", 0, false},
		{"wrong table", AppendConversationKey(nil, "conv"), "", 0, false},
		{"short seq", AppendMessageKey(nil, "conv", 1)[:10], "", 0, false},
		{"long seq", append(AppendMessageKey(nil, "conv", 1), 0), "", 0, false},
		{"empty id", AppendMessageKey(nil, "", 1), "", 0, false},
		{"id too long", AppendMessageKey(nil, long+"x", 1), "", 0, false},
		{"length past end", []byte{'m', 9, 'a'}, "", 0, false},
		{"overlong uvarint", []byte{'m', 0x81, 0x00, 'a', 0, 0, 0, 0, 0, 0, 0, 1}, "", 0, false},
	}
	for _, tt := range msgTests {
		t.Run("message/"+tt.name, func(t *testing.T) {
			conv, seq, ok := ParseMessageKey(tt.key)
			if ok != tt.ok || string(conv) != tt.conv || seq != tt.seq {
				t.Fatalf("ParseMessageKey(% x) = %q, %d, %v; want %q, %d, %v",
					tt.key, conv, seq, ok, tt.conv, tt.seq, tt.ok)
			}
		})
	}
	if conv, ok := ParseConversationKey(AppendConversationKey(nil, "x")); !ok || string(conv) != "x" {
		t.Fatalf("ParseConversationKey = %q, %v", conv, ok)
	}
	if _, ok := ParseConversationKey(append(AppendConversationKey(nil, "x"), 0)); ok {
		t.Fatal("ParseConversationKey accepted trailing bytes")
	}
	if conv, id, ok := ParseDedupKey(AppendDedupKey(nil, "x", "cid")); !ok || string(conv) != "x" || string(id) != "cid" {
		t.Fatalf("ParseDedupKey = %q, %q, %v", conv, id, ok)
	}
	if _, _, ok := ParseDedupKey(AppendDedupPrefix(nil, "x")); ok {
		t.Fatal("ParseDedupKey accepted an empty client_msg_id")
	}
}

// TestKeyRangesDoNotInterleave checks the layout's promise: a conversation's
// message keys sort by seq and lie inside its own prefix range only.
func TestKeyRangesDoNotInterleave(t *testing.T) {
	convs := []string{"a", "ab", "abc", "b", "a\xff", "a\x00", "\xff", strings.Repeat("a", 64), "ba"}
	seqs := []uint64{1, 2, 255, 256, 1 << 32, 1<<64 - 1}
	for _, c1 := range convs {
		p := AppendMessagePrefix(nil, c1)
		end, ok := appendPrefixEnd(nil, p)
		if !ok {
			t.Fatalf("no prefix end for %q", c1)
		}
		for i, s1 := range seqs {
			k1 := AppendMessageKey(nil, c1, s1)
			for j, s2 := range seqs {
				k2 := AppendMessageKey(nil, c1, s2)
				if cmp := bytes.Compare(k1, k2); cmp != compareInts(i, j) {
					t.Fatalf("%q: seq %d vs %d compare %d", c1, s1, s2, cmp)
				}
			}
			for _, c2 := range convs {
				if c2 == c1 {
					continue
				}
				k2 := AppendMessageKey(nil, c2, s1)
				if bytes.Compare(k2, p) >= 0 && bytes.Compare(k2, end) < 0 {
					t.Fatalf("key of %q falls in the range of %q", c2, c1)
				}
			}
		}
	}
}

func compareInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestAppendPrefixEnd(t *testing.T) {
	tests := []struct {
		in, want []byte
		ok       bool
	}{
		{[]byte{'m', 1, 'a'}, []byte{'m', 1, 'b'}, true},
		{[]byte{'m', 1, 0xff}, []byte{'m', 2}, true},
		{[]byte{0xff, 0xff}, nil, false},
		{nil, nil, false},
	}
	for _, tt := range tests {
		got, ok := appendPrefixEnd(nil, tt.in)
		if ok != tt.ok || !bytes.Equal(got, tt.want) {
			t.Errorf("appendPrefixEnd(% x) = % x, %v; want % x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestKeyBuildersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, MaxDedupKeyLen)
	conv := strings.Repeat("c", MaxConversationIDLen)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendMessageKey(buf[:0], conv, 7)
		buf = AppendConversationKey(buf[:0], conv)
		buf = AppendDedupKey(buf[:0], conv, "client-msg-id")
	})
	if allocs != 0 {
		t.Fatalf("key builders allocate: %v allocs/run", allocs)
	}
}
