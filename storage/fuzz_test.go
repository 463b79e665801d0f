package storage

import (
	"bytes"
	"testing"
)

// FuzzParseKey feeds arbitrary bytes to the key parsers: they must not panic,
// and whatever they accept must re-encode to exactly the input (one encoding
// per key). Keys are complete values, never streamed, so there is no split
// input to compare.
func FuzzParseKey(f *testing.F) {
	f.Add(AppendMessageKey(nil, "conv", 42))
	f.Add(AppendConversationKey(nil, "a"))
	f.Add(AppendDedupKey(nil, "ab", "cid"))
	f.Add([]byte{'m', 0x81, 0x00, 'a', 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, key []byte) {
		if conv, seq, ok := ParseMessageKey(key); ok {
			if ValidConversationID(string(conv)) != nil {
				t.Fatalf("accepted invalid id %q", conv)
			}
			if re := AppendMessageKey(nil, string(conv), seq); !bytes.Equal(re, key) {
				t.Fatalf("message key % x re-encodes to % x", key, re)
			}
		}
		if conv, ok := ParseConversationKey(key); ok {
			if re := AppendConversationKey(nil, string(conv)); !bytes.Equal(re, key) {
				t.Fatalf("conversation key % x re-encodes to % x", key, re)
			}
		}
		if conv, id, ok := ParseDedupKey(key); ok {
			if ValidClientMsgID(string(id)) != nil {
				t.Fatalf("accepted invalid client_msg_id %q", id)
			}
			if re := AppendDedupKey(nil, string(conv), string(id)); !bytes.Equal(re, key) {
				t.Fatalf("dedup key % x re-encodes to % x", key, re)
			}
		}
		if comp, rest, ok := ParseComponent(key); ok {
			if re := append(AppendComponent(nil, string(comp)), rest...); !bytes.Equal(re, key) {
				t.Fatalf("component % x re-encodes to % x", key, re)
			}
		}
	})
}

// FuzzMessageKeyOrder checks the layout's ordering promise on arbitrary ids:
// same conversation → key order is seq order; different conversations → a
// key of one never falls inside the other's prefix range.
func FuzzMessageKeyOrder(f *testing.F) {
	f.Add("a", uint64(1), "ab", uint64(2))
	f.Add("a\xff", uint64(1<<63), "a", uint64(0))
	f.Add("x", uint64(5), "x", uint64(3))
	f.Fuzz(func(t *testing.T, c1 string, s1 uint64, c2 string, s2 uint64) {
		if ValidConversationID(c1) != nil || ValidConversationID(c2) != nil {
			return
		}
		k1, k2 := AppendMessageKey(nil, c1, s1), AppendMessageKey(nil, c2, s2)
		if c1 == c2 {
			want := 0
			if s1 < s2 {
				want = -1
			} else if s1 > s2 {
				want = 1
			}
			if got := bytes.Compare(k1, k2); got != want {
				t.Fatalf("seq %d vs %d: compare %d", s1, s2, got)
			}
			return
		}
		p := AppendMessagePrefix(nil, c1)
		end, ok := appendPrefixEnd(nil, p)
		if !ok {
			t.Fatalf("no prefix end for %q", c1)
		}
		if bytes.Compare(k2, p) >= 0 && bytes.Compare(k2, end) < 0 {
			t.Fatalf("key of %q in the range of %q", c2, c1)
		}
	})
}
