package fnv

import (
	stdfnv "hash/fnv"
	"testing"
)

func TestMatchesStandardLibrary(t *testing.T) {
	for _, s := range []string{"", "a", "ab", "conversation-0123456789", "a:alice\x00m-1", "☃"} {
		h := stdfnv.New64a()
		h.Write([]byte(s))
		if got, want := String64(s), h.Sum64(); got != want {
			t.Errorf("String64(%q) = %x, want %x", s, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = String64("0123456789abcdefghij") }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}
