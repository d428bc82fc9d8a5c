package gotests

// The conformance vector runner (tests/vectors/FORMAT.md): every positive
// vector through checks 1 to 5, every negative vector through its
// operation, each failure naming the vector.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	bus "ampyfin.dev/ampybus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const vectorDir = "../vectors"

type expect struct {
	Subject       string  `json:"subject"`
	KafkaTopic    string  `json:"kafka_topic"`
	KafkaKey      string  `json:"kafka_key"`
	PartitionKey  string  `json:"partition_key"`
	DedupeKey     *string `json:"dedupe_key"`
	SchemaFQDN    string  `json:"schema_fqdn"`
	SchemaVersion string  `json:"schema_version"`
	SchemaHash    string  `json:"schema_hash"`
	CanonicalForm string  `json:"canonical_form"`
}

type vector struct {
	Name          string            `json:"name"`
	Topic         string            `json:"topic"`
	SourceTopic   string            `json:"source_topic"`
	SourceDomain  string            `json:"source_domain"`
	Env           string            `json:"env"`
	PayloadJSON   json.RawMessage   `json:"payload_json"`
	PayloadBase64 string            `json:"payload_base64"`
	BytesExact    *bool             `json:"bytes_exact"`
	Expect        expect            `json:"expect"`
	Envelope      envelope          `json:"envelope"`
	Operation     string            `json:"operation"`
	NegativeKey   *string           `json:"partition_key"`
	Args          map[string]string `json:"args"`
	Headers       json.RawMessage   `json:"headers"`
	BodyBase64    string            `json:"body_base64"`
	Error         string            `json:"error"`
}

type envelope struct {
	Headers    map[string]string `json:"headers"`
	BodyBase64 string            `json:"body_base64"`
}

func load(t *testing.T, path string) []vector {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return file.Vectors
}

func b64(t *testing.T, name, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%s: bad base64: %v", name, err)
	}
	return b
}

func inflate(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: body is not gzip: %v", name, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: body does not inflate: %v", name, err)
	}
	return out
}

