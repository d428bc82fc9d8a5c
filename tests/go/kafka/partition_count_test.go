package kafka_test

// A topic's partition count changes under a running bus: grown in place
// (followed once the client's metadata is older than kgo.MetadataMaxAge,
// as a Java producer follows it), or deleted and made again with fewer
// partitions (followed on the first refusal). docs/kafka.md "Partition
// counts".

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
)

// movingSymbol is a bars symbol whose Kafka key lands on different
// partitions over a and over b partitions, one of them past the first two.
func movingSymbol(t *testing.T, a, b int32) (string, []byte) {
	t.Helper()
	for _, s := range []string{"AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "IBM", "ORCL", "INTC"} {
		sub, err := bus.BarsV1BarsSubject(env, "XNAS", s)
		if err != nil {
			t.Fatal(err)
		}
		key := []byte(bus.KafkaKeyOf(sub, "XNAS."+s))
		pa, pb := kafkabus.PartitionFor(key, a), kafkabus.PartitionFor(key, b)
		if pa != pb && max(pa, pb) >= 2 {
			return s, key
		}
	}
	t.Fatal("no symbol moves")
	return "", nil
}

// publishTwo publishes two records of symbol in one burst and returns
// their partitions.
func publishTwo(t *testing.T, p *kafkabus.Publisher[*barsv1.BarBatch], symbol string) []int32 {
	t.Helper()
	out, err := p.PublishAll(context.Background(), []*barsv1.BarBatch{bars(symbol, 2), bars(symbol, 3)})
	if err != nil {
		t.Fatal(err)
	}
	return []int32{out[0].Partition, out[1].Partition}
}

func publishOne(t *testing.T, p *kafkabus.Publisher[*barsv1.BarBatch], symbol string) int32 {
	t.Helper()
	out, err := p.Publish(context.Background(), bars(symbol, 1))
	if err != nil {
		t.Fatal(err)
	}
	return out.Partition
}

func TestATopicThatGrowsIsFollowedOnceTheMetadataIsOlderThanItsMaxAge(t *testing.T) {
	adm := admin(t)
	recreateWith(t, adm, 3, barsTopic, dlqTopic)
	symbol, key := movingSymbol(t, 3, 6)
	quick, err := kafkabus.Connect(bootstrap(t), env, kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(quick.Close)
	slow, _ := open(t) // franz-go's default, 5 minutes
	pq := publisher(t, quick, kafkabus.PublisherOptions{})
	ps := publisher(t, slow, kafkabus.PublisherOptions{})
	three, six := kafkabus.PartitionFor(key, 3), kafkabus.PartitionFor(key, 6)
	if got := []int32{publishOne(t, pq, symbol), publishOne(t, ps, symbol)}; got[0] != three || got[1] != three {
		t.Fatalf("before growing: partitions %v, want %d", got, three)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.UpdatePartitions(ctx, 6, barsTopic); err != nil {
		t.Fatal(err)
	}
	waitPartitions(ctx, t, adm, 6, barsTopic)
	time.Sleep(1200 * time.Millisecond)
	if got := publishTwo(t, pq, symbol); got[0] != six || got[1] != six {
		t.Fatalf("after growing, past the max age: partitions %v, want %d", got, six)
	}
	if got := publishOne(t, pq, symbol); got != six {
		t.Fatalf("after growing: partition %d, want %d", got, six)
	}
	// Within its age the count is kept, as a Java producer keeps it.
	if got := publishOne(t, ps, symbol); got != three {
		t.Fatalf("within the default max age: partition %d, want %d", got, three)
	}
	on := map[int32]int{}
	for _, r := range records(t, barsTopic) {
		on[r.Partition]++
	}
	if on[three] != 3 || on[six] != 3 || len(on) != 2 {
		t.Fatalf("records per partition %v, want 3 on %d and 3 on %d", on, three, six)
	}
}

func TestATopicMadeAgainWithFewerPartitionsIsFollowedOnTheFirstRefusal(t *testing.T) {
	adm := admin(t)
	recreateWith(t, adm, 6, barsTopic, dlqTopic)
	symbol, key := movingSymbol(t, 6, 2)
	reportedBus, _ := open(t)
	// A client that re-reads metadata on its own every 100 ms: its
	// partitioner places the record by the new count before sending it.
	ownBus, err := kafkabus.Connect(bootstrap(t), env, kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ownBus.Close)
	reported := publisher(t, reportedBus, kafkabus.PublisherOptions{})
	refused := publisher(t, ownBus, kafkabus.PublisherOptions{})
	six := kafkabus.PartitionFor(key, 6)
	for _, p := range []*kafkabus.Publisher[*barsv1.BarBatch]{reported, refused} {
		if got := publishOne(t, p, symbol); got != six {
			t.Fatalf("partition %d, want %d", got, six)
		}
	}
	recreateWith(t, adm, 2, barsTopic)
	two := kafkabus.PartitionFor(key, 2)
	// The broker's refusal comes in the produce response.
	if got := publishOne(t, reported, symbol); got != two {
		t.Fatalf("after re-creation: partition %d, want %d", got, two)
	}
	time.Sleep(time.Second)
	if got := publishTwo(t, refused, symbol); got[0] != two || got[1] != two {
		t.Fatalf("after re-creation: partitions %v, want %d", got, two)
	}
	if got := publishOne(t, refused, symbol); got != two {
		t.Fatalf("after re-creation: partition %d, want %d", got, two)
	}
	held := records(t, barsTopic)
	if len(held) != 4 {
		t.Fatalf("%d records, want 4", len(held))
	}
	for _, r := range held {
		if r.Partition != two {
			t.Fatalf("a record on partition %d, want %d", r.Partition, two)
		}
	}
}
