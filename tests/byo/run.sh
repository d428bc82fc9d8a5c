#!/usr/bin/env bash
# Bring your own payload types, end to end, in the real toolchains
# (docs/go.md and docs/python.md, "Adopting ampygen on an existing proto
# repository"):
#
#   tests/byo/run.sh
#
# In a scratch folder it plays a team that already generates its payload
# types: a copy of proto/ whose files carry a mix of `go_package` options,
# `protoc --go_out` with the pinned protoc-gen-go (and `M` flags for the
# files without the option) into a Go module of its own,
# example.com/acmeprotos, laid out unlike ampygen's `pb/…`; and `protoc
# --python_out --pyi_out` (Debian's protoc) into a package `acme_protos`.
# A copy of the default registry points `targets.go.types_module` and
# `targets.python.types` at them; `ampygen generate` writes bindings with no
# payload types of their own. Then:
#   Go: gofmt, go vet, go build and `go mod tidy -diff` of the bindings;
#       tests/byo/go/app (routing, envelopes, VerifyLinked, foreign types)
#       linking the user's types and the bindings in one test binary;
#   Python: ruff and mypy --strict of the bindings, mypy --strict of a user
#       script (and a wrong payload type refused by mypy), and
#       tests/byo/python (routing, envelopes, verify_linked);
#   negative: the same programs against types generated from a changed
#       bars.proto report hash_mismatch from VerifyLinked / verify_linked
#       (Python here with the top-level `protoc --python_out` layout).
# No network: Go runs with GOPROXY=off from the module cache that
# tests/go/run.sh fills; Python uses .venv from tests/python/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PYTHONDONTWRITEBYTECODE=1

step() { printf '\n== %s\n' "$*"; }
fail() {
	echo "tests/byo: $*" >&2
	exit 1
}

command -v protoc >/dev/null 2>&1 || fail "needs protoc (scripts/test installs Debian's protobuf-compiler)"
[ -x .venv/bin/python ] || fail "needs .venv (tests/python/run.sh creates it)"
scripts/install-protoc-gen-go >/dev/null
PLUGIN="${AMPYGEN_PROTOC_GEN_GO:-$ROOT/target/tools/protoc-gen-go}"

step "building ampygen"
cargo build -q --locked --bin ampygen
AMPYGEN="$CARGO_TARGET_DIR/debug/ampygen"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# ampygen runs from the scratch folder, the team's repository root: the
# registry's include roots must stay below it (docs/registry.md).
ampygen() { (cd "$tmp" && "$AMPYGEN" "$@"); }
export GOPROXY=off GOFLAGS=-mod=readonly

FILES=()
while IFS= read -r f; do FILES+=("$f"); done < <(cd proto && find ampy -name '*.proto' | LC_ALL=C sort)

# A copy of proto/ as the team keeps it: common and bars carry go_package
# options with a flat layout, ticks carries one that its `M` flag (and the
# registry's types_packages) overrides, the rest carry none. With "drift",
# BarBatch gains a field, so it no longer hashes to the locked schema.
user_protos() {
	local dir=$1 drift=${2:-}
	cp -R proto "$dir"
	sed -i 's|^package ampy.common.v1;$|&\noption go_package = "example.com/acmeprotos/types/common;commonpb";|' "$dir/ampy/common/v1/common.proto"
	sed -i 's|^package ampy.bars.v1;$|&\noption go_package = "example.com/acmeprotos/types/bars;barspb";|' "$dir/ampy/bars/v1/bars.proto"
	sed -i 's|^package ampy.ticks.v1;$|&\noption go_package = "example.com/acmeprotos/overridden/ticks";|' "$dir/ampy/ticks/v1/ticks.proto"
	grep -q 'go_package' "$dir/ampy/ticks/v1/ticks.proto" || fail "could not add go_package options"
	if [ -n "$drift" ]; then
		sed -i 's|^  ampy.common.v1.Meta meta = 2;$|&\n  string drift_note = 3;|' "$dir/ampy/bars/v1/bars.proto"
		grep -q drift_note "$dir/ampy/bars/v1/bars.proto" || fail "could not change bars.proto"
	fi
}

