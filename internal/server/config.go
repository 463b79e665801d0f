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
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration, as documented in configs/kefu.yaml.
type Config struct {
	LogLevel     string        `yaml:"log_level"`
	LogFormat    string        `yaml:"log_format"`
	DataDir      string        `yaml:"data_dir"`
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	HTTP         HTTPConfig    `yaml:"http"`
	Gateway      GatewayConfig `yaml:"gateway"`
	Shards       ShardConfig   `yaml:"shards"`
	Storage      StorageConfig `yaml:"storage"`
	Sites        []SiteConfig  `yaml:"sites"`
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

// StorageConfig is the `storage` section.
type StorageConfig struct {
	Durability   string        `yaml:"durability"`
	SyncInterval time.Duration `yaml:"sync_interval"`
	CacheSize    int64         `yaml:"cache_size"`
	MemTableSize uint64        `yaml:"memtable_size"`
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
