package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kefu-im/kefu/configs"
	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/engine/longpoll"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/shard/routing"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration, as documented in configs/kefu.yaml.
type Config struct {
	LogLevel     string         `yaml:"log_level"`
	LogFormat    string         `yaml:"log_format"`
	DataDir      string         `yaml:"data_dir"`
	DrainTimeout time.Duration  `yaml:"drain_timeout"`
	HTTP         HTTPConfig     `yaml:"http"`
	Gateway      GatewayConfig  `yaml:"gateway"`
	Shards       ShardConfig    `yaml:"shards"`
	Routing      RoutingConfig  `yaml:"routing"`
	Webhooks     WebhookConfig  `yaml:"webhooks"`
	Storage      StorageConfig  `yaml:"storage"`
	MQTT         MQTTConfig     `yaml:"mqtt"`
	LongPoll     LongPollConfig `yaml:"longpoll"`
	Uploads      UploadsConfig  `yaml:"uploads"`
	Sites        []SiteConfig   `yaml:"sites"`
}

// HTTPConfig is the `http` section.
type HTTPConfig struct {
	Addr  string `yaml:"addr"`
	Pprof bool   `yaml:"pprof"`
}

// GatewayConfig is the `gateway` section.
type GatewayConfig struct {
	Listeners        []engine.Listener `yaml:"listeners"`
	EventLoops       int               `yaml:"event_loops"`
	HandshakeTimeout time.Duration     `yaml:"handshake_timeout"`
	PingInterval     time.Duration     `yaml:"ping_interval"`
	IdleTimeout      time.Duration     `yaml:"idle_timeout"`
	Tick             time.Duration     `yaml:"tick"`
	MaxFrameBytes    int               `yaml:"max_frame_bytes"`
	MaxBodyBytes     int               `yaml:"max_body_bytes"`
	OutboundLimit    int               `yaml:"outbound_limit"`
	AllowedOrigins   []string          `yaml:"allowed_origins"`
}

// ShardConfig is the `shards` section.
type ShardConfig struct {
	Count            int           `yaml:"count"`
	RingSize         int           `yaml:"ring_size"`
	BatchMax         int           `yaml:"batch_max"`
	ReplayLimit      int           `yaml:"replay_limit"`
	MaxReplayLimit   int           `yaml:"max_replay_limit"`
	DedupWindow      int           `yaml:"dedup_window"`
	MaxConversations int           `yaml:"max_conversations"`
	IdleConversation time.Duration `yaml:"idle_conversation"`
}

// RoutingConfig is the `routing` section (shard.Options' desk fields and
// shard/routing.Options).
type RoutingConfig struct {
	Enabled         bool          `yaml:"enabled"`
	DefaultGroup    string        `yaml:"default_group"`
	DefaultCapacity int           `yaml:"default_capacity"`
	AutoClose       time.Duration `yaml:"auto_close"`
	OfflineGrace    time.Duration `yaml:"offline_grace"`
	MaxQueue        int           `yaml:"max_queue"`
	LivePositions   int           `yaml:"live_positions"`
	PositionRefresh time.Duration `yaml:"position_refresh"`
	AffinityEntries int           `yaml:"affinity_entries"`
	VirtualNodes    int           `yaml:"virtual_nodes"`
	DeskRingSize    int           `yaml:"desk_ring_size"`
}

