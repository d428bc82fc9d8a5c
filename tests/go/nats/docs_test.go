package nats_test

// The "Running on NATS" example of docs/go.md, run against the real
// server; a second test keeps the page and this file identical.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/natsbus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
)

func TestRunningOnNATSExample(t *testing.T) {
	connect(t) // a provisioned env with empty bars and dlq streams
	if err := example(os.Getenv("AMPY_NATS_URL")); err != nil {
		t.Fatal(err)
	}
}

func TestDocsShowTheExample(t *testing.T) {
	page, err := os.ReadFile("../../../docs/go.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("docs_test.go")
	if err != nil {
		t.Fatal(err)
	}
	code := strings.SplitN(strings.SplitN(string(self), "// docs:start\n", 2)[1], "// docs:end\n", 2)[0]
	if !strings.Contains(string(page), "```go\n"+code+"```\n") {
		t.Errorf("docs/go.md \"Running on NATS\" must show, in a go block, exactly:\n%s", code)
	}
}

// docs:start
func example(url string) error {
	ctx := context.Background()
	bus, err := natsbus.Connect(url, ampybus.EnvDev)
	if err != nil {
		return err
	}
	defer bus.Close()
	metrics := natsbus.NewMetrics() // Prometheus text: metrics.Render(), or serve it (http.Handler)
	bus.WithObserver(metrics)
	if _, err := bus.Provision(ctx, natsbus.ProvisionOptions{}); err != nil { // the env's streams, as the registry says
		return err
	}

	// Publish: subject, key, schema headers and Nats-Msg-Id from the bindings.
	pub, err := natsbus.NewPublisher(bus, natsbus.BarsV1Bars, natsbus.PublisherOptions{Producer: "ingest@1", Source: "yfinance-go"})
	if err != nil {
		return err
	}
	batch := &barsv1.BarBatch{Bars: []*barsv1.Bar{{Security: &commonv1.SecurityId{Symbol: "AAPL", Mic: "XNAS"}}}}
	done, err := pub.Publish(ctx, batch) // awaits the JetStream ack
	if err != nil {
		return err
	}
	if done.Subject != "ampy.dev.bars.v1.XNAS.AAPL" {
		return fmt.Errorf("subject %s", done.Subject)
	}

	// Consume: a durable pull consumer; ack on nil, nak with backoff on
	// natsbus.Retry, the DLQ after the tier's max_deliveries.
	consumer, err := natsbus.NewConsumer(ctx, bus, natsbus.BarsV1Bars, "bar-writer", natsbus.ConsumerOptions{})
	if err != nil {
		return err
	}
	var received []string
	stats, err := consumer.Drain(ctx, func(ctx context.Context, d *natsbus.Delivery[*barsv1.BarBatch]) error {
		if d.Pointer != nil {
			return natsbus.Permanent("pointer", "this service does not fetch blobs")
		}
		received = append(received, d.Headers.PartitionKey+" "+d.Payload.GetBars()[0].GetSecurity().GetSymbol())
		return nil
	}, time.Second)
	if err != nil {
		return err
	}
	if stats.Acked != 1 || len(received) != 1 || received[0] != "XNAS.AAPL AAPL" {
		return fmt.Errorf("received %v (%+v)", received, stats)
	}
	if !strings.Contains(metrics.Render(), `bus_consumed_total{topic="bars.v1.bars",consumer="bar-writer"} 1`) {
		return fmt.Errorf("metrics:\n%s", metrics.Render())
	}
	return nil
}

// docs:end
