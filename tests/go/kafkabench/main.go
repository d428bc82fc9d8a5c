// Command kafkabench puts the generated kafkabus package side by side with
// raw franz-go (pkg/kgo) on one loopback Kafka broker: 1 KiB payloads,
// produce throughput (a burst, every delivery report awaited), consume
// throughput in a consumer group (each record decoded and its offset
// marked for commit), and produce → first delivery latency at a steady
// 2,000 msg/s against the contract's SLOs. It prints numbers and asserts
// nothing about speed.
//
//	tests/go/kafka-bench.sh [-n N]   # starts a broker unless AMPY_KAFKA_BOOTSTRAP is set
//
// It deletes and re-creates the topic ampy.dev.news.v1 (6 partitions).
// The raw side sends the typed side's bytes, key, headers and partition
// with a franz-go client configured like the bus's producer (idempotent,
// acks=all, no compression, 5 ms linger, manual partitioner), so only the
// layer differs. Per record:
//
//   - produce, typed: PublishEnvelopes / PublishEnvelope (topic, key, headers
//     from the bindings, size pre-check, Java partition, reports awaited,
//     metrics); raw: what a hand-written service does: proto.Marshal of the
//     payload, record headers from the same header values, the same key and
//     partition, ProduceSync, reports awaited.
//   - consume, typed: Consumer.Drain (header contract, schema hash and gzip
//     checks, proto decode, handler, offset marked for commit after the
//     handler, metrics); raw: what a hand-written franz-go group consumer
//     does with the same bytes: PollFetches, read the message id and schema
//     headers and check the schema name, proto.Unmarshal into NewsItem,
//     MarkCommitRecords (auto-commit of marks).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
	newsv1 "ampyfin.dev/ampybus/pb/ampy/news/v1"
)

const (
	env        = bus.EnvDev
	topic      = "ampy.dev.news.v1"
	partitions = 6
)

// payload is a news item whose encoding is exactly 1 KiB.
func payload(i int) *newsv1.NewsItem {
	item := &newsv1.NewsItem{Id: fmt.Sprintf("bench:%08d", i), Headline: strings.Repeat("x", 1000)}
	for proto.Size(item) > 1024 {
		item.Headline = item.Headline[:len(item.Headline)-1]
	}
	for proto.Size(item) < 1024 {
		item.Headline += "x"
	}
	return item
}

func envelope(i int) *bus.Envelope {
	e, err := kafkabus.NewsV1Raw.NewEnvelope(payload(i), bus.EnvelopeOptions{Producer: "bench@1", Source: "bench", RunID: "r"})
	must(err)
	return e
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkabench:", err)
		os.Exit(1)
	}
}

