package proto

import "math"

// UnmarshalJSON decodes the JSON form of an Envelope (see the package
// documentation) from data into e, which it resets first. data must hold
// exactly one JSON object, optionally surrounded by whitespace.
//
// Every string is copied, so e does not alias data (a network buffer that
// is reused once this returns), and each string holds only its own bytes.
// Unknown keys are skipped; nesting deeper than MaxJSONDepth, invalid
// UTF-8, a known key given twice, a value of the wrong type or range and an
// unknown enum name are errors (the Err* values of this package). A \u
// escape of a lone UTF-16 surrogate decodes to U+FFFD, as a browser's
// TextEncoder would encode it.
//
// On error, e holds whatever was decoded before it: discard it. e must not
// be nil. UnmarshalJSON keeps no state and is safe for concurrent use on
// different envelopes.
func UnmarshalJSON(data []byte, e *Envelope) error {
	e.Reset()
	d := decoder{b: data}
	d.space()
	if d.i >= len(d.b) {
		return ErrJSONSyntax
	}
	if d.b[d.i] != '{' {
		return ErrJSONNotObject
	}
	d.i++
	if err := d.envelope(e); err != nil {
		return err
	}
	d.space()
	if d.i != len(d.b) {
		return ErrJSONSyntax // RFC 8259 §2: one value per text
	}
	return nil
}

// decoder is a cursor over one JSON text. It lives on the caller's stack.
type decoder struct {
	b []byte
	i int
	// scratch receives unescaped keys, enum names, numeric strings and
	// short escaped strings, so that those cost no allocation.
	scratch [256]byte
}

// maxNameRaw bounds the raw (escaped) length of a key, enum name or numeric
// string that is worth unescaping: a \u escape is 6 bytes for at least one
// byte of output, and no key, name or number of the schema is longer than 21
// bytes, so a longer raw string can only be unknown or invalid.
const maxNameRaw = 6 * 22

// envelopeField returns the field number of an Envelope key, which is also
// its bit in the duplicate-key mask, or 0 for an unknown key.
func envelopeField(k []byte) uint {
	switch string(k) {
	case "type":
		return 1
	case "id":
		return 2
	case "conversation":
		return 3
	case "seq":
		return 4
	case "client_msg_id", "clientMsgId": // the proto name and protojson's json_name
		return 5
	case "sender":
		return 6
	case "kind":
		return 7
	case "body":
		return 8
	case "ts":
		return 9
	case "hello":
		return 10
	case "cursors":
		return 11
	case "error":
		return 12
	case "more":
		return 13
	case "limit":
		return 14
	case "event":
		return 15
	case "tags":
		return 16
	case "agent":
		return 17
	case "group":
		return 18
	case "rating":
		return 19
	case "status":
		return 20
	case "state":
		return 21
	case "position":
		return 22
	}
	return 0
}

func (d *decoder) envelope(e *Envelope) error {
	var seen uint32
	for n := 0; ; n++ {
		key, more, err := d.member(n)
		if err != nil || !more {
			return err
		}
		f := envelopeField(key)
		if duplicate(&seen, f) {
			return ErrJSONDuplicate
		}
		var v int32
		switch f {
		case 1:
			v, err = d.enum(typeNames[:], "TYPE_")
			e.Type = Type(v)
		case 2:
			e.Id, err = d.uint(math.MaxUint64)
		case 3:
			e.Conversation, err = d.string()
		case 4:
			e.Seq, err = d.uint(math.MaxUint64)
		case 5:
			e.ClientMsgId, err = d.string()
		case 6:
			e.Sender, err = d.string()
		case 7:
			v, err = d.enum(kindNames[:], "KIND_")
			e.Kind = Kind(v)
		case 8:
			e.Body, err = d.string()
		case 9:
			e.Ts, err = d.int64()
		case 10:
			err = d.hello(e)
		case 11:
			err = d.cursors(e)
		case 12:
			err = d.errorObject(e)
		case 13:
			e.More, err = d.bool()
		case 14:
			var u uint64
			u, err = d.uint(math.MaxUint32)
			e.Limit = uint32(u)
		case 15:
			e.Event, err = d.string()
		case 16:
			err = d.tags(e)
		case 17:
			e.Agent, err = d.string()
		case 18:
			e.Group, err = d.string()
		case 19:
			var u uint64
			u, err = d.uint(math.MaxUint32)
			e.Rating = uint32(u)
		case 20:
			e.Status, err = d.string()
		case 21:
			e.State, err = d.string()
		case 22:
			var u uint64
			u, err = d.uint(math.MaxUint32)
			e.Position = uint32(u)
		default:
			err = d.skip(2)
		}
		if err != nil {
			return err
		}
	}
}

