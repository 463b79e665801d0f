package storage

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestParseDurability(t *testing.T) {
	tests := []struct {
		in      string
		want    Durability
		wantErr bool
	}{
		{"sync", DurabilitySync, false},
		{"", DurabilitySync, false},
		{"async", DurabilityAsync, false},
		{"SYNC", 0, true},
		{"fsync", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDurability(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDurability(%q) = %v, %v", tt.in, got, err)
		}
	}
	var d Durability
	if err := d.UnmarshalText([]byte("async")); err != nil || d != DurabilityAsync {
		t.Fatalf("UnmarshalText: %v %v", d, err)
	}
	if b, err := d.MarshalText(); err != nil || string(b) != "async" {
		t.Fatalf("MarshalText: %q %v", b, err)
	}
	if _, err := Durability(9).MarshalText(); err == nil {
		t.Fatal("MarshalText accepted an invalid value")
	}
}

func TestOptions(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if o.Logger == nil || o.CacheSize != DefaultCacheSize || o.MemTableSize != DefaultMemTableSize ||
		o.SyncInterval != DefaultSyncInterval ||
		o.Durability != DurabilitySync {
		t.Fatalf("defaults %+v", o)
	}
	tests := []struct {
		name   string
		modify func(*Options)
		errSub string
	}{
		{"ok", func(o *Options) { o.Dir = "x" }, ""},
		{"no dir", func(o *Options) {}, "Dir"},
		{"bad durability", func(o *Options) { o.Dir = "x"; o.Durability = 7 }, "Durability"},
		{"negative cache", func(o *Options) { o.Dir = "x"; o.CacheSize = -1 }, "CacheSize"},
		{"tiny memtable", func(o *Options) { o.Dir = "x"; o.MemTableSize = 1024 }, "MemTableSize"},
		{"huge memtable", func(o *Options) { o.Dir = "x"; o.MemTableSize = 1 << 40 }, "MemTableSize"},
	}
	for _, tt := range tests {
		o := Options{}
		o.EnsureDefaults()
		tt.modify(&o)
		err := o.Validate()
		if tt.errSub == "" && err != nil || tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)) {
			t.Errorf("%s: Validate() = %v, want error containing %q", tt.name, err, tt.errSub)
		}
	}
	if _, err := Open(Options{}); err == nil {
		t.Fatal("Open without Dir succeeded")
	}
}

// TestPebbleLogger checks that Pebble's lines go to slog at the mapped
// levels and that a store opens and closes without writing to stderr by
// itself (all lines land in the injected logger).
func TestPebbleLogger(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := pebbleLogger{l: l}
	p.Infof("info %d", 1)
	p.Errorf("error %d", 2)
	out := buf.String()
	if !strings.Contains(out, "level=DEBUG msg=\"info 1\"") || !strings.Contains(out, "level=WARN msg=\"error 2\"") {
		t.Fatalf("log output %q", out)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Fatalf returned")
			}
		}()
		p.Fatalf("fatal %d", 3)
	}()
	if !strings.Contains(buf.String(), "level=ERROR msg=\"fatal 3\"") {
		t.Fatalf("log output %q", buf.String())
	}
	buf.Reset()
	s, err := Open(Options{Dir: t.TempDir(), Logger: l})
	must(t, err)
	must(t, s.Close())
	if !strings.Contains(buf.String(), "component=pebble") {
		t.Fatalf("no pebble lines reached the logger: %q", buf.String())
	}
}
