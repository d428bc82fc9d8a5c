// Command go-app builds an envelope for a bar batch with the generated
// package, routes it (NATS subject, Kafka topic and key), prints the
// headers, and decodes the record back as a consumer would.
package main

import (
	"fmt"
	"os"
	"time"

	bus "ampyfin.dev/ampybus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func bar(minute int, close int64) *barsv1.Bar {
	end := time.Date(2025, 9, 5, 19, 30+minute, 0, 0, time.UTC)
	return &barsv1.Bar{
		Security:  &commonv1.SecurityId{Symbol: "AAPL", Mic: "XNAS"},
		Start:     timestamppb.New(end.Add(-time.Minute)),
		End:       timestamppb.New(end),
		Close:     &commonv1.Decimal{Scaled: close, Scale: 2},
		Volume:    1200,
		EventTime: timestamppb.New(end),
	}
}

func run() error {
	batch := &barsv1.BarBatch{Bars: []*barsv1.Bar{bar(1, 22758), bar(2, 22761)}}

	env, err := bus.NewEnvelope(batch, bus.EnvelopeOptions{
		Producer: "go-app@example-1",
		Source:   "go-app",
		RunID:    "example-run",
	})
	if err != nil {
		return err
	}
	subject, err := bus.BarsV1BarsTopicFor(batch, bus.EnvProd)
	if err != nil {
		return err
	}
	record, err := env.Encode()
	if err != nil {
		return err
	}
	fmt.Println("subject", subject)
	fmt.Println("kafka_topic", subject.KafkaTopic())
	fmt.Println("kafka_key", subject.KafkaKey(env.Headers.PartitionKey))
	for _, h := range record.Headers {
		fmt.Println(h.Name, h.Value)
	}
	fmt.Println("payload_bytes", len(record.Payload))

	// The consumer side: headers are checked against the expected type
	// before any payload byte is trusted.
	var got barsv1.BarBatch
	if _, err := bus.DecodeEnvelope(record.Headers, record.Payload, &got); err != nil {
		return fmt.Errorf("decode: %w (dlq_reason %q)", err, bus.DLQReason(err))
	}
	if !proto.Equal(&got, batch) {
		return fmt.Errorf("the decoded batch differs")
	}
	fmt.Printf("decoded %d bars\n", len(got.GetBars()))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "go-app:", err)
		os.Exit(1)
	}
}
