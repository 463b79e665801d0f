// Package runner runs a scenario over one or more worker processes and
// aggregates them (the protocol is in package bench's doc).
//
// Run splits a Spec among workers (connections and rates in proportion),
// starts them (re-executing the binary as `kefu-bench worker`, or as
// goroutines for one worker and in tests), waits until every worker is set
// up, gives them one start instant, collects their snapshots each second
// (workers report on whole seconds; the coordinator reads 300ms later),
// prints the progress line, reads the target (/proc RSS and CPU,
// /metrics, sockstat) while every connection is up, and returns the
// merged Result. Serve is the worker's side.
//
// Bounds: every scenario ends by itself; on top of that the coordinator
// stops the workers at setup timeout + timed part + drain + 1 minute, and
// kills any that has not reported 30 seconds after being told to stop.
// Workers die with the coordinator (Pdeathsig).
package runner
