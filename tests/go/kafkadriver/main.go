// Command kafkadriver is the Go driver of the cross-language Kafka matrix
// (tests/kafka-matrix/run.sh, docs/kafka.md). It uses only the typed API of
// the generated kafkabus package: the publisher derives the Kafka topic,
// key and partition from the payload and writes the headers by the one
// mapping; the consumer group decodes with the envelope rules.
//
//	kafkadriver publish --bootstrap 127.0.0.1:9092 --env dev \
//	    --vectors tests/vectors/positive [--names bars.typical,...] [--repeat N]
//	kafkadriver consume --bootstrap 127.0.0.1:9092 --env dev \
//	    --topic news.v1.raw --group matrix-go --count 3 --timeout-ms 10000
//	kafkadriver partition --keys tests/vectors/kafka/partition-keys.txt
//	kafkadriver produce-keys --bootstrap 127.0.0.1:9092 --topic T --keys FILE
//
// publish rebuilds each selected positive vector's envelope (headers +
// body_base64; a blob pointer from its headers, with the payload bytes as
// the blob), publishes it (so message_id, produced_at and every other
// header are the vector's), awaits the reports and prints `published <name>
// <topic> <partition> <offset>` per record, then `published N`. With
// --repeat N each vector goes N times in one burst, the i-th copy with
// run_id seq-<i as 6 digits>. consume reads N records of one topic with a
// typed consumer group and prints one JSON line per record, byte for byte
// as the NATS drivers print them. partition prints Java's partitioning of
// each key as the runtime computes it; produce-keys produces each key
// (value = key, no headers) through the publishers' own placement. Exit 0
// on success, 1 on a timeout or a failure, 2 on bad arguments.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
)

// vector is the part of a conformance vector the driver reads.
type vector struct {
	Name          string `json:"name"`
	Topic         string `json:"topic"`
	PayloadBase64 string `json:"payload_base64"`
	Envelope      struct {
		Headers    map[string]string `json:"headers"`
		BodyBase64 string            `json:"body_base64"`
	} `json:"envelope"`
}

// ops is what the driver does with one topic, bound to its payload type.
type ops struct {
	publish func(ctx context.Context, b *kafkabus.Bus, v vector, producer string, repeat int) ([]kafkabus.Published, error)
	consume func(ctx context.Context, b *kafkabus.Bus, group string, count int) (int, error)
}

func typed[P proto.Message](t kafkabus.Topic[P]) ops {
	return ops{
		publish: func(ctx context.Context, b *kafkabus.Bus, v vector, producer string, repeat int) ([]kafkabus.Published, error) {
			p, err := kafkabus.NewPublisher(b, t, kafkabus.PublisherOptions{Producer: producer})
			if err != nil {
				return nil, err
			}
			pairs := make([]bus.HeaderPair, 0, len(v.Envelope.Headers))
			for name, value := range v.Envelope.Headers {
				pairs = append(pairs, bus.HeaderPair{Name: name, Value: value})
			}
			sort.Slice(pairs, func(i, j int) bool { return pairs[i].Name < pairs[j].Name })
			payload := t.NewPayload().(P)
			body, err := base64.StdEncoding.DecodeString(v.Envelope.BodyBase64)
			if err != nil {
				return nil, err
			}
			headers, err := bus.DecodeHeaders(pairs, payload)
			if err != nil {
				return nil, err
			}
			if headers.Blob != nil {
				blob, err := base64.StdEncoding.DecodeString(v.PayloadBase64)
				if err != nil {
					return nil, err
				}
				if err := bus.DecodeBlob(headers, blob, payload); err != nil {
					return nil, err
				}
				var out []kafkabus.Published
				for i := 0; i < repeat; i++ {
					h := headers
					if repeat > 1 {
						h.RunID = fmt.Sprintf("seq-%06d", i)
					}
					done, err := p.PublishPointer(ctx, &bus.Envelope{Headers: h, Payload: payload}, *headers.Blob)
					if err != nil {
						return nil, err
					}
					out = append(out, done)
				}
				return out, nil
			}
			if headers, err = bus.DecodeEnvelope(pairs, body, payload); err != nil {
				return nil, err
			}
			if repeat == 1 {
				done, err := p.PublishEnvelope(ctx, &bus.Envelope{Headers: headers, Payload: payload})
				return []kafkabus.Published{done}, err
			}
			es := make([]*bus.Envelope, repeat)
			for i := range es {
				h := headers
				h.RunID = fmt.Sprintf("seq-%06d", i)
				es[i] = &bus.Envelope{Headers: h, Payload: payload}
			}
			return p.PublishEnvelopes(ctx, es)
		},
		consume: func(ctx context.Context, b *kafkabus.Bus, group string, count int) (int, error) {
			c, err := kafkabus.NewConsumer(ctx, b, t, group, kafkabus.ConsumerOptions{})
			if err != nil {
				return 0, err
			}
			defer c.Close()
			run, stop := context.WithCancel(ctx)
			defer stop()
			seen := 0
			_, err = c.Run(run, func(_ context.Context, d *kafkabus.Delivery[P]) error {
				var canonical []byte
				if d.Pointer == nil {
					var err error
					// Field-number order with oneofs in place and map keys
					// sorted: the bytes Python and Rust write.
					if canonical, err = bus.MarshalCanonical(d.Payload); err != nil {
						return kafkabus.Permanent("encode", err.Error())
					}
				}
				fmt.Println(recordLine(t.ID, d.Subject, d.Headers.Pairs(), d.RawPayload, canonical))
				seen++
				if seen >= count {
					stop()
				}
				return nil
			})
			return seen, err
		},
	}
}

