package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"ampyfin.dev/ampybus/natsbus"
)

// Trades and quotes share a stream: binding the trades durable for quotes
// would silently read nothing, so it is an error (as in Rust and Python).
func TestADurableNameServesOneTopicOfAStream(t *testing.T) {
	b, _ := connect(t)
	ctx := context.Background()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	durable := "go-ticks-reader-" + hex.EncodeToString(suffix)
	trades, err := natsbus.NewConsumer(ctx, b, natsbus.TicksV1Trade, durable, natsbus.ConsumerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trades.Stop()
	_, err = natsbus.NewConsumer(ctx, b, natsbus.TicksV1Quote, durable, natsbus.ConsumerOptions{})
	var e *natsbus.Error
	if !errors.As(err, &e) || e.Kind != natsbus.KindConfig {
		t.Fatalf("binding the trades durable for quotes: %v", err)
	}
	if !strings.Contains(e.Error(), "already exists with filter `ampy.dev.ticks.v1.trade.*`") {
		t.Errorf("message: %s", e.Error())
	}
	// The same topic binds again and resumes.
	again, err := natsbus.NewConsumer(ctx, b, natsbus.TicksV1Trade, durable, natsbus.ConsumerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again.Stop()
}
