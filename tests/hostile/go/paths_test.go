package paths

// Copied next to the package generated from tests/hostile/go/paths.yaml by
// tests/go/run.sh: every topic's generated key and subject functions must
// agree with `ampygen route` (AMPYGEN_BIN) on a few payloads and every
// mutation of them, for every path shape (`[0]`, `[*]` over scalars,
// proto3 optional, oneof members at the root and nested, every leaf kind).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	pathsv1 "example.test/paths/pb/ampy/paths/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

var bases = []string{
	`{"legs":[{"venue":"V","qty":"3","tags":["a","a"],"active":true,"at":"2025-01-01T00:00:00Z"},{"venue":"W","qty":"0","tags":["a"],"active":true,"at":"2025-01-01T00:00:00Z"}],
	  "main":{"side":"SIDE_BUY","delta":-4,"seq":"7"},"note":"n","big":"-9","small":5,
	  "times":["2025-01-01T00:00:00.500Z","2025-01-01T00:00:00.500Z"],"name":"nm","optSide":"SIDE_SELL","labels":["l","m"],"flag":true}`,
	`{"legs":[{"venue":"V","tags":["x"],"at":"1970-01-01T00:00:00.000001Z"}],"main":{"side":3,"orderId":"o-1"},
	  "leg":{"venue":"L"},"note":"","optSide":"SIDE_UNSPECIFIED","labels":["é"],"times":["0001-01-01T00:00:00Z"]}`,
	`{"number":0,"main":{"seq":"0","delta":2147483647},"big":"9223372036854775807","small":4294967295,"optSide":"SIDE_BUY","note":"a b","labels":[""]}`,
}

var strings3 = []string{"", "A.B", "x\u00a0y", "*", "ü", "a>"}

type step struct {
	fd    protoreflect.FieldDescriptor
	index int
}

// mutations clears, empties, duplicates and rewrites what the paths read.
func mutations(m proto.Message) []proto.Message {
	var out []proto.Message
	edit := func(path []step, f func(protoreflect.Message)) {
		c := proto.Clone(m)
		msg := c.ProtoReflect()
		for _, s := range path {
			if s.index >= 0 {
				msg = msg.Mutable(s.fd).List().Get(s.index).Message()
			} else {
				msg = msg.Mutable(s.fd).Message()
			}
		}
		f(msg)
		out = append(out, c)
	}
	var walk func(path []step, msg protoreflect.Message)
	walk = func(path []step, msg protoreflect.Message) {
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			edit(path, func(x protoreflect.Message) { x.Clear(fd) })
			switch {
			case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
				edit(path, func(x protoreflect.Message) {
					l := x.Mutable(fd).List()
					l.Append(protoreflect.ValueOfMessage(proto.Clone(l.Get(0).Message().Interface()).ProtoReflect()))
				})
				walk(append(append([]step(nil), path...), step{fd, 0}), v.List().Get(0).Message())
			case fd.IsList():
				edit(path, func(x protoreflect.Message) { x.Mutable(fd).List().Append(x.Get(fd).List().Get(0)) })
				if fd.Kind() == protoreflect.StringKind {
					for _, s := range strings3 {
						s := s
						edit(path, func(x protoreflect.Message) { x.Mutable(fd).List().Append(protoreflect.ValueOfString(s)) })
					}
				}
			case fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() == "google.protobuf.Timestamp":
				for _, n := range []int32{5000000, 5000, 5, 0} {
					n := n
					edit(append(append([]step(nil), path...), step{fd, -1}), func(x protoreflect.Message) {
						x.Set(x.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(n))
					})
				}
			case fd.Kind() == protoreflect.MessageKind:
				walk(append(append([]step(nil), path...), step{fd, -1}), v.Message())
			case fd.Kind() == protoreflect.StringKind:
				for _, s := range strings3 {
					s := s
					edit(path, func(x protoreflect.Message) { x.Set(fd, protoreflect.ValueOfString(s)) })
				}
			case fd.Kind() == protoreflect.EnumKind:
				for _, n := range []protoreflect.EnumNumber{0, 1, 2, 99} {
					n := n
					edit(path, func(x protoreflect.Message) { x.Set(fd, protoreflect.ValueOfEnum(n)) })
				}
			case fd.Kind() == protoreflect.BoolKind:
				edit(path, func(x protoreflect.Message) { x.Set(fd, protoreflect.ValueOfBool(!v.Bool())) })
			}
			return true
		})
	}
	walk(nil, m.ProtoReflect())
	return out
}

