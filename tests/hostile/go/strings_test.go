package hostile

// Copied next to the package generated from tests/hostile/hostile.yaml by
// tests/go/run.sh. Every expected value is transcribed from the YAML by
// hand: the generated constants and builders must keep every quote,
// backslash, brace and non-ASCII character of the registry exactly.

import (
	"errors"
	"testing"

	funcv1 "example.test/hostile/import/pb/ampy/func/v1"
	"google.golang.org/protobuf/proto"
)

func TestRegistryStringsRoundTrip(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Namespace, "ampy"},
		{string(EnvType), "type"},
		{string(EnvImport), "import"},
		{FuncV1Import.ID, "func.v1.import"},
		{FuncV1Import.Subtopic, `lit"q\b'.{match}.x{{y}}ü.$${{a}}`},
		{FuncV1Import.KeyFormat, `{match}|"{class}"\'''"""$${{x}}{{z}}`},
		{FuncV1Import.QoS.Tier, "class"},
		{FuncV1Import.QoS.Delivery, "at_most_once"},
		{FuncV1Class.KeyFormat, "{{{def}}}{type}"},
		{FuncV1Import.FQDN, "ampy.func.v1.Func"},
		{FuncV1Import.SchemaHash, "sha256:7986dacddc6bac040625b49ce34024989c77ceef443561430f8acf373f6fab6f"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if FuncV1Import.QoS.P99Ms != 5 {
		t.Errorf("p99 = %d", FuncV1Import.QoS.P99Ms)
	}
}

func TestHostileSubjectsAndKeys(t *testing.T) {
	s, err := FuncV1ImportSubject(EnvType, "m")
	if err != nil {
		t.Fatal(err)
	}
	if want := `ampy.type.func.v1.lit"q\b'.m.x{y}ü.$${a}`; s != want {
		t.Errorf("subject %q, want %q", s, want)
	}
	p := &funcv1.Func{
		Class:   &funcv1.Class{Func: "M"},
		Type:    "C",
		Match:   []*funcv1.Class{{Func: "T"}, {Func: "T"}},
		Select:  &funcv1.Func_Def{Def: &funcv1.Class{Func: "D"}},
		Kind:    funcv1.Type_TYPE_CLASS,
		Len:     "L",
		String_: "S",
	}
	for _, c := range []struct {
		name string
		f    func(*funcv1.Func) (string, error)
		want string
	}{
		{"import", FuncV1ImportPartitionKey, `M|"C"\'''"""$${x}{z}`},
		{"class", FuncV1ClassPartitionKey, "{D}T"},
		{"type", FuncV1TypePartitionKey, "L.S"},
	} {
		got, err := c.f(p)
		if err != nil || got != c.want {
			t.Errorf("%s: key %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	sub, err := FuncV1ClassTopicFor(p, EnvImport)
	if err != nil || sub.String() != "ampy.import.func.v1.m.D.TYPE_CLASS" {
		t.Errorf("class subject %q, %v", sub.String(), err)
	}
	// The oneof member `go` is unset: the `match` topic keys on it.
	if _, err := FuncV1MatchPartitionKey(p); KindOf(err) != "empty_key_field" {
		t.Errorf("unset oneof member: %v", err)
	}
	// Func travels on four topics with different keys: the package-level
	// envelope refuses to guess, the topic's own one knows.
	opts := EnvelopeOptions{Producer: "p", Source: "s", RunID: "r"}
	if _, err := NewEnvelope(p, opts); !errors.Is(err, ErrAmbiguousTopic) {
		t.Errorf("ambiguous envelope: %v", err)
	}
	e, err := FuncV1Type.NewEnvelope(p, opts)
	if err != nil || e.Headers.PartitionKey != "L.S" {
		t.Fatalf("topic envelope: %v", err)
	}
	rec, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var back funcv1.Func
	if _, err := DecodeEnvelope(rec.Headers, rec.Payload, &back); err != nil || !proto.Equal(&back, p) {
		t.Errorf("round trip: %v", err)
	}
	if err := VerifyLinked(); err != nil {
		t.Errorf("linked descriptors: %v", err)
	}
}
