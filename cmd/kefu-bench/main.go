// Command kefu-bench is Kefu's load generator: connection density, message
// relay throughput and latency, connect/disconnect churn, against Kefu or
// the gorilla/websocket baseline hub. See package bench, or run
// `kefu-bench help`.
package main

import (
	"os"

	"github.com/kefu-im/kefu/bench"
)

func main() {
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
