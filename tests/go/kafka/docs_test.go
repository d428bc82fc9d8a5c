package kafka_test

// The "Running on Kafka" example of docs/go.md, run against the real
// broker; a second test keeps the page and this file identical.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
)

func TestRunningOnKafkaExample(t *testing.T) {
	connect(t) // fresh bars and dlq topics of env paper, 6 partitions each
	if err := example(os.Getenv("AMPY_KAFKA_BOOTSTRAP")); err != nil {
		t.Fatal(err)
	}
}

func TestDocsShowTheKafkaExample(t *testing.T) {
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
		t.Errorf("docs/go.md \"Running on Kafka\" must show, in a go block, exactly:\n%s", code)
	}
}

// docs:start
func example(bootstrap string) error {
	ctx := context.Background()
	// The env's topics exist already: `ampygen provision kafka --env paper`.
	bus, err := kafkabus.Connect(bootstrap, ampybus.EnvPaper)
	if err != nil {
		return err
	}
	defer bus.Close()
	metrics := kafkabus.NewMetrics() // Prometheus text: metrics.Render(), or serve it (http.Handler)
	bus.WithObserver(metrics)

	// Publish: Kafka topic, record key, headers and partition from the bindings.
	pub, err := kafkabus.NewPublisher(bus, kafkabus.BarsV1Bars, kafkabus.PublisherOptions{Producer: "ingest@1", Source: "yfinance-go"})
	if err != nil {
		return err
	}
	batch := &barsv1.BarBatch{Bars: []*barsv1.Bar{{Security: &commonv1.SecurityId{Symbol: "AAPL", Mic: "XNAS"}}}}
	done, err := pub.Publish(ctx, batch) // awaits the delivery report
	if err != nil {
		return err
	}
	if done.Topic != "ampy.paper.bars.v1" || done.Key != "XNAS.AAPL XNAS.AAPL" ||
		done.Partition != kafkabus.PartitionFor([]byte(done.Key), 6) { // Java's murmur2 rule on 6 partitions
		return fmt.Errorf("published %+v", done)
	}

	// Consume: a consumer group; the offset is committed once the handler
	// returns nil, kafkabus.Retry retries in process with the tier's
	// backoff, the DLQ after the tier's max_deliveries.
	consumer, err := kafkabus.NewConsumer(ctx, bus, kafkabus.BarsV1Bars, "bar-writer", kafkabus.ConsumerOptions{})
	if err != nil {
		return err
	}
	defer consumer.Close() // commits what is finished and leaves the group
	var received []string
	stats, err := consumer.Drain(ctx, func(ctx context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
		if d.Pointer != nil {
			return kafkabus.Permanent("pointer", "this service does not fetch blobs")
		}
		received = append(received, d.Headers.PartitionKey+" "+d.Payload.GetBars()[0].GetSecurity().GetSymbol())
		return nil
	}, 2*time.Second)
	if err != nil {
		return err
	}
	if stats.Consumed != 1 || len(received) != 1 || received[0] != "XNAS.AAPL AAPL" {
		return fmt.Errorf("received %v (%+v)", received, stats)
	}
	if !strings.Contains(metrics.Render(), `bus_consumed_total{topic="bars.v1.bars",consumer="bar-writer"} 1`) {
		return fmt.Errorf("metrics:\n%s", metrics.Render())
	}
	return nil
}

// docs:end
