// Package token signs and verifies identity tokens with a site secret.
//
// A token proves that the site's backend (which holds the secret) vouches
// for a user id in a role until an expiry time, the way Intercom and Crisp
// verify users. Format:
//
//	<exp unix seconds> "." base64url-nopad( HMAC-SHA256(secret, msg) )
//	msg = "kefu-v1\n" site "\n" role "\n" user "\n" exp
//
// Verification compares MACs in constant time (hmac.Equal). The package
// holds no state; it is safe for concurrent use.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors returned by Verify.
var (
	// ErrMalformed means the token is not of the documented form.
	ErrMalformed = errors.New("token: malformed")
	// ErrExpired means the token's expiry time has passed.
	ErrExpired = errors.New("token: expired")
	// ErrBadSignature means the MAC does not match: wrong secret, or the
	// token was issued for another site, role or user.
	ErrBadSignature = errors.New("token: bad signature")
	// ErrNoSecret means the verifier has no secret to check against.
	ErrNoSecret = errors.New("token: no secret configured")
)

// MinSecretLen is the shortest secret Sign and Verify accept.
const MinSecretLen = 16

// Sign returns a token for (site, role, user) valid until exp.
func Sign(secret []byte, site, role, user string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	mac := computeMAC(secret, site, role, user, e)
	return e + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// Verify checks tok against (site, role, user) at time now.
func Verify(secret []byte, tok, site, role, user string, now time.Time) error {
	if len(secret) < MinSecretLen {
		return ErrNoSecret
	}
	dot := strings.IndexByte(tok, '.')
	if dot <= 0 || dot > 19 || len(tok)-dot-1 != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return ErrMalformed
	}
	e := tok[:dot]
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || exp <= 0 {
		return ErrMalformed
	}
	var got [sha256.Size]byte
	if n, err := base64.RawURLEncoding.Decode(got[:], []byte(tok[dot+1:])); err != nil || n != sha256.Size {
		return ErrMalformed
	}
	want := computeMAC(secret, site, role, user, e)
	if !hmac.Equal(got[:], want) {
		return ErrBadSignature
	}
	if now.Unix() >= exp {
		return ErrExpired
	}
	return nil
}

func computeMAC(secret []byte, site, role, user, exp string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("kefu-v1\n"))
	h.Write([]byte(site))
	h.Write([]byte{'\n'})
	h.Write([]byte(role))
	h.Write([]byte{'\n'})
	h.Write([]byte(user))
	h.Write([]byte{'\n'})
	h.Write([]byte(exp))
	return h.Sum(nil)
}
