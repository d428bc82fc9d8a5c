#!/usr/bin/env bash
# The cross-language NATS matrix on one real server (docs/nats.md): every
# producer driver publishes the positive vectors below (one per payload
# domain at least, the gzipped one over 128 KiB and a blob pointer), and
# every consumer driver reads them back with a durable typed consumer.
#
#   tests/nats-matrix/run.sh          # from anywhere
#
# Uses AMPY_NATS_URL (scripts/test starts the server); without it, starts
# its own through scripts/lib/nats.sh and stops it on exit. Languages: Rust
# (examples/rust-app/examples/nats_driver.rs), Go (tests/go/natsdriver)
# and Python (tests/python/nats_driver.py, when it exists), so up to 9
# producer/consumer pairs. Each pair asserts its record count per topic;
# then:
# - for one producer, every consumer's output is byte-identical;
# - across producers, the outputs are identical too, except that a gzipped
#   body is compared inflated (each language's deflate writes different,
#   equally valid bytes; the content_encoding header still must agree) and
#   the subject's env token differs (one env per producer, see below).
# The driver contract: /work/wt/nats-matrix-contract.md, mirrored in each
# driver's doc comment.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# One positive vector per payload domain, more where a shape matters.
# metrics.histogram_labels is left out: its map of three labels has no
# fixed encoding in prost (HashMap order), so its canonical bytes differ
# run to run in Rust (docs/nats.md).
NAMES=bars.typical,control.window,corporate_actions.split,fills.typical,fundamentals.typical,fx.rates.typical,fx.pair.typical,metrics.counter,news.raw.typical,news.raw.unicode,news.raw.gzip_over_128kib,news.raw.blob_pointer,news.nlp.typical,orders.submit_limit,positions.long,signals.alpha,ticks.trade.typical,ticks.quote.typical,universe.unicode_token

tmp="$(mktemp -d)"
cleanup() {
	rm -rf "$tmp"
	if declare -F nats_stop >/dev/null; then nats_stop; fi
}
trap cleanup EXIT

if [ -z "${AMPY_NATS_URL:-}" ]; then
	source scripts/lib/nats.sh
	nats_install
	nats_start
fi
URL="$AMPY_NATS_URL"

echo "== building the drivers"
(cd tests/go && go build -o "$tmp/go-driver" ./natsdriver)
cargo build -q --locked -p ampy-example --example nats_driver
langs=(rust go)
if [ -f tests/python/nats_driver.py ]; then
	langs+=(python)
fi
PY=python3
[ -x "$ROOT/.venv/bin/python" ] && PY="$ROOT/.venv/bin/python"

driver() {
	local lang=$1
	shift
	case "$lang" in
	rust) "$CARGO_TARGET_DIR/debug/examples/nats_driver" "$@" ;;
	go) "$tmp/go-driver" "$@" ;;
	python) PYTHONPATH="$ROOT/gen/python" "$PY" tests/python/nats_driver.py "$@" ;;
	esac
}

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

# Each producer in its own env (freshly re-created streams): the vectors'
# message ids are fixed, and a second producer inside the duplicate window
# of the same streams would be acknowledged as a duplicate, not stored.
declare -A envs=([rust]=dev [go]=paper [python]=prod)
pairs=0
for producer in "${langs[@]}"; do
	ENV="${envs[$producer]}"
	echo "== producer $producer (env $ENV)"
	"$tmp/go-driver" reset --url "$URL" --env "$ENV"
	driver "$producer" publish --url "$URL" --env "$ENV" --vectors tests/vectors/positive --names "$NAMES" >"$tmp/published-$producer"
	want="$(tr ',' '\n' <<<"$NAMES" | wc -l)"
	grep -qx "published $want" "$tmp/published-$producer" || {
		echo "producer $producer: not all $want records acknowledged"
		cat "$tmp/published-$producer"
		exit 1
	}
	for consumer in "${langs[@]}"; do
		out="$tmp/out-$producer-$consumer"
		: >"$out"
		while read -r topic count; do
			durable="matrix-$producer-$consumer-${topic//./-}"
			part="$tmp/part"
			if ! driver "$consumer" consume --url "$URL" --env "$ENV" --topic "$topic" --durable "$durable" \
				--count "$count" --timeout-ms 10000 >"$part"; then
				echo "pair $producer -> $consumer: $topic: the consumer failed"
				exit 1
			fi
			got="$(wc -l <"$part")"
			[ "$got" -eq "$count" ] || {
				echo "pair $producer -> $consumer: $topic: $got records, want $count"
				exit 1
			}
			cat "$part" >>"$out"
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
        # Each producer has its own env: the subject's env token differs.
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
echo "nats-matrix: $pairs passed, 0 failed"
