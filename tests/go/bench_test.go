package gotests

// Benchmarks of the routing hot path: `go test -bench . -run '^$'` in
// tests/go prints ns/op and allocs/op for subjects and keys.

import (
	"testing"

	bus "ampyfin.dev/ampybus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	fundamentalsv1 "ampyfin.dev/ampybus/pb/ampy/fundamentals/v1"
	signalsv1 "ampyfin.dev/ampybus/pb/ampy/signals/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func benchBatch(n int) *barsv1.BarBatch {
	b := &barsv1.BarBatch{}
	for i := 0; i < n; i++ {
		b.Bars = append(b.Bars, &barsv1.Bar{Security: sec("AAPL", "XNAS")})
	}
	return b
}

func BenchmarkSubjectBuilder(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.BarsV1BarsSubject(bus.EnvProd, "XNAS", "AAPL"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTopicForBars1(b *testing.B)     { benchTopicFor(b, benchBatch(1)) }
func BenchmarkTopicForBars100(b *testing.B)   { benchTopicFor(b, benchBatch(100)) }
func BenchmarkPartitionKeyBars1(b *testing.B) { benchKey(b, benchBatch(1)) }
func BenchmarkPartitionKeyBars100(b *testing.B) {
	benchKey(b, benchBatch(100))
}

func benchTopicFor(b *testing.B, p *barsv1.BarBatch) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.BarsV1BarsTopicFor(p, bus.EnvProd); err != nil {
			b.Fatal(err)
		}
	}
}

func benchKey(b *testing.B, p *barsv1.BarBatch) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.BarsV1BarsPartitionKey(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPartitionKeySignal(b *testing.B) {
	p := &signalsv1.Signal{ModelId: "hyper@2025-09-05", Security: sec("NVDA", "XNAS")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.SignalsV1SignalsPartitionKey(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPartitionKeyTimestamp(b *testing.B) {
	p := &fundamentalsv1.FundamentalsSnapshot{Security: sec("AAPL", "XNAS"), Source: "sec-edgar",
		PeriodEnd: &timestamppb.Timestamp{Seconds: 1751068800, Nanos: 5000000}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.FundamentalsV1SnapshotsPartitionKey(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenericPartitionKey(b *testing.B) {
	p := benchBatch(1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.PartitionKey(p); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBars(n int) *barsv1.BarBatch {
	b := &barsv1.BarBatch{}
	for i := 0; i < n; i++ {
		b.Bars = append(b.Bars, &barsv1.Bar{Security: sec("AAPL", "XNAS"), Volume: int64(i),
			EventTime: &timestamppb.Timestamp{Seconds: 1757100661 + int64(i)}})
	}
	return b
}

func BenchmarkMarshalCanonical1000Bars(b *testing.B) {
	p := benchBars(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.MarshalCanonical(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEnvelope1000Bars(b *testing.B) {
	e, err := bus.NewEnvelope(benchBars(1000), bus.EnvelopeOptions{Producer: "p", Source: "s", RunID: "r"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// The cost of the contract's payload and gzip rules on a 1000-bar batch:
// DecodeEnvelope (headers, schema check, wire rules, unmarshal without
// unknown fields) beside plain proto.Unmarshal, what a user would
// otherwise call.
func BenchmarkDecodeEnvelope1000Bars(b *testing.B) {
	e, err := bus.NewEnvelope(benchBars(1000), bus.EnvelopeOptions{Producer: "p", Source: "s", RunID: "r"})
	if err != nil {
		b.Fatal(err)
	}
	rec, err := e.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(rec.Payload)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := bus.DecodeEnvelope(rec.Headers, rec.Payload, &barsv1.BarBatch{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal1000Bars(b *testing.B) {
	raw, err := bus.MarshalCanonical(benchBars(1000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := proto.Unmarshal(raw, &barsv1.BarBatch{}); err != nil {
			b.Fatal(err)
		}
	}
}
