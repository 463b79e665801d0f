package ws

import "unicode/utf8"

// utf8Prefix checks p, a piece of a text message that may end in the middle
// of a code point (a fragment boundary, RFC 6455 §5.4, may split one). It
// returns how many leading bytes of p are complete, valid UTF-8 and whether
// the rest (at most 3 bytes) can still become a valid code point once more
// bytes arrive. ok is false as soon as the bytes prove the text invalid,
// which lets the decoder fail fast (RFC 6455 §8.1).
func utf8Prefix(p []byte) (complete int, ok bool) {
	if utf8.Valid(p) {
		return len(p), true
	}
	// Find where the last code point starts: at most 3 bytes back, since a
	// code point has at most 4 bytes.
	start := len(p) - 1
	for start > 0 && start > len(p)-4 && p[start]&0xC0 == 0x80 {
		start--
	}
	if start < 0 || !utf8IncompletePrefix(p[start:]) {
		return 0, false
	}
	if !utf8.Valid(p[:start]) {
		return 0, false
	}
	return start, true
}

// utf8IncompletePrefix reports whether t is a proper prefix of some valid
// UTF-8 encoding of a code point (Unicode 15, table 3-7): a lead byte that
// needs more continuation bytes than t has, followed by continuation bytes
// in the ranges the lead byte allows. Overlong forms and surrogates are
// rejected on the second byte, as the table requires.
func utf8IncompletePrefix(t []byte) bool {
	if len(t) == 0 {
		return false
	}
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch b := t[0]; {
	case b >= 0xC2 && b <= 0xDF:
		need = 2
	case b == 0xE0:
		need, lo = 3, 0xA0
	case b >= 0xE1 && b <= 0xEC, b == 0xEE, b == 0xEF:
		need = 3
	case b == 0xED:
		need, hi = 3, 0x9F
	case b == 0xF0:
		need, lo = 4, 0x90
	case b >= 0xF1 && b <= 0xF3:
		need = 4
	case b == 0xF4:
		need, hi = 4, 0x8F
	default:
		return false
	}
	if len(t) >= need {
		return false
	}
	for i := 1; i < len(t); i++ {
		if t[i] < lo || t[i] > hi {
			return false
		}
		lo, hi = 0x80, 0xBF
	}
	return true
}
