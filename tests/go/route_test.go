package gotests

// Differential test against `ampygen route`, the reference evaluator: the
// payloads of the vectors and tests/payloads, plus mutations of every
// field the keys read (empty and hostile strings, cleared messages, empty
// and disagreeing batches, unknown enum numbers, timestamps with every
// fraction length), must give the same subject, partition key, Kafka
// topic, record key and partition (kafkabus.PartitionFor against the
// shared Rust rule, for the partition count route reports), or the same
// error kind and message, in Go as in Rust.
//
// tests/go/run.sh sets AMPYGEN_BIN; without it the test is skipped.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	bus "ampyfin.dev/ampybus"
	"ampyfin.dev/ampybus/kafkabus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type routeResult struct {
	Subject         string `json:"subject"`
	PartitionKey    string `json:"partition_key"`
	KafkaTopic      string `json:"kafka_topic"`
	KafkaKey        string `json:"kafka_key"`
	KafkaPartition  int32  `json:"kafka_partition"`
	KafkaPartitions int32  `json:"kafka_partitions"`
	Error           *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error"`
}

var hostileStrings = []string{"", "A.B", "a b", "x\u00a0y", "x\u0085y", "tab\there", "*", "a>", "ü", "hyper@2025-09-05", "\u2028", "q\"uote\\", "\u0301x", "\ue000", "\u200b"}

// mutations returns variants of m that change what its key paths read.
func mutations(m proto.Message, rotate *int) []proto.Message {
	type step struct {
		fd    protoreflect.FieldDescriptor
		index int // element of a repeated field, or -1
	}
	var out []proto.Message
	var walk func(path []step, msg protoreflect.Message)
	// edit applies f to the message at path in a fresh clone of m.
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
	walk = func(path []step, msg protoreflect.Message) {
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			p := append(append([]step(nil), path...), step{fd, -1})
			switch {
			case fd.IsMap():
			case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
				edit(path, func(x protoreflect.Message) { x.Clear(fd) })
				edit(path, func(x protoreflect.Message) {
					l := x.Mutable(fd).List()
					l.Append(protoreflect.ValueOfMessage(proto.Clone(l.Get(0).Message().Interface()).ProtoReflect()))
				})
				// A copy of the first element with each string changed: a
				// disagreeing batch wherever the key reads that string.
				first := v.List().Get(0).Message()
				first.Range(func(sf protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
					if sf.Kind() != protoreflect.StringKind || sf.IsList() || sf.IsMap() {
						return true
					}
					edit(path, func(x protoreflect.Message) {
						l := x.Mutable(fd).List()
						e := proto.Clone(l.Get(0).Message().Interface()).ProtoReflect()
						e.Set(sf, protoreflect.ValueOfString("OTHER"))
						l.Append(protoreflect.ValueOfMessage(e))
					})
					return true
				})
				walk(append(p[:len(p)-1:len(p)-1], step{fd, 0}), v.List().Get(0).Message())
			case fd.IsList():
			case fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() == "google.protobuf.Timestamp":
				for _, n := range []int32{5000000, 5000, 5, 999999999} {
					n := n
					edit(p, func(x protoreflect.Message) {
						x.Set(x.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(n))
					})
				}
				edit(path, func(x protoreflect.Message) { x.Clear(fd) })
			case fd.Kind() == protoreflect.MessageKind:
				edit(path, func(x protoreflect.Message) { x.Clear(fd) })
				walk(p, v.Message())
			case fd.Kind() == protoreflect.StringKind:
				// Three strings per field, rotating through the list, so
				// every string meets every topic without a spawn per pair.
				for k := 0; k < 3; k++ {
					s := hostileStrings[(*rotate+k)%len(hostileStrings)]
					edit(path, func(x protoreflect.Message) { x.Set(fd, protoreflect.ValueOfString(s)) })
				}
				*rotate += 3
			case fd.Kind() == protoreflect.EnumKind:
				edit(path, func(x protoreflect.Message) { x.Set(fd, protoreflect.ValueOfEnum(99)) })
			case fd.Kind() == protoreflect.Int64Kind || fd.Kind() == protoreflect.Int32Kind:
				edit(path, func(x protoreflect.Message) { x.Clear(fd) })
			}
			return true
		})
	}
	walk(nil, m.ProtoReflect())
	return out
}

func TestAgainstRoute(t *testing.T) {
	bin := os.Getenv("AMPYGEN_BIN")
	if bin == "" {
		t.Skip("AMPYGEN_BIN is not set (tests/go/run.sh sets it)")
	}
	type sample struct {
		topic string
		msg   proto.Message
	}
	var samples []sample
	files, _ := filepath.Glob(filepath.Join(vectorDir, "positive", "*.json"))
	for _, f := range files {
		for _, v := range load(t, f) {
			if v.SourceTopic != "" || strings.Contains(f, "large") {
				continue
			}
			tp := topic(t, v.Name, v.Topic)
			m := tp.NewPayload()
			if err := protojson.Unmarshal(v.PayloadJSON, m); err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			samples = append(samples, sample{v.Topic, m})
		}
	}
	dir := t.TempDir()
	env := bus.EnvProd
	compared, failures, rotate := 0, 0, 0
	for _, s := range samples {
		tp, _ := bus.TopicByID(s.topic)
		for _, m := range append([]proto.Message{s.msg}, mutations(s.msg, &rotate)...) {
			js, err := protojson.Marshal(m)
			if err != nil {
				continue // not expressible in JSON (e.g. an invalid Timestamp)
			}
			file := filepath.Join(dir, "p.json")
			if err := os.WriteFile(file, js, 0o644); err != nil {
				t.Fatal(err)
			}
			// Partition counts in rotation: the registry's, and others.
			counts := []string{"", "1", "3", "7", "12", "100"}
			args := []string{"--registry", "../../registry/ampy.yaml", "route", s.topic, "--env", string(env), "--payload", file, "--format", "json"}
			if n := counts[compared%len(counts)]; n != "" {
				args = append(args, "--partitions", n)
			}
			out, _ := exec.Command(bin, args...).Output()
			var want routeResult
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("%s: route printed %q for %s", s.topic, out, js)
			}
			compared++
			subject, err := tp.TopicFor(m, env)
			key, keyErr := tp.PartitionKey(m)
			var got routeResult
			if err != nil {
				got.Error = &struct {
					Kind    string `json:"kind"`
					Message string `json:"message"`
				}{bus.KindOf(err), err.Error()}
			} else {
				got.Subject, got.KafkaTopic, got.PartitionKey = subject.String(), subject.KafkaTopic(), key
				got.KafkaKey, got.KafkaPartitions = subject.KafkaKey(key), want.KafkaPartitions
				got.KafkaPartition = kafkabus.PartitionFor([]byte(got.KafkaKey), want.KafkaPartitions)
				if keyErr != nil {
					t.Errorf("%s: subject ok but key fails: %v", s.topic, keyErr)
				}
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				failures++
				if failures <= 20 {
					t.Errorf("%s on %s:\n go   %s\n rust %s", s.topic, js, g, w)
				}
			}
		}
	}
	if compared < 400 {
		t.Errorf("compared only %d payloads with ampygen route", compared)
	}
	t.Logf("compared %d payloads with ampygen route, %d differ", compared, failures)
}
