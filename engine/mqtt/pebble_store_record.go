package mqtt

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Record formats of the PebbleStore. Every value starts with a version
// byte; this package writes RecordVersion and reads only it. Integers are
// unsigned varints (uv) or zig-zag varints (sv, for Unix nanoseconds and
// durations) unless a width is given; str and bytes are uv(len) followed
// by the bytes. A record is exactly as long as its fields: trailing bytes
// make it corrupt.
//
// Session record, key 'q' | comp(client id):
//
//	+------+-------+-------+----------------+--------------------------------------+
//	| 0x01 | flags | level | ExpiresAt i64  | sv Expiry                            |
//	+------+-------+-------+----------------+--------------------------------------+
//	  1      1       1       8, big-endian     then:
//	                                            uv n, n × subscription
//	                                            uv n, n × delivery   (Inflight)
//	                                            uv n, n × delivery   (Queued)
//	                                            uv n, n × uv packet id (AwaitingRelease)
//	                                            if flags&1: message, sv WillAt, sv WillExpiry
//
//	flags: bit 0 a delayed will follows; the others are 0.
//	level: protocol level of the last connection, 4 or 5.
//	ExpiresAt sits at a fixed offset so that Load skips an expired session
//	without decoding it.
//
//	subscription = str filter | opts | uv subscription id
//	               opts: bits 0-1 QoS, 2 no local, 3 retain as published,
//	               4-5 retain handling, 6-7 zero
//	delivery     = flags | uv packet id | uv n, n × uv subscription id | message
//	               flags: bits 0-1 QoS, 2 retain, 3 released (PUBREL owed),
//	               4-7 zero; packet id 1..65535 in flight, 0 queued
//
// Retained record, key 'r' | topic:
//
//	+------+---------+
//	| 0x01 | message |   the message's topic must equal the key's
//	+------+---------+
//
// Message (shared by both records):
//
//	flags | payload format | str topic | bytes payload | str content type |
//	str response topic | bytes correlation data | uv n, n × (str key, str value) |
//	sv Created | sv Expires | str origin
//
//	flags: bits 0-1 QoS, 2 retain, 3 payload format set, 4-7 zero.
const RecordVersion byte = 1

// ErrCorruptRecord is returned by DecodeSessionRecord and
// DecodeRetainedRecord for a value that is not a well-formed record of a
// known version: truncated, with trailing bytes, a field out of range, an
// invalid topic or filter. It wraps the detail.
var ErrCorruptRecord = errors.New("mqtt: corrupt store record")

// ErrRecordVersion is returned for a record whose version byte is not
// RecordVersion (written by a newer Kefu, or garbage). Load skips such
// records and leaves them in place.
var ErrRecordVersion = errors.New("mqtt: unknown store record version")

// sessionHeaderLen is the fixed part of a session record.
const sessionHeaderLen = 1 + 1 + 1 + 8

const sessionFlagWill = 1

// AppendSessionRecord appends the session record of st (without its client
// identifier, which is the key). It allocates only to grow dst.
func AppendSessionRecord(dst []byte, st *SessionState) []byte {
	var flags byte
	if st.Will != nil {
		flags |= sessionFlagWill
	}
	dst = append(dst, RecordVersion, flags, st.Version)
	dst = binary.BigEndian.AppendUint64(dst, uint64(st.ExpiresAt))
	dst = binary.AppendVarint(dst, st.Expiry)
	dst = binary.AppendUvarint(dst, uint64(len(st.Subscriptions)))
	for i := range st.Subscriptions {
		ss := &st.Subscriptions[i]
		dst = appendStr(dst, ss.Filter)
		opts := ss.QoS&3 | (ss.RetainHandling&3)<<4
		if ss.NoLocal {
			opts |= 1 << 2
		}
		if ss.RetainAsPublished {
			opts |= 1 << 3
		}
		dst = append(dst, opts)
		dst = binary.AppendUvarint(dst, uint64(ss.ID))
	}
	dst = appendDeliveries(dst, st.Inflight)
	dst = appendDeliveries(dst, st.Queued)
	dst = binary.AppendUvarint(dst, uint64(len(st.AwaitingRelease)))
	for _, id := range st.AwaitingRelease {
		dst = binary.AppendUvarint(dst, uint64(id))
	}
	if st.Will != nil {
		dst = appendMessage(dst, st.Will)
		dst = binary.AppendVarint(dst, st.WillAt)
		dst = binary.AppendVarint(dst, st.WillExpiry)
	}
	return dst
}

func appendDeliveries(dst []byte, ds []StoredDelivery) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ds)))
	for i := range ds {
		d := &ds[i]
		flags := d.QoS & 3
		if d.Retain {
			flags |= 1 << 2
		}
		if d.Released {
			flags |= 1 << 3
		}
		dst = append(dst, flags)
		dst = binary.AppendUvarint(dst, uint64(d.PacketID))
		dst = binary.AppendUvarint(dst, uint64(len(d.SubIDs)))
		for _, id := range d.SubIDs {
			dst = binary.AppendUvarint(dst, uint64(id))
		}
		dst = appendMessage(dst, d.Message)
	}
	return dst
}

