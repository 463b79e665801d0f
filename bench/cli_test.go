package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/bench/report"
	"github.com/kefu-im/kefu/internal/testserver"
)

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"help"}, 0, "usage"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"conn", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"conn", "--addr", "10.9.8.7:7000"}, 2, "--allow-remote"},
		{[]string{"relay", "--proto", "mqtt"}, 2, "relay runs Kefu conversations"},
		{[]string{"relay", "--proto", "carrier-pigeon"}, 2, "unknown transport"},
		{[]string{"mqtt", "--proto", "ws"}, 2, "speaks MQTT"},
		{[]string{"mqtt", "--qos", "3"}, 2, "qos 3 outside"},
		{[]string{"mqtt", "--payload", "8"}, 2, "payload 8 outside [16"},
		{[]string{"mqtt", "--mqtt-version", "3"}, 2, "mqtt-version 3 outside"},
		{[]string{"mqtt", "--fanout", "0"}, 2, "at least 1"},
		{[]string{"baseline-mochi", "--writes-pending", "-1"}, 1, "WritesPending"},
		{[]string{"conn", "--conns", "0"}, 2, "at least 1"},
		{[]string{"conn", "extra"}, 2, "unexpected arguments"},
		{[]string{"storm", "--metrics", "http://10.9.8.7/metrics"}, 2, "metrics"},
	} {
		var out, errb bytes.Buffer
		if code := Main(tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%v: code %d, stderr %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.msg)
		}
	}
}

// TestConnJSON runs the conn command end to end and reads its JSON.
func TestConnJSON(t *testing.T) {
	srv := testserver.Start(t)
	var out, errb bytes.Buffer
	code := Main([]string{"conn", "--addr", srv.Addr(), "--proto", "frame", "--conns", "20", "--hold", "200ms",
		"--json", "--quiet", "--workers", "1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r report.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if r.Summary.Connected != 20 || r.Params["conns"] != "20" || r.Transport != "frame" {
		t.Fatalf("result %+v", r.Summary)
	}
}

// TestRelaySecretFromData: an agent token signed with the secret found in
// a data directory.
func TestRelaySecretFromData(t *testing.T) {
	srv := testserver.Start(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "demo.secret"), []byte(testserver.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	page := filepath.Join(dir, "report.html")
	code := Main([]string{"relay", "--addr", srv.Addr(), "--data", dir, "--pairs", "3", "--rate", "60",
		"--warmup", "100ms", "--duration", "300ms", "--drain", "10s", "--quiet", "--report", page}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "lost 0") {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "latency distribution") {
		t.Fatalf("HTML report: %v", err)
	}
}

// TestMQTTCommand runs the mqtt command end to end against Kefu, with the
// device tokens signed from --secret, and reads its table and HTML page.
func TestMQTTCommand(t *testing.T) {
	srv := testserver.Start(t)
	var out, errb bytes.Buffer
	page := filepath.Join(t.TempDir(), "mqtt.html")
	code := Main([]string{"mqtt", "--addr", srv.Addr(), "--secret", testserver.Secret, "--pairs", "3", "--fanout", "2",
		"--qos", "2", "--rate", "60", "--warmup", "100ms", "--duration", "300ms", "--drain", "10s", "--quiet",
		"--workers", "1", "--report", page}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "lost 0") || !strings.Contains(out.String(), "qos=2") {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "delivered/s") {
		t.Fatalf("HTML report: %v", err)
	}
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, r report.Result) {
		b, _ := json.Marshal(r)
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mk("kefu-sync_idle.1", report.Result{Summary: report.Summary{PeakOpen: 100}, Server: &report.Server{RSSPerConn: 700}})
	mk("kefu-sync_idle.2", report.Result{Summary: report.Summary{PeakOpen: 100}, Server: &report.Server{RSSPerConn: 600}})
	mk("kefu-sync_idle.3", report.Result{Summary: report.Summary{PeakOpen: 100}, Server: &report.Server{RSSPerConn: 800}, LoadAfter: 3.5})
	mk("gorilla_idle", report.Result{Summary: report.Summary{PeakOpen: 100}, Server: &report.Server{RSSPerConn: 17 * 1024}})
	mk("kefu-sync_relay-10k", report.Result{Params: map[string]string{"rate": "10000"},
		Summary: report.Summary{MsgsPerSec: 10000, Delivered: 1, Latency: map[string]report.Percentiles{"e2e": {Count: 1, P99: 1.5}}}})
	mk("kefu-sync_mqtt-idle", report.Result{Params: map[string]string{"conns": "19000"}, Summary: report.Summary{PeakOpen: 19000},
		Server: &report.Server{RSSPerConn: 1200}})
	mk("mochi_mqtt-idle", report.Result{Summary: report.Summary{PeakOpen: 19000}, Server: &report.Server{RSSPerConn: 10 * 1024}})
	mk("mosquitto_mqtt-qos1-rate", report.Result{Params: map[string]string{"rate": "5000"},
		Summary: report.Summary{MsgsPerSec: 5000, Delivered: 1}})
	var out, errb bytes.Buffer
	if code := Main([]string{"compare", "--dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"| Server RSS per idle WebSocket connection | 0.68 KiB (0.59–0.78) | — | 17 KiB | 0.04× (24.9× better) | — |", "median of 3 run(s)", "reached 3.5",
		"Relay at 10000 msg/s, end-to-end p99 | 1.50 ms", "## Machine",
		"## MQTT: Kefu's broker vs. mochi-mqtt and mosquitto",
		"| figure | Kefu sync | Kefu async | mochi-mqtt | mosquitto | sync ÷ mochi | async ÷ mochi | sync ÷ mosquitto | async ÷ mosquitto |",
		"| Server RSS per idle MQTT connection (Kefu target ≤ 1.5 KiB) | 1.17 KiB | — | 10 KiB | — | 0.12× (8.5× better) | — | — | — |",
		"| QoS 1 at 5000 msg/s offered, delivered | — | — | — | 5000 msg/s | — | — | — | — |",
		"- **Idle**: 19000 MQTT 3.1.1 connections"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, out.String())
		}
	}
}
