package nats_test

// Replays: an ephemeral consumer over [start, end) by the server's store
// time, and a consumer from a stream sequence.

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"ampyfin.dev/ampybus/natsbus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
)

func TestReplayOfATimeWindowAndFromASequence(t *testing.T) {
	b, _ := connect(t)
	ctx := context.Background()
	p := publisher(t, b)
	var marks []time.Time
	var ids []string
	var seqs []uint64
	for batch := range 3 {
		marks = append(marks, time.Now())
		for i := range 3 {
			done, err := p.Publish(ctx, bars(fmt.Sprintf("B%dN%d", batch, i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, done.MessageID)
			seqs = append(seqs, done.Sequence)
		}
		time.Sleep(100 * time.Millisecond)
	}
	collect := func(c *natsbus.Consumer[*barsv1.BarBatch]) []string {
		var got []string
		drain(t, c, func(_ context.Context, d *natsbus.Delivery[*barsv1.BarBatch]) error {
			got = append(got, d.Headers.MessageID)
			return nil
		}, 1500*time.Millisecond)
		return got
	}
	// [start of batch 1, start of batch 2): exactly batch 1.
	window, err := natsbus.NewReplay(ctx, b, natsbus.BarsV1Bars, natsbus.ConsumerOptions{Start: natsbus.StartTime(marks[1]), Until: marks[2]})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(window); !slices.Equal(got, ids[3:6]) {
		t.Errorf("window replay %v, want %v", got, ids[3:6])
	}
	// From the first sequence of batch 2: batch 2.
	fromSeq, err := natsbus.NewReplay(ctx, b, natsbus.BarsV1Bars, natsbus.ConsumerOptions{Start: natsbus.StartSequence(seqs[6])})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(fromSeq); !slices.Equal(got, ids[6:9]) {
		t.Errorf("sequence replay %v, want %v", got, ids[6:9])
	}
	// A window that ends at the last record pending stops by itself, well
	// before the idle time of a drain.
	tail, err := natsbus.NewReplay(ctx, b, natsbus.BarsV1Bars, natsbus.ConsumerOptions{Start: natsbus.StartTime(marks[2]), Until: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var got []string
	if _, err := tail.Run(ctx2, func(_ context.Context, d *natsbus.Delivery[*barsv1.BarBatch]) error {
		got = append(got, d.Headers.MessageID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ids[6:9]) || time.Since(start) > 10*time.Second {
		t.Errorf("open-ended window %v after %v, want %v", got, time.Since(start), ids[6:9])
	}
}
