package longpoll

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/proto"
)

// Errors of request parsing.
var (
	// ErrBadBatch means the body of a send is neither one JSON envelope
	// nor a JSON array of envelopes, or one of them is malformed
	// (docs/protocol-ws.md §2 for the envelope).
	ErrBadBatch = errors.New("longpoll: body is not an envelope or an array of envelopes")
	// ErrBatchTooLarge means a send carries more envelopes than
	// Options.MaxBatch.
	ErrBatchTooLarge = errors.New("longpoll: too many envelopes in one request")
	// ErrBadQuery means a poll's query string has a malformed, repeated
	// or out-of-range ack or wait.
	ErrBadQuery = errors.New("longpoll: bad poll query")
)

// defaultWait is a poll's wait when the query gives none: below the 30 s
// that proxies commonly allow an idle response.
const defaultWait = 25 * time.Second

// Batch parser states.
const (
	batchFirst = iota // after '[': an envelope or ']'
	batchValue        // after ',': an envelope
	batchAfter        // after an envelope: ',' or ']'
)

// parseBatch decodes the body of a send: one JSON envelope, or a JSON
// array of at most max envelopes. The array is split here; each element
// is decoded by proto.UnmarshalJSON, which checks it fully, so the
// envelopes never alias body. Any malformed element fails the whole batch,
// and the count is checked before an element is decoded.
func parseBatch(body []byte, max int) ([]*proto.Envelope, error) {
	i := skipSpace(body, 0)
	if i == len(body) {
		return nil, ErrBadBatch
	}
	if body[i] == '{' {
		env := new(proto.Envelope)
		if err := proto.UnmarshalJSON(body, env); err != nil {
			return nil, ErrBadBatch
		}
		return []*proto.Envelope{env}, nil
	}
	if body[i] != '[' { // RFC 8259 §5: an array begins with '['
		return nil, ErrBadBatch
	}
	var envs []*proto.Envelope
	state := batchFirst
	for i++; ; {
		i = skipSpace(body, i)
		if i == len(body) {
			return nil, ErrBadBatch
		}
		c := body[i]
		switch state {
		case batchFirst, batchValue:
			if c == ']' && state == batchFirst { // RFC 8259 §5: empty array
				return nil, trailing(body, i+1)
			}
			if c != '{' { // only objects are envelopes (no trailing comma either)
				return nil, ErrBadBatch
			}
			if len(envs) == max {
				return nil, ErrBatchTooLarge
			}
			end := objectEnd(body, i)
			if end < 0 {
				return nil, ErrBadBatch
			}
			env := new(proto.Envelope)
			if err := proto.UnmarshalJSON(body[i:end], env); err != nil {
				return nil, ErrBadBatch
			}
			envs = append(envs, env)
			i, state = end, batchAfter
		case batchAfter:
			switch c {
			case ',': // RFC 8259 §5: values are separated by commas
				i, state = i+1, batchValue
			case ']':
				if err := trailing(body, i+1); err != nil {
					return nil, err
				}
				return envs, nil
			default:
				return nil, ErrBadBatch
			}
		}
	}
}

// trailing checks that only whitespace follows position i.
func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) { // RFC 8259 §2: one value per text
		return ErrBadBatch
	}
	return nil
}

// skipSpace returns the position of the first byte at or after i that is
// not JSON whitespace (RFC 8259 §2).
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// objectEnd returns the position just after the value that opens with the
// '{' at i, matching brackets outside strings, or -1 when the input ends
// first. It does not validate what is inside: UnmarshalJSON does.
func objectEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"': // RFC 8259 §7: a string ends at an unescaped quote
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return -1
			}
		}
	}
	return -1
}

// parsePoll reads the query of a poll: ack (the last envelope number the
// client processed, default 0) and wait (seconds, default 25, at most 30;
// more is taken as 30). Other keys (cache busters) are ignored; ack or
// wait given twice, empty or not a decimal number is an error.
func parsePoll(query string) (ack uint64, wait time.Duration, err error) {
	wait = defaultWait
	var seenAck, seenWait bool
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(pair, "=")
		var seen *bool
		switch k {
		case "ack":
			seen = &seenAck
		case "wait":
			seen = &seenWait
		default:
			continue
		}
		if *seen || !digits(v) {
			return 0, 0, ErrBadQuery
		}
		*seen = true
		n, perr := strconv.ParseUint(v, 10, 64)
		if perr != nil {
			return 0, 0, ErrBadQuery
		}
		if k == "ack" {
			ack = n
		} else {
			wait = time.Duration(min(n, uint64(MaxWait/time.Second))) * time.Second
		}
	}
	return ack, wait, nil
}

// digits reports whether s is 1 to 20 ASCII digits.
func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
