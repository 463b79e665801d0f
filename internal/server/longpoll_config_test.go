package server

import (
	"reflect"
	"testing"

	"github.com/kefu-im/kefu/engine/longpoll"
)

// TestLongPollDefaultsMatchCode: the longpoll section of configs/kefu.yaml
// documents engine/longpoll's zero-value defaults, and the body and
// outbound limits it takes from the gateway section are the ones
// longpoll would choose itself.
func TestLongPollDefaultsMatchCode(t *testing.T) {
	c, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	file := c.LongPoll.Options(c.Gateway)
	var code longpoll.Options
	code.EnsureDefaults()
	code.Tick, code.Logger = 0, nil // not configurable
	if !c.LongPoll.Enabled || !reflect.DeepEqual(file, code) {
		t.Errorf("longpoll defaults differ (or longpoll disabled):\nfile %+v\ncode %+v", file, code)
	}
	file.Handler = nopHandler{}
	file.EnsureDefaults()
	if err := file.Validate(); err != nil {
		t.Errorf("longpoll defaults invalid: %v", err)
	}
}

type nopHandler struct{ longpoll.Handler }
