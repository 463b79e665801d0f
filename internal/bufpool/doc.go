// Package bufpool recycles byte buffers in power-of-two size classes, from
// 64 B to 1 MiB, the way VictoriaMetrics' leveled pools do: a request gets a
// buffer from the smallest class that fits, so a 70-byte frame does not pin a
// 1 MiB buffer, and a buffer that grew past 1 MiB is dropped rather than kept
// forever.
//
//	class:   0     1     2     3        ...      14
//	cap:    64   128   256   512        ...    1 MiB
//	Get(n):  smallest class with cap >= n   (n > 1 MiB: plain make)
//	Put(b):  largest class with cap <= cap(b)  (cap > 1 MiB or < 64: dropped)
//
// # Ownership
//
// A buffer belongs to whoever called Get until they call Put; after Put
// neither the pointer nor the slice may be used, since another goroutine may
// already own it. Put resets the length to zero; it does not clear the bytes.
// Buffers travel as *[]byte so that Put stores a pointer in the sync.Pool
// without allocating; the holder appends through it:
//
//	bp := pool.Get(n)
//	*bp = AppendFrame(*bp, ...)
//	write(*bp)
//	pool.Put(bp)
//
// There is no package-level pool: the engine owns a Pool and passes it to
// the codecs and writers that need one. Get and Put may be called from any
// goroutine.
package bufpool
