// Package app uses the bus package ampygen generated with
// `targets.go.types_module`: the payload types are the user's own
// protoc-gen-go output (module example.com/acmeprotos, laid out by
// go_package options, `M` flags and a go_package_prefix), linked in one
// binary with the bindings. tests/byo/run.sh runs it twice: against the
// types of the locked protos (BYO_DRIFT unset) and against types generated
// from a changed bars.proto (BYO_DRIFT=1).
package app

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	bus "example.com/acme/bus"
	newsv1 "example.com/acmeprotos/gen/go/ampy/news/v1"
	tickspb "example.com/acmeprotos/mapped/ticks"
	barspb "example.com/acmeprotos/types/bars"
	commonpb "example.com/acmeprotos/types/common"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func drift() bool { return os.Getenv("BYO_DRIFT") == "1" }

func batch() *barspb.BarBatch {
	end := time.Date(2025, 9, 5, 19, 31, 0, 0, time.UTC)
	bar := func(close int64) *barspb.Bar {
		return &barspb.Bar{
			Security:  &commonpb.SecurityId{Symbol: "AAPL", Mic: "XNAS"},
			Start:     timestamppb.New(end.Add(-time.Minute)),
			End:       timestamppb.New(end),
			Close:     &commonpb.Decimal{Scaled: close, Scale: 2},
			Volume:    1200,
			EventTime: timestamppb.New(end),
		}
	}
	return &barspb.BarBatch{Bars: []*barspb.Bar{bar(22758), bar(22761)}}
}

// The user's types hash to the locked schemas; with drifted types,
// VerifyLinked names the payload whose proto changed.
func TestVerifyLinked(t *testing.T) {
	err := bus.VerifyLinked()
	if !drift() {
		if err != nil {
			t.Fatalf("VerifyLinked on the user's types: %v", err)
		}
		return
	}
	var se *bus.SchemaError
	if !errors.As(err, &se) || se.Kind() != "hash_mismatch" || se.Payload != "ampy.bars.v1.BarBatch" {
		t.Fatalf("VerifyLinked with a changed bars.proto: want hash_mismatch of ampy.bars.v1.BarBatch, got %v", err)
	}
	if bus.KindOf(err) != "hash_mismatch" {
		t.Fatalf("KindOf: %q", bus.KindOf(err))
	}
	// Only the changed payload is reported.
	if strings.Contains(err.Error(), "ampy.ticks.v1") {
		t.Fatalf("VerifyLinked reports unchanged payloads: %v", err)
	}
}

// Subject and partition key of the user's type, generically and per topic.
func TestRouting(t *testing.T) {
	b := batch()
	subject, err := bus.BarsV1BarsTopicFor(b, bus.EnvProd)
	if err != nil || subject.String() != "ampy.prod.bars.v1.XNAS.AAPL" {
		t.Fatalf("BarsV1BarsTopicFor: %v %v", subject, err)
	}
	if subject.KafkaTopic() != "ampy.prod.bars.v1" {
		t.Fatalf("KafkaTopic: %s", subject.KafkaTopic())
	}
	key, err := bus.PartitionKey(b)
	if err != nil || key != "XNAS.AAPL" {
		t.Fatalf("PartitionKey: %q %v", key, err)
	}
	generic, err := bus.TopicFor(b, bus.EnvDev)
	if err != nil || generic.String() != "ampy.dev.bars.v1.XNAS.AAPL" {
		t.Fatalf("TopicFor: %v %v", generic, err)
	}
	// A type mapped by types_packages (ticks) and one placed by the prefix (news).
	trade := &tickspb.TradeBatch{Trades: []*tickspb.Trade{{Security: &commonpb.SecurityId{Symbol: "MSFT", Mic: "XNAS"}}}}
	if s, err := bus.TopicFor(trade, bus.EnvProd); err != nil || s.String() != "ampy.prod.ticks.v1.trade.MSFT" {
		t.Fatalf("TopicFor(trade): %v %v", s, err)
	}
	// An empty news item may fail on its key, never on its type.
	if _, err := bus.PartitionKey(&newsv1.NewsItem{}); errors.Is(err, bus.ErrForeignType) || errors.Is(err, bus.ErrUnknownPayload) {
		t.Fatalf("PartitionKey(news item) refused the user's type: %v", err)
	}
}

// An envelope of the user's type encodes and decodes into the user's type.
func TestEnvelope(t *testing.T) {
	if drift() {
		t.Skip("the drifted types are checked by TestVerifyLinked")
	}
	b := batch()
	env, err := bus.NewEnvelope(b, bus.EnvelopeOptions{Producer: "acme@1", Source: "acme", RunID: "r-1"})
	if err != nil {
		t.Fatal(err)
	}
	if env.Headers.SchemaFQDN != "ampy.bars.v1.BarBatch" || env.Headers.PartitionKey != "XNAS.AAPL" {
		t.Fatalf("headers: %+v", env.Headers)
	}
	record, err := env.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var got barspb.BarBatch
	headers, err := bus.DecodeEnvelope(record.Headers, record.Payload, &got)
	if err != nil {
		t.Fatalf("DecodeEnvelope: %v", err)
	}
	if !proto.Equal(&got, b) || headers.MessageID != env.Headers.MessageID {
		t.Fatal("the decoded envelope differs")
	}
	// Headers of another payload are refused before the bytes are read.
	var wrong tickspb.TradeBatch
	if _, err := bus.DecodeEnvelope(record.Headers, record.Payload, &wrong); bus.KindOf(err) != "unknown_fqdn" {
		t.Fatalf("decoding bars as trades: %v", err)
	}
}

// A dynamicpb message of a registered proto name is still a foreign type;
// a message the registry does not carry is still unknown.
func TestForeignTypes(t *testing.T) {
	foreign := dynamicpb.NewMessage((*barspb.BarBatch)(nil).ProtoReflect().Descriptor())
	for what, err := range map[string]error{
		"TopicFor":       func() error { _, err := bus.TopicFor(foreign, bus.EnvProd); return err }(),
		"PartitionKey":   func() error { _, err := bus.PartitionKey(foreign); return err }(),
		"Topic.TopicFor": func() error { _, err := bus.BarsV1Bars.TopicFor(foreign, bus.EnvProd); return err }(),
		"NewEnvelope": func() error {
			_, err := bus.NewEnvelope(foreign, bus.EnvelopeOptions{Producer: "a@1", Source: "a", RunID: "r"})
			return err
		}(),
	} {
		if !errors.Is(err, bus.ErrForeignType) {
			t.Errorf("%s(dynamicpb): %v is not ErrForeignType", what, err)
			continue
		}
		// The error names the user's type as the one to use.
		if !strings.Contains(err.Error(), `*barspb.BarBatch from package "example.com/acmeprotos/types/bars"`) {
			t.Errorf("%s: %q does not name the user's type", what, err)
		}
	}
	if _, err := bus.PartitionKey(timestamppb.Now()); !errors.Is(err, bus.ErrUnknownPayload) {
		t.Errorf("PartitionKey(Timestamp): %v", err)
	}
}
