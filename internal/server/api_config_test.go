package server

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/engine/api"
)

// TestUploadsDefaultsMatchCode: the uploads section of configs/kefu.yaml
// documents engine/api's zero-value defaults, and APIOptions carries the
// sections it maps.
func TestUploadsDefaultsMatchCode(t *testing.T) {
	c, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	var code api.Options
	code.EnsureDefaults()
	if c.Uploads.MaxBytes != code.UploadMaxBytes || !slices.Equal(c.Uploads.Types, code.UploadTypes) {
		t.Errorf("uploads defaults differ: file %+v, code max %d types %v", c.Uploads, code.UploadMaxBytes, code.UploadTypes)
	}
	o := c.APIOptions()
	if o.UploadDir != filepath.Join(c.DataDir, "uploads") || o.UploadMaxBytes != c.Uploads.MaxBytes ||
		!slices.Equal(o.UploadTypes, c.Uploads.Types) || o.MaxBodyBytes != c.Gateway.MaxBodyBytes || o.MaxBodyBytes != api.DefaultMaxBodyBytes {
		t.Errorf("APIOptions = %+v", o)
	}
	// A narrower allow-list is accepted; an unknown or repeated type is
	// refused (the other errors are the required parts left to the caller).
	for _, tc := range []struct {
		types []string
		ok    bool
	}{{[]string{"image/png"}, true}, {[]string{"image/svg+xml"}, false}, {[]string{"text/html"}, false},
		{[]string{"image/png", "image/png"}, false}} {
		o := c.APIOptions()
		o.UploadTypes = tc.types
		o.EnsureDefaults()
		err := o.Validate()
		if err == nil {
			t.Fatal("Validate passed without the required parts")
		}
		if bad := strings.Contains(err.Error(), "upload type"); bad == tc.ok {
			t.Errorf("upload types %v: %v", tc.types, err)
		}
	}
}
