// Package probe reads what the bench reports about the machine and the
// target beside its own figures: a process's resident memory and CPU time
// from /proc, the kernel's TCP socket memory from /proc/net/sockstat, a
// Prometheus /metrics page, and the bench's own CPU time (getrusage).
//
// Every function is safe for concurrent use and holds no state.
package probe
