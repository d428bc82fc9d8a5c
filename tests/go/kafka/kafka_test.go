package kafka_test

// The generated kafkabus package on the real Kafka broker that scripts/test
// starts (scripts/lib/kafka.sh exports AMPY_KAFKA_BOOTSTRAP): the paths of
// docs/kafka.md, each checked against the broker's own state (its
// partitions, end offsets, committed offsets and the DLQ topic). Without a
// broker the tests skip, unless AMPY_TEST_REQUIRE_KAFKA=1 (scripts/test
// sets it), where they fail.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
	fillsv1 "ampyfin.dev/ampybus/pb/ampy/fills/v1"
	newsv1 "ampyfin.dev/ampybus/pb/ampy/news/v1"
)

// env is not the matrix's (dev), so the two never share a topic.
const env = bus.EnvPaper

const (
	barsTopic = "ampy.paper.bars.v1"
	dlqTopic  = "ampy.paper.dlq.v1"
	// partitions of the test topics: several, so placement is checked.
	partitions = 6
)

// bootstrap is the broker's address, or skips the test.
func bootstrap(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("AMPY_KAFKA_BOOTSTRAP")
	if addr == "" {
		if os.Getenv("AMPY_TEST_REQUIRE_KAFKA") == "1" {
			t.Fatal("AMPY_KAFKA_BOOTSTRAP is not set: scripts/test starts the broker (scripts/lib/kafka.sh)")
		}
		fmt.Println("kafkabus tests skipped: no Kafka broker (set AMPY_KAFKA_BOOTSTRAP; scripts/test starts one)")
		t.Skip("no Kafka broker: set AMPY_KAFKA_BOOTSTRAP (scripts/test starts one)")
	}
	return addr
}

// admin is a raw franz-go admin client on the broker.
func admin(t testing.TB) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// recreate deletes topics and creates them again with partitions
// partitions, so a test sees only its own records. Kafka deletes a topic
// asynchronously: creating it again is retried until the old one is gone.
func recreate(t testing.TB, adm *kadm.Client, topics ...string) {
	t.Helper()
	recreateWith(t, adm, partitions, topics...)
}

