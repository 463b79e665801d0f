package kefu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/kefu-im/kefu/codec/frame"
	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

func mustFrame(t testing.TB, env *pb.Envelope) []byte {
	t.Helper()
	b, err := frame.AppendEnvelope(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustProto(t testing.TB, env *pb.Envelope) []byte {
	t.Helper()
	b, err := gproto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func closeBody(code uint16, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	return append(b, reason...)
}

// TestReader feeds scripted server bytes to the reader loops and checks
// what is pushed, why reading stops, and (WebSocket) the close frame the
// client answers with.
func TestReader(t *testing.T) {
	msg := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "c1", Seq: 1, Sender: "v:x", Body: "hi"}
	big := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "c1", Seq: 2, Body: strings.Repeat("b", 200<<10)}
	msgJSON := pb.AppendJSON(nil, msg)
	bigJSON := pb.AppendJSON(nil, big)
	const (
		opCont, opText, opBin, opClose, opPing, opPong = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
	)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	masked := []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}

	for _, tc := range []struct {
		name      string
		tr        Transport
		stream    []byte
		pushes    []*pb.Envelope
		err       error  // in the chain of Err
		closeCode uint16 // WebSocket close code the client sent; 0 = none
		ce        *CloseError
	}{
		{name: "frame/message", tr: TransportFrame, stream: mustFrame(t, msg),
			pushes: []*pb.Envelope{msg}, err: ErrDisconnected},
		{name: "frame/big payload", tr: TransportFrame, stream: cat(mustFrame(t, big), mustFrame(t, msg)),
			pushes: []*pb.Envelope{big, msg}, err: ErrDisconnected},
		{name: "frame/unknown type skipped", tr: TransportFrame,
			stream: cat(frame.AppendFrame(nil, 200, 0, []byte{0xff, 0xff}), mustFrame(t, msg)),
			pushes: []*pb.Envelope{msg}, err: ErrDisconnected},
		{name: "frame/bad magic", tr: TransportFrame, stream: []byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
			err: ErrProtocol},
		{name: "frame/over limit", tr: TransportFrame,
			stream: frame.AppendHeader(nil, frame.Header{Type: 8, Length: 2 << 20}), err: ErrProtocol},
		{name: "frame/bad payload", tr: TransportFrame,
			stream: frame.AppendFrame(nil, 8, 0, []byte{0x42, 0x05, 'x'}), err: ErrProtocol},
		{name: "frame/cut inside a frame", tr: TransportFrame, stream: mustFrame(t, msg)[:15],
			err: ErrDisconnected},
		{name: "frame/server ping answered", tr: TransportFrame,
			stream: cat(frame.AppendFrame(nil, 12, 5, nil), mustFrame(t, msg)),
			pushes: []*pb.Envelope{msg}, err: ErrDisconnected},

		{name: "ws/text", tr: TransportWS, stream: wsServerFrame(opText, true, msgJSON),
			pushes: []*pb.Envelope{msg}, err: ErrDisconnected},
		{name: "ws/binary", tr: TransportWS, stream: wsServerFrame(opBin, true, mustProto(t, msg)),
			pushes: []*pb.Envelope{msg}, err: ErrDisconnected},
		{name: "ws/fragmented with ping", tr: TransportWS, stream: cat(
			wsServerFrame(opText, false, bigJSON[:10]),
			wsServerFrame(opPing, true, []byte("p")),
			wsServerFrame(opCont, false, bigJSON[10:100<<10]),
			wsServerFrame(opPong, true, nil),
			wsServerFrame(opCont, true, bigJSON[100<<10:]),
			wsServerFrame(opText, true, msgJSON)),
			pushes: []*pb.Envelope{big, msg}, err: ErrDisconnected},
		{name: "ws/close 1001", tr: TransportWS, stream: wsServerFrame(opClose, true, closeBody(1001, "bye")),
			err: ErrDisconnected, closeCode: 1001, ce: &CloseError{1001, "bye"}},
		{name: "ws/close empty", tr: TransportWS, stream: wsServerFrame(opClose, true, nil),
			err: ErrDisconnected, closeCode: 1005, ce: &CloseError{Code: 1005}},
		{name: "ws/close 1-byte body", tr: TransportWS, stream: wsServerFrame(opClose, true, []byte{3}),
			err: ErrProtocol, closeCode: 1002},
		{name: "ws/masked", tr: TransportWS, stream: masked, err: ErrProtocol, closeCode: 1002},
		{name: "ws/rsv", tr: TransportWS, stream: []byte{0x81 | 0x40, 0}, err: ErrProtocol, closeCode: 1002},
		{name: "ws/reserved opcode", tr: TransportWS, stream: []byte{0x83, 0}, err: ErrProtocol, closeCode: 1002},
		{name: "ws/fragmented control", tr: TransportWS, stream: []byte{0x09, 0}, err: ErrProtocol, closeCode: 1002},
		{name: "ws/long control", tr: TransportWS, stream: wsServerFrame(opPing, true, make([]byte, 126)),
			err: ErrProtocol, closeCode: 1002},
		{name: "ws/continuation first", tr: TransportWS, stream: wsServerFrame(opCont, true, []byte("x")),
			err: ErrProtocol, closeCode: 1002},
		{name: "ws/new message inside fragments", tr: TransportWS,
			stream: cat(wsServerFrame(opText, false, []byte("{")), wsServerFrame(opText, true, []byte("}"))),
			err:    ErrProtocol, closeCode: 1002},
		{name: "ws/too big", tr: TransportWS, stream: []byte{0x82, 127, 0, 0, 0, 0, 0, 0x20, 0, 0},
			err: ErrProtocol, closeCode: 1009},
		{name: "ws/length msb", tr: TransportWS, stream: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0},
			err: ErrProtocol, closeCode: 1002},
		{name: "ws/bad json", tr: TransportWS, stream: wsServerFrame(opText, true, []byte(`{"type":`)),
			err: ErrProtocol, closeCode: 1007},
		{name: "ws/bad protobuf", tr: TransportWS, stream: wsServerFrame(opBin, true, []byte{0x42, 0x05, 'x'}),
			err: ErrProtocol, closeCode: 1007},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pushed []*pb.Envelope
			c, conn := scriptClient(tc.tr, false, [][]byte{tc.stream}, &pushed)
			c.run()
			if !sameEnvelopes(pushed, tc.pushes) {
				t.Errorf("pushed %d envelopes, want %d", len(pushed), len(tc.pushes))
			}
			if err := c.Err(); !errors.Is(err, tc.err) {
				t.Errorf("Err = %v, want %v", err, tc.err)
			}
			if tc.ce != nil {
				var ce *CloseError
				if !errors.As(c.Err(), &ce) || *ce != *tc.ce {
					t.Errorf("Err = %v, want %v", c.Err(), tc.ce)
				}
			}
			if tc.tr != TransportWS {
				return
			}
			frames, err := conn.clientFrames()
			if err != nil {
				t.Fatalf("client wrote bad frames: %v", err)
			}
			var code uint16
			for _, f := range frames {
				if f.Header.OpCode == ws.OpClose {
					code = uint16(ws.StatusNoStatusRcvd)
					if len(f.Payload) >= 2 {
						code = binary.BigEndian.Uint16(f.Payload)
					}
				}
			}
			if code != tc.closeCode {
				t.Errorf("client sent close %d, want %d", code, tc.closeCode)
			}
		})
	}
}

