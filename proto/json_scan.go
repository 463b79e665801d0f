package proto

import (
	"encoding/binary"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// The lexical layer of UnmarshalJSON: moving through objects and arrays,
// skipping values, and scanning strings and numbers (RFC 8259).

// member moves to the next member of an object whose '{' is consumed and
// of which n members were read. It returns the key (unescaped, possibly in
// d.scratch, nil when too long to be a known key) with the ':' consumed and
// the cursor on the value, or more = false after the closing '}'.
func (d *decoder) member(n int) (key []byte, more bool, err error) {
	d.space()
	if d.i >= len(d.b) {
		return nil, false, ErrJSONSyntax
	}
	c := d.b[d.i]
	if c == '}' {
		d.i++
		return nil, false, nil
	}
	if n > 0 {
		if c != ',' { // RFC 8259 §4: members are separated by commas
			return nil, false, ErrJSONSyntax
		}
		d.i++
		d.space()
		if d.i >= len(d.b) {
			return nil, false, ErrJSONSyntax
		}
		c = d.b[d.i]
	}
	if c != '"' { // RFC 8259 §4: a name is a string (no trailing comma)
		return nil, false, ErrJSONSyntax
	}
	raw, esc, err := d.str()
	if err != nil {
		return nil, false, err
	}
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != ':' {
		return nil, false, ErrJSONSyntax
	}
	d.i++
	d.space()
	if d.i >= len(d.b) {
		return nil, false, ErrJSONSyntax
	}
	switch {
	case !esc:
		key = raw
	case len(raw) <= maxNameRaw:
		key = unescape(d.scratch[:0], raw)
	}
	return key, true, nil
}

// element moves to the next element of an array whose '[' is consumed and
// of which n elements were read: the cursor is left on the value, or more =
// false after the closing ']'.
func (d *decoder) element(n int) (more bool, err error) {
	d.space()
	if d.i >= len(d.b) {
		return false, ErrJSONSyntax
	}
	if d.b[d.i] == ']' {
		d.i++
		return false, nil
	}
	if n > 0 {
		if d.b[d.i] != ',' { // RFC 8259 §5: values are separated by commas
			return false, ErrJSONSyntax
		}
		d.i++
		d.space()
		if d.i >= len(d.b) || d.b[d.i] == ']' { // no trailing comma
			return false, ErrJSONSyntax
		}
	}
	return true, nil
}

// skip consumes one value of an unknown key; depth is the depth a container
// in this position would have.
func (d *decoder) skip(depth int) error {
	switch c := d.b[d.i]; c {
	case '"':
		_, _, err := d.str()
		return err
	case '{':
		if depth > MaxJSONDepth {
			return ErrJSONDepth
		}
		d.i++
		for n := 0; ; n++ {
			_, more, err := d.member(n)
			if err != nil || !more {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
	case '[':
		if depth > MaxJSONDepth {
			return ErrJSONDepth
		}
		d.i++
		for n := 0; ; n++ {
			more, err := d.element(n)
			if err != nil || !more {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		n := scanNumber(d.b[d.i:])
		if n == 0 {
			return ErrJSONSyntax
		}
		d.i += n
		return nil
	}
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r': // RFC 8259 §2: the four whitespace bytes
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return ErrJSONSyntax
	}
	d.i += len(lit)
	return nil
}

// strByte classifies bytes inside a JSON string: 0 plain, 1 needs a look
// ('"', '\\', a control character or a non-ASCII byte).
var strByte = func() (t [256]byte) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = 1
	}
	t['"'], t['\\'] = 1, 1
	return t
}()

// str scans the string whose opening quote is at d.i and returns its raw
// content (escapes left in place) and whether it has escapes. It checks the
// whole RFC 8259 §7 grammar and UTF-8 validity, so unescape cannot fail.
func (d *decoder) str() (raw []byte, esc bool, err error) {
	b := d.b
	start := d.i + 1
	i := start
	for {
		for i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && strByte[b[i]] == 0 {
			i++
		}
		if i >= len(b) {
			return nil, false, ErrJSONSyntax // unterminated
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return b[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return nil, false, ErrJSONSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return nil, false, ErrJSONSyntax
				}
				i += 6
			default:
				return nil, false, ErrJSONSyntax
			}
		case c < 0x20: // RFC 8259 §7: control characters must be escaped
			return nil, false, ErrJSONSyntax
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, ErrJSONUTF8 // RFC 8259 §8.1
			}
			i += size
		}
	}
}

// SWAR constants: a byte value repeated in all eight lanes.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// plain8 reports whether the eight bytes packed in w are all plain string
// bytes (strByte 0): ASCII, not below 0x20, not '"' or '\\'. A failing lane
// gets its top bit set; borrows only run upward from a failing lane, so no
// failure is missed and an all-plain word never reports one.
func plain8(w uint64) bool {
	bad := w | (w - lanes01*0x20) | // top bit set, or below 0x20 (borrow)
		zeroLane(w^lanes01*'"') | zeroLane(w^lanes01*'\\')
	return bad&lanes80 == 0
}

// zeroLane sets the top bit of (at least) the lowest zero byte of x, and of
// no lane when x has none (the has-zero-byte trick).
func zeroLane(x uint64) uint64 { return (x - lanes01) &^ x }

// hex4 returns the value of four hex digits, or -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescape appends the decoded content of raw, a string body that str
// validated, to dst. The output is never longer than raw. A surrogate pair
// becomes its code point; a lone surrogate becomes U+FFFD (RFC 8259 §8.2
// leaves it to the receiver).
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if r < 0xDC00 && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if lo := hex4(raw[i+2:]); lo >= 0xDC00 && lo <= 0xDFFF {
						r = utf16.DecodeRune(r, lo)
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		default: // '"', '\\', '/'
			c = raw[i+1]
		}
		dst = append(dst, c)
		i += 2
	}
	return dst
}

// scanNumber returns the length of the JSON number (RFC 8259 §6) at the
// start of b, or 0 when b does not start with one.
func scanNumber(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	return i
}

// parseInteger converts a valid JSON number token that must be an integer
// without fraction or exponent.
func parseInteger(tok []byte) (neg bool, mag uint64, err error) {
	if tok[0] == '-' {
		neg, tok = true, tok[1:]
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return false, 0, ErrJSONRange // '.', 'e' or 'E': not an integer
		}
		v := uint64(c - '0')
		if mag > (math.MaxUint64-v)/10 {
			return false, 0, ErrJSONRange
		}
		mag = mag*10 + v
	}
	return neg, mag, nil
}
