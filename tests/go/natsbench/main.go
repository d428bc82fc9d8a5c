// Command natsbench puts the generated natsbus package side by side with
// raw nats.go (its jetstream package) on one loopback JetStream server:
// 1 KiB payloads, publish throughput with every ack awaited, consume
// throughput with an explicit ack per record, and publish → first delivery
// latency at a steady 2,000 msg/s against the contract's SLOs. It prints
// numbers and asserts nothing about speed.
//
//	tests/go/nats-bench.sh [N]    # starts a server unless AMPY_NATS_URL is set
//
// The raw side sends the typed side's bytes and headers (the same encoded
// records with their own message ids), so only the layer differs. Per record:
//
//   - publish, typed: PublishEnvelope (subject and headers from the bindings,
//     header mapping, size pre-check, retry loop, ack awaited, metrics); raw:
//     what a hand-written service does: proto.Marshal of the payload, a
//     nats.Header of the same header values, js.PublishMsg on the same
//     subject, ack awaited.
//   - consume, typed: Consumer.Drain with batches of 500 (header contract,
//     schema hash and gzip checks, proto decode, handler, ack, metrics); raw:
//     what a hand-written nats.go service does with the same bytes: pull
//     batches of 500 (Messages iterator), read the message id and schema
//     headers and check the schema name, proto.Unmarshal into NewsItem, ack.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/natsbus"
	newsv1 "ampyfin.dev/ampybus/pb/ampy/news/v1"
)

const env = bus.EnvDev

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
	e, err := natsbus.NewsV1Raw.NewEnvelope(payload(i), bus.EnvelopeOptions{Producer: "bench@1", Source: "bench", RunID: "r"})
	must(err)
	return e
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsbench:", err)
		os.Exit(1)
	}
}

// raw is what a hand-written publisher holds before it sends: the payload
// and the header values (the typed side's); it marshals and maps per record.
type raw struct {
	subject string
	headers []bus.HeaderPair
	payload *newsv1.NewsItem
}

func main() {
	n := flag.Int("n", 5000, "records per side")
	url := flag.String("url", os.Getenv("AMPY_NATS_URL"), "NATS server URL")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the consume runs here")
	rounds := flag.Int("rounds", 4, "consume rounds per side (each side's best counts)")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "natsbench: no server: set AMPY_NATS_URL or run tests/go/nats-bench.sh")
		os.Exit(2)
	}
	ctx := context.Background()
	b, err := natsbus.Connect(*url, env)
	must(err)
	// AMPY_BENCH_METRICS=1: the typed side reports to the built-in
	// Prometheus metrics instead of the no-op observer, so their cost shows.
	if os.Getenv("AMPY_BENCH_METRICS") == "1" {
		b.WithObserver(natsbus.NewMetrics())
		fmt.Println("typed side's observer: Metrics (Prometheus)")
	}
	defer b.Close()
	_, err = b.Provision(ctx, natsbus.ProvisionOptions{})
	must(err)
	js := b.JetStream()
	s, err := js.Stream(ctx, "AMPY_DEV_NEWS_V1")
	must(err)
	must(s.Purge(ctx))
	// A fresh stream state: earlier runs' records and consumers go.
	for names := s.ConsumerNames(ctx); ; {
		name, ok := <-names.Name()
		if !ok {
			break
		}
		_ = s.DeleteConsumer(ctx, name)
	}
	pub, err := natsbus.NewPublisher(b, natsbus.NewsV1Raw, natsbus.PublisherOptions{Producer: "bench@1", Source: "bench", RunID: "r"})
	must(err)

	typedRecs := make([]*bus.Envelope, *n)
	rawRecs := make([]raw, *n)
	for i := range *n {
		typedRecs[i] = envelope(i)
		e := envelope(i)
		rec, err := e.Encode()
		must(err)
		subject, err := natsbus.NewsV1Raw.TopicFor(e.Payload, env)
		must(err)
		rawRecs[i] = raw{subject.String(), rec.Headers, e.Payload.(*newsv1.NewsItem)}
	}
	fmt.Printf("NATS JetStream on loopback (nats-server %s), 1 KiB payloads, %d records each, nats.go %s\n",
		b.Conn().ConnectedServerVersion(), *n, nats.Version)

	// Alternate the two, twice, and keep each side's best round.
	typedPub, rawPub := 1e9, 1e9
	for round := range 2 {
		lo, hi := round**n/2, (round+1)**n/2
		t := time.Now()
		for _, e := range typedRecs[lo:hi] {
			_, err := pub.PublishEnvelope(ctx, e)
			must(err)
		}
		typedPub = min(typedPub, time.Since(t).Seconds()/float64(hi-lo))
		t = time.Now()
		for _, r := range rawRecs[lo:hi] {
			body, err := proto.Marshal(r.payload)
			must(err)
			h := make(nats.Header, len(r.headers))
			for _, p := range r.headers {
				name, _ := natsbus.NATSHeader(p.Name)
				h[name] = []string{p.Value}
			}
			_, err = js.PublishMsg(ctx, &nats.Msg{Subject: r.subject, Header: h, Data: body})
			must(err)
		}
		rawPub = min(rawPub, time.Since(t).Seconds()/float64(hi-lo))
	}
	report("publish, ack awaited", typedPub, rawPub)

	// Consume all 2n records: the typed consumer and a raw pull consumer
	// that reads the headers it needs and decodes each payload; each acks
	// every record. Several rounds (-rounds), each with fresh durables and
	// the sides in turn first; each side's best counts.
	if *profile != "" {
		f, err := os.Create(*profile)
		must(err)
		must(pprof.StartCPUProfile(f))
	}
	total := uint64(2 * *n)
	typedCon, rawCon := 1e9, 1e9
	// CPU seconds of this process per record: on a loaded machine the
	// steadier figure of what each layer costs the client.
	typedCPU, rawCPU := 1e9, 1e9
	for round := range *rounds {
		typed := func() {
			// Not counted; long enough for a loaded machine's pauses.
			idle := 2 * time.Second
			t, cpu := time.Now(), cpuSeconds()
			c, err := natsbus.NewConsumer(ctx, b, natsbus.NewsV1Raw, fmt.Sprintf("bench-typed-%d", round), natsbus.ConsumerOptions{Batch: 500})
			must(err)
			// Both clocks stop at the last record, as the raw side's do:
			// the drain's idle wait is not per-record work (its CPU, the
			// client's heartbeats and the GC finishing, was charged to the
			// typed side before).
			var seen uint64
			var wall time.Duration
			var cpuEnd float64
			stats, err := c.Drain(ctx, func(context.Context, *natsbus.Delivery[*newsv1.NewsItem]) error {
				if seen++; seen == total {
					wall, cpuEnd = time.Since(t), cpuSeconds()
				}
				return nil
			}, idle)
			must(err)
			if stats.Acked != total || seen != total {
				must(fmt.Errorf("the typed consumer acked %d and handled %d of %d", stats.Acked, seen, total))
			}
			typedCon = min(typedCon, wall.Seconds()/float64(total))
			typedCPU = min(typedCPU, (cpuEnd-cpu)/float64(total))
		}
		raws := func() {
			wall, cpu := rawConsume(ctx, s, fmt.Sprintf("bench-raw-%d", round), total)
			rawCon, rawCPU = min(rawCon, wall), min(rawCPU, cpu)
		}
		// The first reader of a round also pays for the server loading the
		// stream's blocks: the typed side goes first in one round and last
		// in the other.
		if round%2 == 0 {
			typed()
			raws()
		} else {
			raws()
			typed()
		}
	}
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	report("consume, decode + ack", typedCon, rawCon)
	report("consume CPU, decode + ack", typedCPU, rawCPU)

	latency(ctx, b, pub)
}

