package kafka_test

// The "Consuming several topics in one group" example of docs/go.md, run
// against the real broker; a second test keeps the page and this file
// identical.

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
	ticksv1 "ampyfin.dev/ampybus/pb/ampy/ticks/v1"
)

func TestGroupExample(t *testing.T) {
	recreate(t, admin(t), ticksTopic, barsTopic, dlqTopic)
	if err := groupExample(os.Getenv("AMPY_KAFKA_BOOTSTRAP")); err != nil {
		t.Fatal(err)
	}
}

func TestDocsShowTheGroupExample(t *testing.T) {
	page, err := os.ReadFile("../../../docs/go.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("group_docs_test.go")
	if err != nil {
		t.Fatal(err)
	}
	code := strings.SplitN(strings.SplitN(string(self), "// group-example:start\n", 2)[1], "// group-example:end\n", 2)[0]
	if !strings.Contains(string(page), "```go\n"+code+"```\n") {
		t.Errorf("docs/go.md \"Consuming several topics in one group\" must show, in a go block, exactly:\n%s", code)
	}
}

// group-example:start
func groupExample(bootstrap string) error {
	ctx := context.Background()
	bus, err := kafkabus.Connect(bootstrap, ampybus.EnvPaper)
	if err != nil {
		return err
	}
	defer bus.Close()
	aapl := &commonv1.SecurityId{Symbol: "AAPL", Mic: "XNAS"}
	trades, err := kafkabus.NewPublisher(bus, kafkabus.TicksV1Trade, kafkabus.PublisherOptions{Producer: "ingest@1"})
	if err != nil {
		return err
	}
	if _, err := trades.Publish(ctx, &ticksv1.TradeBatch{Trades: []*ticksv1.Trade{{Security: aapl, Size: 100}}}); err != nil {
		return err
	}
	quotes, err := kafkabus.NewPublisher(bus, kafkabus.TicksV1Quote, kafkabus.PublisherOptions{Producer: "ingest@1"})
	if err != nil {
		return err
	}
	if _, err := quotes.Publish(ctx, &ticksv1.QuoteBatch{Quotes: []*ticksv1.Quote{{Security: aapl, BidSize: 5}}}); err != nil {
		return err
	}
	bars, err := kafkabus.NewPublisher(bus, kafkabus.BarsV1Bars, kafkabus.PublisherOptions{Producer: "ingest@1"})
	if err != nil {
		return err
	}
	if _, err := bars.Publish(ctx, &barsv1.BarBatch{Bars: []*barsv1.Bar{{Security: aapl}}}); err != nil {
		return err
	}

	// One member of group "tape" on ampy.paper.ticks.v1 (trades and quotes,
	// sibling topics) and ampy.paper.bars.v1, one typed handler per topic.
	var seen []string
	group, err := kafkabus.NewGroup(ctx, bus, "tape", kafkabus.GroupOptions{},
		kafkabus.Route(kafkabus.TicksV1Trade, func(ctx context.Context, d *kafkabus.Delivery[*ticksv1.TradeBatch]) error {
			seen = append(seen, "trade "+d.Payload.GetTrades()[0].GetSecurity().GetSymbol())
			return nil
		}),
		// Quotes are cheap to lose: one retry, then the DLQ.
		kafkabus.RouteWith(kafkabus.TicksV1Quote, func(ctx context.Context, d *kafkabus.Delivery[*ticksv1.QuoteBatch]) error {
			seen = append(seen, "quote "+d.Payload.GetQuotes()[0].GetSecurity().GetSymbol())
			return nil
		}, kafkabus.RouteOptions{MaxDeliveries: 2}),
		kafkabus.Route(kafkabus.BarsV1Bars, func(ctx context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
			seen = append(seen, "bar "+d.Payload.GetBars()[0].GetSecurity().GetSymbol())
			return nil
		}),
	)
	if err != nil {
		return err // kafkabus.KindConfig: no routes, or a topic routed twice
	}
	defer group.Close() // commits what is finished and leaves the group
	stats, err := group.Drain(ctx, 2*time.Second)
	if err != nil {
		return err
	}
	sort.Strings(seen) // in order per partition, not across them
	if fmt.Sprint(seen) != "[bar AAPL quote AAPL trade AAPL]" || stats.Consumed != 3 || stats.Skipped != 0 {
		return fmt.Errorf("handled %v (%+v)", seen, stats)
	}
	return nil
}

// group-example:end
