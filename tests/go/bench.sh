#!/usr/bin/env bash
# Whole-process timing of the Go target against the classic pipeline:
#
#   ampygen generate --lang go      protox + protoc-gen-go + the bus package
#   protoc --go_out                 protoc + protoc-gen-go (payload types only)
#
# on the default registry's protos, with the same protoc-gen-go and the
# same import path mappings. protoc (Debian's /usr/bin/protoc) is used
# here only, as the baseline. Uses hyperfine when installed, else a loop.
#
# Usage: tests/go/bench.sh [runs]   (from anywhere; default 20 runs)
set -euo pipefail

cd "$(dirname "$0")/../.."
RUNS="${1:-20}"
PROTOC="${PROTOC:-/usr/bin/protoc}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build -q --release --bin ampygen
AMPYGEN="$CARGO_TARGET_DIR/release/ampygen"
PLUGIN="${AMPYGEN_PROTOC_GEN_GO:-$(go env GOPATH)/bin/protoc-gen-go}"
[ -x "$PLUGIN" ] || { echo "protoc-gen-go missing: go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12"; exit 1; }
[ -x "$PROTOC" ] || { echo "no protoc at $PROTOC (set PROTOC=...)"; exit 1; }
export AMPYGEN_PROTOC_GEN_GO="$PLUGIN"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The registry's files and the mappings ampygen passes (docs/go.md).
files=()
opts=(--go_opt=module=ampyfin.dev/ampybus)
while read -r f; do
	files+=("$f")
	pkg="$(dirname "$f")"
	name="$(basename "$(dirname "$pkg")")$(basename "$pkg")"
	opts+=("--go_opt=M$f=ampyfin.dev/ampybus/pb/$pkg;${name//_/}")
done < <(sed -n 's/^    - \(ampy\/.*\.proto\)$/\1/p' registry/ampy.yaml)

ampygen_cmd="rm -rf $tmp/a && $AMPYGEN generate --lang go --out $tmp/a >/dev/null"
protoc_cmd="rm -rf $tmp/p && mkdir -p $tmp/p && $PROTOC -I proto --plugin=protoc-gen-go=$PLUGIN --go_out=$tmp/p $(printf '%q ' "${opts[@]}") ${files[*]}"

# Same payload files from both (headers aside).
bash -c "$ampygen_cmd" && bash -c "$protoc_cmd"
for f in $(cd "$tmp/p" && find . -name '*.pb.go'); do
	diff -q <(grep -v $'^// \tprotoc  ' "$tmp/p/$f") <(grep -v $'^// \tprotoc  ' "$tmp/a/$f") >/dev/null \
		|| echo "note: $f differs beyond the protoc version line"
done
echo "files: ampygen $(find "$tmp/a" -type f | wc -l), protoc $(find "$tmp/p" -type f | wc -l)"

if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 3 --runs "$RUNS" -n "ampygen generate --lang go" "bash -c '$ampygen_cmd'" \
		-n "protoc --go_out" "bash -c '$protoc_cmd'"
else
	for name in ampygen protoc; do
		cmd="${name}_cmd"
		start=$(date +%s%N)
		for _ in $(seq "$RUNS"); do bash -c "${!cmd}"; done
		end=$(date +%s%N)
		echo "$name: $(((end - start) / RUNS / 1000000)) ms per run (mean of $RUNS)"
	done
fi