func pairs(m map[string]string) []bus.HeaderPair {
	var out []bus.HeaderPair
	for k, v := range m {
		out = append(out, bus.HeaderPair{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func toMap(ps []bus.HeaderPair) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m
}

func topic(t *testing.T, name, id string) bus.Topic {
	t.Helper()
	tp, ok := bus.TopicByID(id)
	if !ok {
		t.Fatalf("%s: no topic %q in the generated package", name, id)
	}
	return tp
}

func TestPositiveVectors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(vectorDir, "positive", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no positive vectors under %s", vectorDir)
	}
	perDomain := map[string]int{}
	for _, f := range files {
		for _, v := range load(t, f) {
			t.Run(v.Name, func(t *testing.T) { runPositive(t, v) })
			perDomain[strings.SplitN(v.Topic, ".", 2)[0]]++
		}
	}
	// Non-vacuity: the runner saw the vectors the format promises.
	if len(perDomain) < 14 {
		t.Errorf("vectors cover %d domains, want 14: %v", len(perDomain), perDomain)
	}
	for d, n := range perDomain {
		if n < 3 {
			t.Errorf("domain %s has %d vectors, want at least 3", d, n)
		}
	}
}

func runPositive(t *testing.T, v vector) {
	name := v.Name
	isDLQ := v.SourceTopic != ""
	payloadTopic := topic(t, name, v.Topic)
	if isDLQ {
		payloadTopic = topic(t, name, v.SourceTopic)
	}
	env, err := bus.ParseEnv(v.Env)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	exact := v.BytesExact == nil || *v.BytesExact
	payloadBytes := b64(t, name, v.PayloadBase64)

	// 1. binary and JSON forms decode to equal messages.
	fromBin := payloadTopic.NewPayload()
	if err := proto.Unmarshal(payloadBytes, fromBin); err != nil {
		t.Fatalf("%s: payload_base64 does not decode: %v", name, err)
	}
	fromJSON := payloadTopic.NewPayload()
	if err := protojson.Unmarshal(v.PayloadJSON, fromJSON); err != nil {
		t.Fatalf("%s: payload_json does not parse: %v", name, err)
	}
	if !proto.Equal(fromBin, fromJSON) {
		t.Fatalf("%s: payload_base64 and payload_json differ:\n%v\n%v", name, fromBin, fromJSON)
	}
	if exact {
		own, _ := bus.MarshalCanonical(fromJSON)
		if !bytes.Equal(own, payloadBytes) {
			t.Errorf("%s: Go encodes payload_json to other bytes than payload_base64", name)
		}
	}

	// 2. routing.
	pk, err := payloadTopic.PartitionKey(fromBin)
	if err != nil {
		t.Fatalf("%s: partition key: %v", name, err)
	}
	var subject bus.Subject
	if isDLQ {
		dlq := topic(t, name, v.Topic)
		subject, err = dlq.SubjectFromStrings(env, map[string]string{"source_domain": v.SourceDomain})
	} else {
		subject, err = payloadTopic.TopicFor(fromBin, env)
	}
	if err != nil {
		t.Fatalf("%s: subject: %v", name, err)
	}
	check := func(what, got, want string) {
		if got != want {
			t.Errorf("%s: %s = %q, want %q", name, what, got, want)
		}
	}
	check("subject", subject.String(), v.Expect.Subject)
	check("kafka_topic", subject.KafkaTopic(), v.Expect.KafkaTopic)
	check("kafka_key", subject.KafkaKey(pk), v.Expect.KafkaKey)
	check("partition_key", pk, v.Expect.PartitionKey)
	dk, hasDK := payloadTopic.DedupeKey(fromBin)
	switch {
	case v.Expect.DedupeKey == nil && hasDK:
		t.Errorf("%s: dedupe_key = %q, want none", name, dk)
	case v.Expect.DedupeKey != nil && (!hasDK || dk != *v.Expect.DedupeKey):
		t.Errorf("%s: dedupe_key = %q (%v), want %q", name, dk, hasDK, *v.Expect.DedupeKey)
	}

	// 3. schema constants and the canonical form from linked descriptors.
	check("schema_fqdn", payloadTopic.FQDN, v.Expect.SchemaFQDN)
	check("schema_version", payloadTopic.SchemaVersion, v.Expect.SchemaVersion)
	check("schema_hash", payloadTopic.SchemaHash, v.Expect.SchemaHash)
	wantForm, err := os.ReadFile(filepath.Join(vectorDir, v.Expect.CanonicalForm))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	md := fromBin.ProtoReflect().Descriptor()
	form, err := bus.CanonicalForm(md)
	if err != nil {
		t.Fatalf("%s: canonical form: %v", name, err)
	}
	check("canonical form", form, string(wantForm))
	hash, _ := bus.CanonicalSchemaHash(md)
	check("recomputed schema hash", hash, v.Expect.SchemaHash)

	// 4. the record decodes.
	body := b64(t, name, v.Envelope.BodyBase64)
	h, err := bus.HeadersFromMap(v.Envelope.Headers)
	if err != nil {
		t.Fatalf("%s: headers: %v (%s)", name, err, bus.KindOf(err))
	}
	if err := bus.VerifyHeaders(&h); err != nil {
		t.Fatalf("%s: schema check: %v", name, err)
	}
	decoded := payloadTopic.NewPayload()
	if h.Blob != nil {
		_, err := bus.DecodeEnvelope(pairs(v.Envelope.Headers), body, decoded)
		if bus.KindOf(err) != "blob_pointer" {
			t.Fatalf("%s: decoding a pointer record gave %v, want blob_pointer", name, err)
		}
		if err := bus.DecodeBlob(h, payloadBytes, decoded); err != nil {
			t.Fatalf("%s: decode blob: %v", name, err)
		}
	} else {
		if _, err := bus.DecodeEnvelope(pairs(v.Envelope.Headers), body, decoded); err != nil {
			t.Fatalf("%s: decode: %v (%s)", name, err, bus.KindOf(err))
		}
		raw := body
		if h.ContentEncoding == bus.ContentEncodingGzip {
			raw = inflate(t, name, body)
		}
		if !bytes.Equal(raw, payloadBytes) {
			t.Errorf("%s: the record body is not the payload bytes", name)
		}
	}
	if !proto.Equal(decoded, fromBin) {
		t.Errorf("%s: decoded payload differs", name)
	}

	// 5. encoding with the vector's identity gives the same record.
	orig := map[string]string{}
	for k, val := range v.Envelope.Headers {
		orig[k] = val
	}
	reason, hasReason := orig[bus.HeaderDLQReason]
	if isDLQ {
		delete(orig, bus.HeaderDLQReason)
	}
	out := bus.Headers{
		MessageID:     orig[bus.HeaderMessageID],
		SchemaFQDN:    payloadTopic.FQDN,
		SchemaVersion: payloadTopic.SchemaVersion,
		ContentType:   bus.ContentType,
		ProducedAt:    orig[bus.HeaderProducedAt],
		Producer:      orig[bus.HeaderProducer],
		Source:        orig[bus.HeaderSource],
		RunID:         orig[bus.HeaderRunID],
		TraceParent:   orig[bus.HeaderTraceParent],
		PartitionKey:  pk,
		RetryCount:    h.RetryCount,
	}
	if hasDK {
		out.DedupeKey = &dk
	}
	if payloadTopic.SchemaHash != "" {
		hash := payloadTopic.SchemaHash
		out.SchemaHash = &hash
	}
	e := bus.Envelope{Headers: out, Payload: fromBin}
	var rec bus.Record
	if ref, ok := orig[bus.HeaderBlobRef]; ok {
		rec, err = e.EncodePointer(bus.BlobPointerFor(ref, payloadBytes))
	} else {
		rec, err = e.Encode()
	}
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	gotHeaders, gotBody := rec.Headers, rec.Payload
	if isDLQ {
		if !hasReason {
			t.Fatalf("%s: a dead letter without dlq_reason", name)
		}
		dl, err := bus.DlqV1DeadLettersDeadLetter(env, v.SourceDomain, rec.Headers, rec.Payload, reason)
		if err != nil {
			t.Fatalf("%s: dead letter: %v", name, err)
		}
		check("dead letter subject", dl.Subject.String(), v.Expect.Subject)
		gotHeaders, gotBody = dl.Headers, dl.Payload
	}
	want := v.Envelope.Headers
	if !exact {
		want = map[string]string{}
		for k, val := range v.Envelope.Headers {
			if k != bus.HeaderBlobHash {
				want[k] = val
			}
		}
	}
	got := toMap(gotHeaders)
	if !exact {
		delete(got, bus.HeaderBlobHash)
	}
	if len(got) != len(want) {
		t.Errorf("%s: encoded headers %v, want %v", name, got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: encoded header %s = %q, want %q", name, k, got[k], w)
		}
	}
	if _, isPointer := orig[bus.HeaderBlobRef]; isPointer {
		if len(gotBody) != 0 {
			t.Errorf("%s: a pointer record has a body", name)
		}
		return
	}
	raw := gotBody
	if got[bus.HeaderContentEncoding] == bus.ContentEncodingGzip {
		raw = inflate(t, name, gotBody)
	}
	if exact && !bytes.Equal(raw, payloadBytes) {
		t.Errorf("%s: encoded body is not the payload bytes", name)
	}
	if !exact {
		m := payloadTopic.NewPayload()
		if err := proto.Unmarshal(raw, m); err != nil || !proto.Equal(m, fromBin) {
			t.Errorf("%s: encoded body does not decode to the payload (%v)", name, err)
		}
	}
}

func TestNegativeVectors(t *testing.T) {
	vs := load(t, filepath.Join(vectorDir, "negative.json"))
	if len(vs) < 20 {
		t.Fatalf("only %d negative vectors", len(vs))
	}
	ops := map[string]int{}
	for _, v := range vs {
		ops[v.Operation]++
		t.Run(v.Name, func(t *testing.T) {
			err := runNegative(t, v)
			if err == nil {
				t.Fatalf("%s: %s succeeded, want %s", v.Name, v.Operation, v.Error)
			}
			if got := bus.KindOf(err); got != v.Error {
				t.Fatalf("%s: %s failed with %s (%v), want %s", v.Name, v.Operation, got, err, v.Error)
			}
		})
	}
	for _, op := range []string{"subject", "route", "headers", "verify", "decode"} {
		if ops[op] == 0 {
			t.Errorf("no negative vector for operation %s", op)
		}
	}
}

// TestAcceptVectors runs accept.json: records at the edge of a wire or
// gzip rule that every runtime decodes, to exactly payload_json.
func TestAcceptVectors(t *testing.T) {
	vs := load(t, filepath.Join(vectorDir, "accept.json"))
	if len(vs) != 16 {
		t.Fatalf("%d accept vectors, want 16", len(vs))
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			if v.Operation != "decode" {
				t.Fatalf("%s: accept vectors decode, not %q", v.Name, v.Operation)
			}
			tp := topic(t, v.Name, v.Topic)
			got, want := tp.NewPayload(), tp.NewPayload()
			if _, err := bus.DecodeEnvelope(headerPairs(t, v), b64(t, v.Name, v.BodyBase64), got); err != nil {
				t.Fatalf("%s: decode: %v (%s)", v.Name, err, bus.KindOf(err))
			}
			if err := protojson.Unmarshal(v.PayloadJSON, want); err != nil {
				t.Fatalf("%s: payload_json: %v", v.Name, err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("%s: decoded %v, want %v", v.Name, got, want)
			}
		})
	}
}

// headerPairs reads a negative vector's headers: an object (read in
// contract order by HeadersFromMap's rule) or an array of [name, value]
// pairs in wire order.
func headerPairs(t *testing.T, v vector) []bus.HeaderPair {
	var m map[string]string
	if err := json.Unmarshal(v.Headers, &m); err == nil {
		h := []bus.HeaderPair{}
		for _, name := range append(bus.RequiredHeaders(), bus.OptionalHeaders()...) {
			if val, ok := m[name]; ok {
				h = append(h, bus.HeaderPair{Name: name, Value: val})
			}
		}
		for _, p := range pairs(m) {
			if !contains(h, p.Name) {
				h = append(h, p)
			}
		}
		return h
	}
	var list [][2]string
	if err := json.Unmarshal(v.Headers, &list); err != nil {
		t.Fatalf("%s: headers are neither an object nor pairs: %v", v.Name, err)
	}
	h := make([]bus.HeaderPair, len(list))
	for i, p := range list {
		h[i] = bus.HeaderPair{Name: p[0], Value: p[1]}
	}
	return h
}

func contains(ps []bus.HeaderPair, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

func runNegative(t *testing.T, v vector) error {
	switch v.Operation {
	case "subject":
		tp := topic(t, v.Name, v.Topic)
		return second(tp.SubjectFromStrings(bus.Env(v.Env), v.Args))
	case "route":
		tp := topic(t, v.Name, v.Topic)
		m := tp.NewPayload()
		var err error
		if v.PayloadBase64 != "" {
			err = proto.Unmarshal(b64(t, v.Name, v.PayloadBase64), m)
		} else {
			err = protojson.Unmarshal(v.PayloadJSON, m)
		}
		if err != nil {
			t.Fatalf("%s: the payload does not parse: %v", v.Name, err)
		}
		key, errKey := tp.PartitionKey(m)
		_, errTopic := tp.TopicFor(m, bus.Env(v.Env))
		switch {
		case v.NegativeKey != nil && (errKey != nil || key != *v.NegativeKey):
			t.Fatalf("%s: partition key = %q, %v; want %q", v.Name, key, errKey, *v.NegativeKey)
		case v.NegativeKey == nil && bus.KindOf(errKey) != v.Error:
			t.Fatalf("%s: partition key failed with %v, want %s", v.Name, errKey, v.Error)
		}
		return errTopic
	case "headers":
		return second(bus.HeadersFromPairs(headerPairs(t, v)))
	case "verify":
		h, err := bus.HeadersFromPairs(headerPairs(t, v))
		if err != nil {
			t.Fatalf("%s: headers do not parse: %v", v.Name, err)
		}
		tp := topic(t, v.Name, v.Topic)
		return tp.Verify(&h)
	case "decode":
		tp := topic(t, v.Name, v.Topic)
		return second(bus.DecodeEnvelope(headerPairs(t, v), b64(t, v.Name, v.BodyBase64), tp.NewPayload()))
	}
	t.Fatalf("%s: unknown operation %q", v.Name, v.Operation)
	return nil
}

func second[T any](_ T, err error) error { return err }
