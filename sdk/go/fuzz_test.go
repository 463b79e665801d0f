package kefu

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kefu-im/kefu/codec/frame"
	pb "github.com/kefu-im/kefu/proto"
)

// FuzzReadFrame feeds arbitrary server bytes to the frame reader, whole and
// cut into pieces, and checks that it never panics and that both runs push
// the same envelopes and end the same way.
func FuzzReadFrame(f *testing.F) {
	var seeds [][]byte
	for _, e := range fuzzEnvelopes() {
		seeds = append(seeds, mustFrame(f, e))
	}
	seeds = append(seeds,
		bytes.Join(seeds, nil),
		frame.AppendFrame(nil, 12, 5, nil),                 // PING
		frame.AppendFrame(nil, 200, 0, []byte{1, 2, 3}),    // unknown type
		frame.AppendFrame(nil, 8, 0, []byte{0x42, 5, 'x'}), // bad payload
		[]byte("GET / HTTP/1.1\r\n\r\n"),                   // bad magic
		frame.AppendHeader(nil, frame.Header{Type: 8, Length: 1 << 30}),
	)
	fuzzReader(f, TransportFrame, seeds)
}

// FuzzReadWS is FuzzReadFrame for the WebSocket reader.
func FuzzReadWS(f *testing.F) {
	var seeds [][]byte
	for _, e := range fuzzEnvelopes() {
		seeds = append(seeds,
			wsServerFrame(0x1, true, pb.AppendJSON(nil, e)),
			wsServerFrame(0x2, true, mustProto(f, e)))
	}
	j := pb.AppendJSON(nil, fuzzEnvelopes()[0])
	seeds = append(seeds,
		bytes.Join(seeds, nil),
		bytes.Join([][]byte{
			wsServerFrame(0x1, false, j[:3]),
			wsServerFrame(0x9, true, []byte("ping")),
			wsServerFrame(0x0, true, j[3:]),
		}, nil),
		wsServerFrame(0x8, true, closeBody(1001, "drain")),
		wsServerFrame(0x8, true, nil),
		wsServerFrame(0xA, true, []byte{0, 0, 0, 0, 0, 0, 0, 1}),
		[]byte{0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0},
		[]byte{0x81, 0x82, 1, 2, 3, 4, 5, 6},
	)
	fuzzReader(f, TransportWS, seeds)
}

func fuzzEnvelopes() []*pb.Envelope {
	return []*pb.Envelope{
		{Type: pb.Type_TYPE_MESSAGE, Conversation: "c1", Seq: 1, ClientMsgId: "m1", Sender: "v:v7",
			Kind: pb.Kind_KIND_TEXT, Body: "hi", Ts: 1700000000000},
		{Type: pb.Type_TYPE_WELCOME, Id: 1, Sender: "v:v7"},
		{Type: pb.Type_TYPE_JOINED, Id: 2, Conversation: "c1", Seq: 3, More: true},
		{Type: pb.Type_TYPE_ACK, Id: 3, Conversation: "c1", Seq: 1, ClientMsgId: "m1", Ts: 1700000000000},
		{Type: pb.Type_TYPE_ERROR, Id: 3, Error: &pb.Error{Code: pb.Code_CODE_NOT_FOUND, Message: "no such conversation"}},
		{Type: pb.Type_TYPE_EVENT, Conversation: "c1", Event: "typing", Sender: "a:x"},
		{Type: pb.Type_TYPE_GOAWAY, Error: &pb.Error{Code: pb.Code_CODE_DRAINING, Retryable: true}},
	}
}

func fuzzReader(f *testing.F, tr Transport, seeds [][]byte) {
	for i, s := range seeds {
		f.Add(s, uint16(i*7), uint16(i*13+1))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint16) {
		var whole []*pb.Envelope
		c, _ := scriptClient(tr, false, [][]byte{data}, &whole)
		c.run()
		wantErr := errClass(c.Err())

		splits := [][][]byte{splitAt(data, int(cut1), int(cut2))}
		if len(data) <= 512 {
			splits = append(splits, bytewise(data))
		}
		for _, chunks := range splits {
			var got []*pb.Envelope
			c, _ := scriptClient(tr, false, chunks, &got)
			c.run()
			if !sameEnvelopes(whole, got) {
				t.Fatalf("split input (%d pieces) pushed %d envelopes, whole input %d", len(chunks), len(got), len(whole))
			}
			if e := errClass(c.Err()); e != wantErr {
				t.Fatalf("split input ended with %v (%s), whole input with %s", c.Err(), e, wantErr)
			}
		}
	})
}

// errClass names the kind of a reader's end.
func errClass(err error) string {
	switch {
	case errors.Is(err, ErrProtocol):
		return "protocol"
	case errors.Is(err, ErrDisconnected):
		return "disconnected"
	}
	return "other: " + err.Error()
}

// splitAt cuts data at two points (taken modulo its length).
func splitAt(data []byte, a, b int) [][]byte {
	if len(data) == 0 {
		return [][]byte{data}
	}
	a, b = a%len(data), b%len(data)
	if a > b {
		a, b = b, a
	}
	return [][]byte{data[:a], data[a:b], data[b:]}
}

// bytewise cuts data into one-byte pieces.
func bytewise(data []byte) [][]byte {
	out := make([][]byte, len(data))
	for i := range data {
		out[i] = data[i : i+1]
	}
	return out
}
