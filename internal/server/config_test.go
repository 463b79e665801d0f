package server

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
)

// TestDocumentedDefaultsMatchCode: configs/kefu.yaml documents every
// option with its default; the values written there must be the ones the
// packages would choose for a zero value, so the file never lies.
func TestDocumentedDefaultsMatchCode(t *testing.T) {
	c, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	g := c.Gateway
	fromFile := engine.Options{
		Listeners: g.Listeners, EventLoops: g.EventLoops, HandshakeTimeout: g.HandshakeTimeout,
		PingInterval: g.PingInterval, IdleTimeout: g.IdleTimeout, Tick: g.Tick,
		MaxFrameBytes: g.MaxFrameBytes, MaxBodyBytes: g.MaxBodyBytes, OutboundLimit: g.OutboundLimit,
	}
	var code engine.Options
	code.EnsureDefaults()
	code.EventLoops = 0 // documented as "0 = one per CPU"
	code.Logger = nil
	if !reflect.DeepEqual(fromFile, code) {
		t.Errorf("gateway defaults differ:\nfile %+v\ncode %+v", fromFile, code)
	}
	sh := c.Shards
	fileShards := c.ShardOptions()
	var codeShards shard.Options
	codeShards.EnsureDefaults()
	codeShards.Shards, codeShards.SweepInterval, codeShards.Logger, codeShards.Now = 0, 0, nil, nil
	if sh.Count != 0 || !reflect.DeepEqual(fileShards, codeShards) {
		t.Errorf("shard defaults differ:\nfile %+v\ncode %+v", fileShards, codeShards)
	}
	wh := c.Webhooks.Options()
	var codeWH webhook.Options
	codeWH.EnsureDefaults()
	codeWH.Logger, codeWH.Now, codeWH.UserAgent = nil, nil, ""
	if !reflect.DeepEqual(wh, codeWH) {
		t.Errorf("webhook defaults differ:\nfile %+v\ncode %+v", wh, codeWH)
	}
	var st storage.Options
	st.Dir = "x"
	st.EnsureDefaults()
	if c.Storage.Durability != "sync" || c.Storage.CacheSize != st.CacheSize || c.Storage.MemTableSize != st.MemTableSize || c.Storage.SyncInterval != st.SyncInterval {
		t.Errorf("storage defaults differ: file %+v, code %+v", c.Storage, st)
	}
	fileMQTT := c.MQTT.BrokerOptions()
	var codeMQTT mqtt.Options
	codeMQTT.EnsureDefaults()
	codeMQTT.Store, codeMQTT.Now, codeMQTT.Pool, codeMQTT.Logger = nil, nil, nil, nil
	if !c.MQTT.Enabled || !reflect.DeepEqual(fileMQTT, codeMQTT) {
		t.Errorf("mqtt defaults differ (or mqtt disabled):\nfile %+v\ncode %+v", fileMQTT, codeMQTT)
	}
	if !c.MQTT.Bridge {
		t.Error("mqtt.bridge is documented off; the bridge is on by default")
	}
	if err := codeMQTT.Validate(); err != nil {
		t.Errorf("mqtt defaults invalid: %v", err)
	}
	if c.DataDir != "./data" || c.DrainTimeout == 0 || c.HTTP.Addr != ":7080" || len(c.Sites) != 1 {
		t.Errorf("top-level defaults: %+v", c)
	}
}

func TestLoadConfigOverlay(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(p, []byte("data_dir: /srv/kefu\ngateway:\n  idle_timeout: 90s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/kefu" || c.Gateway.IdleTimeout.Seconds() != 90 || c.Gateway.PingInterval.Seconds() != 25 {
		t.Fatalf("overlay: %+v", c)
	}
	if err := os.WriteFile(p, []byte("gateway:\n  idle_timout: 90s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); err == nil {
		t.Fatal("a misspelt key was accepted")
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); err != nil {
		t.Fatalf("empty file: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	c, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir = dir
	c.Sites = []SiteConfig{{ID: "demo"}, {ID: "shop-1"}}
	t.Setenv(SecretEnv("shop-1"), "from-the-environment-123")
	first, err := LoadSecrets(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(first["shop-1"]) != "from-the-environment-123" || len(first["demo"]) != 64 {
		t.Fatalf("secrets %q", first)
	}
	fi, err := os.Stat(SecretPath(dir, "demo"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated secret file: %v %v", fi, err)
	}
	again, err := LoadSecrets(c, nil)
	if err != nil || string(again["demo"]) != string(first["demo"]) {
		t.Fatalf("the generated secret changed across starts")
	}
	t.Setenv(SecretEnv("shop-1"), "short")
	if _, err := LoadSecrets(c, nil); err == nil {
		t.Fatal("a short secret was accepted")
	}
}