func (d *decoder) hello(e *Envelope) error {
	if null, err := d.open('{'); null || err != nil {
		return err
	}
	h := new(Hello)
	e.Hello = h
	var seen uint32
	for n := 0; ; n++ {
		key, more, err := d.member(n)
		if err != nil || !more {
			return err
		}
		var f uint
		switch string(key) {
		case "site":
			f = 1
		case "role":
			f = 2
		case "user":
			f = 3
		case "token":
			f = 4
		case "client":
			f = 5
		}
		if duplicate(&seen, f) {
			return ErrJSONDuplicate
		}
		switch f {
		case 1:
			h.Site, err = d.string()
		case 2:
			var v int32
			v, err = d.enum(roleNames[:], "ROLE_")
			h.Role = Role(v)
		case 3:
			h.User, err = d.string()
		case 4:
			h.Token, err = d.string()
		case 5:
			h.Client, err = d.string()
		default:
			err = d.skip(3)
		}
		if err != nil {
			return err
		}
	}
}

func (d *decoder) errorObject(e *Envelope) error {
	if null, err := d.open('{'); null || err != nil {
		return err
	}
	er := new(Error)
	e.Error = er
	var seen uint32
	for n := 0; ; n++ {
		key, more, err := d.member(n)
		if err != nil || !more {
			return err
		}
		var f uint
		switch string(key) {
		case "code":
			f = 1
		case "message":
			f = 2
		case "retryable":
			f = 3
		}
		if duplicate(&seen, f) {
			return ErrJSONDuplicate
		}
		switch f {
		case 1:
			var v int32
			v, err = d.enum(codeNames[:], "CODE_")
			er.Code = Code(v)
		case 2:
			er.Message, err = d.string()
		case 3:
			er.Retryable, err = d.bool()
		default:
			err = d.skip(3)
		}
		if err != nil {
			return err
		}
	}
}

// tags decodes an array of strings (null: none).
func (d *decoder) tags(e *Envelope) error {
	if null, err := d.open('['); null || err != nil {
		return err
	}
	for n := 0; ; n++ {
		more, err := d.element(n)
		if err != nil || !more {
			return err
		}
		if d.b[d.i] != '"' {
			return ErrJSONType // null is not a tag either
		}
		t, err := d.string()
		if err != nil {
			return err
		}
		e.Tags = append(e.Tags, t)
	}
}

func (d *decoder) cursors(e *Envelope) error {
	if null, err := d.open('['); null || err != nil {
		return err
	}
	for n := 0; ; n++ {
		more, err := d.element(n)
		if err != nil || !more {
			return err
		}
		if d.b[d.i] != '{' {
			return ErrJSONType // null is not a cursor either
		}
		d.i++
		c := new(Cursor)
		e.Cursors = append(e.Cursors, c)
		if err := d.cursor(c); err != nil {
			return err
		}
	}
}

func (d *decoder) cursor(c *Cursor) error {
	var seen uint32
	for n := 0; ; n++ {
		key, more, err := d.member(n)
		if err != nil || !more {
			return err
		}
		var f uint
		switch string(key) {
		case "conversation":
			f = 1
		case "seq":
			f = 2
		}
		if duplicate(&seen, f) {
			return ErrJSONDuplicate
		}
		switch f {
		case 1:
			c.Conversation, err = d.string()
		case 2:
			c.Seq, err = d.uint(math.MaxUint64)
		default:
			err = d.skip(4) // a container here would be depth 4
		}
		if err != nil {
			return err
		}
	}
}

