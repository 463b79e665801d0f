package server

import (
	"path/filepath"
	"slices"

	"github.com/kefu-im/kefu/engine/api"
)

// UploadsConfig is the `uploads` section: files sent in conversations
// (engine/api).
type UploadsConfig struct {
	MaxBytes int64    `yaml:"max_bytes"`
	Types    []string `yaml:"types"`
}

// APIOptions maps the configuration onto the REST API's options: uploads
// kept in <data_dir>/uploads with the uploads section's limits, and the
// gateway's message body limit for messages sent through the API. The
// caller adds Accounts, Store, Conversations (the shard router), Desk,
// Outbox, Hello (the HELLO authenticator), OriginAllowed, Logger and
// Registerer.
func (c *Config) APIOptions() api.Options {
	return api.Options{
		UploadDir:      filepath.Join(c.DataDir, "uploads"),
		UploadMaxBytes: c.Uploads.MaxBytes,
		UploadTypes:    slices.Clone(c.Uploads.Types),
		MaxBodyBytes:   c.Gateway.MaxBodyBytes,
	}
}