// AppendRetainedRecord appends the retained record of m.
func AppendRetainedRecord(dst []byte, m *Message) []byte {
	return appendMessage(append(dst, RecordVersion), m)
}

func appendMessage(dst []byte, m *Message) []byte {
	flags := m.QoS & 3
	if m.Retain {
		flags |= 1 << 2
	}
	if m.PayloadFormatSet {
		flags |= 1 << 3
	}
	dst = append(dst, flags, m.PayloadFormat)
	dst = appendStr(dst, m.Topic)
	dst = appendBytes(dst, m.Payload)
	dst = appendStr(dst, m.ContentType)
	dst = appendStr(dst, m.ResponseTopic)
	dst = appendBytes(dst, m.CorrelationData)
	dst = binary.AppendUvarint(dst, uint64(len(m.User)))
	for _, u := range m.User {
		dst = appendStr(dst, u.Key)
		dst = appendStr(dst, u.Val)
	}
	dst = binary.AppendVarint(dst, m.Created)
	dst = binary.AppendVarint(dst, m.Expires)
	return appendStr(dst, m.Origin)
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// sessionRecordExpiry reads the version, flags and ExpiresAt of a session
// record without decoding the rest.
func sessionRecordExpiry(src []byte) (expiresAt int64, will bool, err error) {
	if len(src) == 0 {
		return 0, false, fmt.Errorf("%w: empty", ErrCorruptRecord)
	}
	if src[0] != RecordVersion {
		return 0, false, fmt.Errorf("%w: %d", ErrRecordVersion, src[0])
	}
	if len(src) < sessionHeaderLen {
		return 0, false, fmt.Errorf("%w: session header of %d bytes", ErrCorruptRecord, len(src))
	}
	return int64(binary.BigEndian.Uint64(src[3:])), src[1]&sessionFlagWill != 0, nil
}

// DecodeSessionRecord decodes a session record written by
// AppendSessionRecord for clientID. The result shares nothing with src.
// Counts are checked against the bytes left before anything is allocated,
// so a corrupt count cannot make it allocate more than a small multiple of
// len(src).
func DecodeSessionRecord(clientID string, src []byte) (*SessionState, error) {
	if _, _, err := sessionRecordExpiry(src); err != nil {
		return nil, err
	}
	r := recReader{b: src[sessionHeaderLen:]}
	flags, level := src[1], src[2]
	switch {
	case flags&^sessionFlagWill != 0:
		return nil, fmt.Errorf("%w: session flags %#x", ErrCorruptRecord, flags)
	case level != 4 && level != 5:
		return nil, fmt.Errorf("%w: protocol level %d", ErrCorruptRecord, level)
	}
	st := &SessionState{ClientID: clientID, Version: level, ExpiresAt: int64(binary.BigEndian.Uint64(src[3:]))}
	if st.Expiry = r.varint(); st.Expiry < 0 {
		r.failf("session expiry %d", st.Expiry)
	}
	if n := r.count(4, "subscriptions"); n > 0 {
		st.Subscriptions = make([]StoredSubscription, n)
		for i := range st.Subscriptions {
			ss := &st.Subscriptions[i]
			ss.Filter = string(r.bytes())
			opts := r.u8()
			id := r.uvarint()
			switch _, _, ok := parseFilter(ss.Filter); {
			case r.err != nil:
				return nil, r.err
			case !ok:
				return nil, fmt.Errorf("%w: filter %q", ErrCorruptRecord, ss.Filter)
			case opts&3 > 2 || opts>>4 > 2:
				return nil, fmt.Errorf("%w: subscription options %#x", ErrCorruptRecord, opts)
			case id > maxSubID:
				return nil, fmt.Errorf("%w: subscription identifier %d", ErrCorruptRecord, id)
			}
			ss.QoS, ss.NoLocal, ss.RetainAsPublished, ss.RetainHandling = opts&3, opts&(1<<2) != 0, opts&(1<<3) != 0, opts>>4
			ss.ID = uint32(id)
		}
	}
	st.Inflight = r.deliveries(true)
	st.Queued = r.deliveries(false)
	if n := r.count(1, "awaiting release"); n > 0 {
		st.AwaitingRelease = make([]uint16, n)
		for i := range st.AwaitingRelease {
			id := r.uvarint()
			if r.err == nil && (id == 0 || id > 0xFFFF) {
				r.failf("awaiting-release packet id %d", id)
			}
			st.AwaitingRelease[i] = uint16(id)
		}
	}
	if flags&sessionFlagWill != 0 {
		st.Will = r.message()
		st.WillAt = r.varint()
		st.WillExpiry = r.varint()
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return st, nil
}

// DecodeRetainedRecord decodes a retained record written by
// AppendRetainedRecord. The result shares nothing with src.
func DecodeRetainedRecord(src []byte) (*Message, error) {
	switch {
	case len(src) == 0:
		return nil, fmt.Errorf("%w: empty", ErrCorruptRecord)
	case src[0] != RecordVersion:
		return nil, fmt.Errorf("%w: %d", ErrRecordVersion, src[0])
	}
	r := recReader{b: src[1:]}
	m := r.message()
	if err := r.end(); err != nil {
		return nil, err
	}
	if len(m.Payload) == 0 {
		return nil, fmt.Errorf("%w: retained message without payload", ErrCorruptRecord)
	}
	return m, nil
}

// maxSubID is the largest subscription identifier (MQTT 5 §3.8.2.1.2).
const maxSubID = 268_435_455

// recReader reads record fields; the first error sticks and empties it.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrCorruptRecord}, args...)...)
	}
	r.b = nil
}