func main() {
	n := flag.Int("n", 20000, "records per side")
	boot := flag.String("bootstrap", os.Getenv("AMPY_KAFKA_BOOTSTRAP"), "Kafka bootstrap host:port")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the typed consume runs here")
	flag.Parse()
	if *boot == "" {
		fmt.Fprintln(os.Stderr, "kafkabench: no broker: set AMPY_KAFKA_BOOTSTRAP or run tests/go/kafka-bench.sh")
		os.Exit(2)
	}
	ctx := context.Background()
	recreate(ctx, *boot)
	b, err := kafkabus.Connect(*boot, env)
	must(err)
	// AMPY_BENCH_METRICS=1: the typed side reports to the built-in
	// Prometheus metrics instead of the no-op observer, so their cost shows.
	if os.Getenv("AMPY_BENCH_METRICS") == "1" {
		b.WithObserver(kafkabus.NewMetrics())
		fmt.Println("typed side's observer: Metrics (Prometheus)")
	}
	defer b.Close()
	pub, err := kafkabus.NewPublisher(b, kafkabus.NewsV1Raw, kafkabus.PublisherOptions{Producer: "bench@1", Source: "bench", RunID: "r"})
	must(err)
	raw, err := kgo.NewClient(kgo.SeedBrokers(*boot), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	must(err)
	defer raw.Close()

	typedRecs := make([]*bus.Envelope, *n)
	rawRecs := make([]rawRecord, *n)
	for i := range *n {
		typedRecs[i] = envelope(i)
		e := envelope(i)
		rec, err := e.Encode()
		must(err)
		subject, err := kafkabus.NewsV1Raw.TopicFor(e.Payload, env)
		must(err)
		key := []byte(subject.KafkaKey(e.Headers.PartitionKey))
		rawRecs[i] = rawRecord{key: key, headers: rec.Headers, payload: e.Payload.(*newsv1.NewsItem),
			partition: kafkabus.PartitionFor(key, partitions)}
	}
	fmt.Printf("Kafka 4.4 on loopback (KRaft, one broker), topic of %d partitions, 1 KiB payloads, %d records each, franz-go v1.22.3\n",
		partitions, *n)

	// Produce in bursts of 1,000 (all sent, then all reports awaited),
	// alternating the two sides over two rounds; each side's best counts.
	const burst = 1000
	typedPub, rawPub := 1e9, 1e9
	// CPU seconds of this process per record (client goroutines included):
	// on a loaded machine the steadier figure of what each layer costs.
	typedPubCPU, rawPubCPU := 1e9, 1e9
	// One unmeasured burst per side first: a broker started moments ago
	// (scripts/lib/kafka.sh) is still compiling its hot paths, and the
	// side measured first would pay for it (1.6x in one such run against
	// 0.9x in the next).
	warm := min(burst, *n)
	_, err = pub.PublishEnvelopes(ctx, typedRecs[:warm])
	must(err)
	must(raw.ProduceSync(ctx, kgoRecords(rawRecs[:warm])...).FirstErr())
	if *profile != "" {
		f, err := os.Create(*profile + ".produce")
		must(err)
		must(pprof.StartCPUProfile(f))
	}
	for round := range 2 {
		lo, hi := round**n/2, (round+1)**n/2
		settle()
		t, cpu := time.Now(), cpuSeconds()
		for i := lo; i < hi; i += burst {
			_, err := pub.PublishEnvelopes(ctx, typedRecs[i:min(i+burst, hi)])
			must(err)
		}
		typedPub = min(typedPub, time.Since(t).Seconds()/float64(hi-lo))
		typedPubCPU = min(typedPubCPU, (cpuSeconds()-cpu)/float64(hi-lo))
		settle()
		t, cpu = time.Now(), cpuSeconds()
		for i := lo; i < hi; i += burst {
			must(raw.ProduceSync(ctx, kgoRecords(rawRecs[i:min(i+burst, hi)])...).FirstErr())
		}
		rawPub = min(rawPub, time.Since(t).Seconds()/float64(hi-lo))
		rawPubCPU = min(rawPubCPU, (cpuSeconds()-cpu)/float64(hi-lo))
	}
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	report("produce, bursts of 1000", typedPub, rawPub)
	report("produce CPU, bursts", typedPubCPU, rawPubCPU)
	// One record at a time, each report awaited before the next, in five
	// alternating rounds of 100; each side's best round counts.
	const single, rounds = 500, 5
	typedOne, rawOne := 1e9, 1e9
	for r := range rounds {
		lo, hi := r*single/rounds, (r+1)*single/rounds
		t := time.Now()
		for _, e := range typedRecs[lo:hi] {
			_, err := pub.PublishEnvelope(ctx, e)
			must(err)
		}
		typedOne = min(typedOne, time.Since(t).Seconds()/float64(hi-lo))
		t = time.Now()
		for i := lo; i < hi; i++ {
			must(raw.ProduceSync(ctx, kgoRecords(rawRecs[i:i+1])...).FirstErr())
		}
		rawOne = min(rawOne, time.Since(t).Seconds()/float64(hi-lo))
	}
	report("produce, one at a time", typedOne, rawOne)

	// Consume every record (2n + 2·single + the warm-up's) in a fresh group: typed, and raw
	// with a proto.Unmarshal per record (the least a raw consumer does).
	total := uint64(2**n + 2*single + 2*warm)
	typedCon, rawCon := 1e9, 1e9
	typedConCPU, rawConCPU := 1e9, 1e9
	for round := range 2 {
		typed := func() {
			if *profile != "" {
				f, err := os.Create(fmt.Sprintf("%s.%d", *profile, round))
				must(err)
				must(pprof.StartCPUProfile(f))
				defer pprof.StopCPUProfile()
			}
			// Timed from creating the consumer to the last record handled,
			// as the raw side is: Drain then idles 3 s to be sure nothing
			// more comes, and neither that wait's wall time nor the CPU the
			// client spends in it is the layer's cost per record.
			idle := 3 * time.Second
			settle()
			t, cpu := time.Now(), cpuSeconds()
			var seen uint64
			var wall time.Duration
			var cpuEnd float64
			c, err := kafkabus.NewConsumer(ctx, b, kafkabus.NewsV1Raw, fmt.Sprintf("bench-typed-%d", round), kafkabus.ConsumerOptions{})
			must(err)
			stats, err := c.Drain(ctx, func(context.Context, *kafkabus.Delivery[*newsv1.NewsItem]) error {
				if seen++; seen == total {
					wall, cpuEnd = time.Since(t), cpuSeconds()
				}
				return nil
			}, idle)
			must(err)
			must(c.Close())
			if stats.Consumed != total || seen != total {
				must(fmt.Errorf("the typed consumer handled %d of %d", stats.Consumed, total))
			}
			typedCon = min(typedCon, wall.Seconds()/float64(total))
			typedConCPU = min(typedConCPU, (cpuEnd-cpu)/float64(total))
		}
		raws := func() {
			wall, cpu := rawConsume(ctx, *boot, fmt.Sprintf("bench-raw-%d", round), total)
			rawCon, rawConCPU = min(rawCon, wall), min(rawConCPU, cpu)
		}
		if round == 0 {
			typed()
			raws()
		} else {
			raws()
			typed()
		}
	}
	report("consume, group + decode", typedCon, rawCon)
	report("consume CPU", typedConCPU, rawConCPU)

	latency(ctx, b, pub)
}

// rawRecord is what a hand-written producer holds before it sends: the
// payload, the typed side's key and header values, and the partition by
// Java's rule.
type rawRecord struct {
	key       []byte
	headers   []bus.HeaderPair
	payload   *newsv1.NewsItem
	partition int32
}

// kgoRecords is the raw side's per-record work: proto.Marshal of the
// payload and the record headers written from the header values.
func kgoRecords(rs []rawRecord) []*kgo.Record {
	out := make([]*kgo.Record, len(rs))
	for i, r := range rs {
		body, err := proto.Marshal(r.payload)
		must(err)
		hs := make([]kgo.RecordHeader, len(r.headers))
		for j, h := range r.headers {
			hs[j] = kgo.RecordHeader{Key: h.Name, Value: []byte(h.Value)}
		}
		out[i] = &kgo.Record{Topic: topic, Key: r.key, Value: body, Headers: hs, Partition: r.partition}
	}
	return out
}

// recreate deletes the bench topic and creates it again.
func recreate(ctx context.Context, boot string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot))
	must(err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	_, _ = adm.DeleteTopics(ctx, topic)
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
		if err == nil {
			err = res.Err
		}
		if err == nil {
			break
		}
		if !errors.Is(err, kerr.TopicAlreadyExists) || time.Now().After(deadline) {
			must(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		tds, err := adm.ListTopics(ctx, topic)
		if err == nil && tds[topic].Err == nil && len(tds[topic].Partitions) == partitions {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	must(fmt.Errorf("topic %s has no metadata", topic))
}

// rawConsume reads total records in a new group with franz-go alone,
// reading the headers it needs, unmarshalling each payload and marking it
// for commit, and returns wall and CPU seconds per record (from creating
// the client to the last record).
func rawConsume(ctx context.Context, boot, group string, total uint64) (float64, float64) {
	settle()
	t, cpu := time.Now(), cpuSeconds()
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.AutoCommitMarks(), kgo.AutoCommitInterval(time.Second), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	must(err)
	defer cl.Close()
	fqdn := string((&newsv1.NewsItem{}).ProtoReflect().Descriptor().FullName())
	var seen uint64
	for seen < total {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			var id, schema string
			for _, h := range r.Headers {
				switch h.Key {
				case "message_id":
					id = string(h.Value)
				case "schema_fqdn":
					schema = string(h.Value)
				}
			}
			if id == "" || schema != fqdn {
				must(fmt.Errorf("unexpected headers %v", r.Headers))
			}
			must(proto.Unmarshal(r.Value, &newsv1.NewsItem{}))
			cl.MarkCommitRecords(r)
			seen++
		})
	}
	elapsed, cpuEnd := time.Since(t).Seconds()/float64(total), cpuSeconds()
	must(cl.CommitMarkedOffsets(ctx))
	return elapsed, (cpuEnd - cpu) / float64(total)
}

// latency publishes at a steady 2,000 msg/s for 5 s, without waiting for
// each report before the next send, and times first deliveries on a
// running consumer group by message id.
func latency(ctx context.Context, b *kafkabus.Bus, pub *kafkabus.Publisher[*newsv1.NewsItem]) {
	const rate, secs = 2000.0, 5.0
	total := int(rate * secs)
	var mu sync.Mutex
	sent := make(map[string]time.Time, total)
	lat := make([]float64, 0, total)
	c, err := kafkabus.NewConsumer(ctx, b, kafkabus.NewsV1Raw, "bench-latency", kafkabus.ConsumerOptions{Latest: true})
	must(err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := c.Drain(ctx, func(_ context.Context, d *kafkabus.Delivery[*newsv1.NewsItem]) error {
			at := time.Now()
			mu.Lock()
			if t0, ok := sent[d.Headers.MessageID]; ok {
				lat = append(lat, float64(at.Sub(t0).Microseconds())/1e3)
			}
			mu.Unlock()
			return nil
		}, 5*time.Second)
		must(err)
		must(c.Close())
	}()
	// Let the group settle on its partitions before the clock starts
	// (within the drain's idle time).
	time.Sleep(2 * time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		e := envelope(i)
		mu.Lock()
		sent[e.Headers.MessageID] = time.Now()
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := pub.PublishEnvelope(ctx, e)
			must(err)
		}()
	}
	wg.Wait()
	<-done
	sort.Float64s(lat)
	if len(lat) == 0 {
		must(fmt.Errorf("no delivery timed"))
	}
	pct := func(p float64) float64 { return lat[min(int(float64(len(lat))*p), len(lat)-1)] }
	fmt.Printf("produce -> first delivery at %.0f msg/s for %.0f s (%d of %d records): p50 %.2f ms, p99 %.2f ms, max %.2f ms  "+
		"(SLO p99: 50 ms critical, 150 ms market data)\n", rate, secs, len(lat), total, pct(0.50), pct(0.99), lat[len(lat)-1])
}

// cpuSeconds is the user and system CPU time of this process so far.
// settle collects the garbage of what ran before a measured section, so
// that a collection it left due is not charged to the next side.
func settle() { runtime.GC() }

func cpuSeconds() float64 {
	var ru syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime)
}

func report(what string, typed, raw float64) {
	fmt.Printf("%-26s typed %8.1f µs/record (%7.0f/s)   raw franz-go %8.1f µs/record (%7.0f/s)   typed/raw %.2fx\n",
		what, typed*1e6, 1/typed, raw*1e6, 1/raw, typed/raw)
}
