#!/usr/bin/env bash
# The cross-language Kafka matrix on one real broker (docs/kafka.md):
#
# 1. Partition parity with Java: Java's own Utils.murmur2 (kafka-clients,
#    tests/kafka/JavaPartitioner.java) over the 239 keys of
#    tests/vectors/kafka/partition-keys.txt for 1, 3, 6, 12 and 100
#    partitions; the committed .tsv must still be Java's output, and each
#    runtime's `partition` must print the same bytes.
# 2. Placement on the broker: each runtime produces the same keys to a
#    fresh 6-partition topic through its own producer, and Java reads every
#    record back and checks it sits on the partition Java's rule names.
# 3. The 9 producer/consumer pairs: every producer publishes the positive
#    vectors below (one per payload domain at least, the gzipped one over
#    128 KiB and a blob pointer) into its own env, and every consumer reads
#    them back with a typed consumer group; per producer every consumer's
#    output is byte-identical (each topic's records sorted: partitions
#    interleave differently per client), and across producers identical
#    too (gzipped bodies compared inflated, the subject's env token left
#    out).
# 4. Per-key order: each producer publishes one vector 1,000 times (the
#    i-th copy's run_id is seq-<i>), and each consumer must see them in
#    that order.
#
#   tests/kafka-matrix/run.sh          # from anywhere
#
# Uses AMPY_KAFKA_BOOTSTRAP (scripts/test starts the broker); without it,
# starts its own through scripts/lib/kafka.sh and stops it on exit. Topics
# are created with `ampygen provision kafka`, as a service would.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# One positive vector per payload domain, more where a shape matters
# (the same list as the NATS matrix, for the same reasons).
NAMES=bars.typical,control.window,corporate_actions.split,fills.typical,fundamentals.typical,fx.rates.typical,fx.pair.typical,metrics.counter,news.raw.typical,news.raw.unicode,news.raw.gzip_over_128kib,news.raw.blob_pointer,news.nlp.typical,orders.submit_limit,positions.long,signals.alpha,ticks.trade.typical,ticks.quote.typical,universe.unicode_token
SEQ_NAME=orders.submit_limit
SEQ_COUNT=1000

tmp="$(mktemp -d)"
cleanup() {
	rm -rf "$tmp"
	if declare -F kafka_stop >/dev/null; then kafka_stop; fi
}
trap cleanup EXIT

source scripts/lib/kafka.sh
kafka_install
if [ -z "${AMPY_KAFKA_BOOTSTRAP:-}" ]; then
	kafka_start
fi
BOOT="$AMPY_KAFKA_BOOTSTRAP"
JAVA_CP="${AMPY_KAFKA_CLASSPATH:-$(kafka_home)/lib/*}"

echo "== building the drivers"
(cd tests/go && go build -o "$tmp/go-driver" ./kafkadriver)
cargo build -q --locked -p ampy-example --example kafka_driver
cargo build -q --locked --bin ampygen
AMPYGEN="$CARGO_TARGET_DIR/debug/ampygen"
langs=(rust go python)
PY=python3
[ -x "$ROOT/.venv/bin/python" ] && PY="$ROOT/.venv/bin/python"

driver() {
	local lang=$1
	shift
	case "$lang" in
	rust) "$CARGO_TARGET_DIR/debug/examples/kafka_driver" "$@" ;;
	go) "$tmp/go-driver" "$@" ;;
	python) PYTHONPATH="$ROOT/gen/python" "$PY" tests/python/kafka_driver.py "$@" ;;
	esac
}