# protoc --go_out into the module example.com/acmeprotos at $2: `M` flags
# for ticks (mapped/ticks) and, as buf managed mode's go_package_prefix
# would, for every file without go_package (gen/go/<directory>).
user_go_types() {
	local protos=$1 out=$2 flags=() f
	mkdir -p "$out"
	printf 'module example.com/acmeprotos\n\ngo 1.23\n\nrequire google.golang.org/protobuf v1.36.12\n' >"$out/go.mod"
	for f in "${FILES[@]}"; do
		case "$f" in
		ampy/ticks/v1/ticks.proto) flags+=("--go_opt=M$f=example.com/acmeprotos/mapped/ticks;tickspb") ;;
		ampy/common/* | ampy/bars/*) ;;
		*) flags+=("--go_opt=M$f=example.com/acmeprotos/gen/go/$(dirname "$f");$(basename "$f" .proto)pb") ;;
		esac
	done
	protoc -I "$protos" --plugin=protoc-gen-go="$PLUGIN" --go_out="$out" \
		--go_opt=module=example.com/acmeprotos "${flags[@]}" "${FILES[@]}"
}

# protoc --python_out --pyi_out at $2; with a prefix package $3, the
# modules' absolute imports are rewritten into it, as import-rewriting tools
# (protoletariat) do for a package of generated code.
user_py_types() {
	local protos=$1 out=$2 prefix=${3:-}
	local dest="$out${prefix:+/$prefix}"
	mkdir -p "$dest"
	protoc -I "$protos" --python_out="$dest" --pyi_out="$dest" "${FILES[@]}"
	if [ -n "$prefix" ]; then
		find "$dest" -name '*_pb2.py*' -exec sed -i "s/^from ampy\\./from $prefix.ampy./" {} +
		grep -rq "^from $prefix.ampy.common.v1 import" "$dest/ampy/bars/v1/bars_pb2.py" || fail "could not rewrite the imports"
	fi
}

# The default registry with targets pointing at the user's types; $2 is
# targets.python.types.
user_registry() {
	local dir=$1 pytypes=$2
	mkdir -p "$dir"
	cp registry/ampy.lock.json "$dir/"
	.venv/bin/python - "$dir/ampy.yaml" "$pytypes" <<'PY'
import re
import sys

out, pytypes = sys.argv[1], sys.argv[2]
text = open("registry/ampy.yaml", encoding="utf-8").read()
targets = f"""targets:
  go:
    module: example.com/acme/bus
    package: acmebus
    types: example.com/acmeprotos/gen/go          # files without go_package: gen/go/<directory>
    types_module: example.com/acmeprotos v0.0.0
    types_replace: ../acmeprotos
    types_packages:
      ampy/ticks/v1/ticks.proto: example.com/acmeprotos/mapped/ticks;tickspb
    transports: [nats, kafka]
  python:
    package: acmebus
    types: "{pytypes}"
    transports: [nats, kafka]
"""
new, n = re.subn(r"^targets:\n(?:  .*\n)+", targets, text, flags=re.M)
assert n == 1, "no targets block in registry/ampy.yaml"
open(out, "w", encoding="utf-8").write(new)
PY
}

step "the user's protos and their protoc output"
user_protos "$tmp/proto"
user_go_types "$tmp/proto" "$tmp/acmeprotos"
user_py_types "$tmp/proto" "$tmp/py" acme_protos
user_registry "$tmp/registry" acme_protos
[ -f "$tmp/acmeprotos/types/bars/bars.pb.go" ] && [ -f "$tmp/acmeprotos/mapped/ticks/ticks.pb.go" ] &&
	[ -f "$tmp/acmeprotos/gen/go/ampy/news/v1/news.pb.go" ] || fail "protoc-gen-go did not write the expected layout"

step "the registry passes the gate with the user's types"
ampygen --registry registry/ampy.yaml check >/dev/null

step "ampygen generate: Go bindings on the user's types"
ampygen --registry registry/ampy.yaml generate --lang go --out bus >/dev/null
[ ! -e "$tmp/bus/pb" ] || fail "the Go bindings generated payload types of their own"
if grep -rl 'protoimpl' "$tmp/bus" >/dev/null; then fail "the Go bindings contain protoc-gen-go output"; fi
grep -qxF $'\texample.com/acmeprotos v0.0.0' "$tmp/bus/go.mod" || fail "go.mod does not require the user's module"
grep -qxF 'replace example.com/acmeprotos => ../acmeprotos' "$tmp/bus/go.mod" || fail "go.mod lacks the replace"
for path in types/bars mapped/ticks gen/go/ampy/news/v1; do
	grep -qF "\"example.com/acmeprotos/$path\"" "$tmp/bus/registry.go" || fail "registry.go does not import example.com/acmeprotos/$path"
done
(
	cd "$tmp/bus"
	unformatted="$(gofmt -l .)"
	[ -z "$unformatted" ] || fail "gofmt -l on the bindings: $unformatted"
	go vet ./...
	go build ./...
	go mod tidy -diff || fail "the bindings' go.mod or go.sum is not what go mod tidy writes"
)

step "Go: the user's program on their types and the bindings (routing, envelopes, VerifyLinked, foreign types)"
go_app() {
	local dir=$1 types=$2
	cp -R tests/byo/go/app "$dir"
	cp "$tmp/bus/go.sum" "$dir/go.sum"
	(
		cd "$dir"
		go mod edit -replace "example.com/acmeprotos=$types"
		# The app's own requirements, from the module cache only.
		GOFLAGS=-mod=mod go mod tidy
		unformatted="$(gofmt -l .)"
		[ -z "$unformatted" ] || fail "gofmt -l in tests/byo/go/app: $unformatted"
		go vet ./...
	)
}
# Run the tests verbosely and require every one of them to have passed
# (a test that skipped or did not run is a failure here).
go_tests() {
	local dir=$1 out
	shift
	out="$(cd "$dir" && env "$@" go test -count=1 -v ./... 2>&1)" || {
		echo "$out"
		fail "go test in $dir failed"
	}
	echo "$out" | grep -E '^(--- |ok|PASS|FAIL)'
	for t in $WANT; do
		grep -qx -- "--- PASS: $t (.*)" <<<"$out" || fail "$t did not pass in $dir"
	done
}
go_app "$tmp/app" ../acmeprotos
WANT="TestVerifyLinked TestRouting TestEnvelope TestForeignTypes" go_tests "$tmp/app"
# One binary links both, and the bindings' payload packages are the user's.
deps="$(cd "$tmp/app" && go list -deps -test ./...)"
grep -qx 'example.com/acmeprotos/types/bars' <<<"$deps" || fail "the test binary does not link the user's types"
if grep -q '^example.com/acme/bus/pb' <<<"$deps"; then fail "the test binary links payload types of the bindings"; fi

step "Go negative: types from a changed bars.proto are a hash_mismatch"
mkdir -p "$tmp/drift"
user_protos "$tmp/drift/proto" drift
user_go_types "$tmp/drift/proto" "$tmp/drift/acmeprotos"
go_app "$tmp/app-drift" ../drift/acmeprotos
WANT="TestVerifyLinked TestRouting TestForeignTypes" go_tests "$tmp/app-drift" BYO_DRIFT=1

step "ampygen generate: Python bindings on the user's types"
ampygen --registry registry/ampy.yaml generate --lang python --out pygen >/dev/null
[ ! -e "$tmp/pygen/acmebus/pb" ] || fail "the Python bindings generated payload modules of their own"
grep -qF 'from acme_protos.ampy.bars.v1 import bars_pb2 as _bars_pb2' "$tmp/pygen/acmebus/topics.py" ||
	fail "topics.py does not import the user's bars_pb2"
config=tests/python/pyproject.toml
caches="$tmp/caches"
.venv/bin/ruff check --config "$config" --cache-dir "$caches/ruff" "$tmp/pygen" tests/byo/python
.venv/bin/ruff format --check --config "$config" --cache-dir "$caches/ruff" "$tmp/pygen" tests/byo/python

step "Python: mypy --strict of the bindings and a user script on the user's types"
pyver="$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
MYPYPATH="$tmp/pygen:$tmp/py" .venv/bin/mypy --config-file tests/byo/python/mypy.ini --cache-dir "$caches/mypy" \
	"$tmp/pygen/acmebus" tests/byo/python/user_app.py
MYPYPATH="$tmp/pygen:$tmp/py" .venv/bin/mypy --config-file tests/byo/python/mypy.ini --cache-dir "$caches/mypy" \
	--python-version "$pyver" tests/byo/python/test_byo.py
# The static side of the Go foreign-type check: another message type is
# refused where a topic's payload is expected.
if out="$(MYPYPATH="$tmp/pygen:$tmp/py" .venv/bin/mypy --config-file tests/byo/python/mypy.ini \
	--cache-dir "$caches/mypy" tests/byo/python/wrong_type.py 2>&1)"; then
	fail "mypy accepted a TradeBatch on the bars topic: $out"
fi
grep -q 'wrong_type.py:[0-9]*: error: .*"TradeBatch".*\[arg-type\]' <<<"$out" || fail "mypy failed otherwise: $out"
echo "mypy refuses a TradeBatch on the bars topic, as expected"

step "Python: the user's program (routing, envelopes, verify_linked)"
PYTHONPATH="$tmp/pygen:$tmp/py" .venv/bin/python tests/byo/python/user_app.py
PYTHONPATH="$tmp/pygen:$tmp/py" .venv/bin/python -m pytest -q -p no:cacheprovider tests/byo/python

step "Python negative: top-level protoc layout (types: \"\"), changed bars.proto: hash_mismatch"
user_py_types "$tmp/drift/proto" "$tmp/drift/py"
user_registry "$tmp/registry-top" ""
ampygen --registry registry-top/ampy.yaml generate --lang python --out pygen-top >/dev/null
grep -qF 'from ampy.bars.v1 import bars_pb2 as _bars_pb2' "$tmp/pygen-top/acmebus/topics.py" ||
	fail "topics.py does not import the top-level bars_pb2"
BYO_DRIFT=1 BYO_PROTOS=ampy PYTHONPATH="$tmp/pygen-top:$tmp/drift/py" \
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/byo/python

step "ok: bring your own payload types (Go and Python)"