// topics are the registry's payload topics by id.
var topics = map[string]ops{
	"bars.v1.bars":                typed(kafkabus.BarsV1Bars),
	"ticks.v1.trade":              typed(kafkabus.TicksV1Trade),
	"ticks.v1.quote":              typed(kafkabus.TicksV1Quote),
	"news.v1.raw":                 typed(kafkabus.NewsV1Raw),
	"news.v1.nlp":                 typed(kafkabus.NewsV1Nlp),
	"fx.v1.rates":                 typed(kafkabus.FxV1Rates),
	"fx.v1.pair":                  typed(kafkabus.FxV1Pair),
	"fundamentals.v1.snapshots":   typed(kafkabus.FundamentalsV1Snapshots),
	"corporate_actions.v1.events": typed(kafkabus.CorporateActionsV1Events),
	"universe.v1.snapshots":       typed(kafkabus.UniverseV1Snapshots),
	"signals.v1.signals":          typed(kafkabus.SignalsV1Signals),
	"orders.v1.requests":          typed(kafkabus.OrdersV1Requests),
	"fills.v1.events":             typed(kafkabus.FillsV1Events),
	"positions.v1.snapshots":      typed(kafkabus.PositionsV1Snapshots),
	"metrics.v1.metrics":          typed(kafkabus.MetricsV1Metrics),
	"control.v1.replay_requests":  typed(kafkabus.ControlV1ReplayRequests),
}

// recordLine is one consumed record as Python's
// json.dumps(..., sort_keys=True, ensure_ascii=False) writes it.
func recordLine(topic, subject string, headers []bus.HeaderPair, raw, canonical []byte) string {
	sort.Slice(headers, func(i, j int) bool { return headers[i].Name < headers[j].Name })
	var b strings.Builder
	b.WriteString(`{"headers": {`)
	for i, h := range headers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyString(h.Name) + ": " + pyString(h.Value))
	}
	b.WriteString(`}, "payload_base64": ` + pyString(base64.StdEncoding.EncodeToString(raw)))
	b.WriteString(`, "payload_canonical_base64": ` + pyString(base64.StdEncoding.EncodeToString(canonical)))
	b.WriteString(`, "subject": ` + pyString(subject) + `, "topic": ` + pyString(topic) + "}")
	return b.String()
}

// pyString quotes s as Python's json module does with ensure_ascii=False.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func loadVectors(dir string, names []string) ([]vector, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var found []vector
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var file struct {
			Vectors []vector `json:"vectors"`
		}
		if err := json.Unmarshal(data, &file); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, v := range file.Vectors {
			if _, ok := topics[v.Topic]; ok {
				found = append(found, v)
			}
		}
	}
	if names == nil {
		return found, nil
	}
	byName := map[string]vector{}
	for _, v := range found {
		byName[v.Name] = v
	}
	out := make([]vector, 0, len(names))
	var missing []string
	for _, n := range names {
		v, ok := byName[n]
		if !ok {
			missing = append(missing, n)
		}
		out = append(out, v)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no positive vector named %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// readKeys reads a key file: one key per line, `k:` + standard padded
// base64 of its bytes (`k:` alone is the empty key).
func readKeys(path string) (lines []string, keys [][]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		if !strings.HasPrefix(line, "k:") {
			return nil, nil, fmt.Errorf("%s:%d: a key line starts with `k:`", path, n)
		}
		key, err := base64.StdEncoding.DecodeString(line[2:])
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		lines = append(lines, line)
		keys = append(keys, key)
	}
	return lines, keys, s.Err()
}

func usage(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "kafkadriver: "+format+"\n", args...)
	fmt.Fprintln(os.Stderr, "usage: kafkadriver publish --bootstrap HOST:PORT --env ENV --vectors DIR [--names a,b] [--repeat N] | "+
		"consume --bootstrap HOST:PORT --env ENV --topic ID --group G --count N --timeout-ms MS | "+
		"partition --keys FILE | produce-keys --bootstrap HOST:PORT --topic KAFKA_TOPIC --keys FILE")
	return 2
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "kafkadriver:", err)
	return 1
}

