package accounts

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPasswordFormat(t *testing.T) {
	h1, err := HashPassword("correct horse", DefaultArgon2())
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(h1) {
		t.Fatalf("hash %q is not PHC argon2id with the default parameters", h1)
	}
	h2, _ := HashPassword("correct horse", DefaultArgon2())
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	ok, err := VerifyPassword(h1, "correct horse")
	if err != nil || !ok {
		t.Fatalf("verify right password: %v %v", ok, err)
	}
}

func TestVerifyPassword(t *testing.T) {
	const pw = "s3cret-passw0rd"
	h, err := HashPassword(pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, pw string
		want     bool
	}{
		{"right", pw, true},
		{"first byte differs", "S3cret-passw0rd", false},
		{"last byte differs", "s3cret-passw0rD", false},
		{"prefix", pw[:len(pw)-1], false},
		{"longer", pw + "x", false},
		{"empty", "", false},
		{"too long", strings.Repeat("a", MaxPasswordLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VerifyPassword(h, tc.pw)
			if err != nil || got != tc.want {
				t.Fatalf("VerifyPassword = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good, _ := HashPassword("password1", cheap)
	f := strings.Split(good, "$")
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"version", strings.Replace(good, "v=19", "v=16", 1)},
		{"params order", strings.Join([]string{"", f[1], f[2], "t=1,m=64,p=1", f[4], f[5]}, "$")},
		{"params missing", strings.Join([]string{"", f[1], f[2], "m=64,t=1", f[4], f[5]}, "$")},
		{"memory huge", strings.Join([]string{"", f[1], f[2], "m=4294967295,t=1,p=1", f[4], f[5]}, "$")},
		{"time zero", strings.Join([]string{"", f[1], f[2], "m=64,t=0,p=1", f[4], f[5]}, "$")},
		{"lanes 256", strings.Join([]string{"", f[1], f[2], "m=4096,t=1,p=256", f[4], f[5]}, "$")},
		{"salt not base64", strings.Join([]string{"", f[1], f[2], f[3], "!!!!", f[5]}, "$")},
		{"salt short", strings.Join([]string{"", f[1], f[2], f[3], "AAAA", f[5]}, "$")},
		{"key short", strings.Join([]string{"", f[1], f[2], f[3], f[4], "AAAA"}, "$")},
		{"extra field", good + "$x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok, err := VerifyPassword(tc.hash, "password1"); !errors.Is(err, ErrBadHash) || ok {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want ErrBadHash", tc.hash, ok, err)
			}
		})
	}
}

func TestHashPasswordRejects(t *testing.T) {
	if _, err := HashPassword("short", cheap); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if _, err := HashPassword(strings.Repeat("x", MaxPasswordLen+1), cheap); !errors.Is(err, ErrInvalid) {
		t.Fatalf("long password: %v", err)
	}
	bad := cheap
	bad.SaltLen = 4
	if _, err := HashPassword("password1", bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short salt: %v", err)
	}
}

// TestVerifyConstantTimeCompare: the comparison is subtle.ConstantTimeCompare
// over the full derived key, so a wrong password costs the same whether it
// matches 0 or all but one byte of the key; what can be checked without
// timing is that the key length is not shortcut (a stored key differing
// only in its last byte is refused).
func TestVerifyConstantTimeCompare(t *testing.T) {
	h, _ := HashPassword("password1", cheap)
	i := strings.LastIndexByte(h, '$')
	key, _ := b64.DecodeString(h[i+1:])
	key[len(key)-1] ^= 1
	tampered := h[:i+1] + b64.EncodeToString(key)
	if ok, err := VerifyPassword(tampered, "password1"); ok || err != nil {
		t.Fatalf("tampered last key byte verified: %v %v", ok, err)
	}
}
