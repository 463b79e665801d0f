package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Durability says when Batch.Commit may return.
type Durability uint8

const (
	// DurabilitySync (the default): the batch is in the write-ahead log and
	// the log is fsync'd before Commit returns. Commits that arrive while an
	// fsync is in progress (from other shards) are written together and share
	// the next fsync: Pebble's commit pipeline is the group commit across
	// shards, the per-shard Batch is the group commit within a shard.
	DurabilitySync Durability = iota
	// DurabilityAsync: the batch is applied and appended to Pebble's WAL
	// buffer when Commit returns, neither written to the file nor fsync'd.
	// Pebble writes a partial WAL block only when someone asks for a sync,
	// so without one the last commits live in process memory: measured here,
	// 10 async commits followed by 200ms of idleness and a SIGKILL left
	// nothing on disk. The store therefore syncs the WAL every
	// Options.SyncInterval while async commits are pending, which bounds
	// what a crash (process or power) can lose to about that interval.
	DurabilityAsync
)

// String returns "sync" or "async".
func (d Durability) String() string {
	switch d {
	case DurabilitySync:
		return "sync"
	case DurabilityAsync:
		return "async"
	}
	return fmt.Sprintf("Durability(%d)", uint8(d))
}

// ParseDurability parses "sync" or "async". The empty string means the
// default, DurabilitySync.
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "", "sync":
		return DurabilitySync, nil
	case "async":
		return DurabilityAsync, nil
	}
	return 0, fmt.Errorf("storage: unknown durability %q (want \"sync\" or \"async\")", s)
}

// MarshalText implements encoding.TextMarshaler (YAML and JSON config).
func (d Durability) MarshalText() ([]byte, error) {
	if d > DurabilityAsync {
		return nil, fmt.Errorf("storage: invalid durability %d", uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (YAML and JSON config).
func (d *Durability) UnmarshalText(text []byte) error {
	v, err := ParseDurability(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Defaults applied by Options.EnsureDefaults.
const (
	DefaultCacheSize    int64         = 64 << 20
	DefaultMemTableSize uint64        = 32 << 20
	DefaultSyncInterval time.Duration = 100 * time.Millisecond
)

// Limits checked by Options.Validate.
const (
	minMemTableSize uint64 = 1 << 20
	maxMemTableSize uint64 = 4<<30 - 1 // Pebble's own limit is 4 GiB
)

// Options configures a Store. The zero value of every field except Dir is a
// usable default.
type Options struct {
	// Dir is the Pebble directory. Required; created if missing.
	Dir string
	// Durability of Batch.Commit. Zero value: DurabilitySync.
	Durability Durability
	// Logger receives Pebble's own log lines: informational ones at Debug,
	// errors at Warn, fatal ones at Error (followed by a panic, as Pebble
	// requires). Pebble writes nothing to stderr by itself. Zero value: a
	// logger that discards everything.
	Logger *slog.Logger
	// CacheSize is the size of Pebble's block cache in bytes. Zero value:
	// DefaultCacheSize (64 MiB).
	CacheSize int64
	// MemTableSize is the size of one Pebble memtable in bytes; a batch
	// larger than half of it is committed as its own flushable batch. Zero
	// value: DefaultMemTableSize (32 MiB).
	MemTableSize uint64
	// SyncInterval is, with DurabilityAsync, how often a background
	// goroutine fsyncs the WAL when commits happened since the last sync: the
	// bound on what a crash may lose of acknowledged async commits. Ignored
	// with DurabilitySync. Zero value: DefaultSyncInterval (100ms). Negative:
	// never (the WAL tail then reaches the disk only when a 32 KiB WAL block
	// fills, at memtable rotation, on Store.Sync and on Close).
	SyncInterval time.Duration
	// Registerer receives the kefu_storage_* metrics. Zero value (nil): no
	// metrics. Two stores registering into one registry need distinct
	// labels (prometheus.WrapRegistererWith).
	Registerer prometheus.Registerer
}

// EnsureDefaults fills zero-valued fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
}

// Validate reports the first invalid field. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("storage: Options.Dir is required")
	case o.Durability > DurabilityAsync:
		return fmt.Errorf("storage: invalid Options.Durability %d", uint8(o.Durability))
	case o.Logger == nil:
		return errors.New("storage: Options.Logger is nil (call EnsureDefaults)")
	case o.CacheSize <= 0:
		return fmt.Errorf("storage: Options.CacheSize %d must be > 0", o.CacheSize)
	case o.MemTableSize < minMemTableSize || o.MemTableSize > maxMemTableSize:
		return fmt.Errorf("storage: Options.MemTableSize %d must be in [%d, %d]",
			o.MemTableSize, minMemTableSize, maxMemTableSize)
	}
	return nil
}

// pebbleLogger routes Pebble's Logger interface to slog. Lines are formatted
// only when the level is enabled.
type pebbleLogger struct {
	l *slog.Logger
}

func (p pebbleLogger) logf(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !p.l.Enabled(ctx, level) {
		return
	}
	p.l.Log(ctx, level, fmt.Sprintf(format, args...))
}

// Infof implements pebble.Logger at slog Debug level.
func (p pebbleLogger) Infof(format string, args ...any) {
	p.logf(slog.LevelDebug, format, args)
}

// Errorf implements pebble.Logger at slog Warn level.
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.logf(slog.LevelWarn, format, args)
}

// Fatalf implements pebble.Logger: it logs at Error level and panics, since
// Pebble calls it only when it cannot continue (a failed WAL write, detected
// corruption) and expects it not to return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("storage: pebble fatal: " + msg)
}
