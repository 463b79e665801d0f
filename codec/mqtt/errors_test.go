package mqtt

import (
	"errors"
	"fmt"
	"testing"
)

// pkt builds a packet from byte 0 and a hex body, computing the length.
func pkt(t testing.TB, b0 byte, body string) []byte {
	b := unhex(t, body)
	return append(AppendVarint([]byte{b0}, len(b)), b...)
}

const connectV4 = "00 04 4D 51 54 54 04"

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		version byte
		src     []byte
		want    error
	}{
		{"type0", 4, unhex(t, "00 00"), ErrBadType},
		{"auth_v4", 4, unhex(t, "F0 00"), ErrBadType},
		{"publish_qos3", 4, unhex(t, "36"), ErrBadQoS},
		{"publish_dup_qos0", 4, unhex(t, "38"), ErrBadFlags},
		{"pubrel_flags", 4, unhex(t, "60 02 00 01"), ErrBadFlags},
		{"subscribe_flags", 4, unhex(t, "80"), ErrBadFlags},
		{"pingreq_flags", 4, unhex(t, "C1 00"), ErrBadFlags},
		{"length_5_bytes", 4, unhex(t, "30 FF FF FF FF 7F"), ErrBadLength},
		{"too_large_default", 4, unhex(t, "30 FF FF FF 7F"), ErrTooLarge},
		{"pingreq_body", 4, unhex(t, "C0 01 00"), ErrBadLength},
		{"disconnect_v4_body", 4, unhex(t, "E0 01 00"), ErrBadLength},
		{"puback_v4_long", 4, unhex(t, "40 03 00 01 00"), ErrBadLength},
		{"puback_short", 5, unhex(t, "40 01 00"), ErrBadLength},
		{"puback_id0", 4, unhex(t, "40 02 00 00"), ErrNoPacketID},
		{"puback_bad_reason", 5, unhex(t, "40 03 00 01 05"), ErrProtocol},
		{"pubcomp_bad_reason", 5, unhex(t, "70 03 00 01 10"), ErrProtocol},
		{"puback_props_past_end", 5, unhex(t, "40 05 00 01 00 05 1F"), ErrMalformed},
		{"puback_props_trailing", 5, unhex(t, "40 06 00 01 00 00 00 00"), ErrMalformed},
		{"publish_id0", 4, pkt(t, 0x32, "00 01 74 00 00"), ErrNoPacketID},
		{"publish_plus", 4, pkt(t, 0x30, "00 03 61 2F 2B"), ErrTopicInvalid},
		{"publish_hash", 5, pkt(t, 0x30, "00 01 23 00"), ErrTopicInvalid},
		{"publish_empty_topic_v4", 4, pkt(t, 0x30, "00 00"), ErrTopicInvalid},
		{"publish_empty_topic_no_alias", 5, pkt(t, 0x30, "00 00 00"), ErrProtocol},
		{"publish_bad_utf8", 4, pkt(t, 0x30, "00 02 C3 28"), ErrBadUTF8},
		{"publish_nul", 4, pkt(t, 0x30, "00 02 61 00"), ErrBadUTF8},
		{"publish_surrogate", 4, pkt(t, 0x30, "00 03 ED A0 80"), ErrBadUTF8},
		{"publish_topic_past_end", 4, pkt(t, 0x30, "00 05 61"), ErrMalformed},
		{"publish_alias0", 5, pkt(t, 0x30, "00 01 74 03 23 00 00"), ErrTopicAlias},
		{"publish_props_past_end", 5, pkt(t, 0x30, "00 01 74 05 01"), ErrMalformed},
		{"publish_prop_straddles", 5, pkt(t, 0x30, "00 01 74 01 02 00 00 00 3C"), ErrMalformed},
		{"publish_prop_unknown", 5, pkt(t, 0x30, "00 01 74 01 7F"), ErrBadProperty},
		{"publish_prop_not_allowed", 5, pkt(t, 0x30, "00 01 74 05 11 00 00 00 01"), ErrBadProperty},
		{"publish_prop_dup", 5, pkt(t, 0x30, "00 01 74 04 01 00 01 00"), ErrDupProperty},
		{"publish_payload_format_2", 5, pkt(t, 0x30, "00 01 74 02 01 02"), ErrPropertyValue},
		{"publish_response_wildcard", 5, pkt(t, 0x30, "00 01 74 04 08 00 01 23"), ErrPropertyValue},
		{"publish_subid_0", 5, pkt(t, 0x30, "00 01 74 02 0B 00"), ErrPropertyValue},
		{"publish_user_bad_utf8", 5, pkt(t, 0x30, "00 01 74 07 26 00 01 FF 00 01 61"), ErrBadUTF8},
		{"publish_props_varint_5", 5, pkt(t, 0x30, "00 01 74 80 80 80 80 01"), ErrMalformed},
		{"subscribe_no_filters_v4", 4, pkt(t, 0x82, "00 01"), ErrNoFilters},
		{"subscribe_no_filters_v5", 5, pkt(t, 0x82, "00 01 00"), ErrNoFilters},
		{"subscribe_no_options", 5, pkt(t, 0x82, "00 01 00 00 01 61"), ErrMalformed},
		{"subscribe_no_options_v4", 4, pkt(t, 0x82, "00 01 00 01 61"), ErrMalformed},
		{"subscribe_id0", 4, pkt(t, 0x82, "00 00 00 01 61 00"), ErrNoPacketID},
		{"subscribe_v4_reserved", 4, pkt(t, 0x82, "00 01 00 01 61 04"), ErrBadFlags},
		{"subscribe_v4_qos3", 4, pkt(t, 0x82, "00 01 00 01 61 03"), ErrBadQoS},
		{"subscribe_v5_reserved", 5, pkt(t, 0x82, "00 01 00 00 01 61 40"), ErrBadFlags},
		{"subscribe_v5_rh3", 5, pkt(t, 0x82, "00 01 00 00 01 61 30"), ErrProtocol},
		{"subscribe_v5_qos3", 5, pkt(t, 0x82, "00 01 00 00 01 61 03"), ErrBadQoS},
		{"subscribe_subid0", 5, pkt(t, 0x82, "00 01 02 0B 00 00 01 61 00"), ErrPropertyValue},
		{"subscribe_two_subids", 5, pkt(t, 0x82, "00 01 04 0B 01 0B 02 00 01 61 00"), ErrDupProperty},
		{"subscribe_bad_utf8", 4, pkt(t, 0x82, "00 01 00 01 FF 00"), ErrBadUTF8},
		{"unsubscribe_no_filters", 4, pkt(t, 0xA2, "00 01"), ErrNoFilters},
		{"unsubscribe_id0", 5, pkt(t, 0xA2, "00 00 00 00 01 61"), ErrNoPacketID},
		{"suback_bad_code_v4", 4, pkt(t, 0x90, "00 01 03"), ErrProtocol},
		{"suback_no_codes", 5, pkt(t, 0x90, "00 01 00"), ErrMalformed},
		{"unsuback_v4_codes", 4, pkt(t, 0xB0, "00 01 00"), ErrBadLength},
		{"connack_flags", 4, pkt(t, 0x20, "02 00"), ErrBadFlags},
		{"connack_v4_long", 4, pkt(t, 0x20, "00 00 00"), ErrBadLength},
		{"connack_v4_code", 4, pkt(t, 0x20, "00 06"), ErrProtocol},
		{"connack_v5_no_props", 5, pkt(t, 0x20, "00 00"), ErrMalformed},
		{"disconnect_bad_reason", 5, pkt(t, 0xE0, "01"), ErrProtocol},
		{"disconnect_prop_not_allowed", 5, pkt(t, 0xE0, "00 02 01 00"), ErrBadProperty},
		{"auth_bad_reason", 5, pkt(t, 0xF0, "05"), ErrProtocol},
		{"connect_bad_name", 0, pkt(t, 0x10, "00 04 4D 51 54 58 04 02 00 3C 00 00"), ErrBadProtocolName},
		{"connect_level_6", 0, pkt(t, 0x10, "00 04 4D 51 54 54 06 02 00 3C 00 00"), ErrUnsupportedVersion},
		{"connect_level_3_mqtt", 0, pkt(t, 0x10, "00 04 4D 51 54 54 03 02 00 3C 00 00"), ErrUnsupportedVersion},
		{"connect_reserved_flag", 0, pkt(t, 0x10, connectV4+" 03 00 3C 00 00"), ErrBadFlags},
		{"connect_will_qos3", 0, pkt(t, 0x10, connectV4+" 1E 00 3C 00 00 00 01 77 00 00"), ErrBadQoS},
		{"connect_will_retain_no_will", 0, pkt(t, 0x10, connectV4+" 22 00 3C 00 00"), ErrBadFlags},
		{"connect_will_qos_no_will", 0, pkt(t, 0x10, connectV4+" 0A 00 3C 00 00"), ErrBadFlags},
		{"connect_password_no_user", 0, pkt(t, 0x10, connectV4+" 42 00 3C 00 00 00 01 70"), ErrProtocol},
		{"connect_trailing", 0, pkt(t, 0x10, connectV4+" 02 00 3C 00 00 FF"), ErrMalformed},
		{"connect_truncated", 0, pkt(t, 0x10, connectV4+" 02 00 3C 00 05 61"), ErrMalformed},
		{"connect_client_id_utf8", 0, pkt(t, 0x10, connectV4+" 02 00 3C 00 01 FF"), ErrBadClientID},
		{"connect_will_topic_wildcard", 0, pkt(t, 0x10, connectV4+" 06 00 3C 00 00 00 01 23 00 00"), ErrTopicInvalid},
		{"connect_will_topic_empty", 0, pkt(t, 0x10, connectV4+" 06 00 3C 00 00 00 00 00 00"), ErrTopicInvalid},
		{"connect_user_utf8", 0, pkt(t, 0x10, connectV4+" 82 00 3C 00 00 00 01 FF"), ErrBadUTF8},
		{"connect_user_missing", 0, pkt(t, 0x10, connectV4+" 82 00 3C 00 00"), ErrMalformed},
		{"connect_v5_receive_max_0", 0, pkt(t, 0x10, "00 04 4D 51 54 54 05 02 00 3C 03 21 00 00 00 00"), ErrPropertyValue},
		{"connect_v5_max_packet_0", 0, pkt(t, 0x10, "00 04 4D 51 54 54 05 02 00 3C 05 27 00 00 00 00 00 00"), ErrPropertyValue},
		{"connect_v5_will_prop_wrong", 0, pkt(t, 0x10, "00 04 4D 51 54 54 05 06 00 3C 00 00 00 02 23 00 00 01 77 00 00"), ErrBadProperty},
		{"connect_v5_problem_info_2", 0, pkt(t, 0x10, "00 04 4D 51 54 54 05 02 00 3C 02 17 02 00 00"), ErrPropertyValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, n, err := Decode(c.src, c.version, 0)
			if err != c.want || n != 0 {
				t.Fatalf("Decode(% X) = n %d err %v, want %v", c.src, n, err, c.want)
			}
			// The same error whatever the cut.
			for cut := 0; cut <= len(c.src); cut++ {
				_, _, err := decodeStream([][]byte{c.src[:cut], c.src[cut:]}, c.version, 0)
				if err != c.want {
					t.Fatalf("cut %d: err %v, want %v", cut, err, c.want)
				}
			}
		})
	}
}

