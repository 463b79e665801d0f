// Package fnv is 64-bit FNV-1a over a string, without the allocation and
// interface call of hash/fnv: shard selection, de-duplication keys and the
// routing hash ring use it on every request. It holds no state.
package fnv

const (
	offset64 = 14695981039346656037
	prime64  = 1099511628211
)

// String64 returns the 64-bit FNV-1a hash of s.
func String64(s string) uint64 {
	h := uint64(offset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime64
	}
	return h
}