func TestPathsAgainstRoute(t *testing.T) {
	bin, registry := os.Getenv("AMPYGEN_BIN"), os.Getenv("AMPYGEN_PATHS_REGISTRY")
	if bin == "" || registry == "" {
		t.Fatal("AMPYGEN_BIN and AMPYGEN_PATHS_REGISTRY must be set (tests/go/run.sh does)")
	}
	dir := t.TempDir()
	compared, differ, ok := 0, 0, 0
	for _, base := range bases {
		var m pathsv1.Paths
		if err := protojson.Unmarshal([]byte(base), &m); err != nil {
			t.Fatalf("base payload: %v", err)
		}
		for _, p := range append([]proto.Message{&m}, mutations(&m)...) {
			js, err := protojson.Marshal(p)
			if err != nil {
				continue
			}
			file := filepath.Join(dir, "p.json")
			if err := os.WriteFile(file, js, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, tp := range Topics() {
				out, _ := exec.Command(bin, "--registry", registry, "route", tp.ID, "--env", "prod", "--payload", file, "--format", "json").Output()
				var want map[string]any
				if err := json.Unmarshal(out, &want); err != nil {
					t.Fatalf("%s: route printed %q", tp.ID, out)
				}
				got := map[string]any{"topic": tp.ID}
				if s, err := tp.TopicFor(p, EnvProd); err != nil {
					got["error"] = map[string]any{"kind": KindOf(err), "message": err.Error()}
				} else {
					key, err := tp.PartitionKey(p)
					if err != nil {
						t.Errorf("%s: subject but no key: %v", tp.ID, err)
					}
					got["subject"], got["kafka_topic"], got["partition_key"] = s.String(), s.KafkaTopic(), key
					got["kafka_key"] = KafkaKeyOf(s.String(), key)
					ok++
				}
				compared++
				// Which partition murmur2 gives kafka_key is proven per language by
				// tests/vectors/kafka; this package has no Kafka runtime, so only the
				// range is checked here.
				if err := partitionInRange(want); err != "" {
					t.Errorf("%s: %s", js, err)
				}
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					differ++
					if differ <= 15 {
						t.Errorf("%s on %s:\n go   %s\n rust %s", tp.ID, js, g, w)
					}
				}
			}
		}
	}
	if compared < 300 || ok < 30 {
		t.Errorf("compared %d (%d routable): too few", compared, ok)
	}
	t.Logf("compared %d payload/topic pairs (%d routable) with ampygen route, %d differ", compared, ok, differ)
}

func TestDedupeAndTypedBuilders(t *testing.T) {
	p := &pathsv1.Paths{Main: &pathsv1.Leg{Ref: &pathsv1.Leg_OrderId{OrderId: "o-1"}}}
	if d, ok := PathsV1MiscDedupeKey(p); !ok || d != "o-1" {
		t.Errorf("dedupe %q %v", d, ok)
	}
	p.Main.Ref = &pathsv1.Leg_Seq{Seq: 1}
	if _, ok := PathsV1MiscDedupeKey(p); ok {
		t.Error("dedupe from the other oneof member")
	}
	for _, c := range []struct {
		f    func() (string, error)
		want string
	}{
		{func() (string, error) { return PathsV1FirstSubject(EnvDev, "V", 18446744073709551615) }, "ampy.dev.paths.v1.f.V.18446744073709551615"},
		{func() (string, error) { return PathsV1AllSubject(EnvDev, false, 7) }, "ampy.dev.paths.v1.a.false.7"},
		{func() (string, error) { return PathsV1NumberSubject(EnvDev, -3) }, "ampy.dev.paths.v1.n.-3"},
		{func() (string, error) { return PathsV1TimesSubject(EnvDev, pathsv1.Side_SIDE_LONG, pathsv1.Side(42)) }, "ampy.dev.paths.v1.t.SIDE_BUY.42"},
		{func() (string, error) { return PathsV1MiscSubject(EnvDev, -2147483648) }, "ampy.dev.paths.v1.m.-2147483648"},
	} {
		s, err := c.f()
		if err != nil || s != c.want {
			t.Errorf("%q %v, want %q", s, err, c.want)
		}
	}
	if _, err := PathsV1AllPatternWith(EnvDev, "", "x y"); KindOf(err) != "illegal_token" {
		t.Errorf("pattern: %v", err)
	}
	if _, err := PathsV1AllPatternWith(EnvDev, "true", ""); err != nil {
		t.Errorf("pattern: %v", err)
	}
}

// partitionInRange checks and removes the kafka_partition and
// kafka_partitions fields of an `ampygen route --format json` answer.
func partitionInRange(want map[string]any) string {
	p, hasP := want["kafka_partition"].(float64)
	n, hasN := want["kafka_partitions"].(float64)
	delete(want, "kafka_partition")
	delete(want, "kafka_partitions")
	if _, routed := want["subject"]; !routed {
		if hasP || hasN {
			return "kafka_partition without a subject"
		}
		return ""
	}
	if !hasP || !hasN || n < 1 || p < 0 || p >= n {
		return fmt.Sprintf("kafka_partition %v of %v is not a partition", want["kafka_partition"], n)
	}
	return ""
}