// recreateWith is recreate with n partitions.
func recreateWith(t testing.TB, adm *kadm.Client, n int32, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := adm.DeleteTopics(ctx, topics...); err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics {
		for {
			res, err := adm.CreateTopic(ctx, n, 1, nil, topic)
			if err == nil && res.Err == nil {
				break
			}
			if err == nil {
				err = res.Err
			}
			if !errors.Is(err, kerr.TopicAlreadyExists) || ctx.Err() != nil {
				t.Fatalf("creating %s: %v", topic, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitPartitions(ctx, t, adm, n, topics...)
}

// waitPartitions waits until the metadata names n partitions of each topic
// (fresh metadata: kadm otherwise answers from a cache up to 5 s old, which
// may still hold a deleted topic).
func waitPartitions(ctx context.Context, t testing.TB, adm *kadm.Client, n int32, topics ...string) {
	t.Helper()
	for _, topic := range topics {
		for {
			tds, err := adm.ListTopics(kadm.WithAuthorizedOps(ctx), topic)
			if err == nil && tds[topic].Err == nil && len(tds[topic].Partitions) == int(n) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("topic %s has no metadata: %v", topic, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// connect opens a bus on fresh bars and dlq topics, with fresh metrics.
func connect(t testing.TB) (*kafkabus.Bus, *kafkabus.Metrics, *kadm.Client) {
	t.Helper()
	adm := admin(t)
	recreate(t, adm, barsTopic, dlqTopic)
	b, m := open(t)
	return b, m, adm
}

// open connects without touching the topics. The short session timeout
// (the broker's minimum) lets a group move on from a killed member soon.
func open(t testing.TB) (*kafkabus.Bus, *kafkabus.Metrics) {
	t.Helper()
	b, err := kafkabus.Connect(bootstrap(t), env, kgo.SessionTimeout(6*time.Second), kgo.HeartbeatInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	m := kafkabus.NewMetrics()
	b.WithObserver(m)
	return b, m
}

func bars(symbol string, seq int) *barsv1.BarBatch {
	return &barsv1.BarBatch{Bars: []*barsv1.Bar{{
		Security: &commonv1.SecurityId{Symbol: symbol, Mic: "XNAS"},
		Interval: &barsv1.BarInterval{Unit: barsv1.IntervalUnit_INTERVAL_UNIT_MINUTE, Count: int32(seq)},
	}}}
}

func publisher(t testing.TB, b *kafkabus.Bus, o kafkabus.PublisherOptions) *kafkabus.Publisher[*barsv1.BarBatch] {
	t.Helper()
	if o.Producer == "" {
		o.Producer = "go-test@1"
	}
	p, err := kafkabus.NewPublisher(b, kafkabus.BarsV1Bars, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func consumer(t testing.TB, b *kafkabus.Bus, group string, o kafkabus.ConsumerOptions) *kafkabus.Consumer[*barsv1.BarBatch] {
	t.Helper()
	c, err := kafkabus.NewConsumer(context.Background(), b, kafkabus.BarsV1Bars, group, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// drain runs c until nothing came for idle, then closes it (the final
// commit).
func drain(t testing.TB, c *kafkabus.Consumer[*barsv1.BarBatch], h kafkabus.Handler[*barsv1.BarBatch], idle time.Duration) kafkabus.RunStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stats, err := c.Drain(ctx, h, idle)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return stats
}

// tampered publishes a valid bars record for symbol with edit applied to
// its encoded form, as is.
func tampered(t testing.TB, b *kafkabus.Bus, symbol string, edit func(*bus.Record)) kafkabus.Published {
	t.Helper()
	e, err := kafkabus.BarsV1Bars.NewEnvelope(bars(symbol, 0), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	edit(&rec)
	subject, err := bus.BarsV1BarsSubject(env, "XNAS", symbol)
	if err != nil {
		t.Fatal(err)
	}
	done, err := publisher(t, b, kafkabus.PublisherOptions{}).PublishRecord(context.Background(), subject, rec)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func setHeader(rec *bus.Record, name, value string) {
	for i := range rec.Headers {
		if rec.Headers[i].Name == name {
			rec.Headers[i].Value = value
			return
		}
	}
	rec.Headers = append(rec.Headers, bus.HeaderPair{Name: name, Value: value})
}

// records reads every record of topic from the start with a raw client.
func records(t testing.TB, topic string) []*kgo.Record {
	t.Helper()
	adm := admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap(t)), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for int64(len(out)) < total {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), total, topic)
		}
		out = append(out, f.Records()...)
	}
	return out
}

func header(r *kgo.Record, name string) (string, int) {
	var v string
	n := 0
	for _, h := range r.Headers {
		if h.Key == name {
			v = string(h.Value)
			n++
		}
	}
	return v, n
}

// committed is the group's committed offset of a partition, -1 if none.
func committed(t testing.TB, adm *kadm.Client, group, topic string, partition int32) int64 {
	t.Helper()
	offs, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, partition); ok && o.Err == nil {
		return o.At
	}
	return -1
}

func noHandler(t testing.TB) kafkabus.Handler[*barsv1.BarBatch] {
	return func(context.Context, *kafkabus.Delivery[*barsv1.BarBatch]) error {
		t.Error("the handler ran on a poison pill")
		return nil
	}
}

func TestTypedPublishAndConsumeKeepHeadersAndBytes(t *testing.T) {
	b, m, _ := connect(t)
	p := publisher(t, b, kafkabus.PublisherOptions{})
	ctx := context.Background()
	type sent struct {
		rec  bus.Record
		done kafkabus.Published
	}
	want := map[string]sent{}
	for i, symbol := range []string{"AAPL", "MSFT", "GOOGL", "BRKB", "TSLA"} {
		e, err := kafkabus.BarsV1Bars.NewEnvelope(bars(symbol, i), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		done, err := p.PublishEnvelope(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		// The key is the subject's subtopic and the partition key; the
		// partition is Java's rule on it.
		if done.Key != "XNAS."+symbol+" XNAS."+symbol || done.Topic != barsTopic {
			t.Errorf("published %+v", done)
		}
		if done.Partition != kafkabus.PartitionFor([]byte(done.Key), partitions) {
			t.Errorf("%s on partition %d, Java's rule says %d", done.Key, done.Partition, kafkabus.PartitionFor([]byte(done.Key), partitions))
		}
		want[e.Headers.MessageID] = sent{rec, done}
	}
	got := 0
	stats := drain(t, consumer(t, b, "go-typed", kafkabus.ConsumerOptions{}), func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
		got++
		s, ok := want[d.Headers.MessageID]
		if !ok {
			t.Errorf("unexpected record %s", d.Headers.MessageID)
			return nil
		}
		if d.Partition != s.done.Partition || d.Offset != s.done.Offset || string(d.Key) != s.done.Key {
			t.Errorf("delivered at %d@%d key %q, published %+v", d.Partition, d.Offset, d.Key, s.done)
		}
		if string(d.RawPayload) != string(s.rec.Payload) {
			t.Error("the payload bytes changed")
		}
		if fmt.Sprint(d.RawHeaders) != fmt.Sprint(s.rec.Headers) {
			t.Errorf("headers\n got %v\nwant %v", d.RawHeaders, s.rec.Headers)
		}
		produced, _ := d.Headers.ProducedAtTime()
		if d.Timestamp.UnixMilli() != produced.UnixMilli() {
			t.Errorf("record timestamp %v, produced_at %v", d.Timestamp, produced)
		}
		if d.Payload.GetBars()[0].GetSecurity().GetSymbol() == "" || d.RetryCount != 0 {
			t.Errorf("delivery %+v", d.DeliveryInfo)
		}
		return nil
	}, 2*time.Second)
	if got != len(want) || stats.Consumed != uint64(len(want)) {
		t.Fatalf("handled %d, stats %+v", got, stats)
	}
	if n := m.Counter("bus_produced_total", "bars.v1.bars", "go-test@1"); n != uint64(len(want)) {
		t.Errorf("bus_produced_total %d", n)
	}
	text := m.Render()
	for _, s := range want {
		lag, ok := m.Lag("bars.v1.bars", "go-typed", s.done.Partition)
		if !ok || lag != 0 {
			t.Errorf("lag of partition %d: %d %v", s.done.Partition, lag, ok)
		}
	}
	for _, line := range []string{
		`bus_consumed_total{topic="bars.v1.bars",consumer="go-typed"} 5`,
		"# TYPE bus_consumer_lag gauge",
		`bus_consumer_lag{topic="bars.v1.bars",consumer="go-typed",partition="`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("metrics lack %s:\n%s", line, text)
		}
	}
}

func TestWrongSchemaHashGoesToTheDLQ(t *testing.T) {
	b, m, _ := connect(t)
	other := "sha256:" + strings.Repeat("ab", 32)
	sent := tampered(t, b, "HASH", func(r *bus.Record) { setHeader(r, bus.HeaderSchemaHash, other) })
	stats := drain(t, consumer(t, b, "go-hash", kafkabus.ConsumerOptions{}), noHandler(t), 2*time.Second)
	if stats.DeadLettered != 1 || stats.DecodeFailures != 1 || stats.Consumed != 0 {
		t.Fatalf("stats %+v", stats)
	}
	letters := records(t, dlqTopic)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	l := letters[0]
	if v, n := header(l, "dlq_reason"); n != 1 || v != "schema_hash_mismatch" {
		t.Errorf("dlq_reason %q (%d)", v, n)
	}
	if v, _ := header(l, "schema_hash"); v != other {
		t.Errorf("the dead letter lost the received schema_hash: %q", v)
	}
	if v, _ := header(l, "message_id"); v != sent.MessageID {
		t.Errorf("message_id %q, want %s", v, sent.MessageID)
	}
	// The DLQ subject's key: its subtopic (the source domain) and the
	// record's partition key, placed by Java's rule.
	if string(l.Key) != "bars XNAS.HASH" || l.Partition != kafkabus.PartitionFor(l.Key, partitions) {
		t.Errorf("dead letter key %q on partition %d", l.Key, l.Partition)
	}
	if got := m.Counter("bus_dlq_total", "bars.v1.bars", "schema_hash_mismatch"); got != 1 {
		t.Errorf("bus_dlq_total %d", got)
	}
	if got := m.Counter("bus_decode_fail_total", "bars.v1.bars", "hash_mismatch"); got != 1 {
		t.Errorf("bus_decode_fail_total %d\n%s", got, m.Render())
	}
}

func TestCorruptGzipGoesToTheDLQWithADecodeReason(t *testing.T) {
	b, m, adm := connect(t)
	sent := tampered(t, b, "GZIP", func(r *bus.Record) {
		setHeader(r, bus.HeaderContentEncoding, bus.ContentEncodingGzip)
		r.Payload = []byte{0x1f, 0x8b, 0x08, 0x00, 'n', 'o', 't', ' ', 'g', 'z', 'i', 'p'}
	})
	stats := drain(t, consumer(t, b, "go-gzip", kafkabus.ConsumerOptions{}), noHandler(t), 2*time.Second)
	if stats.DeadLettered != 1 || stats.Consumed != 0 {
		t.Fatalf("stats %+v", stats)
	}
	letters := records(t, dlqTopic)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	reason, _ := header(letters[0], "dlq_reason")
	if !strings.HasPrefix(reason, "decode_error: ") || !strings.Contains(reason, "gzip") {
		t.Errorf("dlq_reason %q", reason)
	}
	if string(letters[0].Value) != "\x1f\x8b\x08\x00not gzip" {
		t.Errorf("the dead letter's value changed: %q", letters[0].Value)
	}
	if got := m.Counter("bus_dlq_total", "bars.v1.bars", "decode_error"); got != 1 {
		t.Errorf("bus_dlq_total{reason=decode_error} %d\n%s", got, m.Render())
	}
	// The poison pill is finished: its offset is committed.
	if got := committed(t, adm, "go-gzip", barsTopic, sent.Partition); got != sent.Offset+1 {
		t.Errorf("committed %d, want %d", got, sent.Offset+1)
	}
}

func TestFailTwiceThenSucceedIsHandledThreeTimesAndCommittedOnce(t *testing.T) {
	b, m, adm := connect(t)
	sent, err := publisher(t, b, kafkabus.PublisherOptions{}).Publish(context.Background(), bars("RETRY", 0))
	if err != nil {
		t.Fatal(err)
	}
	var seen []uint32
	var commits []int64
	h := func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
		seen = append(seen, d.RetryCount)
		// Nothing is committed while the record is unfinished.
		commits = append(commits, committed(t, adm, "go-retry", barsTopic, sent.Partition))
		if len(seen) < 3 {
			return kafkabus.Retry("flaky", "try again")
		}
		return nil
	}
	c := consumer(t, b, "go-retry", kafkabus.ConsumerOptions{Backoff: []time.Duration{50 * time.Millisecond}, CommitInterval: 100 * time.Millisecond})
	stats := drain(t, c, h, 2*time.Second)
	if len(seen) != 3 || seen[0] != 0 || seen[1] != 1 || seen[2] != 2 {
		t.Fatalf("retry counts %v", seen)
	}
	if fmt.Sprint(commits) != "[-1 -1 -1]" {
		t.Errorf("committed offsets seen by the handler: %v", commits)
	}
	if stats.Consumed != 1 || stats.Retried != 2 || stats.DeadLettered != 0 || stats.Received != 1 {
		t.Fatalf("stats %+v", stats)
	}
	if got := committed(t, adm, "go-retry", barsTopic, sent.Partition); got != sent.Offset+1 {
		t.Errorf("committed %d, want %d", got, sent.Offset+1)
	}
	if got := m.Counter("bus_retry_total", "bars.v1.bars", "flaky"); got != 2 {
		t.Errorf("bus_retry_total %d", got)
	}
	if len(records(t, dlqTopic)) != 0 {
		t.Error("a record that succeeded was dead-lettered")
	}
	// Committed: the group does not get it again.
	again := drain(t, consumer(t, b, "go-retry", kafkabus.ConsumerOptions{}), noHandler(t), 2*time.Second)
	if again.Received != 0 {
		t.Errorf("redelivered after the commit: %+v", again)
	}
}

// Idle counts only once the member holds its partitions: a join that takes
// longer (seconds on a fresh or busy broker) does not end the drain before
// the record produced earlier arrives.
func TestDrainGetsARecordProducedBeforeItsGroupJoin(t *testing.T) {
	b, _, _ := connect(t)
	sent, err := publisher(t, b, kafkabus.PublisherOptions{}).Publish(context.Background(), bars("JOIN", 0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	h := func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
		got = append(got, d.Headers.MessageID)
		return nil
	}
	began := time.Now()
	drain(t, consumer(t, b, "go-short-idle", kafkabus.ConsumerOptions{}), h, time.Second)
	t.Logf("drained in %v", time.Since(began))
	if len(got) != 1 || got[0] != sent.MessageID {
		t.Fatalf("got %v, want [%s]", got, sent.MessageID)
	}
}

func TestAlwaysFailingEndsInTheDLQAfterTheBound(t *testing.T) {
	b, m, adm := connect(t)
	sent, err := publisher(t, b, kafkabus.PublisherOptions{}).Publish(context.Background(), bars("FAIL", 0))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := func(context.Context, *kafkabus.Delivery[*barsv1.BarBatch]) error {
		calls++
		return kafkabus.Retry("down", "the database is down")
	}
	c := consumer(t, b, "go-fail", kafkabus.ConsumerOptions{MaxDeliveries: 3, Backoff: []time.Duration{20 * time.Millisecond}})
	stats := drain(t, c, h, 2*time.Second)
	if calls != 3 || stats.DeadLettered != 1 || stats.Consumed != 0 || stats.Retried != 2 {
		t.Fatalf("calls %d stats %+v", calls, stats)
	}
	letters := records(t, dlqTopic)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	if v, _ := header(letters[0], "dlq_reason"); v != "max_deliveries: down: the database is down" {
		t.Errorf("dlq_reason %q", v)
	}
	if v, _ := header(letters[0], "message_id"); v != sent.MessageID {
		t.Errorf("message_id %q", v)
	}
	if !letters[0].Timestamp.Equal(time.UnixMilli(letters[0].Timestamp.UnixMilli())) || letters[0].Timestamp.IsZero() {
		t.Errorf("timestamp %v", letters[0].Timestamp)
	}
	if got := m.Counter("bus_dlq_total", "bars.v1.bars", "max_deliveries"); got != 1 {
		t.Errorf("bus_dlq_total %d", got)
	}
	if got := committed(t, adm, "go-fail", barsTopic, sent.Partition); got != sent.Offset+1 {
		t.Errorf("committed %d, want %d", got, sent.Offset+1)
	}
}

func TestOversizedRecordIsRefusedBeforeSending(t *testing.T) {
	b, _, adm := connect(t)
	ctx := context.Background()
	before, err := adm.ListEndOffsets(ctx, barsTopic)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kafkabus.BarsV1Bars.NewEnvelope(bars("BIG", 0), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := bus.BarsV1BarsSubject(env, "XNAS", "BIG")
	key := []byte(bus.KafkaKeyOf(subject, "XNAS.BIG"))
	limit := 4096
	p := publisher(t, b, kafkabus.PublisherOptions{MaxMessageBytes: limit})
	over := rec
	over.Payload = make([]byte, limit-kafkabus.RecordSize(key, nil, rec.Headers)+1)
	_, err = p.PublishRecord(ctx, subject, over)
	if kafkabus.KindOf(err) != kafkabus.KindTooLarge || !strings.Contains(err.Error(), "blob pointer") {
		t.Fatalf("over the bound: %v", err)
	}
	after, err := adm.ListEndOffsets(ctx, barsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("the end offsets moved: %v -> %v", before, after)
	}
	// At the bound exactly: sent and stored.
	exact := rec
	exact.Payload = over.Payload[1:]
	if _, err := p.PublishRecord(ctx, subject, exact); err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	// The default bound is the broker's: a record over 1 MiB is refused
	// by the default publisher too.
	huge := rec
	huge.Payload = make([]byte, kafkabus.DefaultMaxMessageBytes)
	if _, err := publisher(t, b, kafkabus.PublisherOptions{}).PublishRecord(ctx, subject, huge); kafkabus.KindOf(err) != kafkabus.KindTooLarge {
		t.Fatalf("over the default bound: %v", err)
	}
}

func TestAThousandRecordsOfOneKeyArriveInOrder(t *testing.T) {
	b, _, _ := connect(t)
	const n = 1000
	payloads := make([]*barsv1.BarBatch, n)
	for i := range payloads {
		payloads[i] = bars("ORDER", i)
	}
	done, err := publisher(t, b, kafkabus.PublisherOptions{}).PublishAll(context.Background(), payloads)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if done[i].Partition != done[0].Partition || done[i].Offset != done[i-1].Offset+1 {
			t.Fatalf("record %d stored at %d@%d after %d@%d", i, done[i].Partition, done[i].Offset, done[i-1].Partition, done[i-1].Offset)
		}
	}
	next := int32(0)
	drain(t, consumer(t, b, "go-order", kafkabus.ConsumerOptions{}), func(_ context.Context, d *kafkabus.Delivery[*barsv1.BarBatch]) error {
		if got := d.Payload.GetBars()[0].GetInterval().GetCount(); got != next {
			t.Fatalf("got record %d, want %d", got, next)
		}
		next++
		return nil
	}, 2*time.Second)
	if next != n {
		t.Fatalf("consumed %d of %d", next, n)
	}
}

func TestUnprovisionedTopicIsNoTopic(t *testing.T) {
	bootstrap(t)
	b, _ := open(t)
	// Nothing creates ampy.paper.fills.v1 (auto creation is off).
	p, err := kafkabus.NewPublisher(b, kafkabus.FillsV1Events, kafkabus.PublisherOptions{Producer: "go-test@1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Publish(context.Background(), &fillsv1.Fill{AccountId: "acct-1", ClientOrderId: "co-1"})
	if kafkabus.KindOf(err) != kafkabus.KindNoTopic || !strings.Contains(err.Error(), "provision") {
		t.Fatalf("publish to a missing topic: %v", err)
	}
	if _, err := kafkabus.NewConsumer(context.Background(), b, kafkabus.FillsV1Events, "go-none", kafkabus.ConsumerOptions{}); kafkabus.KindOf(err) != kafkabus.KindNoTopic {
		t.Fatalf("consumer of a missing topic: %v", err)
	}
}

// news.v1.raw and news.v1.nlp share the Kafka topic ampy.paper.news.v1: a
// consumer of one finishes the other's records without handling them and
// without dead-lettering them.
func TestSiblingTopicsOnOneKafkaTopicPassEachOtherBy(t *testing.T) {
	adm := admin(t)
	recreate(t, adm, "ampy.paper.news.v1", dlqTopic)
	b, _ := open(t)
	ctx := context.Background()
	raw, err := kafkabus.NewPublisher(b, kafkabus.NewsV1Raw, kafkabus.PublisherOptions{Producer: "go-test@1"})
	if err != nil {
		t.Fatal(err)
	}
	nlp, err := kafkabus.NewPublisher(b, kafkabus.NewsV1Nlp, kafkabus.PublisherOptions{Producer: "go-test@1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Publish(ctx, &newsv1.NewsItem{Id: "n-1", Headline: "raw"}); err != nil {
		t.Fatal(err)
	}
	if _, err := nlp.Publish(ctx, &newsv1.NewsAnalysis{Id: "n-1", ModelId: "m"}); err != nil {
		t.Fatal(err)
	}
	c, err := kafkabus.NewConsumer(ctx, b, kafkabus.NewsV1Raw, "go-siblings", kafkabus.ConsumerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var got []string
	stats, err := c.Drain(dctx, func(_ context.Context, d *kafkabus.Delivery[*newsv1.NewsItem]) error {
		got = append(got, d.Subject+" "+d.Payload.GetHeadline())
		return nil
	}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[ampy.paper.news.v1.raw raw]" || stats.Skipped != 1 || stats.DeadLettered != 0 {
		t.Fatalf("handled %v, stats %+v", got, stats)
	}
	if n := len(records(t, dlqTopic)); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
}

// Kafka headers are byte strings that may repeat or be null: a repeated
// envelope header is duplicate_header and a null value a missing header,
// both poison pills with every received header kept in the dead letter.
func TestDuplicateAndNullHeadersArePoisonPills(t *testing.T) {
	b, m, _ := connect(t)
	e, err := kafkabus.BarsV1Bars.NewEnvelope(bars("HDR", 0), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("XNAS.HDR XNAS.HDR")
	headers := func(edit func([]kgo.RecordHeader) []kgo.RecordHeader) []kgo.RecordHeader {
		hs := make([]kgo.RecordHeader, 0, len(rec.Headers)+1)
		for _, h := range rec.Headers {
			hs = append(hs, kgo.RecordHeader{Key: h.Name, Value: []byte(h.Value)})
		}
		return edit(hs)
	}
	dup := headers(func(hs []kgo.RecordHeader) []kgo.RecordHeader {
		return append(hs, kgo.RecordHeader{Key: "producer", Value: []byte("someone-else")})
	})
	null := headers(func(hs []kgo.RecordHeader) []kgo.RecordHeader {
		for i := range hs {
			if hs[i].Key == "producer" {
				hs[i].Value = nil
			}
		}
		return hs
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap(t)), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, hs := range [][]kgo.RecordHeader{dup, null} {
		r := &kgo.Record{Topic: barsTopic, Key: key, Value: rec.Payload, Headers: hs, Partition: kafkabus.PartitionFor(key, partitions)}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	stats := drain(t, consumer(t, b, "go-headers", kafkabus.ConsumerOptions{}), noHandler(t), 2*time.Second)
	if stats.DeadLettered != 2 || stats.DecodeFailures != 2 {
		t.Fatalf("stats %+v", stats)
	}
	letters := records(t, dlqTopic)
	if len(letters) != 2 {
		t.Fatalf("%d dead letters", len(letters))
	}
	var reasons []string
	for _, l := range letters {
		reason, _ := header(l, "dlq_reason")
		reasons = append(reasons, reason)
		if _, n := header(l, "producer"); n < 1 {
			t.Errorf("the dead letter lost the producer header: %v", l.Headers)
		}
	}
	sort.Strings(reasons)
	if !strings.HasPrefix(reasons[0], "duplicate_header") || !strings.HasPrefix(reasons[1], "missing_header") {
		t.Errorf("dlq reasons %q", reasons)
	}
	if m.Counter("bus_decode_fail_total", "bars.v1.bars", "duplicate_header") != 1 ||
		m.Counter("bus_decode_fail_total", "bars.v1.bars", "missing_header") != 1 {
		t.Errorf("metrics:\n%s", m.Render())
	}
}