func (r *recReader) u8() byte {
	if len(r.b) == 0 {
		r.failf("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *recReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.failf("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.failf("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns a length-prefixed field, aliasing the record.
func (r *recReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.failf("field of %d bytes, %d left", n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// count reads a count of elements that take at least minSize bytes each,
// and fails unless that many could fit in what is left.
func (r *recReader) count(minSize int, what string) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b)/minSize) {
		r.failf("%d %s in %d bytes", n, what, len(r.b))
		return 0
	}
	return int(n)
}

// minDelivery and minMessage are the smallest encoded delivery and message.
const (
	minMessage  = 1 + 1 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1
	minDelivery = 1 + 1 + 1 + minMessage
)

func (r *recReader) deliveries(inflight bool) []StoredDelivery {
	n := r.count(minDelivery, "deliveries")
	if n == 0 {
		return nil
	}
	ds := make([]StoredDelivery, n)
	for i := range ds {
		d := &ds[i]
		flags := r.u8()
		id := r.uvarint()
		if k := r.count(1, "subscription identifiers"); k > 0 {
			d.SubIDs = make([]uint32, k)
			for j := range d.SubIDs {
				v := r.uvarint()
				if r.err == nil && (v == 0 || v > maxSubID) {
					r.failf("subscription identifier %d", v)
				}
				d.SubIDs[j] = uint32(v)
			}
		}
		d.Message = r.message()
		if r.err != nil {
			return nil
		}
		d.QoS, d.Retain, d.Released, d.PacketID = flags&3, flags&(1<<2) != 0, flags&(1<<3) != 0, uint16(id)
		switch {
		case flags>>4 != 0 || d.QoS > 2:
			r.failf("delivery flags %#x", flags)
		case inflight && (id == 0 || id > 0xFFFF || d.QoS == 0):
			r.failf("in-flight delivery QoS %d packet id %d", d.QoS, id)
		case inflight && d.Released && d.QoS != 2:
			r.failf("released delivery of QoS %d", d.QoS)
		case !inflight && (id != 0 || d.Released):
			r.failf("queued delivery with packet id %d", id)
		}
	}
	if r.err != nil {
		return nil
	}
	return ds
}

func (r *recReader) message() *Message {
	flags := r.u8()
	format := r.u8()
	topic := r.bytes()
	payload := r.bytes()
	ctype := r.bytes()
	rtopic := r.bytes()
	corr := r.bytes()
	nUser := r.count(2, "user properties")
	if r.err != nil {
		return nil
	}
	m := &Message{QoS: flags & 3, Retain: flags&(1<<2) != 0, PayloadFormatSet: flags&(1<<3) != 0,
		PayloadFormat: format, Topic: string(topic), ContentType: string(ctype), ResponseTopic: string(rtopic)}
	if flags>>4 != 0 || m.QoS > 2 {
		r.failf("message flags %#x", flags)
		return nil
	}
	if !validTopicName(m.Topic) {
		r.failf("topic %q", topic)
		return nil
	}
	// One allocation for the byte fields, as newMessage does.
	if len(payload)+len(corr) > 0 {
		buf := make([]byte, len(payload)+len(corr))
		m.Payload = buf[:copy(buf, payload):len(payload)]
		if len(corr) > 0 {
			m.CorrelationData = buf[len(payload):]
			copy(m.CorrelationData, corr)
		}
	}
	if nUser > 0 {
		m.User = make([]packets.UserProperty, nUser)
		for i := range m.User {
			m.User[i] = packets.UserProperty{Key: string(r.bytes()), Val: string(r.bytes())}
		}
	}
	m.Created = r.varint()
	m.Expires = r.varint()
	m.Origin = string(r.bytes())
	if r.err != nil {
		return nil
	}
	return m
}

// end reports the first error, or trailing bytes.
func (r *recReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.failf("%d trailing bytes", len(r.b))
	}
	return r.err
}
