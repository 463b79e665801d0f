// Package bench is the command line of kefu-bench, the load generator
// (cmd/kefu-bench is a thin main around Main).
//
// # Layout
//
//	bench            the command line: flags → scenario.Spec → runner
//	bench/runner     the coordinator: splits a run among worker processes
//	                 (or goroutines), starts them together, aggregates their
//	                 snapshots every second, probes the target
//	bench/scenario   conn, relay, storm, mqtt, mixed: what the connections do
//	bench/client     gnet client pool: WebSocket, binary-frame and MQTT
//	                 clients on a few event loops, source-address spreading
//	bench/hist       log-linear latency histograms that merge across workers
//	bench/report     snapshots, results, the table, JSON and HTML
//	bench/probe      /proc, sockstat, /metrics, getrusage
//	bench/baseline   what Kefu is compared with: the gorilla/websocket hub
//	                 (chat) and mochi-mqtt (MQTT)
//
// # Processes
//
// One process holds at most its open-file limit of sockets. A run that
// needs more re-executes the binary as `kefu-bench worker` processes, each
// with a share of the connections and of the rates. They talk JSON lines:
//
//	coordinator → worker   {"spec":{…}}                 set up (connect)
//	worker → coordinator   {"snap":{…}}                 every second
//	worker → coordinator   {"ready":true,"snap":{…}}    setup over
//	coordinator → worker   {"start":"<RFC 3339 time>"}  when all are ready
//	coordinator → worker   {"stop":true} or EOF         finish early (Ctrl-C)
//	worker → coordinator   {"final":true,"snap":{…}}    last report, then exit
//
// Workers ignore SIGINT: a Ctrl-C reaches the coordinator, which stops them
// over stdin so that every worker still reports.
package bench
