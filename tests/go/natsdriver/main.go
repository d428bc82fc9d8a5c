// Command natsdriver is the Go driver of the cross-language NATS matrix
// (/tests/nats-matrix/run.sh, docs/nats.md). It uses only the typed API
// of the generated natsbus package: the publisher derives the subject from
// the payload and writes the headers by the one mapping; the consumer
// decodes with the envelope rules.
//
//	natsdriver publish --url nats://127.0.0.1:4222 --env dev \
//	    --vectors tests/vectors/positive [--names bars.typical,...]
//	natsdriver consume --url nats://127.0.0.1:4222 --env dev \
//	    --topic news.v1.raw --durable matrix-go --count 3 --timeout-ms 10000
//	natsdriver reset --url nats://127.0.0.1:4222 --env dev
//
// publish rebuilds each selected positive vector's envelope with the
// envelope decoding (headers + body_base64; a blob pointer from its
// headers, with the payload bytes as the blob), publishes that envelope
// (so message_id, produced_at and every other header are the vector's),
// awaits the acks and prints `published <name> <stream> <seq>` per record,
// then `published N`. consume reads N records of one topic with a durable
// typed consumer (acking each) and prints one JSON line per record with
// sorted keys, byte for byte as the Python and Rust drivers print it:
// topic, subject, headers (envelope names), the body as received
// (payload_base64) and the decoded payload re-encoded deterministically
// (payload_canonical_base64). reset (the matrix runner's, not part of the
// driver contract) deletes and provisions the env's streams, so each
// producer's run starts from nothing. Exit 0 after N
// records, 1 on a timeout or a failure, 2 on bad arguments.
package main

import (
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

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/natsbus"
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
	publish func(ctx context.Context, b *natsbus.Bus, v vector, producer string) (natsbus.Published, error)
	consume func(ctx context.Context, b *natsbus.Bus, durable string, count int) (int, error)
}