func run(args []string) int {
	commands := map[string]bool{"publish": true, "consume": true, "partition": true, "produce-keys": true}
	if len(args) == 0 || !commands[args[0]] {
		return usage("the first argument is publish, consume, partition or produce-keys")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	bootstrap := fs.String("bootstrap", "", "Kafka bootstrap broker host:port")
	envName := fs.String("env", "", "registry env")
	vectors := fs.String("vectors", "", "positive vector directory (publish)")
	names := fs.String("names", "", "vector names, comma-separated (publish)")
	repeat := fs.Int("repeat", 1, "copies of each vector (publish)")
	producer := fs.String("producer", "matrix-go@1", "producer header (publish)")
	topic := fs.String("topic", "", "topic id (consume) or Kafka topic (produce-keys)")
	group := fs.String("group", "", "consumer group (consume)")
	count := fs.Int("count", -1, "records to read (consume)")
	timeoutMs := fs.Int("timeout-ms", -1, "deadline in ms (consume)")
	keysFile := fs.String("keys", "", "key file (partition, produce-keys)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return usage("bad arguments")
	}
	ctx := context.Background()
	switch args[0] {
	case "partition":
		if *keysFile == "" {
			return usage("partition needs --keys")
		}
		lines, keys, err := readKeys(*keysFile)
		if err != nil {
			return usage("%v", err)
		}
		w := bufio.NewWriter(os.Stdout)
		for i, key := range keys {
			fmt.Fprintf(w, "%s\t%d", lines[i], kafkabus.Murmur2(key))
			for _, n := range []int32{1, 3, 6, 12, 100} {
				fmt.Fprintf(w, "\t%d", kafkabus.PartitionFor(key, n))
			}
			w.WriteString("\n")
		}
		if err := w.Flush(); err != nil {
			return fail(err)
		}
		return 0
	case "produce-keys":
		if *bootstrap == "" || *topic == "" || *keysFile == "" {
			return usage("produce-keys needs --bootstrap, --topic and --keys")
		}
		_, keys, err := readKeys(*keysFile)
		if err != nil {
			return usage("%v", err)
		}
		// The env only scopes registry topics; produce-keys names its topic.
		b, err := kafkabus.Connect(*bootstrap, bus.Envs()[0])
		if err != nil {
			return fail(err)
		}
		defer b.Close()
		for _, key := range keys {
			if _, err := b.ProduceKeyed(ctx, *topic, key, key, nil, 0); err != nil {
				return fail(err)
			}
		}
		fmt.Printf("produced %d\n", len(keys))
		return 0
	}
	if *bootstrap == "" || *envName == "" {
		return usage("--bootstrap and --env are required")
	}
	env, err := bus.ParseEnv(*envName)
	if err != nil {
		return usage("%v", err)
	}
	var todo []vector
	var t ops
	if args[0] == "publish" {
		if *vectors == "" || *repeat < 1 {
			return usage("publish needs --vectors (and --repeat at least 1)")
		}
		var list []string
		if *names != "" {
			list = strings.Split(*names, ",")
		}
		if todo, err = loadVectors(*vectors, list); err != nil {
			return usage("%v", err)
		}
	} else {
		var ok bool
		if t, ok = topics[*topic]; !ok {
			return usage("unknown topic `%s`", *topic)
		}
		if *group == "" || *count < 0 || *timeoutMs < 0 {
			return usage("consume needs --group, --count and --timeout-ms")
		}
	}
	b, err := kafkabus.Connect(*bootstrap, env)
	if err != nil {
		return fail(err)
	}
	defer b.Close()
	if args[0] == "publish" {
		n := 0
		for _, v := range todo {
			done, err := topics[v.Topic].publish(ctx, b, v, *producer, *repeat)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", v.Name, err))
			}
			w := bufio.NewWriter(os.Stdout)
			for _, d := range done {
				fmt.Fprintf(w, "published %s %s %d %d\n", v.Name, d.Topic, d.Partition, d.Offset)
			}
			if err := w.Flush(); err != nil {
				return fail(err)
			}
			n += len(done)
		}
		fmt.Printf("published %d\n", n)
		return 0
	}
	cctx, cancel := context.WithTimeout(ctx, time.Duration(*timeoutMs)*time.Millisecond)
	defer cancel()
	seen, err := t.consume(cctx, b, *group, *count)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fail(err)
	}
	if seen != *count {
		fmt.Fprintf(os.Stderr, "kafkadriver: %d of %d records within %d ms\n", seen, *count, *timeoutMs)
		return 1
	}
	return 0
}

func main() { os.Exit(run(os.Args[1:])) }