// duplicate records key f (a field number; 0: unknown, not recorded) in
// seen and reports whether it was there already.
func duplicate(seen *uint32, f uint) bool {
	if f == 0 {
		return false
	}
	dup := *seen&(1<<f) != 0
	*seen |= 1 << f
	return dup
}

// open consumes the opening byte of the object or array a known key holds,
// or a null (reported as null = true: the field stays absent).
func (d *decoder) open(c byte) (null bool, err error) {
	switch d.b[d.i] {
	case c:
		d.i++
		return false, nil
	case 'n':
		return true, d.literal("null")
	}
	return false, ErrJSONType
}

// string decodes a string value (or null: "") and copies it.
func (d *decoder) string() (string, error) {
	switch d.b[d.i] {
	case '"':
		raw, esc, err := d.str()
		if err != nil {
			return "", err
		}
		if !esc {
			return string(raw), nil
		}
		return string(unescape(d.scratch[:0], raw)), nil
	case 'n':
		return "", d.literal("null")
	}
	return "", ErrJSONType
}

func (d *decoder) bool() (bool, error) {
	switch d.b[d.i] {
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return false, d.literal("null")
	}
	return false, ErrJSONType
}

// integer decodes a number, a string holding a decimal integer, or null
// (zero) into a sign and a magnitude.
func (d *decoder) integer() (neg bool, mag uint64, err error) {
	switch c := d.b[d.i]; {
	case c == '-' || c >= '0' && c <= '9':
		n := scanNumber(d.b[d.i:])
		if n == 0 {
			return false, 0, ErrJSONSyntax
		}
		tok := d.b[d.i : d.i+n]
		d.i += n
		return parseInteger(tok)
	case c == '"':
		raw, esc, err := d.str()
		if err != nil {
			return false, 0, err
		}
		if esc {
			if len(raw) > maxNameRaw {
				return false, 0, ErrJSONType
			}
			raw = unescape(d.scratch[:0], raw)
		}
		if len(raw) == 0 || scanNumber(raw) != len(raw) {
			return false, 0, ErrJSONType
		}
		return parseInteger(raw)
	case c == 'n':
		return false, 0, d.literal("null")
	}
	return false, 0, ErrJSONType
}

func (d *decoder) uint(max uint64) (uint64, error) {
	neg, mag, err := d.integer()
	switch {
	case err != nil:
		return 0, err
	case neg && mag != 0, mag > max:
		return 0, ErrJSONRange
	}
	return mag, nil
}

func (d *decoder) int64() (int64, error) {
	neg, mag, err := d.integer()
	switch {
	case err != nil:
		return 0, err
	case neg && mag > 1<<63, !neg && mag > math.MaxInt64:
		return 0, ErrJSONRange
	case neg:
		return int64(-mag), nil // -(1<<63) wraps to itself: math.MinInt64
	}
	return int64(mag), nil
}

// enum decodes an enum: a name of names (or its full proto name behind
// prefix), a number within int32, or null (zero).
func (d *decoder) enum(names []string, prefix string) (int32, error) {
	if d.b[d.i] == '"' {
		raw, esc, err := d.str()
		if err != nil {
			return 0, err
		}
		if esc {
			if len(raw) > maxNameRaw {
				return 0, ErrJSONEnum
			}
			raw = unescape(d.scratch[:0], raw)
		}
		v, ok := parseEnum(names, prefix, string(raw))
		if !ok {
			return 0, ErrJSONEnum
		}
		return v, nil
	}
	neg, mag, err := d.integer()
	switch {
	case err != nil:
		return 0, err
	case neg && mag > 1<<31, !neg && mag > math.MaxInt32:
		return 0, ErrJSONRange
	case neg:
		return int32(-int64(mag)), nil
	}
	return int32(mag), nil
}