echo "== 1. partition parity with Java's Utils.murmur2"
KEYS=tests/vectors/kafka/partition-keys.txt
java -cp "$JAVA_CP" tests/kafka/JavaPartitioner.java partitions "$KEYS" >"$tmp/java.tsv"
cmp -s "$tmp/java.tsv" tests/vectors/kafka/partition-keys.tsv || {
	echo "tests/vectors/kafka/partition-keys.tsv is not Java's output any more:"
	diff "$tmp/java.tsv" tests/vectors/kafka/partition-keys.tsv | head -10
	exit 1
}
for lang in "${langs[@]}"; do
	driver "$lang" partition --keys "$KEYS" >"$tmp/$lang.tsv"
	cmp -s "$tmp/java.tsv" "$tmp/$lang.tsv" || {
		echo "$lang places keys differently from Java:"
		diff "$tmp/java.tsv" "$tmp/$lang.tsv" | head -10
		exit 1
	}
	echo "$lang: $(wc -l <"$tmp/$lang.tsv") keys x 5 partition counts, identical to Java"
done

echo "== 2. placement on a 6-partition topic, read back by Java"
nkeys="$(wc -l <"$KEYS")"
for lang in "${langs[@]}"; do
	topic="ampy-matrix-placement-$lang-$$"
	java -cp "$JAVA_CP" tests/kafka/JavaPartitioner.java create-topic "$BOOT" "$topic" 6
	driver "$lang" produce-keys --bootstrap "$BOOT" --topic "$topic" --keys "$KEYS" >"$tmp/produced-$lang"
	grep -qx "produced $nkeys" "$tmp/produced-$lang" || {
		echo "$lang: produce-keys did not report $nkeys records:"
		cat "$tmp/produced-$lang"
		exit 1
	}
	echo -n "$lang: "
	java -cp "$JAVA_CP" tests/kafka/JavaPartitioner.java placement "$BOOT" "$topic" "$nkeys"
done

# topic count, in first-seen order of NAMES.
python3 - "$NAMES" >"$tmp/topics" <<'EOF'
import glob, json, sys
names = sys.argv[1].split(",")
topic = {}
for f in sorted(glob.glob("tests/vectors/positive/*.json")):
    for v in json.load(open(f, encoding="utf-8"))["vectors"]:
        topic[v["name"]] = v["topic"]
counts = {}
for n in names:
    counts[topic[n]] = counts.get(topic[n], 0) + 1
for t, c in counts.items():
    print(t, c)
EOF
SEQ_TOPIC="$(python3 - "$SEQ_NAME" <<'EOF'
import glob, json, sys
for f in sorted(glob.glob("tests/vectors/positive/*.json")):
    for v in json.load(open(f, encoding="utf-8"))["vectors"]:
        if v["name"] == sys.argv[1]:
            print(v["topic"])
EOF
)"

echo "== 3. the producer/consumer pairs"
# Each producer in its own env, provisioned from the registry.
declare -A envs=([rust]=dev [go]=paper [python]=prod)
pairs=0
want="$(tr ',' '\n' <<<"$NAMES" | wc -l)"
for producer in "${langs[@]}"; do
	ENV="${envs[$producer]}"
	echo "== producer $producer (env $ENV)"
	# From no topics: the runtimes' own tests may have used this env.
	java -cp "$JAVA_CP" tests/kafka/JavaPartitioner.java delete-topics "$BOOT" "ampy.$ENV."
	"$AMPYGEN" provision kafka --bootstrap "$BOOT" --env "$ENV" >"$tmp/provision-$ENV"
	driver "$producer" publish --bootstrap "$BOOT" --env "$ENV" --vectors tests/vectors/positive --names "$NAMES" >"$tmp/published-$producer"
	grep -qx "published $want" "$tmp/published-$producer" || {
		echo "producer $producer: not all $want records acknowledged"
		cat "$tmp/published-$producer"
		exit 1
	}
	driver "$producer" publish --bootstrap "$BOOT" --env "$ENV" --vectors tests/vectors/positive --names "$SEQ_NAME" \
		--repeat "$SEQ_COUNT" >"$tmp/seq-published-$producer"
	grep -qx "published $SEQ_COUNT" "$tmp/seq-published-$producer" || {
		echo "producer $producer: not all $SEQ_COUNT sequence records acknowledged"
		tail -3 "$tmp/seq-published-$producer"
		exit 1
	}
	for consumer in "${langs[@]}"; do
		out="$tmp/out-$producer-$consumer"
		: >"$out"
		while read -r topic count; do
			group="matrix-$producer-$consumer-${topic//./-}"
			[ "$topic" = "$SEQ_TOPIC" ] && count=$((count + SEQ_COUNT))
			part="$tmp/part"
			if ! driver "$consumer" consume --bootstrap "$BOOT" --env "$ENV" --topic "$topic" --group "$group" \
				--count "$count" --timeout-ms 60000 >"$part"; then
				echo "pair $producer -> $consumer: $topic: the consumer failed"
				exit 1
			fi
			got="$(wc -l <"$part")"
			[ "$got" -eq "$count" ] || {
				echo "pair $producer -> $consumer: $topic: $got records, want $count"
				exit 1
			}
			if [ "$topic" = "$SEQ_TOPIC" ]; then
				# The sequence: its run_ids in order; the rest as records.
				python3 - "$part" "$SEQ_COUNT" "$out" "$producer -> $consumer" <<'EOF'
