package gotests

// Unit tests of the generated package beyond the vectors: builders and
// patterns, the key rules on edge cases, header validation, envelope size
// rules and gzip strictness, blobs, dead letters and the linked hashes.

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"

	bus "ampyfin.dev/ampybus"
	barsv1 "ampyfin.dev/ampybus/pb/ampy/bars/v1"
	commonv1 "ampyfin.dev/ampybus/pb/ampy/common/v1"
	fundamentalsv1 "ampyfin.dev/ampybus/pb/ampy/fundamentals/v1"
	fxv1 "ampyfin.dev/ampybus/pb/ampy/fx/v1"
	newsv1 "ampyfin.dev/ampybus/pb/ampy/news/v1"
	ordersv1 "ampyfin.dev/ampybus/pb/ampy/orders/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func sec(symbol, mic string) *commonv1.SecurityId {
	return &commonv1.SecurityId{Symbol: symbol, Mic: mic}
}

func batch(secs ...*commonv1.SecurityId) *barsv1.BarBatch {
	b := &barsv1.BarBatch{}
	for _, s := range secs {
		b.Bars = append(b.Bars, &barsv1.Bar{Security: s})
	}
	return b
}

func TestBuildersAndPatterns(t *testing.T) {
	s, err := bus.BarsV1BarsSubject(bus.EnvProd, "XNAS", "AAPL")
	if err != nil || s != "ampy.prod.bars.v1.XNAS.AAPL" || bus.KafkaTopicOf(s) != "ampy.prod.bars.v1" {
		t.Fatalf("%v %v", s, err)
	}
	if got := bus.KafkaKeyOf(s, "XNAS.AAPL"); got != "XNAS.AAPL XNAS.AAPL" {
		t.Errorf("kafka key %q", got)
	}
	if got := bus.KafkaKeyOf("ampy.prod.orders.v1.requests", "co_1"); got != "requests co_1" {
		t.Errorf("kafka key %q", got)
	}
	if got := bus.KafkaTopicOf("ampy.prod.orders.v1"); got != "ampy.prod.orders.v1" {
		t.Errorf("kafka topic %q", got)
	}
	for _, bad := range []string{"", "A.B", "*", "a>", "a b", "a\u00a0b", "a\u0085b", "a\u2028b", "a\x07b", "a\x7fb", "\xff"} {
		_, err := bus.TicksV1TradeSubject(bus.EnvProd, bad)
		var re *bus.RouteError
		if !errors.As(err, &re) || re.Kind() != "illegal_token" {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for _, ok := range []string{"hyper@2025-09-05", "ü", "日本", "a\u200bb", "U+FFFD\ufffd"} {
		if _, err := bus.SignalsV1SignalsSubject(bus.EnvProd, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if _, err := bus.BarsV1BarsSubject(bus.Env("pr od"), "XNAS", "AAPL"); bus.KindOf(err) != "unknown_env" || err.Error() != "unknown env `pr od`; the registry has: dev, paper, prod" {
		t.Errorf("env: %v", err)
	}
	for _, c := range []struct {
		f    func() (string, error)
		want string
	}{
		{func() (string, error) { return bus.PatternAll(bus.EnvDev) }, "ampy.dev.>"},
		{func() (string, error) { return bus.PatternBars(bus.EnvProd) }, "ampy.prod.bars.>"},
		{func() (string, error) { return bus.PatternBarsV1(bus.EnvProd) }, "ampy.prod.bars.v1.>"},
		{func() (string, error) { return bus.BarsV1BarsPattern(bus.EnvProd) }, "ampy.prod.bars.v1.*.*"},
		{func() (string, error) { return bus.BarsV1BarsPatternWith(bus.EnvProd, "XNAS", "") }, "ampy.prod.bars.v1.XNAS.*"},
		{func() (string, error) { return bus.TicksV1QuotePattern(bus.EnvPaper) }, "ampy.paper.ticks.v1.quote.*"},
		{func() (string, error) { return bus.OrdersV1RequestsPattern(bus.EnvPaper) }, "ampy.paper.orders.v1.requests"},
	} {
		got, err := c.f()
		if err != nil || got != c.want {
			t.Errorf("pattern %q, %v; want %q", got, err, c.want)
		}
	}
	if _, err := bus.BarsV1BarsPatternWith(bus.EnvProd, "X.Y", ""); bus.KindOf(err) != "illegal_token" {
		t.Errorf("pattern value: %v", err)
	}
	if e, err := bus.ParseEnv("paper"); err != nil || e != bus.EnvPaper {
		t.Errorf("ParseEnv: %v %v", e, err)
	}
	if _, err := bus.ParseEnv("Prod"); err == nil {
		t.Error("ParseEnv accepted Prod")
	}
}

// Only the registry's envs form a subject: an Env made from other text,
// in any case, is an `unknown_env` RouteError in every builder.
func TestOnlyTheRegistrysEnvsFormSubjects(t *testing.T) {
	b := batch(sec("AAPL", "XNAS"))
	builders := map[string]func(bus.Env) error{
		"BarsV1BarsSubject":     func(e bus.Env) error { _, err := bus.BarsV1BarsSubject(e, "XNAS", "AAPL"); return err },
		"BarsV1BarsPattern":     func(e bus.Env) error { _, err := bus.BarsV1BarsPattern(e); return err },
		"BarsV1BarsPatternWith": func(e bus.Env) error { _, err := bus.BarsV1BarsPatternWith(e, "XNAS", ""); return err },
		"BarsV1BarsTopicFor":    func(e bus.Env) error { _, err := bus.BarsV1BarsTopicFor(b, e); return err },
		"TopicFor":              func(e bus.Env) error { _, err := bus.TopicFor(b, e); return err },
		"Topic.TopicFor":        func(e bus.Env) error { _, err := bus.BarsV1Bars.TopicFor(b, e); return err },
		"PatternAll":            func(e bus.Env) error { _, err := bus.PatternAll(e); return err },
		"PatternBars":           func(e bus.Env) error { _, err := bus.PatternBars(e); return err },
		"PatternBarsV1":         func(e bus.Env) error { _, err := bus.PatternBarsV1(e); return err },
		"DlqV1DeadLettersSubject": func(e bus.Env) error {
			_, err := bus.DlqV1DeadLettersSubject(e, "bars")
			return err
		},
		"DlqV1DeadLettersPattern": func(e bus.Env) error { _, err := bus.DlqV1DeadLettersPattern(e); return err },
		"DlqV1DeadLettersDeadLetter": func(e bus.Env) error {
			_, err := bus.DlqV1DeadLettersDeadLetter(e, "bars", nil, nil, "r")
			return err
		},
		"ParseEnv": func(e bus.Env) error { _, err := bus.ParseEnv(string(e)); return err },
	}
	// Every topic's string builder, with a value for each placeholder.
	for _, tp := range bus.Topics() {
		values := map[string]string{}
		for _, part := range strings.Split(tp.Subtopic, ".") {
			if strings.HasPrefix(part, "{") {
				values[strings.Trim(part, "{}")] = "X"
			}
		}
		if _, err := tp.SubjectFromStrings(bus.EnvProd, values); err != nil {
			continue // placeholders that are not strings
		}
		builders[tp.ID+" SubjectFromStrings"] = func(e bus.Env) error { _, err := tp.SubjectFromStrings(e, values); return err }
	}
	if len(builders) < 20 {
		t.Fatalf("only %d builders", len(builders))
	}
	for name, build := range builders {
		for _, bad := range []bus.Env{"staging", "PROD", "Prod", " prod", "", "pr od", "prod.x"} {
			err := build(bad)
			var re *bus.RouteError
			if !errors.As(err, &re) || re.Kind() != "unknown_env" || re.Field != "env" || re.Value != string(bad) {
				t.Errorf("%s(%q): %v", name, bad, err)
			}
		}
		for _, good := range bus.Envs() {
			if err := build(good); err != nil {
				t.Errorf("%s(%q): %v", name, good, err)
			}
		}
	}
	if !bus.EnvPaper.Valid() || bus.Env("paper ").Valid() {
		t.Error("Env.Valid")
	}
}

func TestKeyRules(t *testing.T) {
	cases := []struct {
		name string
		p    *barsv1.BarBatch
		kind string
		msg  string
	}{
		{"nil payload", nil, "empty_batch", "key field `mic` (bars[*].security.mic): the batch is empty"},
		{"empty", batch(), "empty_batch", ""},
		{"unset security", batch(nil), "empty_key_field", "key field `mic` (bars[*].security.mic) is empty or unset in element 0"},
		{"empty mic second", batch(sec("AAPL", "XNAS"), sec("AAPL", "")), "empty_key_field", "key field `mic` (bars[*].security.mic) is empty or unset in element 1"},
		{"mixed", batch(sec("AAPL", "XNAS"), sec("AAPL", "XNAS"), sec("MSFT", "XNAS")), "mixed_keys",
			"key field `symbol` (bars[*].security.symbol) differs across the batch: element 0 has `AAPL`, element 2 has `MSFT`"},
		{"mic checked before symbol", batch(sec("AAPL", "XNAS"), sec("MSFT", "ARCX")), "mixed_keys", ""},
		{"nil element", &barsv1.BarBatch{Bars: []*barsv1.Bar{nil}}, "empty_key_field", ""},
	}
	for _, c := range cases {
		_, err := bus.BarsV1BarsPartitionKey(c.p)
		if bus.KindOf(err) != c.kind || (c.msg != "" && err.Error() != c.msg) {
			t.Errorf("%s: %v (%s), want %s %q", c.name, err, bus.KindOf(err), c.kind, c.msg)
		}
		if _, err2 := bus.BarsV1BarsTopicFor(c.p, bus.EnvProd); bus.KindOf(err2) != c.kind {
			t.Errorf("%s: topic for: %v", c.name, err2)
		}
	}
	if _, err := bus.BarsV1BarsPartitionKey(batch(sec("AAPL", "XNAS"), sec("MSFT", "ARCX"))); !strings.Contains(err.Error(), "`mic`") {
		t.Errorf("key fields are evaluated in declaration order: %v", err)
	}
	// A key value may hold what a subject token may not.
	p := batch(sec("BRK.B", "XNYS"))
	if k, err := bus.BarsV1BarsPartitionKey(p); err != nil || k != "XNYS.BRK.B" {
		t.Errorf("key %q %v", k, err)
	}
	if _, err := bus.BarsV1BarsTopicFor(p, bus.EnvProd); bus.KindOf(err) != "illegal_token" {
		t.Errorf("subject: %v", err)
	}
}

func TestTimestampKeys(t *testing.T) {
	f := &fundamentalsv1.FundamentalsSnapshot{Security: sec("AAPL", "XNAS"), Source: "s"}
	for _, c := range []struct {
		s    int64
		n    int32
		want string
	}{
		{1751068800, 0, "2025-06-28T00:00:00Z"},
		{1757100661, 5000000, "2025-09-05T19:31:01.005Z"},
		{1757100661, 5000, "2025-09-05T19:31:01.000005Z"},
		{1757100661, 5, "2025-09-05T19:31:01.000000005Z"},
		{-1, 0, "1969-12-31T23:59:59Z"},
		{-62135596800, 0, "0001-01-01T00:00:00Z"},
		{253402300799, 999999999, "9999-12-31T23:59:59.999999999Z"},
		{951782400, 0, "2000-02-29T00:00:00Z"},
	} {
		f.PeriodEnd = &timestamppb.Timestamp{Seconds: c.s, Nanos: c.n}
		k, err := bus.FundamentalsV1SnapshotsPartitionKey(f)
		if err != nil || k != "AAPL.XNAS|"+c.want+"|s" {
			t.Errorf("%d/%d: %q %v", c.s, c.n, k, err)
		}
	}
	for _, bad := range [][2]int64{{253402300800, 0}, {-62135596801, 0}, {0, -1}, {0, 1000000000}} {
		f.PeriodEnd = &timestamppb.Timestamp{Seconds: bad[0], Nanos: int32(bad[1])}
		if _, err := bus.FundamentalsV1SnapshotsPartitionKey(f); bus.KindOf(err) != "invalid_timestamp" {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestSharedPayloadDispatch(t *testing.T) {
	rate := &fxv1.FxRate{Base: "USD", Quote: "JPY"}
	if k, err := bus.PartitionKey(rate); err != nil || k != "USD.JPY" {
		t.Errorf("FxRate keys agree across its topics: %q %v", k, err)
	}
	if _, err := bus.TopicFor(rate, bus.EnvProd); !errors.Is(err, bus.ErrAmbiguousTopic) {
		t.Errorf("FxRate travels on two topics: %v", err)
	}
	if s, _ := bus.FxV1PairTopicFor(rate, bus.EnvProd); s.String() != "ampy.prod.fx.v1.USD.JPY" {
		t.Errorf("pair subject %v", s)
	}
	if _, err := bus.PartitionKey(&commonv1.SecurityId{}); !errors.Is(err, bus.ErrUnknownPayload) {
		t.Errorf("not a payload: %v", err)
	}
	o := &ordersv1.OrderRequest{ClientOrderId: "co_1"}
	if d, ok := bus.DedupeKey(o); !ok || d != "co_1" {
		t.Errorf("dedupe %q %v", d, ok)
	}
	if _, ok := bus.DedupeKey(&ordersv1.OrderRequest{}); ok {
		t.Error("an empty dedupe value gives no dedupe key")
	}
}

func validHeaders() bus.Headers {
	hash := bus.BarsV1Bars.SchemaHash
	return bus.Headers{
		MessageID: "01991b5c-5908-7a1c-8f3e-0123456789ab", SchemaFQDN: "ampy.bars.v1.BarBatch", SchemaVersion: "1.0.0",
		ContentType: bus.ContentType, ProducedAt: "2025-09-05T19:31:01Z", Producer: "p@1", Source: "s", RunID: "r",
		TraceParent:  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		PartitionKey: "XNAS.AAPL", SchemaHash: &hash,
	}
}

func TestHeaderValidation(t *testing.T) {
	h := validHeaders()
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	back, err := bus.HeadersFromPairs(h.Pairs())
	if err != nil || !equalHeaders(back, h) {
		t.Fatalf("round trip: %v", err)
	}
	for _, c := range []struct {
		edit func(*bus.Headers)
		kind string
	}{
		{func(h *bus.Headers) { h.MessageID = "01991B5C-5908-7A1C-8F3E-0123456789AB" }, "malformed_message_id"},
		{func(h *bus.Headers) { h.MessageID = "01991b5c-5908-4a1c-8f3e-0123456789ab" }, "malformed_message_id"},
		{func(h *bus.Headers) { h.MessageID = "" }, "missing_header"},
		{func(h *bus.Headers) { h.TraceParent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }, "malformed_traceparent"},
		{func(h *bus.Headers) { h.TraceParent = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }, "malformed_traceparent"},
		{func(h *bus.Headers) { h.ProducedAt = "2025-09-05T19:31:01+00:00" }, "malformed_header"},
		{func(h *bus.Headers) { h.ProducedAt = "2025-02-29T00:00:00Z" }, "malformed_header"},
		{func(h *bus.Headers) { h.SchemaVersion = "v1.0.0" }, "malformed_header"},
		{func(h *bus.Headers) { h.SchemaFQDN = "ampy..Bar" }, "malformed_header"},
		{func(h *bus.Headers) { h.ContentType = "application/json" }, "malformed_header"},
		{func(h *bus.Headers) { h.Producer = "" }, "missing_header"},
		{func(h *bus.Headers) { h.PartitionKey = "a\nb" }, "malformed_header"},
		{func(h *bus.Headers) { s := "sha256:ABC"; h.SchemaHash = &s }, "malformed_header"},
		{func(h *bus.Headers) { h.ContentEncoding = "br" }, "malformed_header"},
		{func(h *bus.Headers) { h.Blob = &bus.BlobPointer{Ref: "s3://b/k", Hash: "sha256:x", Size: 1} }, "malformed_header"},
	} {
		h := validHeaders()
		c.edit(&h)
		if err := h.Validate(); bus.KindOf(err) != c.kind {
			t.Errorf("%+v: %v, want %s", h, err, c.kind)
		}
	}
	valid := validHeaders()
	pairs := valid.Pairs()
	if _, err := bus.HeadersFromPairs(append(pairs, bus.HeaderPair{Name: "partition_key", Value: "x"})); bus.KindOf(err) != "duplicate_header" {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := bus.HeadersFromPairs(append(pairs, bus.HeaderPair{Name: "x-unknown", Value: "\x00"})); err != nil {
		t.Errorf("unknown headers are skipped: %v", err)
	}
	if _, err := bus.HeadersFromPairs(append(pairs, bus.HeaderPair{Name: "blob_ref", Value: "s3://b/k"})); bus.KindOf(err) != "missing_header" {
		t.Errorf("blob trio: %v", err)
	}
	if _, err := bus.HeadersFromPairs(append(pairs, bus.HeaderPair{Name: "retry_count", Value: "01"})); bus.KindOf(err) != "malformed_header" {
		t.Errorf("retry_count: %v", err)
	}
	long := strings.Repeat("é", 100)
	h = validHeaders()
	h.RunID = long + "\x01"
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), strings.Repeat("é", 80)+"…`") {
		t.Errorf("long values are cut at 80 characters: %v", err)
	}
}

func equalHeaders(a, b bus.Headers) bool { //nolint:gocritic // copies are fine in a test
	return bytes.Equal([]byte(strings.Join(flatten(a.Pairs()), "\n")), []byte(strings.Join(flatten(b.Pairs()), "\n")))
}

func flatten(ps []bus.HeaderPair) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"="+p.Value)
	}
	return out
}

func newsItem(bodyLen int) *newsv1.NewsItem {
	return &newsv1.NewsItem{Id: "n:1", Body: strings.Repeat("x", bodyLen)}
}

func TestEnvelopes(t *testing.T) {
	opts := bus.EnvelopeOptions{Producer: "p@1", Source: "s", RunID: "r"}
	before := time.Now().UTC().Add(-time.Second)
	e, err := bus.NewEnvelope(batch(sec("AAPL", "XNAS")), opts)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := e.Headers.ProducedAtTime(); !ok || at.Before(before) {
		t.Errorf("produced_at %q", e.Headers.ProducedAt)
	}
	e2, _ := bus.NewEnvelope(batch(sec("AAPL", "XNAS")), opts)
	if e2.Headers.MessageID <= e.Headers.MessageID {
		t.Errorf("ids do not increase: %s then %s", e.Headers.MessageID, e2.Headers.MessageID)
	}
	if _, err := bus.NewEnvelope(batch(), opts); bus.KindOf(err) != "empty_batch" {
		t.Errorf("no key: %v", err)
	}
	if _, err := bus.NewEnvelope(batch(sec("A", "X")), bus.EnvelopeOptions{Source: "s", RunID: "r"}); bus.KindOf(err) != "missing_header" {
		t.Errorf("no producer: %v", err)
	}

	// Size rules: exactly 128 KiB stays plain, one byte more is gzipped.
	plain := newsItem(bus.GzipThreshold - 16)
	for {
		raw, _ := bus.MarshalCanonical(plain)
		if len(raw) == bus.GzipThreshold {
			break
		}
		plain.Body = strings.Repeat("x", len(plain.Body)+bus.GzipThreshold-len(raw))
	}
	for extra, wantGzip := range map[int]bool{0: false, 1: true} {
		item := proto.Clone(plain).(*newsv1.NewsItem)
		item.Body += strings.Repeat("y", extra)
		e, err := bus.NewEnvelope(item, opts)
		if err != nil {
			t.Fatal(err)
		}
		rawLen, _ := bus.MarshalCanonical(item)
		rec, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		enc, _ := rec.Header(bus.HeaderContentEncoding)
		if (enc == "gzip") != wantGzip || (len(rawLen) == bus.GzipThreshold) == wantGzip {
			t.Errorf("payload of %d bytes: content_encoding %q", len(rawLen), enc)
		}
		var back newsv1.NewsItem
		if _, err := bus.DecodeEnvelope(rec.Headers, rec.Payload, &back); err != nil || !proto.Equal(&back, item) {
			t.Errorf("round trip: %v", err)
		}
	}
	// Incompressible and over 1 MiB: too_large, and the blob pattern instead.
	noise := make([]byte, 0, 1<<21)
	x := uint32(1)
	for len(noise) < 1<<21 {
		x = x*1664525 + 1013904223
		noise = append(noise, 'a'+byte(x>>28))
	}
	big := &newsv1.NewsItem{Id: "n:2", Body: string(noise)}
	e, _ = bus.NewEnvelope(big, opts)
	if _, err := e.Encode(); bus.KindOf(err) != "too_large" {
		t.Errorf("2 MiB: %v", err)
	}
	ptr, blob, err := e.ToBlob("s3://bucket/n2?versionId=1")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.EncodePointer(ptr)
	if err != nil || len(rec.Payload) != 0 {
		t.Fatalf("pointer: %v", err)
	}
	var back newsv1.NewsItem
	if _, err := bus.DecodeEnvelope(rec.Headers, rec.Payload, &back); bus.KindOf(err) != "blob_pointer" {
		t.Errorf("pointer decode: %v", err)
	}
	h, err := bus.DecodeHeaders(rec.Headers, &back)
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.DecodeBlob(h, blob, &back); err != nil || back.GetBody() != big.Body {
		t.Errorf("blob: %v", err)
	}
	blob[0] ^= 1
	if err := bus.DecodeBlob(h, blob, &back); bus.KindOf(err) != "blob_hash_mismatch" {
		t.Errorf("tampered blob: %v", err)
	}
	if err := bus.DecodeBlob(h, blob[1:], &back); bus.KindOf(err) != "blob_size_mismatch" {
		t.Errorf("short blob: %v", err)
	}
	// Decoding into the wrong type is refused before the bytes are read.
	e, _ = bus.NewEnvelope(batch(sec("AAPL", "XNAS")), opts)
	rec, _ = e.Encode()
	if _, err := bus.DecodeEnvelope(rec.Headers, rec.Payload, &newsv1.NewsItem{}); bus.KindOf(err) != "unknown_fqdn" || bus.DLQReason(err) != "unknown_fqdn: ampy.bars.v1.BarBatch" {
		t.Errorf("wrong type: %v / %s", err, bus.DLQReason(err))
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestGzipStrictness(t *testing.T) {
	e, _ := bus.NewEnvelope(batch(sec("AAPL", "XNAS")), bus.EnvelopeOptions{Producer: "p", Source: "s", RunID: "r"})
	rec, _ := e.Encode()
	headers := append(rec.Headers, bus.HeaderPair{Name: bus.HeaderContentEncoding, Value: "gzip"})
	good := gz(rec.Payload)
	for name, c := range map[string]struct {
		body   []byte
		kind   string
		reason string
	}{
		"intact":     {good, "", ""},
		"not gzip":   {rec.Payload, "corrupt_gzip", "decode_error: corrupt gzip: the payload is not a gzip stream"},
		"truncated":  {good[:len(good)-4], "corrupt_gzip", "decode_error: corrupt gzip: the gzip stream is truncated"},
		"trailing":   {append(append([]byte{}, good...), 0), "corrupt_gzip", "decode_error: corrupt gzip: 1 bytes follow the gzip stream"},
		"two":        {append(append([]byte{}, good...), good...), "corrupt_gzip", ""},
		"bad crc":    {append(append([]byte{}, good[:len(good)-8]...), 0, 0, 0, 0, good[len(good)-4], good[len(good)-3], good[len(good)-2], good[len(good)-1]), "corrupt_gzip", ""},
		"bomb":       {gz(make([]byte, bus.MaxInflated+1)), "too_large", "decode_error: the gzip payload inflates past 67108864 bytes"},
		"empty body": {nil, "corrupt_gzip", ""},
	} {
		_, err := bus.DecodeEnvelope(headers, c.body, &barsv1.BarBatch{})
		if bus.KindOf(err) != c.kind || (c.reason != "" && bus.DLQReason(err) != c.reason) {
			t.Errorf("%s: %v (%s), reason %q", name, err, bus.KindOf(err), bus.DLQReason(err))
		}
	}
	if _, err := bus.DecodeEnvelope(rec.Headers, []byte{0xff}, &barsv1.BarBatch{}); bus.KindOf(err) != "decode_error" || !strings.HasPrefix(bus.DLQReason(err), "decode_error: ") {
		t.Errorf("bad protobuf: %v", err)
	}
	h, _ := bus.HeadersFromPairs(rec.Headers)
	bad := "sha256:" + strings.Repeat("0", 64)
	h.SchemaHash = &bad
	if err := bus.VerifyHeaders(&h); bus.KindOf(err) != "hash_mismatch" || bus.DLQReason(err) != "schema_hash_mismatch" {
		t.Errorf("hash: %v", err)
	}
}

func TestDeadLetters(t *testing.T) {
	in := []bus.HeaderPair{{Name: "x-custom", Value: "1"}, {Name: bus.HeaderDLQReason, Value: "old"}, {Name: "retry_count", Value: "3"}, {Name: bus.HeaderDLQReason, Value: "older"}}
	dl, err := bus.DlqV1DeadLettersDeadLetter(bus.EnvProd, "bars", in, []byte{1, 2}, "  decode_error:\nbad\tthing  ")
	if err != nil {
		t.Fatal(err)
	}
	if dl.Subject.String() != "ampy.prod.dlq.v1.bars" || dl.Subject.KafkaKey("XNAS.AAPL") != "bars XNAS.AAPL" {
		t.Errorf("subject %v", dl.Subject)
	}
	want := []bus.HeaderPair{{Name: "x-custom", Value: "1"}, {Name: bus.HeaderDLQReason, Value: "decode_error: bad thing"}, {Name: "retry_count", Value: "3"}}
	if strings.Join(flatten(dl.Headers), ";") != strings.Join(flatten(want), ";") {
		t.Errorf("headers %v", dl.Headers)
	}
	if got := bus.SanitizeReason(strings.Repeat("é", 600)); len(got) != 1024 {
		t.Errorf("cap: %d", len(got))
	}
	if bus.SanitizeReason(" \n ") != "unspecified" {
		t.Error("empty reason")
	}
	if _, err := bus.DlqV1DeadLettersDeadLetter(bus.EnvProd, "a.b", nil, nil, "x"); bus.KindOf(err) != "illegal_token" {
		t.Errorf("source domain: %v", err)
	}
}

func TestLinkedSchemas(t *testing.T) {
	if err := bus.VerifyLinked(); err != nil {
		t.Fatal(err)
	}
	if n := len(bus.Topics()); n != 17 {
		t.Errorf("%d topics", n)
	}
}