func TestDecodeUnsupportedVersionKeepsLevel(t *testing.T) {
	pk, _, err := Decode(pkt(t, 0x10, "00 04 4D 51 54 54 06 02 00 3C 00 00"), 0, 0)
	if err != ErrUnsupportedVersion || pk.ProtocolVersion != 6 {
		t.Fatalf("err %v version %d", err, pk.ProtocolVersion)
	}
}

func TestMaxPacket(t *testing.T) {
	b := pkt(t, 0x30, "00 01 74 61 62 63 64 65") // 10 bytes
	if _, n, err := Decode(b, 4, 10); err != nil || n != 10 {
		t.Fatalf("at limit: n %d err %v", n, err)
	}
	// Refused from the header alone: the body is not needed.
	if _, _, err := Decode(b[:2], 4, 9); err != ErrTooLarge {
		t.Fatalf("over limit: %v", err)
	}
	if _, n, err := Decode(b, 4, HardMaxPacket+1); err != nil || n != 10 {
		t.Fatalf("limit above the hard maximum: n %d err %v", n, err)
	}
}

func TestErrorHelpers(t *testing.T) {
	wrapped := fmt.Errorf("ctx: %w", ErrTopicAlias)
	for _, c := range []struct {
		err    error
		code   byte
		reason string
	}{
		{nil, 0, ""},
		{ErrMalformed, 0x81, "malformed"},
		{ErrBadQoS, 0x81, "bad_qos"},
		{ErrProtocol, 0x82, "protocol_error"},
		{ErrTooLarge, 0x95, "too_large"},
		{ErrUnsupportedVersion, 0x84, "bad_version"},
		{wrapped, 0x94, "topic_alias"},
		{errors.New("x"), 0x80, "other"},
	} {
		if Code(c.err) != c.code || Reason(c.err) != c.reason {
			t.Errorf("%v: code %#x reason %q", c.err, Code(c.err), Reason(c.err))
		}
	}
	for _, c := range []struct {
		v5, v3 byte
		ok     bool
	}{
		{0x00, 0x00, true}, {0x84, 0x01, true}, {0x85, 0x02, true}, {0x88, 0x03, true},
		{0x8B, 0x03, true}, {0x86, 0x04, true}, {0x87, 0x05, true}, {0x81, 0, false}, {0x82, 0, false},
	} {
		if v3, ok := V3Code(c.v5); v3 != c.v3 || ok != c.ok {
			t.Errorf("V3Code(%#x) = %#x %v", c.v5, v3, ok)
		}
	}
}