import json, sys
part, n, out, pair = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
seq, rest = [], []
for line in open(part, encoding="utf-8"):
    run_id = json.loads(line)["headers"].get("run_id", "")
    if run_id.startswith("seq-"):
        seq.append(run_id)
    else:
        rest.append(line)
want = [f"seq-{i:06d}" for i in range(n)]
if seq != want:
    bad = next(i for i, (a, b) in enumerate(zip(seq + [""] * n, want)) if a != b)
    sys.exit(f"pair {pair}: the {n} records of one key arrived out of order at #{bad}: {seq[bad - 1:bad + 2]}")
with open(out, "a", encoding="utf-8") as f:
    f.writelines(sorted(rest))
print(f"pair {pair}: {n} records of one key in order")
EOF
			else
				# Records of different partitions interleave differently in
				# each client; within a partition, order is checked above.
				LC_ALL=C sort "$part" >>"$out"
			fi
		done <"$tmp/topics"
		echo "pair $producer -> $consumer: $(wc -l <"$out") records"
		pairs=$((pairs + 1))
	done
	first="$tmp/out-$producer-${langs[0]}"
	for consumer in "${langs[@]:1}"; do
		cmp -s "$first" "$tmp/out-$producer-$consumer" || {
			echo "producer $producer: consumers ${langs[0]} and $consumer saw different records:"
			diff <(cut -c1-300 "$first") <(cut -c1-300 "$tmp/out-$producer-$consumer") | head -20
			exit 1
		}
	done
done

# Across producers: the same lines, gzipped bodies compared inflated and
# the subject's env token left out.
python3 - "$tmp" "${langs[@]}" <<'EOF'
import base64, gzip, json, sys
tmp, langs = sys.argv[1], sys.argv[2:]
def normal(lang):
    out = []
    for line in open(f"{tmp}/out-{lang}-{lang}", encoding="utf-8"):
        r = json.loads(line)
        ns, env, rest = r["subject"].split(".", 2)
        r["subject"] = f"{ns}.{{env}}.{rest}"
        if r["headers"].get("content_encoding") == "gzip":
            r["payload_base64"] = "inflated:" + base64.b64encode(gzip.decompress(base64.b64decode(r["payload_base64"]))).decode()
        out.append(r)
    return out
base = normal(langs[0])
for lang in langs[1:]:
    other = normal(lang)
    if other != base:
        for a, b in zip(base, other):
            if a != b:
                print(f"producers {langs[0]} and {lang} differ:\n  {json.dumps(a)[:400]}\n  {json.dumps(b)[:400]}")
                break
        sys.exit(1)
print(f"{len(langs)} producers: identical records ({len(base)} each)")
EOF
echo "kafka-matrix: $pairs pairs passed, 0 failed"
