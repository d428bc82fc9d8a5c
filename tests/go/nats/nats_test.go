package nats_test

// The generated natsbus package on the real JetStream server that
// scripts/test starts (scripts/lib/nats.sh exports AMPY_NATS_URL): the
// failure paths of docs/nats.md, each against the server's own state.
// Without a server the tests skip, unless AMPYGEN_TEST_REQUIRE_NATS=1
// (scripts/test sets it), where they fail.

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/natsbus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
)

const env = bus.EnvDev

// connect opens a bus on the test server with fresh metrics, provisions
// the env and empties the bars and dlq streams, so each test sees only its
// own records.
func connect(t *testing.T) (*natsbus.Bus, *natsbus.Metrics) {
	t.Helper()
	url := os.Getenv("AMPY_NATS_URL")
	if url == "" {
		if os.Getenv("AMPYGEN_TEST_REQUIRE_NATS") == "1" {
			t.Fatal("AMPY_NATS_URL is not set: scripts/test starts the server (scripts/lib/nats.sh)")
		}
		t.Skip("no NATS server: set AMPY_NATS_URL (scripts/test starts one)")
	}
	b, err := natsbus.Connect(url, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	m := natsbus.NewMetrics()
	b.WithObserver(m)
	ctx := context.Background()
	if _, err := b.Provision(ctx, natsbus.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"AMPY_DEV_BARS_V1", "AMPY_DEV_DLQ_V1"} {
		s, err := b.JetStream().Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		for names := s.ConsumerNames(ctx); ; {
			n, ok := <-names.Name()
			if !ok {
				break
			}
			_ = s.DeleteConsumer(ctx, n)
		}
	}
	return b, m
}

func bars(symbol string) *barsv1.BarBatch {
	return &barsv1.BarBatch{Bars: []*barsv1.Bar{{Security: &commonv1.SecurityId{Symbol: symbol, Mic: "XNAS"}}}}
}

func publisher(t *testing.T, b *natsbus.Bus) *natsbus.Publisher[*barsv1.BarBatch] {
	t.Helper()
	p, err := natsbus.NewPublisher(b, natsbus.BarsV1Bars, natsbus.PublisherOptions{Producer: "go-test@1"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tampered is a valid bars record for symbol with edit applied to its
// encoded form, published as is.
func tampered(t *testing.T, b *natsbus.Bus, symbol string, edit func(*bus.Record)) natsbus.Published {
	t.Helper()
	e, err := natsbus.BarsV1Bars.NewEnvelope(bars(symbol), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
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
	done, err := publisher(t, b).PublishRecord(context.Background(), subject, rec)
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

func consumer(t *testing.T, b *natsbus.Bus, durable string, o natsbus.ConsumerOptions) *natsbus.Consumer[*barsv1.BarBatch] {
	t.Helper()
	c, err := natsbus.NewConsumer(context.Background(), b, natsbus.BarsV1Bars, durable, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func drain(t *testing.T, c *natsbus.Consumer[*barsv1.BarBatch], h natsbus.Handler[*barsv1.BarBatch], idle time.Duration) natsbus.RunStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stats, err := c.Drain(ctx, h, idle)
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

// deadLetters reads every record of the bars DLQ subject from the server.
func deadLetters(t *testing.T, b *natsbus.Bus) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	subject, err := bus.DlqV1DeadLettersSubject(env, "bars")
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.JetStream().Stream(ctx, "AMPY_DEV_DLQ_V1")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

func noHandler(t *testing.T) natsbus.Handler[*barsv1.BarBatch] {
	return func(context.Context, *natsbus.Delivery[*barsv1.BarBatch]) error {
		t.Error("the handler ran on a poison pill")
		return nil
	}
}

func TestWrongSchemaHashGoesToTheDLQ(t *testing.T) {
	b, m := connect(t)
	other := "sha256:" + strings.Repeat("ab", 32)
	sent := tampered(t, b, "HASH", func(r *bus.Record) { setHeader(r, bus.HeaderSchemaHash, other) })
	stats := drain(t, consumer(t, b, "go-hash", natsbus.ConsumerOptions{}), noHandler(t), 2*time.Second)
	if stats.DeadLettered != 1 || stats.DecodeFailures != 1 || stats.Acked != 0 {
		t.Fatalf("stats %+v", stats)
	}
	letters := deadLetters(t, b)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	h := letters[0].Header
	if got := h["Ampy-Dlq-Reason"]; len(got) != 1 || got[0] != "schema_hash_mismatch" {
		t.Errorf("dlq_reason %q", got)
	}
	if got := h["Ampy-Schema-Hash"]; len(got) != 1 || got[0] != other {
		t.Errorf("the dead letter lost the received schema_hash: %q", got)
	}
	if got := h["Nats-Msg-Id"]; len(got) != 1 || got[0] != sent.MessageID {
		t.Errorf("Nats-Msg-Id %q, want %s", got, sent.MessageID)
	}
	if got := m.Counter("bus_dlq_total", "bars.v1.bars", "schema_hash_mismatch"); got != 1 {
		t.Errorf("bus_dlq_total %d", got)
	}
	if got := m.Counter("bus_decode_fail_total", "bars.v1.bars", "hash_mismatch"); got != 1 {
		t.Errorf("bus_decode_fail_total %d\n%s", got, m.Render())
	}
}

func TestCorruptGzipGoesToTheDLQWithADecodeReason(t *testing.T) {
	b, m := connect(t)
	tampered(t, b, "GZIP", func(r *bus.Record) {
		setHeader(r, bus.HeaderContentEncoding, bus.ContentEncodingGzip)
		r.Payload = []byte{0x1f, 0x8b, 0x08, 0x00, 'n', 'o', 't', ' ', 'g', 'z', 'i', 'p'}
	})
	stats := drain(t, consumer(t, b, "go-gzip", natsbus.ConsumerOptions{}), noHandler(t), 2*time.Second)
	if stats.DeadLettered != 1 || stats.Acked != 0 {
		t.Fatalf("stats %+v", stats)
	}
	letters := deadLetters(t, b)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	reason := letters[0].Header.Get("Ampy-Dlq-Reason")
	if !strings.HasPrefix(reason, "decode_error: ") || !strings.Contains(reason, "gzip") {
		t.Errorf("dlq_reason %q", reason)
	}
	if string(letters[0].Data) != "\x1f\x8b\x08\x00not gzip" {
		t.Errorf("the dead letter's body changed: %q", letters[0].Data)
	}
	if got := m.Counter("bus_decode_fail_total", "bars.v1.bars", "corrupt_gzip"); got != 1 {
		t.Errorf("bus_decode_fail_total{reason=corrupt_gzip} %d", got)
	}
	if got := m.Counter("bus_dlq_total", "bars.v1.bars", "decode_error"); got != 1 {
		t.Errorf("bus_dlq_total{reason=decode_error} %d\n%s", got, m.Render())
	}
}

func TestFailTwiceThenSucceedIsDeliveredThreeTimesAndAckedOnce(t *testing.T) {
	b, m := connect(t)
	sent, err := publisher(t, b).Publish(context.Background(), bars("RETRY"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []uint32
	h := func(_ context.Context, d *natsbus.Delivery[*barsv1.BarBatch]) error {
		seen = append(seen, d.RetryCount)
		if d.Payload.GetBars()[0].GetSecurity().GetSymbol() != "RETRY" {
			t.Errorf("payload %v", d.Payload)
		}
		if len(seen) < 3 {
			return natsbus.Retry("flaky", "try again")
		}
		return nil
	}
	c := consumer(t, b, "go-retry", natsbus.ConsumerOptions{NakBackoff: []time.Duration{50 * time.Millisecond}})
	stats := drain(t, c, h, 2*time.Second)
	if len(seen) != 3 || seen[0] != 0 || seen[1] != 1 || seen[2] != 2 {
		t.Fatalf("retry counts %v", seen)
	}
	if stats.Acked != 1 || stats.Naked != 2 || stats.DeadLettered != 0 || stats.Received != 3 {
		t.Fatalf("stats %+v", stats)
	}
	if got := m.Counter("bus_retry_total", "bars.v1.bars", "flaky"); got != 2 {
		t.Errorf("bus_retry_total %d", got)
	}
	if got := m.Counter("bus_consumed_total", "bars.v1.bars", "go-retry"); got != 1 {
		t.Errorf("bus_consumed_total %d", got)
	}
	// Acked on the server: nothing pending, nothing waiting for an ack.
	info, err := b.JetStream().Consumer(context.Background(), "AMPY_DEV_BARS_V1", "go-retry")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := info.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumPending != 0 || ci.NumAckPending != 0 || ci.AckFloor.Stream != sent.Sequence {
		t.Errorf("consumer state %+v", ci)
	}
	if len(deadLetters(t, b)) != 0 {
		t.Error("a record that succeeded was dead-lettered")
	}
}

func TestAlwaysFailingEndsInTheDLQAfterTheBound(t *testing.T) {
	b, m := connect(t)
	sent, err := publisher(t, b).Publish(context.Background(), bars("FAIL"))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := func(context.Context, *natsbus.Delivery[*barsv1.BarBatch]) error {
		calls++
		return natsbus.Retry("down", "the database is down")
	}
	c := consumer(t, b, "go-fail", natsbus.ConsumerOptions{MaxDeliveries: 3, NakBackoff: []time.Duration{20 * time.Millisecond}})
	stats := drain(t, c, h, 2*time.Second)
	if calls != 3 || stats.DeadLettered != 1 || stats.Acked != 0 || stats.Naked != 2 {
		t.Fatalf("calls %d stats %+v", calls, stats)
	}
	letters := deadLetters(t, b)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	if got := letters[0].Header.Get("Ampy-Dlq-Reason"); got != "max_deliveries: down: the database is down" {
		t.Errorf("dlq_reason %q", got)
	}
	if got := letters[0].Header.Get("Nats-Msg-Id"); got != sent.MessageID {
		t.Errorf("Nats-Msg-Id %q", got)
	}
	if got := m.Counter("bus_dlq_total", "bars.v1.bars", "max_deliveries"); got != 1 {
		t.Errorf("bus_dlq_total %d", got)
	}
	// Terminated: it does not come back.
	again := drain(t, c, h, time.Second)
	if again.Received != 0 || calls != 3 {
		t.Errorf("redelivered after the DLQ: %+v", again)
	}
}

func TestADuplicateMessageIDIsStoredOnce(t *testing.T) {
	b, _ := connect(t)
	p := publisher(t, b)
	e, err := natsbus.BarsV1Bars.NewEnvelope(bars("DUP"), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := p.PublishEnvelope(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.PublishEnvelope(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !second.Duplicate || first.Sequence != second.Sequence {
		t.Fatalf("first %+v second %+v", first, second)
	}
	s, err := b.JetStream().Stream(ctx, "AMPY_DEV_BARS_V1")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("the stream holds %d records", info.State.Msgs)
	}
	var received int
	stats := drain(t, consumer(t, b, "go-dup", natsbus.ConsumerOptions{}), func(context.Context, *natsbus.Delivery[*barsv1.BarBatch]) error {
		received++
		return nil
	}, time.Second)
	if received != 1 || stats.Acked != 1 {
		t.Errorf("received %d", received)
	}
}

func TestOverMaxPayloadIsRefusedBeforeSendingAndTheConnectionStaysUp(t *testing.T) {
	b, _ := connect(t)
	limit := b.Conn().MaxPayload()
	if limit <= 0 {
		t.Fatalf("max_payload %d", limit)
	}
	e, err := natsbus.BarsV1Bars.NewEnvelope(bars("BIG"), bus.EnvelopeOptions{Producer: "go-test@1", Source: "go-test", RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := bus.BarsV1BarsSubject(env, "XNAS", "BIG")
	h := nats.Header{}
	for _, pair := range rec.Headers {
		name, ok := natsbus.NATSHeader(pair.Name)
		if !ok {
			t.Fatalf("no NATS name for %s", pair.Name)
		}
		h[name] = []string{pair.Value}
	}
	headerLen := natsbus.WireLen(h)
	ctx := context.Background()
	p := publisher(t, b)
	disconnected := make(chan struct{}, 1)
	b.Conn().SetDisconnectErrHandler(func(*nats.Conn, error) { disconnected <- struct{}{} })

	// One byte over, headers included: refused without sending.
	over := rec
	over.Payload = make([]byte, int(limit)-headerLen+1)
	_, _ = rand.Read(over.Payload)
	_, err = p.PublishRecord(ctx, subject, over)
	if natsbus.KindOf(err) != natsbus.KindTooLarge || !strings.Contains(err.Error(), "blob pointer") {
		t.Fatalf("over max_payload: %v", err)
	}
	// Exactly max_payload: accepted and stored.
	exact := rec
	exact.Payload = over.Payload[:int(limit)-headerLen]
	if _, err := p.PublishRecord(ctx, subject, exact); err != nil {
		t.Fatalf("exactly max_payload: %v", err)
	}
	// The connection stayed up: it never dropped, and a publish works.
	if !b.Conn().IsConnected() {
		t.Fatal("the connection is down")
	}
	select {
	case <-disconnected:
		t.Fatal("the server dropped the connection")
	default:
	}
	if _, err := p.Publish(ctx, bars("AFTER")); err != nil {
		t.Fatalf("publish after the refusal: %v", err)
	}
	if b.Conn().Stats().Reconnects != 0 {
		t.Errorf("reconnected %d times", b.Conn().Stats().Reconnects)
	}
}

func TestPrometheusTextShowsTheCounters(t *testing.T) {
	b, m := connect(t)
	if _, err := publisher(t, b).Publish(context.Background(), bars("PROM")); err != nil {
		t.Fatal(err)
	}
	drain(t, consumer(t, b, "go-prom", natsbus.ConsumerOptions{}), func(context.Context, *natsbus.Delivery[*barsv1.BarBatch]) error {
		return nil
	}, time.Second)
	// Scraped over HTTP, as Prometheus does: *Metrics is the handler.
	srv := httptest.NewServer(m)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
	text := string(body)
	if text != m.Render() {
		t.Error("the scrape differs from Render")
	}
	for _, want := range []string{
		`bus_produced_total{topic="bars.v1.bars",producer="go-test@1"} 1`,
		`bus_consumed_total{topic="bars.v1.bars",consumer="go-prom"} 1`,
		`bus_delivery_latency_ms_count{topic="bars.v1.bars"} 1`,
		`bus_schema_info{topic="bars.v1.bars",schema_fqdn="ampy.bars.v1.BarBatch",schema_hash="`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s in\n%s", want, text)
		}
	}
}

// The consumer reads each delivery's place in the stream from the ack reply
// subject itself (ackMetadata); the library's Msg.Metadata, read by a raw
// consumer of the same records, must say the same, and Delivery.RawHeaders
// must be the received headers under envelope names.
func TestDeliveryInfoIsWhatTheLibraryReadsFromTheReplySubject(t *testing.T) {
	b, _ := connect(t)
	p := publisher(t, b)
	for _, symbol := range []string{"INFO1", "INFO2", "INFO3"} {
		if _, err := p.Publish(context.Background(), bars(symbol)); err != nil {
			t.Fatal(err)
		}
	}
	var typed []natsbus.DeliveryInfo
	var rawHeaders [][]bus.HeaderPair
	drain(t, consumer(t, b, "go-info", natsbus.ConsumerOptions{}), func(_ context.Context, d *natsbus.Delivery[*barsv1.BarBatch]) error {
		typed = append(typed, d.DeliveryInfo)
		rawHeaders = append(rawHeaders, d.RawHeaders())
		return nil
	}, time.Second)
	ctx := context.Background()
	s, err := b.JetStream().Stream(ctx, "AMPY_DEV_BARS_V1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "go-info-raw", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for msg := range batch.Messages() {
		md, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		want := natsbus.DeliveryInfo{
			Subject: msg.Subject(), StreamSequence: md.Sequence.Stream, ConsumerSequence: md.Sequence.Consumer,
			Delivered: md.NumDelivered, RetryCount: 0, Published: md.Timestamp, Pending: md.NumPending,
		}
		if i >= len(typed) || !typed[i].Published.Equal(want.Published) {
			t.Fatalf("delivery %d: typed %+v, library %+v", i, typed, want)
		}
		typed[i].Published = want.Published
		if typed[i] != want {
			t.Errorf("delivery %d: typed %+v, library %+v", i, typed[i], want)
		}
		for _, pair := range rawHeaders[i] {
			name, _ := natsbus.NATSHeader(pair.Name)
			if got := msg.Headers().Get(name); got != pair.Value {
				t.Errorf("delivery %d: raw header %s = %q, the message has %q", i, pair.Name, pair.Value, got)
			}
		}
		if len(rawHeaders[i]) != len(msg.Headers()) {
			t.Errorf("delivery %d: %d raw headers for %d NATS headers", i, len(rawHeaders[i]), len(msg.Headers()))
		}
		i++
	}
	if i != 3 || len(typed) != 3 {
		t.Fatalf("read %d raw and %d typed deliveries, want 3", i, len(typed))
	}
}
