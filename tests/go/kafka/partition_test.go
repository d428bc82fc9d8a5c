package kafka_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"os"
	"strconv"
	"strings"
	"testing"

	"ampyfin.dev/ampybus/kafkabus"
)

// javaVectors reads tests/vectors/kafka/partition-keys.tsv: per key, what
// Java's Utils.murmur2 and toPositive(murmur2) % n answered (written by
// Java, never by ampygen).
func javaVectors(t *testing.T) (keys [][]byte, lines [][]string) {
	t.Helper()
	f, err := os.Open("../../vectors/kafka/partition-keys.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		fields := strings.Split(s.Text(), "\t")
		if len(fields) != 7 || !strings.HasPrefix(fields[0], "k:") {
			t.Fatalf("bad line %q", s.Text())
		}
		key, err := base64.StdEncoding.DecodeString(fields[0][2:])
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		lines = append(lines, fields)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) < 200 {
		t.Fatalf("only %d vectors", len(keys))
	}
	return keys, lines
}

func TestMurmur2AndPartitionForAgreeWithJava(t *testing.T) {
	keys, lines := javaVectors(t)
	for i, key := range keys {
		want, _ := strconv.ParseInt(lines[i][1], 10, 32)
		if got := kafkabus.Murmur2(key); int64(got) != want {
			t.Errorf("murmur2(%q) = %d, Java %d", key, got, want)
		}
		for j, n := range []int32{1, 3, 6, 12, 100} {
			want, _ := strconv.ParseInt(lines[i][2+j], 10, 32)
			if got := kafkabus.PartitionFor(key, n); int64(got) != want {
				t.Errorf("PartitionFor(%q, %d) = %d, Java %d", key, n, got, want)
			}
		}
	}
}

func TestToPositiveClearsTheSignBit(t *testing.T) {
	for _, c := range []struct{ in, want int32 }{{0, 0}, {1, 1}, {-1, 0x7fffffff}, {-2147483648, 0}, {2147483647, 2147483647}} {
		if got := kafkabus.ToPositive(c.in); got != c.want {
			t.Errorf("ToPositive(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// The producer places each key where Java's rule says, on a real
// 6-partition topic, and the broker stores it there.
func TestProducedKeysLandOnJavasPartition(t *testing.T) {
	b, _, _ := connect(t)
	keys, lines := javaVectors(t)
	ctx := context.Background()
	for i, key := range keys {
		done, err := b.ProduceKeyed(ctx, barsTopic, key, key, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.ParseInt(lines[i][4], 10, 32)
		if int64(done.Partition) != want {
			t.Errorf("key %q stored on partition %d, Java's rule says %d", key, done.Partition, want)
		}
	}
	got := records(t, barsTopic)
	if len(got) != len(keys) {
		t.Fatalf("read %d of %d records", len(got), len(keys))
	}
	for _, r := range got {
		if r.Partition != kafkabus.PartitionFor(r.Key, partitions) || string(r.Key) != string(r.Value) {
			t.Errorf("record %q on partition %d", r.Key, r.Partition)
		}
	}
}

// TestKeySubtopicFollowsTheSharedVectors reads
// tests/vectors/kafka/key-subtopics.tsv: the subtopic each record key
// names, or none ("-"), the rule every runtime's consumer routes by.
func TestKeySubtopicFollowsTheSharedVectors(t *testing.T) {
	data, err := os.ReadFile("../../vectors/kafka/key-subtopics.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		keyField, wantField, found := strings.Cut(line, "\t")
		if !found {
			t.Fatalf("bad line %q", line)
		}
		var key []byte
		if keyField != "-" {
			if key, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(keyField, "k:")); err != nil {
				t.Fatal(err)
			}
		}
		sub, ok := kafkabus.KeySubtopic(key)
		if wantField == "-" {
			if ok || sub != nil {
				t.Errorf("%s: KeySubtopic = %q, want none", line, sub)
			}
		} else if want, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(wantField, "s:")); err != nil {
			t.Fatal(err)
		} else if !ok || string(sub) != string(want) {
			t.Errorf("%s: KeySubtopic = %q, %v, want %q", line, sub, ok, want)
		}
		n++
	}
	if n < 15 {
		t.Fatalf("only %d vectors", n)
	}
}
