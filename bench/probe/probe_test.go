package probe

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestSelf(t *testing.T) {
	rss, err := RSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("RSS %d %v", rss, err)
	}
	if _, err := CPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSockstat(); err != nil {
		t.Fatal(err)
	}
	if u, s := Usage(syscall.RUSAGE_SELF); u+s <= 0 {
		t.Fatal("no CPU time")
	}
}

func TestParsers(t *testing.T) {
	cpu, err := parseStatCPU([]byte("42 (my (odd) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3"))
	if err != nil || cpu != 3.0 {
		t.Fatalf("cpu %v %v", cpu, err)
	}
	ss, err := parseSockstat([]byte("sockets: used 10\nTCP: inuse 5 orphan 0 tw 7 alloc 9 mem 3\nUDP: inuse 1 mem 0\n"), 4096)
	if err != nil || ss != (Sockstat{InUse: 5, TimeWait: 7, MemBytes: 3 * 4096}) {
		t.Fatalf("%+v %v", ss, err)
	}
	v, err := statusField([]byte("Name:\tx\nVmRSS:\t  1234 kB\n"), "VmRSS:")
	if err != nil || v != 1234*1024 {
		t.Fatalf("%d %v", v, err)
	}
	m, err := ParseMetrics(strings.NewReader(`# HELP kefu_connections x
# TYPE kefu_connections gauge
kefu_connections{protocol="ws"} 10
kefu_connections{protocol="frame",x="a b}"} 5
process_resident_memory_bytes 1.5e+06
h_bucket{le="+Inf"} 3 1700000000
`))
	if err != nil || m["kefu_connections"] != 15 || m["process_resident_memory_bytes"] != 1.5e6 || m["h_bucket"] != 3 {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := ParseMetrics(strings.NewReader("x{a=1\n")); err == nil {
		t.Fatal("bad line accepted")
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "127.9.9.9": true, "::1": true, "localhost": true, "": true, "10.0.0.1": false, "8.8.8.8": false} {
		if IsLoopback(host) != want {
			t.Errorf("IsLoopback(%q) != %v", host, want)
		}
	}
}
