package storage

import (
	"encoding/binary"
)

// Table prefixes: the first byte of every key. The package doc describes the
// layout of each table; a table is listed there before anything writes it.
const (
	// TableMeta holds store-owned records such as the format version.
	// Batch.Put and Batch.Delete refuse it.
	TableMeta byte = '!'
	// TableBridge: 'b' | comp(site) | comp(device) → the MQTT device's
	// conversation and cursor (engine/bridge).
	TableBridge byte = 'b'
	// TableConversations: 'c' | comp(conv) → conversation metadata.
	TableConversations byte = 'c'
	// TableDedup: 'd' | comp(conv) | client_msg_id → seq (u64 big-endian).
	TableDedup byte = 'd'
	// TableMessages: 'm' | comp(conv) | seq (u64 big-endian) → message.
	TableMessages byte = 'm'
	// TableOutbox is reserved for the webhook outbox.
	TableOutbox byte = 'o'
	// TableMQTTSessions is reserved for MQTT sessions (issue 4).
	TableMQTTSessions byte = 'q'
	// TableRetained is reserved for MQTT retained messages (issue 4).
	TableRetained byte = 'r'
	// TableSites is reserved for sites, agents and visitors (issue 3).
	TableSites byte = 's'
)

// Length limits of key components.
const (
	// MaxConversationIDLen is the longest conversation id, in bytes.
	MaxConversationIDLen = 64
	// MaxClientMsgIDLen is the longest client_msg_id, in bytes.
	MaxClientMsgIDLen = 128
	// MaxMessageKeyLen is the longest message key:
	// 'm' + 1 length byte + 64 id bytes + 8 seq bytes.
	MaxMessageKeyLen = 1 + 1 + MaxConversationIDLen + 8
	// MaxDedupKeyLen is the longest dedup key.
	MaxDedupKeyLen = 1 + 1 + MaxConversationIDLen + MaxClientMsgIDLen
)

// formatKey is the meta record holding the store format version.
const formatKey = "!format"

// formatVersion is the key layout version this package reads and writes.
const formatVersion = 1

// tableWritable reports whether Batch.Put/Delete may write table t.
func tableWritable(t byte) bool {
	switch t {
	case TableConversations, TableDedup, TableMessages, TableBridge,
		TableOutbox, TableMQTTSessions, TableRetained, TableSites,
		TableSiteIndex, TableVisitorIndex:
		return true
	}
	return false
}

// ValidConversationID returns ErrConversationID unless conv is 1..64 bytes.
func ValidConversationID(conv string) error {
	if len(conv) == 0 || len(conv) > MaxConversationIDLen {
		return ErrConversationID
	}
	return nil
}

// ValidClientMsgID returns ErrClientMsgID unless id is 1..128 bytes.
func ValidClientMsgID(id string) error {
	if len(id) == 0 || len(id) > MaxClientMsgIDLen {
		return ErrClientMsgID
	}
	return nil
}

// AppendComponent appends one length-prefixed key component:
// uvarint(len(s)) | s. Components are prefix-free, so a key made of a table
// byte and components never has another such key as a proper prefix unless
// it shares all the components before. Later tables build keys from it.
func AppendComponent(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// ParseComponent splits one component off the front of src. comp aliases
// src. ok is false when the length is not a minimal uvarint or runs past the
// end of src.
func ParseComponent(src []byte) (comp, rest []byte, ok bool) {
	n, w := binary.Uvarint(src)
	if w <= 0 || w != uvarintLen(n) || n > uint64(len(src)-w) {
		return nil, nil, false
	}
	end := w + int(n)
	return src[w:end], src[end:], true
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// convComponentLen is the encoded size of comp(conv) for a valid conv: one
// length byte (64 < 0x80) plus the id.
func convComponentLen(conv string) int { return 1 + len(conv) }

// AppendMessagePrefix appends 'm' | comp(conv): the prefix shared by all of
// conv's messages and by no other conversation's. It does not validate conv.
func AppendMessagePrefix(dst []byte, conv string) []byte {
	dst = append(dst, TableMessages)
	return AppendComponent(dst, conv)
}

// AppendMessageKey appends 'm' | comp(conv) | seq as a big-endian u64. It
// does not allocate when dst has room for MaxMessageKeyLen more bytes, and it
// does not validate conv (Batch.PutMessage does).
func AppendMessageKey(dst []byte, conv string, seq uint64) []byte {
	dst = AppendMessagePrefix(dst, conv)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// ParseMessageKey splits a message key. conv aliases key. ok is false if key
// is not a well-formed message key.
func ParseMessageKey(key []byte) (conv []byte, seq uint64, ok bool) {
	if len(key) == 0 || key[0] != TableMessages {
		return nil, 0, false
	}
	conv, rest, ok := parseConv(key[1:])
	if !ok || len(rest) != 8 {
		return nil, 0, false
	}
	return conv, binary.BigEndian.Uint64(rest), true
}

// AppendConversationKey appends 'c' | comp(conv).
func AppendConversationKey(dst []byte, conv string) []byte {
	dst = append(dst, TableConversations)
	return AppendComponent(dst, conv)
}

// ParseConversationKey returns the conversation id of a conversation key,
// aliasing key.
func ParseConversationKey(key []byte) (conv []byte, ok bool) {
	if len(key) == 0 || key[0] != TableConversations {
		return nil, false
	}
	conv, rest, ok := parseConv(key[1:])
	if !ok || len(rest) != 0 {
		return nil, false
	}
	return conv, true
}

// AppendDedupPrefix appends 'd' | comp(conv): the prefix of all of conv's
// dedup entries.
func AppendDedupPrefix(dst []byte, conv string) []byte {
	dst = append(dst, TableDedup)
	return AppendComponent(dst, conv)
}

// AppendDedupKey appends 'd' | comp(conv) | clientMsgID. The client id is
// last, so it needs no length.
func AppendDedupKey(dst []byte, conv, clientMsgID string) []byte {
	dst = AppendDedupPrefix(dst, conv)
	return append(dst, clientMsgID...)
}

// ParseDedupKey splits a dedup key; both results alias key.
func ParseDedupKey(key []byte) (conv, clientMsgID []byte, ok bool) {
	if len(key) == 0 || key[0] != TableDedup {
		return nil, nil, false
	}
	conv, rest, ok := parseConv(key[1:])
	if !ok || len(rest) == 0 || len(rest) > MaxClientMsgIDLen {
		return nil, nil, false
	}
	return conv, rest, true
}

// parseConv reads comp(conv) and checks the id length limits.
func parseConv(src []byte) (conv, rest []byte, ok bool) {
	conv, rest, ok = ParseComponent(src)
	if !ok || len(conv) == 0 || len(conv) > MaxConversationIDLen {
		return nil, nil, false
	}
	return conv, rest, true
}

// appendPrefixEnd appends the smallest key greater than every key that has
// prefix as a prefix, and reports false (appending nothing) when there is
// none (prefix empty or all 0xff).
func appendPrefixEnd(dst, prefix []byte) ([]byte, bool) {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xff {
			dst = append(dst, prefix[:i]...)
			return append(dst, prefix[i]+1), true
		}
	}
	return dst, false
}
