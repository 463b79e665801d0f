package longpoll

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// FuzzParseBatch feeds send bodies to the request parser. Whatever it
// accepts must be valid JSON; each envelope must survive a round trip
// through AppendJSON; and the body cut into its elements (each parsed
// alone) or re-wrapped as one array must give the same envelopes.
func FuzzParseBatch(f *testing.F) {
	for _, s := range []string{
		`{"type":"ping","id":1}`,
		`[{"type":"send","id":2,"conversation":"c1","client_msg_id":"m-1","body":"hi \u003c"}]`,
		`[{"type":"event","conversation":"c","event":"typing"},{"type":"event","conversation":"c","event":"read","seq":"4"}]`,
		`[ ]`,
		`[{"type":"send","body":"a]}\"[{"}, {"type":"ping"}]`,
		`[{"type":"hello","hello":{"site":"demo","role":"visitor","user":"v"},"cursors":[{"conversation":"c","seq":2}]}]`,
		`[{"type":"ping"},]`,
		`[{"a":[[[[]]]]}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := parseBatch(body, 64)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		arr := []byte{'['}
		for i, e := range envs {
			enc := proto.AppendJSON(nil, e)
			var back proto.Envelope
			if err := proto.UnmarshalJSON(enc, &back); err != nil || !gproto.Equal(e, &back) {
				t.Fatalf("envelope %d of %q: round trip %s: %v", i, body, enc, err)
			}
			if i > 0 {
				arr = append(arr, ',')
			}
			arr = append(arr, enc...)
		}
		arr = append(arr, ']')
		again, err := parseBatch(arr, 64)
		if err != nil || len(again) != len(envs) {
			t.Fatalf("re-wrapped %q: %d envelopes, %v", arr, len(again), err)
		}
		// The body cut at its elements: each parses alone to the same.
		i := skipSpace(body, 0)
		if body[i] == '{' {
			return
		}
		for k, i := 0, i+1; k < len(envs); k++ {
			i = skipSpace(body, i)
			if body[i] == ',' {
				i = skipSpace(body, i+1)
			}
			end := objectEnd(body, i)
			one, err := parseBatch(body[i:end], 1)
			if err != nil || len(one) != 1 || !gproto.Equal(one[0], envs[k]) || !gproto.Equal(again[k], envs[k]) {
				t.Fatalf("element %d of %q (%q) alone: %v %v", k, body, body[i:end], one, err)
			}
			i = end
		}
	})
}

// FuzzParsePoll feeds poll query strings; what is accepted must parse the
// same once re-encoded.
func FuzzParsePoll(f *testing.F) {
	for _, s := range []string{"", "ack=1&wait=25", "wait=0", "ack=18446744073709551615", "_=1&ack=2", "ack=1&ack=1", "wait=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		ack, wait, err := parsePoll(q)
		if err != nil {
			return
		}
		if wait < 0 || wait > MaxWait || wait%time.Second != 0 {
			t.Fatalf("%q: wait %v", q, wait)
		}
		re := "ack=" + strconv.FormatUint(ack, 10) + "&wait=" + strconv.Itoa(int(wait/time.Second))
		ack2, wait2, err := parsePoll(re)
		if err != nil || ack2 != ack || wait2 != wait {
			t.Fatalf("%q → %q: %d %v %v", q, re, ack2, wait2, err)
		}
	})
}
