package canon

// Copied next to the package generated from tests/hostile/go/canon.yaml by
// tests/go/run.sh: the canonical form Go computes from its linked
// descriptors equals `ampygen hash --canonical` byte for byte on proto2
// defaults, groups, packing, maps and aliases, and VerifyLinked agrees
// with the registry's locked hashes.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	canonv1 "example.test/canon/pb/ampy/canon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestCanonicalFormsMatchRust(t *testing.T) {
	bin, registry := os.Getenv("AMPYGEN_BIN"), os.Getenv("AMPYGEN_CANON_REGISTRY")
	if bin == "" || registry == "" {
		t.Fatal("AMPYGEN_BIN and AMPYGEN_CANON_REGISTRY must be set (tests/go/run.sh does)")
	}
	for _, tp := range Topics() {
		want, err := exec.Command(bin, "--registry", registry, "hash", "--canonical", tp.FQDN).Output()
		if err != nil {
			t.Fatalf("%s: %v", tp.FQDN, err)
		}
		got, err := CanonicalForm(tp.NewPayload().ProtoReflect().Descriptor())
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s:\n go\n%s\n rust\n%s", tp.FQDN, got, want)
		}
	}
	if err := VerifyLinked(); err != nil {
		t.Error(err)
	}
}

// Proto2 presence: an unset field with a default is unset for keys.
func TestProto2KeysMatchRoute(t *testing.T) {
	bin, registry := os.Getenv("AMPYGEN_BIN"), os.Getenv("AMPYGEN_CANON_REGISTRY")
	if _, err := CanonV1LegacyTopicFor(nil, EnvDev); KindOf(err) != "empty_key_field" {
		t.Errorf("nil payload: %v", err)
	}
	file := filepath.Join(t.TempDir(), "p.json")
	for _, js := range []string{
		`{"seq":"1"}`,
		`{"seq":"1","id":"a"}`,
		`{"seq":"1","id":"","level":"LEVEL_HIGH"}`,
		`{"seq":"1","id":"a","level":"LEVEL_TOP"}`,
		`{"seq":"1","id":"a","level":"LEVEL_NEG"}`,
		`{"seq":"1","id":"a.b","level":"LEVEL_LOW"}`,
	} {
		var m canonv1.Legacy
		if err := protojson.Unmarshal([]byte(js), &m); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, "--registry", registry, "route", CanonV1Legacy.ID, "--env", "dev", "--payload", file, "--format", "json").Output()
		var want map[string]any
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatalf("route printed %q", out)
		}
		got := map[string]any{"topic": CanonV1Legacy.ID}
		if s, err := CanonV1LegacyTopicFor(&m, EnvDev); err != nil {
			got["error"] = map[string]any{"kind": KindOf(err), "message": err.Error()}
		} else {
			key, _ := CanonV1LegacyPartitionKey(&m)
			got["subject"], got["kafka_topic"], got["partition_key"] = s.String(), s.KafkaTopic(), key
			got["kafka_key"] = KafkaKeyOf(s.String(), key)
		}
		// The partition murmur2 gives kafka_key is proven per language by
		// tests/vectors/kafka; this package has no Kafka runtime, so only the
		// range (and that an unroutable payload has none) is checked here.
		p, _ := want["kafka_partition"].(float64)
		if n, _ := want["kafka_partitions"].(float64); (got["subject"] != nil) != (n > 0) || p < 0 || (n > 0 && p >= n) {
			t.Errorf("%s: kafka_partition %v of %v", js, want["kafka_partition"], want["kafka_partitions"])
		}
		delete(want, "kafka_partition")
		delete(want, "kafka_partitions")
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s:\n go   %s\n rust %s", js, g, w)
		}
	}
}
