package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params is the cost of an argon2id hash (RFC 9106).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes of random salt per hash
	KeyLen  uint32 // bytes of derived key
}

// DefaultArgon2 returns OWASP's recommended argon2id configuration (19 MiB
// of memory, 2 passes, 1 lane) with a 16-byte salt and a 32-byte key.
func DefaultArgon2() Argon2Params {
	return Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters, both for new hashes and for stored ones being
// verified (a corrupt record must not make Login allocate gigabytes).
const (
	maxArgonMemory = 1 << 20 // KiB: 1 GiB
	maxArgonTime   = 64
	minSaltLen     = 8
	maxSaltLen     = 64
	minKeyLen      = 16
	maxKeyLen      = 64
)

// Limits of passwords, in bytes.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024 // bounds the work of one hash
)

// Validate reports parameters outside the accepted bounds.
func (p Argon2Params) Validate() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory:
		return fmt.Errorf("%w: argon2 memory %d KiB", ErrInvalid, p.Memory)
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("%w: argon2 time %d", ErrInvalid, p.Time)
	case p.Threads < 1:
		return fmt.Errorf("%w: argon2 threads %d", ErrInvalid, p.Threads)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: argon2 salt length %d", ErrInvalid, p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: argon2 key length %d", ErrInvalid, p.KeyLen)
	}
	return nil
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string of password under p with a fresh
// random salt:
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<key b64>
func HashPassword(password string, p Argon2Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if err := validPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string encoded.
// The derived keys are compared in constant time (subtle.ConstantTimeCompare);
// the work done does not depend on where a wrong password differs. It
// returns ErrBadHash for a string it cannot parse.
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseHash splits a PHC argon2id string into its parameters, salt and key.
func parseHash(s string) (p Argon2Params, salt, key []byte, err error) {
	// "" "argon2id" "v=19" "m=..,t=..,p=.." salt key
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrBadHash
	}
	var m, t, l uint64
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, ErrBadHash
	}
	for i, dst := range []*uint64{&m, &t, &l} {
		name := [...]string{"m=", "t=", "p="}[i]
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return p, nil, nil, ErrBadHash
		}
		if *dst, err = strconv.ParseUint(v, 10, 32); err != nil {
			return p, nil, nil, ErrBadHash
		}
	}
	if l > 255 {
		return p, nil, nil, ErrBadHash
	}
	if salt, err = b64.DecodeString(f[4]); err != nil {
		return p, nil, nil, ErrBadHash
	}
	if key, err = b64.DecodeString(f[5]); err != nil {
		return p, nil, nil, ErrBadHash
	}
	p = Argon2Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(l),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if p.Validate() != nil {
		return p, nil, nil, ErrBadHash
	}
	return p, salt, key, nil
}

func validPassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return fmt.Errorf("%w: password shorter than %d bytes", ErrInvalid, MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: password longer than %d bytes", ErrInvalid, MaxPasswordLen)
	}
	return nil
}

// randomPassword returns a one-time password: 18 random bytes, base64url
// (24 characters, 144 bits).
func randomPassword() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
