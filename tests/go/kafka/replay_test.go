package kafka_test

import (
	"context"
	"testing"
	"time"

	"ampyfin.dev/ampybus/kafkabus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
)

// A replay of [start, end) hands over exactly the records produced inside
// the window (record timestamps are produced_at), in partition order,
// without a group, and reports a poison pill instead of dead-lettering it.
func TestReplayReturnsExactlyTheWindow(t *testing.T) {
	b, m, adm := connect(t)
	p := publisher(t, b, kafkabus.PublisherOptions{})
	ctx := context.Background()
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := p.Publish(ctx, bars([]string{"A", "B", "C"}[i%3], i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(0, 10)
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	time.Sleep(5 * time.Millisecond)
	publish(10, 25)
	time.Sleep(5 * time.Millisecond)
	end := time.Now()
	time.Sleep(20 * time.Millisecond)
	publish(25, 30)

	r, err := kafkabus.NewReplay(ctx, b, kafkabus.BarsV1Bars, start, end, kafkabus.ConsumerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int32]bool{}
	last := map[int32]int64{}
	stats, err := r.Run(ctx, func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
		seen[d.Payload.GetBars()[0].GetInterval().GetCount()] = true
		if o, ok := last[d.Partition]; ok && d.Offset <= o {
			t.Errorf("partition %d went back from %d to %d", d.Partition, o, d.Offset)
		}
		last[d.Partition] = d.Offset
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := int32(0); i < 30; i++ {
		if seen[i] != (i >= 10 && i < 25) {
			t.Errorf("record %d: replayed %v", i, seen[i])
		}
	}
	if stats.Consumed != 15 || len(stats.Failures) != 0 {
		t.Errorf("stats %+v", stats)
	}
	if got := m.Counter("bus_consumed_total", "bars.v1.bars", "replay"); got != 15 {
		t.Errorf("bus_consumed_total{consumer=replay} %d", got)
	}
	// No group, no commits.
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.Groups() {
		if g == "replay" {
			t.Error("the replay joined a group")
		}
	}
	// A window with nothing in it is empty.
	empty, err := kafkabus.NewReplay(ctx, b, kafkabus.BarsV1Bars, end.Add(time.Hour), end.Add(2*time.Hour), kafkabus.ConsumerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := empty.Run(ctx, noHandler(t)); err != nil || s.Received != 0 {
		t.Errorf("future window: %+v %v", s, err)
	}
}