func typed[P proto.Message](t natsbus.Topic[P]) ops {
	return ops{
		publish: func(ctx context.Context, b *natsbus.Bus, v vector, producer string) (natsbus.Published, error) {
			p, err := natsbus.NewPublisher(b, t, natsbus.PublisherOptions{Producer: producer})
			if err != nil {
				return natsbus.Published{}, err
			}
			pairs := make([]bus.HeaderPair, 0, len(v.Envelope.Headers))
			for name, value := range v.Envelope.Headers {
				pairs = append(pairs, bus.HeaderPair{Name: name, Value: value})
			}
			sort.Slice(pairs, func(i, j int) bool { return pairs[i].Name < pairs[j].Name })
			payload := t.NewPayload().(P)
			body, err := base64.StdEncoding.DecodeString(v.Envelope.BodyBase64)
			if err != nil {
				return natsbus.Published{}, err
			}
			headers, err := bus.DecodeHeaders(pairs, payload)
			if err != nil {
				return natsbus.Published{}, err
			}
			if headers.Blob != nil {
				blob, err := base64.StdEncoding.DecodeString(v.PayloadBase64)
				if err != nil {
					return natsbus.Published{}, err
				}
				if err := bus.DecodeBlob(headers, blob, payload); err != nil {
					return natsbus.Published{}, err
				}
				e := &bus.Envelope{Headers: headers, Payload: payload}
				return p.PublishPointer(ctx, e, *headers.Blob)
			}
			if headers, err = bus.DecodeEnvelope(pairs, body, payload); err != nil {
				return natsbus.Published{}, err
			}
			return p.PublishEnvelope(ctx, &bus.Envelope{Headers: headers, Payload: payload})
		},
		consume: func(ctx context.Context, b *natsbus.Bus, durable string, count int) (int, error) {
			// A batch no larger than the count: records past it stay
			// unacked for a later run.
			c, err := natsbus.NewConsumer(ctx, b, t, durable, natsbus.ConsumerOptions{Batch: min(max(count, 1), 256)})
			if err != nil {
				return 0, err
			}
			run, stop := context.WithCancel(ctx)
			defer stop()
			seen := 0
			_, err = c.Run(run, func(_ context.Context, d *natsbus.Delivery[P]) error {
				var canonical []byte
				if d.Pointer == nil {
					var err error
					// Field-number order with oneofs in place and map keys
					// sorted: the bytes Python and Rust write (proto's own
					// deterministic mode puts oneofs last).
					if canonical, err = bus.MarshalCanonical(d.Payload); err != nil {
						return natsbus.Permanent("encode", err.Error())
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
	"bars.v1.bars":                natsbusOps(natsbus.BarsV1Bars),
	"ticks.v1.trade":              natsbusOps(natsbus.TicksV1Trade),
	"ticks.v1.quote":              natsbusOps(natsbus.TicksV1Quote),
	"news.v1.raw":                 natsbusOps(natsbus.NewsV1Raw),
	"news.v1.nlp":                 natsbusOps(natsbus.NewsV1Nlp),
	"fx.v1.rates":                 natsbusOps(natsbus.FxV1Rates),
	"fx.v1.pair":                  natsbusOps(natsbus.FxV1Pair),
	"fundamentals.v1.snapshots":   natsbusOps(natsbus.FundamentalsV1Snapshots),
	"corporate_actions.v1.events": natsbusOps(natsbus.CorporateActionsV1Events),
	"universe.v1.snapshots":       natsbusOps(natsbus.UniverseV1Snapshots),
	"signals.v1.signals":          natsbusOps(natsbus.SignalsV1Signals),
	"orders.v1.requests":          natsbusOps(natsbus.OrdersV1Requests),
	"fills.v1.events":             natsbusOps(natsbus.FillsV1Events),
	"positions.v1.snapshots":      natsbusOps(natsbus.PositionsV1Snapshots),
	"metrics.v1.metrics":          natsbusOps(natsbus.MetricsV1Metrics),
	"control.v1.replay_requests":  natsbusOps(natsbus.ControlV1ReplayRequests),
}

func natsbusOps[P proto.Message](t natsbus.Topic[P]) ops { return typed(t) }

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

func usage(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "natsdriver: "+format+"\n", args...)
	fmt.Fprintln(os.Stderr, "usage: natsdriver publish --url URL --env ENV --vectors DIR [--names a,b] | "+
		"consume --url URL --env ENV --topic ID --durable NAME --count N --timeout-ms MS")
	return 2
}

func run(args []string) int {
	if len(args) == 0 || (args[0] != "publish" && args[0] != "consume" && args[0] != "reset") {
		return usage("the first argument is publish, consume or reset")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	url := fs.String("url", "", "NATS server URL")
	envName := fs.String("env", "", "registry env")
	vectors := fs.String("vectors", "", "positive vector directory (publish)")
	names := fs.String("names", "", "vector names, comma-separated (publish)")
	producer := fs.String("producer", "matrix-go@1", "producer header (publish)")
	topic := fs.String("topic", "", "topic id (consume)")
	durable := fs.String("durable", "", "durable consumer name (consume)")
	count := fs.Int("count", -1, "records to read (consume)")
	timeoutMs := fs.Int("timeout-ms", -1, "deadline in ms (consume)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *url == "" || *envName == "" {
		return usage("--url and --env are required")
	}
	env, err := bus.ParseEnv(*envName)
	if err != nil {
		return usage("%v", err)
	}
	var todo []vector
	var t ops
	if args[0] == "publish" {
		if *vectors == "" {
			return usage("publish needs --vectors")
		}
		var list []string
		if *names != "" {
			list = strings.Split(*names, ",")
		}
		if todo, err = loadVectors(*vectors, list); err != nil {
			return usage("%v", err)
		}
	} else if args[0] == "consume" {
		var ok bool
		if t, ok = topics[*topic]; !ok {
			return usage("unknown topic `%s`", *topic)
		}
		if *durable == "" || *count < 0 || *timeoutMs < 0 {
			return usage("consume needs --durable, --count and --timeout-ms")
		}
	}
	b, err := natsbus.Connect(*url, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsdriver:", err)
		return 1
	}
	defer b.Close()
	ctx := context.Background()
	if args[0] == "reset" {
		if err := reset(ctx, b); err != nil {
			fmt.Fprintln(os.Stderr, "natsdriver:", err)
			return 1
		}
		return 0
	}
	if args[0] == "publish" {
		for _, v := range todo {
			done, err := topics[v.Topic].publish(ctx, b, v, *producer)
			if err != nil {
				fmt.Fprintf(os.Stderr, "natsdriver: %s: %v\n", v.Name, err)
				return 1
			}
			fmt.Printf("published %s %s %d\n", v.Name, done.Stream, done.Sequence)
		}
		fmt.Printf("published %d\n", len(todo))
		return 0
	}
	cctx, cancel := context.WithTimeout(ctx, time.Duration(*timeoutMs)*time.Millisecond)
	defer cancel()
	seen, err := t.consume(cctx, b, *durable, *count)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, "natsdriver:", err)
		return 1
	}
	if seen != *count {
		fmt.Fprintf(os.Stderr, "natsdriver: %d of %d records within %d ms\n", seen, *count, *timeoutMs)
		return 1
	}
	return 0
}

// reset deletes the env's streams and provisions them again, so a run
// starts from nothing: no records, no consumers, and no message ids in the
// duplicate window (a purge keeps those, and a republished vector would be
// acknowledged as a duplicate of a record that is gone).
func reset(ctx context.Context, b *natsbus.Bus) error {
	plans, err := natsbus.Plans(b.Env())
	if err != nil {
		return err
	}
	for _, p := range plans {
		if err := b.JetStream().DeleteStream(ctx, p.Name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
	}
	_, err = b.Provision(ctx, natsbus.ProvisionOptions{})
	return err
}

func main() { os.Exit(run(os.Args[1:])) }