// WebhookConfig is the `webhooks` section: delivery of the durable
// webhook outbox (engine/webhook.Options).
type WebhookConfig struct {
	Timeout      time.Duration `yaml:"timeout"`
	BackoffBase  time.Duration `yaml:"backoff_base"`
	BackoffMax   time.Duration `yaml:"backoff_max"`
	MaxAttempts  int           `yaml:"max_attempts"`
	Concurrency  int           `yaml:"concurrency"`
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Options maps the section onto the outbox's options.
func (w WebhookConfig) Options() webhook.Options {
	return webhook.Options{Timeout: w.Timeout, BackoffBase: w.BackoffBase, BackoffMax: w.BackoffMax,
		MaxAttempts: w.MaxAttempts, Concurrency: w.Concurrency, PollInterval: w.PollInterval}
}

// ShardOptions lays the shards and routing sections over shard.Options.
func (c *Config) ShardOptions() shard.Options {
	sh, ro := c.Shards, c.Routing
	return shard.Options{
		Shards: sh.Count, RingSize: sh.RingSize, BatchMax: sh.BatchMax,
		ReplayLimit: sh.ReplayLimit, MaxReplayLimit: sh.MaxReplayLimit,
		DedupWindow: sh.DedupWindow, MaxConversations: sh.MaxConversations,
		IdleConversation: sh.IdleConversation,
		DefaultGroup:     ro.DefaultGroup, DefaultCapacity: ro.DefaultCapacity, AutoClose: ro.AutoClose,
		DeskRingSize: ro.DeskRingSize, DisableRouting: !ro.Enabled,
		Routing: routing.Options{
			VirtualNodes: ro.VirtualNodes, OfflineGrace: ro.OfflineGrace, MaxQueue: ro.MaxQueue,
			LivePositions: ro.LivePositions, PositionRefresh: ro.PositionRefresh, AffinityEntries: ro.AffinityEntries,
		},
	}
}

// StorageConfig is the `storage` section.
type StorageConfig struct {
	Durability   string        `yaml:"durability"`
	SyncInterval time.Duration `yaml:"sync_interval"`
	CacheSize    int64         `yaml:"cache_size"`
	MemTableSize uint64        `yaml:"memtable_size"`
}

// MQTTConfig is the `mqtt` section: the broker (engine/mqtt.Options).
type MQTTConfig struct {
	Enabled            bool          `yaml:"enabled"`
	Bridge             bool          `yaml:"bridge"`
	MaxPacketSize      int           `yaml:"max_packet_size"`
	ReceiveMaximum     int           `yaml:"receive_maximum"`
	MaxInflight        int           `yaml:"max_inflight"`
	MaxQueued          int           `yaml:"max_queued"`
	TopicAliasMaximum  int           `yaml:"topic_alias_maximum"`
	MaxTopicAliasesOut int           `yaml:"max_topic_aliases_out"`
	MaxKeepAlive       time.Duration `yaml:"max_keep_alive"`
	MaxSessionExpiry   time.Duration `yaml:"max_session_expiry"`
	MaxRetained        int           `yaml:"max_retained"`
	MaxSubscriptions   int           `yaml:"max_subscriptions"`
	MaxClientIDLen     int           `yaml:"max_client_id_len"`
	AssignedIDPrefix   string        `yaml:"assigned_id_prefix"`
	DisableRetain      bool          `yaml:"disable_retain"`
	DisableWildcards   bool          `yaml:"disable_wildcards"`
	DisableShared      bool          `yaml:"disable_shared"`
	DisableSubIDs      bool          `yaml:"disable_subscription_ids"`
}

// BrokerOptions maps the section onto the broker's options; the caller
// adds the authenticator, store, bridge (engine/bridge, when Bridge is
// set: devices in conversations), logger and registerer.
func (m MQTTConfig) BrokerOptions() mqtt.Options {
	return mqtt.Options{
		MaxPacketSize: m.MaxPacketSize, ReceiveMaximum: m.ReceiveMaximum, MaxInflight: m.MaxInflight,
		MaxQueued: m.MaxQueued, TopicAliasMaximum: m.TopicAliasMaximum, MaxTopicAliasesOut: m.MaxTopicAliasesOut,
		MaxKeepAlive: m.MaxKeepAlive, MaxSessionExpiry: m.MaxSessionExpiry, MaxRetained: m.MaxRetained,
		MaxSubscriptions: m.MaxSubscriptions, MaxClientIDLen: m.MaxClientIDLen, AssignedIDPrefix: m.AssignedIDPrefix,
		DisableRetain: m.DisableRetain, DisableWildcards: m.DisableWildcards, DisableShared: m.DisableShared,
		DisableSubIDs: m.DisableSubIDs,
	}
}

// LongPollConfig is the `longpoll` section: the HTTP long-poll transport
// (engine/longpoll). Its body and outbound limits are the gateway's
// max_frame_bytes and outbound_limit.
type LongPollConfig struct {
	Enabled        bool          `yaml:"enabled"`
	SessionTimeout time.Duration `yaml:"session_timeout"`
	MaxSessions    int           `yaml:"max_sessions"`
	MaxBatch       int           `yaml:"max_batch"`
}

// Options maps the section (and the gateway limits it shares) onto the
// server's options; the caller adds the handler, logger and registerer.
func (l LongPollConfig) Options(g GatewayConfig) longpoll.Options {
	return longpoll.Options{
		MaxBodyBytes: g.MaxFrameBytes, MaxBatch: l.MaxBatch, MaxSessions: l.MaxSessions,
		SessionTimeout: l.SessionTimeout, OutboundLimit: g.OutboundLimit,
	}
}

// SiteConfig is one entry of `sites`. Secret is never read from YAML: it
// comes from the environment or the data directory (see kefu.yaml).
type SiteConfig struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"-"`
}

// DefaultConfig parses the embedded configs/kefu.yaml.
func DefaultConfig() (Config, error) {
	var c Config
	if err := decodeStrict(configs.Default, &c); err != nil {
		return c, fmt.Errorf("embedded defaults: %w", err)
	}
	return c, nil
}

// LoadConfig returns the defaults with the file at path laid over them
// (path "" = defaults only).
func LoadConfig(path string) (Config, error) {
	c, err := DefaultConfig()
	if err != nil || path == "" {
		return c, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	// Lists replace the default list wholesale.
	if err := decodeStrict(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func decodeStrict(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file sets nothing
		return err
	}
	return nil
}

// SecretEnv is the environment variable holding a site's secret.
func SecretEnv(site string) string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return "KEFU_SITE_" + strings.ToUpper(r.Replace(site)) + "_SECRET"
}