// rawConsume reads total records with a new raw pull consumer, reading the
// message id and schema headers, checking the schema name, unmarshalling
// each payload and acking it, and returns wall and CPU seconds per record.
func rawConsume(ctx context.Context, s jetstream.Stream, durable string, total uint64) (float64, float64) {
	fqdn := string((&newsv1.NewsItem{}).ProtoReflect().Descriptor().FullName())
	t, cpu := time.Now(), cpuSeconds()
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "ampy.dev.news.v1.raw",
	})
	must(err)
	it, err := c.Messages(jetstream.PullMaxMessages(500))
	must(err)
	defer it.Stop()
	for range total {
		m, err := it.Next()
		must(err)
		h := m.Headers()
		if h.Get("Nats-Msg-Id") == "" || h.Get("Ampy-Schema-Fqdn") != fqdn {
			must(fmt.Errorf("unexpected headers %v", h))
		}
		must(proto.Unmarshal(m.Data(), &newsv1.NewsItem{}))
		must(m.Ack())
	}
	return time.Since(t).Seconds() / float64(total), (cpuSeconds() - cpu) / float64(total)
}

// cpuSeconds is the user and system CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime)
}

// latency publishes at a steady 2,000 msg/s for 3 s, without waiting for
// each ack before the next send, and times first deliveries on a running
// consumer by message id.
func latency(ctx context.Context, b *natsbus.Bus, pub *natsbus.Publisher[*newsv1.NewsItem]) {
	const rate, secs = 2000.0, 3.0
	total := int(rate * secs)
	var mu sync.Mutex
	sent := make(map[string]time.Time, total)
	lat := make([]float64, 0, total)
	c, err := natsbus.NewConsumer(ctx, b, natsbus.NewsV1Raw, "bench-latency", natsbus.ConsumerOptions{Start: natsbus.StartNew(), Batch: 100})
	must(err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := c.Drain(ctx, func(_ context.Context, d *natsbus.Delivery[*newsv1.NewsItem]) error {
			at := time.Now()
			mu.Lock()
			if t0, ok := sent[d.Headers.MessageID]; ok && d.Delivered == 1 {
				lat = append(lat, float64(at.Sub(t0).Microseconds())/1e3)
			}
			mu.Unlock()
			return nil
		}, 2*time.Second)
		must(err)
	}()
	time.Sleep(200 * time.Millisecond)
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
	fmt.Printf("publish -> first delivery at %.0f msg/s for %.0f s (%d of %d records): p50 %.2f ms, p99 %.2f ms, max %.2f ms  "+
		"(SLO p99: 50 ms critical, 150 ms market data)\n", rate, secs, len(lat), total, pct(0.50), pct(0.99), lat[len(lat)-1])
}

func report(what string, typed, raw float64) {
	fmt.Printf("%-24s typed %8.1f µs/record (%7.0f/s)   raw nats.go %8.1f µs/record (%7.0f/s)   typed/raw %.2fx\n",
		what, typed*1e6, 1/typed, raw*1e6, 1/raw, typed/raw)
}
