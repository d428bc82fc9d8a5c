package kafka_test

// Consumer groups over several registry topics (kafkabus.NewGroup): the
// sibling topics ticks.v1.trade and ticks.v1.quote on the one Kafka topic
// ampy.paper.ticks.v1 and bars.v1.bars on another, each route with its own
// typed handler, on the real broker.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
	fillsv1 "ampyfin.dev/ampybus/pb/ampy/fills/v1"
	ticksv1 "ampyfin.dev/ampybus/pb/ampy/ticks/v1"
)

const ticksTopic = "ampy.paper.ticks.v1"

func trades(symbol string, seq int64) *ticksv1.TradeBatch {
	return &ticksv1.TradeBatch{Trades: []*ticksv1.Trade{{
		Security: &commonv1.SecurityId{Symbol: symbol, Mic: "XNAS"}, Size: 100, Sequence: seq,
	}}}
}

func quotes(symbol string, seq int64) *ticksv1.QuoteBatch {
	return &ticksv1.QuoteBatch{Quotes: []*ticksv1.Quote{{
		Security: &commonv1.SecurityId{Symbol: symbol, Mic: "XNAS"}, BidSize: 5, Sequence: seq,
	}}}
}

// typedPublisher is a publisher of any topic with the tests' producer.
func typedPublisher[P proto.Message](t testing.TB, b *kafkabus.Bus, topic kafkabus.Topic[P]) *kafkabus.Publisher[P] {
	t.Helper()
	p, err := kafkabus.NewPublisher(b, topic, kafkabus.PublisherOptions{Producer: "go-test@1"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// group builds a group or fails the test.
func group(t testing.TB, b *kafkabus.Bus, name string, routes ...kafkabus.GroupRoute) *kafkabus.Group {
	t.Helper()
	g, err := kafkabus.NewGroup(context.Background(), b, name, kafkabus.GroupOptions{}, routes...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// drainGroup drains g until nothing came for idle, then closes it.
func drainGroup(t testing.TB, g *kafkabus.Group, idle time.Duration) kafkabus.RunStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stats, err := g.Drain(ctx, idle)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	return stats
}

// refuse is a handler that fails the test when it runs.
func refuse[P proto.Message](t testing.TB) kafkabus.Handler[P] {
	return func(_ context.Context, d *kafkabus.Delivery[P]) error {
		t.Errorf("a handler of %s ran on %s", d.Subject, d.Headers.MessageID)
		return nil
	}
}

func TestGroupDeliversThreeTopicsEachToItsHandler(t *testing.T) {
	adm := admin(t)
	recreate(t, adm, ticksTopic, barsTopic, dlqTopic)
	b, m := open(t)
	ctx := context.Background()
	// What each handler must get: message id -> "subject symbol seq".
	want := map[string]map[string]string{"trade": {}, "quote": {}, "bars": {}}
	for i, s := range []string{"AAPL", "MSFT", "TSLA"} {
		done, err := typedPublisher(t, b, kafkabus.TicksV1Trade).Publish(ctx, trades(s, int64(i)))
		if err != nil {
			t.Fatal(err)
		}
		want["trade"][done.MessageID] = fmt.Sprintf("%s.trade.%s %s %d", ticksTopic, s, s, i)
	}
	for i, s := range []string{"AAPL", "GOOGL"} {
		done, err := typedPublisher(t, b, kafkabus.TicksV1Quote).Publish(ctx, quotes(s, int64(10+i)))
		if err != nil {
			t.Fatal(err)
		}
		want["quote"][done.MessageID] = fmt.Sprintf("%s.quote.%s %s %d", ticksTopic, s, s, 10+i)
	}
	for i, s := range []string{"AAPL", "NVDA"} {
		done, err := publisher(t, b, kafkabus.PublisherOptions{}).Publish(ctx, bars(s, 20+i))
		if err != nil {
			t.Fatal(err)
		}
		want["bars"][done.MessageID] = fmt.Sprintf("%s.XNAS.%s %s %d", barsTopic, s, s, 20+i)
	}
	got := map[string]map[string][]string{"trade": {}, "quote": {}, "bars": {}}
	g := group(t, b, "go-group-three",
		kafkabus.Route(kafkabus.TicksV1Trade, func(_ context.Context, d *kafkabus.Delivery[*ticksv1.TradeBatch]) error {
			tr := d.Payload.GetTrades()[0]
			got["trade"][d.Headers.MessageID] = append(got["trade"][d.Headers.MessageID],
				fmt.Sprintf("%s %s %d", d.Subject, tr.GetSecurity().GetSymbol(), tr.GetSequence()))
			return nil
		}),
		kafkabus.Route(kafkabus.TicksV1Quote, func(_ context.Context, d *kafkabus.Delivery[*ticksv1.QuoteBatch]) error {
			q := d.Payload.GetQuotes()[0]
			got["quote"][d.Headers.MessageID] = append(got["quote"][d.Headers.MessageID],
				fmt.Sprintf("%s %s %d", d.Subject, q.GetSecurity().GetSymbol(), q.GetSequence()))
			return nil
		}),
		kafkabus.Route(kafkabus.BarsV1Bars, func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
			bar := d.Payload.GetBars()[0]
			got["bars"][d.Headers.MessageID] = append(got["bars"][d.Headers.MessageID],
				fmt.Sprintf("%s %s %d", d.Subject, bar.GetSecurity().GetSymbol(), bar.GetInterval().GetCount()))
			return nil
		}),
	)
	if k := g.KafkaTopics(); fmt.Sprint(k) != fmt.Sprint([]string{ticksTopic, barsTopic}) {
		t.Errorf("subscribed to %v", k)
	}
	stats := drainGroup(t, g, 2*time.Second)
	for route, ids := range want {
		if len(got[route]) != len(ids) {
			t.Errorf("%s: handled %v, want %v", route, got[route], ids)
		}
		for id, w := range ids {
			if g := got[route][id]; len(g) != 1 || g[0] != w {
				t.Errorf("%s: %s handled as %q, want once as %q", route, id, g, w)
			}
		}
	}
	if stats.Received != 7 || stats.Consumed != 7 || stats.Skipped != 0 || stats.DeadLettered != 0 || stats.Retried != 0 {
		t.Fatalf("stats %+v", stats)
	}
	for topic, n := range map[string]int{"ticks.v1.trade": 3, "ticks.v1.quote": 2, "bars.v1.bars": 2} {
		line := fmt.Sprintf(`bus_consumed_total{topic=%q,consumer="go-group-three"} %d`, topic, n)
		if !strings.Contains(m.Render(), line) {
			t.Errorf("metrics lack %s:\n%s", line, m.Render())
		}
		// Every route reports the lag of its Kafka topic's partitions.
		lag, ok := m.Lag(topic, "go-group-three", 0)
		for p := int32(1); !ok && p < partitions; p++ {
			lag, ok = m.Lag(topic, "go-group-three", p)
		}
		if !ok || lag != 0 {
			t.Errorf("no zero lag reported for %s: %d %v", topic, lag, ok)
		}
	}
	if n := len(records(t, dlqTopic)); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
	// All committed: a new member of the group gets nothing.
	again := drainGroup(t, group(t, b, "go-group-three",
		kafkabus.Route(kafkabus.TicksV1Trade, refuse[*ticksv1.TradeBatch](t)),
		kafkabus.Route(kafkabus.TicksV1Quote, refuse[*ticksv1.QuoteBatch](t)),
		kafkabus.Route(kafkabus.BarsV1Bars, refuse[*barsv1.BarBatch](t)),
	), 2*time.Second)
	if again.Received != 0 || again.Skipped != 0 {
		t.Fatalf("redelivered after the commit: %+v", again)
	}
}

// A record no route matches (a quote, for a group routing trades only; a
// subtopic of no registry topic) is finished and committed unread, never
// dead-lettered; a record without a key goes to the first route of its
// Kafka topic.
func TestGroupSkipsWhatNoRouteMatches(t *testing.T) {
	adm := admin(t)
	recreate(t, adm, ticksTopic, dlqTopic)
	b, _ := open(t)
	ctx := context.Background()
	trade, err := typedPublisher(t, b, kafkabus.TicksV1Trade).Publish(ctx, trades("AAPL", 1))
	if err != nil {
		t.Fatal(err)
	}
	quote, err := typedPublisher(t, b, kafkabus.TicksV1Quote).Publish(ctx, quotes("AAPL", 2))
	if err != nil {
		t.Fatal(err)
	}
	// A valid trade envelope under a subtopic no registry topic has.
	e, err := kafkabus.TicksV1Trade.NewEnvelope(trades("ODD", 3), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	odd, err := b.ProduceKeyed(ctx, ticksTopic, []byte("auction.ODD ODD.XNAS"), rec.Payload, rec.Headers, 0)
	if err != nil {
		t.Fatal(err)
	}
	var handled []string
	g := group(t, b, "go-group-skip", kafkabus.Route(kafkabus.TicksV1Trade, func(_ context.Context, d *kafkabus.Delivery[*ticksv1.TradeBatch]) error {
		handled = append(handled, d.Headers.MessageID)
		return nil
	}))
	stats := drainGroup(t, g, 2*time.Second)
	if fmt.Sprint(handled) != "["+trade.MessageID+"]" || stats.Skipped != 2 || stats.Received != 1 || stats.DeadLettered != 0 || stats.DecodeFailures != 0 {
		t.Fatalf("handled %v, stats %+v", handled, stats)
	}
	for _, p := range []kafkabus.Published{trade, quote, odd} {
		if got := committed(t, adm, "go-group-skip", ticksTopic, p.Partition); got < p.Offset+1 {
			t.Errorf("%s@%d: committed %d", p.Key, p.Offset, got)
		}
	}
	if n := len(records(t, dlqTopic)); n != 0 {
		t.Fatalf("%d dead letters", n)
	}

	// A keyless quote: the first route of ampy.paper.ticks.v1 is the
	// quote route here, so it is handled, not skipped.
	q, err := kafkabus.TicksV1Quote.NewEnvelope(quotes("NOKEY", 4), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	qrec, err := q.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ProduceKeyed(ctx, ticksTopic, nil, qrec.Payload, qrec.Headers, 0); err != nil {
		t.Fatal(err)
	}
	var keyless []string
	g = group(t, b, "go-group-skip",
		kafkabus.Route(kafkabus.TicksV1Quote, func(_ context.Context, d *kafkabus.Delivery[*ticksv1.QuoteBatch]) error {
			keyless = append(keyless, d.Payload.GetQuotes()[0].GetSecurity().GetSymbol())
			return nil
		}),
		kafkabus.Route(kafkabus.TicksV1Trade, refuse[*ticksv1.TradeBatch](t)))
	stats = drainGroup(t, g, 2*time.Second)
	if fmt.Sprint(keyless) != "[NOKEY]" || stats.Consumed != 1 || stats.Skipped != 0 {
		t.Fatalf("keyless: handled %v, stats %+v", keyless, stats)
	}
}

// One route's failures go to the DLQ under its own domain, with its own
// bound (RouteWith), while the other routes consume normally.
func TestGroupDeadLettersAFailingRouteAlone(t *testing.T) {
	adm := admin(t)
	recreate(t, adm, ticksTopic, barsTopic, dlqTopic)
	b, m := open(t)
	ctx := context.Background()
	trade, err := typedPublisher(t, b, kafkabus.TicksV1Trade).Publish(ctx, trades("PERM", 1))
	if err != nil {
		t.Fatal(err)
	}
	quote, err := typedPublisher(t, b, kafkabus.TicksV1Quote).Publish(ctx, quotes("FLAKY", 2))
	if err != nil {
		t.Fatal(err)
	}
	bar, err := publisher(t, b, kafkabus.PublisherOptions{}).Publish(ctx, bars("FINE", 3))
	if err != nil {
		t.Fatal(err)
	}
	var barsSeen []string
	quoteCalls := 0
	g := group(t, b, "go-group-fail",
		kafkabus.Route(kafkabus.TicksV1Trade, func(context.Context, *kafkabus.Delivery[*ticksv1.TradeBatch]) error {
			return kafkabus.Permanent("rejected", "no such venue")
		}),
		kafkabus.RouteWith(kafkabus.TicksV1Quote, func(context.Context, *kafkabus.Delivery[*ticksv1.QuoteBatch]) error {
			quoteCalls++
			return kafkabus.Retry("down", "the book is down")
		}, kafkabus.RouteOptions{MaxDeliveries: 2, NakBackoff: []time.Duration{10 * time.Millisecond}}),
		kafkabus.Route(kafkabus.BarsV1Bars, func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
			barsSeen = append(barsSeen, d.Headers.MessageID)
			return nil
		}),
	)
	stats := drainGroup(t, g, 2*time.Second)
	if fmt.Sprint(barsSeen) != "["+bar.MessageID+"]" || quoteCalls != 2 {
		t.Fatalf("bars handled %v, quote handler called %d times", barsSeen, quoteCalls)
	}
	if stats.Consumed != 1 || stats.DeadLettered != 2 || stats.Retried != 1 || stats.Received != 3 {
		t.Fatalf("stats %+v", stats)
	}
	letters := records(t, dlqTopic)
	var got []string
	for _, l := range letters {
		reason, _ := header(l, "dlq_reason")
		id, _ := header(l, "message_id")
		got = append(got, fmt.Sprintf("%s|%s|%s", l.Key, id, reason))
	}
	sort.Strings(got)
	want := []string{
		"ticks FLAKY.XNAS|" + quote.MessageID + "|max_deliveries: down: the book is down",
		"ticks PERM.XNAS|" + trade.MessageID + "|rejected: no such venue",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("dead letters\n got %q\nwant %q", got, want)
	}
	if m.Counter("bus_dlq_total", "ticks.v1.trade", "rejected") != 1 || m.Counter("bus_dlq_total", "ticks.v1.quote", "max_deliveries") != 1 ||
		m.Counter("bus_retry_total", "ticks.v1.quote", "down") != 1 {
		t.Errorf("metrics:\n%s", m.Render())
	}
	for _, p := range []kafkabus.Published{trade, quote} {
		if got := committed(t, adm, "go-group-fail", ticksTopic, p.Partition); got < p.Offset+1 {
			t.Errorf("%s: committed %d", p.Key, got)
		}
	}
}

func TestGroupSendsAPoisonPillToItsRoutesDLQ(t *testing.T) {
	adm := admin(t)
	recreate(t, adm, ticksTopic, barsTopic, dlqTopic)
	b, m := open(t)
	ctx := context.Background()
	e, err := kafkabus.TicksV1Trade.NewEnvelope(trades("HASH", 1), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	setHeader(&rec, bus.HeaderSchemaHash, "sha256:"+strings.Repeat("cd", 32))
	subject, err := bus.TicksV1TradeSubject(env, "HASH")
	if err != nil {
		t.Fatal(err)
	}
	pill, err := typedPublisher(t, b, kafkabus.TicksV1Trade).PublishRecord(ctx, subject, rec)
	if err != nil {
		t.Fatal(err)
	}
	bar, err := publisher(t, b, kafkabus.PublisherOptions{}).Publish(ctx, bars("FINE", 1))
	if err != nil {
		t.Fatal(err)
	}
	var barsSeen []string
	g := group(t, b, "go-group-pill",
		kafkabus.Route(kafkabus.BarsV1Bars, func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
			barsSeen = append(barsSeen, d.Headers.MessageID)
			return nil
		}),
		kafkabus.Route(kafkabus.TicksV1Trade, refuse[*ticksv1.TradeBatch](t)),
	)
	stats := drainGroup(t, g, 2*time.Second)
	if fmt.Sprint(barsSeen) != "["+bar.MessageID+"]" || stats.DecodeFailures != 1 || stats.DeadLettered != 1 || stats.Consumed != 1 {
		t.Fatalf("bars handled %v, stats %+v", barsSeen, stats)
	}
	letters := records(t, dlqTopic)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	reason, _ := header(letters[0], "dlq_reason")
	id, _ := header(letters[0], "message_id")
	if reason != "schema_hash_mismatch" || id != pill.MessageID || string(letters[0].Key) != "ticks HASH.XNAS" {
		t.Errorf("dead letter %q: reason %q, message_id %q", letters[0].Key, reason, id)
	}
	if m.Counter("bus_dlq_total", "ticks.v1.trade", "schema_hash_mismatch") != 1 ||
		m.Counter("bus_decode_fail_total", "ticks.v1.trade", "hash_mismatch") != 1 {
		t.Errorf("metrics:\n%s", m.Render())
	}
	if got := committed(t, adm, "go-group-pill", ticksTopic, pill.Partition); got != pill.Offset+1 {
		t.Errorf("the poison pill: committed %d, want %d", got, pill.Offset+1)
	}
}

// No routes and a topic routed twice are config errors found before the
// broker is asked anything; a Kafka topic that does not exist is no_topic.
func TestGroupBuildErrors(t *testing.T) {
	bootstrap(t)
	b, _ := open(t)
	ctx := context.Background()
	ok := func(context.Context, *kafkabus.Delivery[*barsv1.BarBatch]) error { return nil }
	for name, routes := range map[string][]kafkabus.GroupRoute{
		"no routes": nil,
		// fills.v1 does not exist on the broker: config comes first.
		"twice": {kafkabus.Route(kafkabus.FillsV1Events, refuse[*fillsv1.Fill](t)), kafkabus.Route(kafkabus.BarsV1Bars, ok),
			kafkabus.RouteWith(kafkabus.FillsV1Events, refuse[*fillsv1.Fill](t), kafkabus.RouteOptions{MaxDeliveries: 1})},
		"nil handler": {kafkabus.Route[*barsv1.BarBatch](kafkabus.BarsV1Bars, nil)},
		"zero route":  {{}},
	} {
		_, err := kafkabus.NewGroup(ctx, b, "go-group-errors", kafkabus.GroupOptions{}, routes...)
		if kafkabus.KindOf(err) != kafkabus.KindConfig {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := kafkabus.NewGroup(ctx, b, "", kafkabus.GroupOptions{}, kafkabus.Route(kafkabus.BarsV1Bars, ok)); kafkabus.KindOf(err) != kafkabus.KindConfig {
		t.Errorf("no group name: %v", err)
	}
	// Nothing creates ampy.paper.fills.v1 (auto creation is off).
	_, err := kafkabus.NewGroup(ctx, b, "go-group-errors", kafkabus.GroupOptions{},
		kafkabus.Route(kafkabus.FillsV1Events, refuse[*fillsv1.Fill](t)))
	if kafkabus.KindOf(err) != kafkabus.KindNoTopic || !strings.Contains(err.Error(), "ampy.paper.fills.v1") {
		t.Fatalf("a group on a missing topic: %v", err)
	}
}
