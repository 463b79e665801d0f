package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Header names set on every delivery.
const (
	HeaderEventID   = "Kefu-Event-Id"
	HeaderEventType = "Kefu-Event-Type"
	HeaderTimestamp = "Kefu-Timestamp"
	HeaderSignature = "Kefu-Signature"
)

// signaturePrefix tags the signature scheme: v1 = HMAC-SHA256 over
// timestamp "." body, lowercase hex.
const signaturePrefix = "v1="

// AppendSignature appends the Kefu-Signature header value for body sent at
// Unix time ts: "v1=" + hex(HMAC-SHA256(secret, decimal(ts) + "." + body)).
func AppendSignature(dst []byte, secret string, ts int64, body []byte) []byte {
	var num [20]byte
	dst = append(dst, signaturePrefix...)
	return appendMAC(dst, secret, strconv.AppendInt(num[:0], ts, 10), body)
}

// appendMAC appends hex(HMAC-SHA256(secret, ts + "." + body)); ts is the
// timestamp exactly as it travels in the header.
func appendMAC(dst []byte, secret string, ts, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(ts)
	mac.Write([]byte{'.'})
	mac.Write(body)
	var sum [sha256.Size]byte
	return hex.AppendEncode(dst, mac.Sum(sum[:0]))
}

// Verify is the receiver's check, for Go receivers and for tests: it
// recomputes the signature over the raw body with the endpoint's secret,
// compares it in constant time with the Kefu-Signature header, and refuses a
// Kefu-Timestamp further than tolerance from now (replay protection;
// tolerance <= 0 skips that check).
func Verify(secret, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if tolerance > 0 {
		d := now.Sub(time.Unix(ts, 0))
		if d > tolerance || d < -tolerance {
			return ErrTimestamp
		}
	}
	got, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return ErrSignature
	}
	want := appendMAC(nil, secret, []byte(timestamp), body)
	if !hmac.Equal([]byte(got), want) {
		return ErrSignature
	}
	return nil
}
