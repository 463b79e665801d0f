// Package testutil holds small helpers shared by the tests of Kefu's
// packages: polling for a condition (WaitFor), detecting goroutines a test
// left running (CheckGoroutineLeaks) and minting identity tokens
// (MintToken).
//
// Every helper takes the test's testing.TB and reports through it, so each
// must be called from the test's own goroutine (t.Fatal rules). The
// package holds no state.
package testutil
