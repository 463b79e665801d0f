// Package configs holds the documented default configuration, embedded so
// that the binary runs with no file at all. kefu.yaml is both the
// documentation of every option and the defaults.
package configs

import _ "embed"

// Default is the content of kefu.yaml.
//
//go:embed kefu.yaml
var Default []byte