// TestReaderPongs checks the answers to server heartbeats.
func TestReaderPongs(t *testing.T) {
	var pushed []*pb.Envelope
	c, conn := scriptClient(TransportWS, false, [][]byte{wsServerFrame(0x9, true, []byte("abc"))}, &pushed)
	c.run()
	frames, err := conn.clientFrames()
	if err != nil || len(frames) != 1 || frames[0].Header.OpCode != ws.OpPong || string(frames[0].Payload) != "abc" {
		t.Fatalf("answer to ping: %v, %v", frames, err)
	}

	c, conn = scriptClient(TransportFrame, false, [][]byte{frame.AppendFrame(nil, 12, 9, nil)}, &pushed)
	c.run()
	conn.mu.Lock()
	got := conn.written
	conn.mu.Unlock()
	f, n, err := frame.Decode(got, 0)
	if err != nil || n != len(got) || f.Type != uint8(pb.Type_TYPE_PONG) || f.RequestID != 9 {
		t.Fatalf("answer to PING: % x", got)
	}
}

// TestReaderUnmatchedReplies checks that replies nobody waits for are
// pushed, except PONG.
func TestReaderUnmatchedReplies(t *testing.T) {
	var stream []byte
	want := []*pb.Envelope{
		{Type: pb.Type_TYPE_JOINED, Id: 1, Conversation: "c1", Seq: 3},
		{Type: pb.Type_TYPE_ERROR, Id: 9, Error: &pb.Error{Code: pb.Code_CODE_FORBIDDEN}},
		{Type: pb.Type_TYPE_ACK, Id: 4, Seq: 7},
		{Type: pb.Type_TYPE_GOAWAY},
	}
	for _, e := range want {
		stream = append(stream, mustFrame(t, e)...)
	}
	stream = append(stream, frame.AppendFrame(nil, 13, 3, nil)...) // PONG: dropped
	var pushed []*pb.Envelope
	c, _ := scriptClient(TransportFrame, false, [][]byte{stream}, &pushed)
	c.run()
	if !sameEnvelopes(pushed, want) {
		t.Fatalf("pushed %v", pushed)
	}
	if !errors.Is(c.Err(), ErrGoAway) || !errors.Is(c.Err(), ErrDisconnected) {
		t.Fatalf("Err = %v", c.Err())
	}
}
