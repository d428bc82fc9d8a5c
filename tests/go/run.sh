#!/usr/bin/env bash
# Every check of the Go target, from the repository root, on a fresh
# machine: installs the pinned protoc-gen-go if missing, checks that
# gen/go is fresh, lints and tests gen/go, tests/go and examples/go-app,
# generates the hostile registry into a temp dir and compiles and tests it,
# checks every key path shape against `ampygen route` and the canonical
# hash of proto2/proto3 edge cases against `ampygen hash`. The natsbus
# tests (tests/go/nats) talk to the server scripts/test starts
# (AMPY_NATS_URL); without one they skip, with AMPYGEN_TEST_REQUIRE_NATS=1
# they fail. The kafkabus tests (tests/go/kafka) talk to the Kafka broker
# scripts/test starts (AMPY_KAFKA_BOOTSTRAP, scripts/lib/kafka.sh); without
# one they skip with a printed reason, with AMPY_TEST_REQUIRE_KAFKA=1 they
# fail. franz-go comes from tests/go's go.sum like every other module.
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PLUGIN_VERSION=v1.36.12
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

step() { printf '\n== %s\n' "$*"; }

# (a) protoc-gen-go, pinned.
GOBIN_DIR="$(go env GOBIN)"
[ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"
if [ -z "${AMPYGEN_PROTOC_GEN_GO:-}" ]; then
	if ! "$GOBIN_DIR/protoc-gen-go" --version 2>/dev/null | grep -qx "protoc-gen-go $PLUGIN_VERSION"; then
		step "installing protoc-gen-go $PLUGIN_VERSION into $GOBIN_DIR"
		go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PLUGIN_VERSION"
	fi
	export AMPYGEN_PROTOC_GEN_GO="$GOBIN_DIR/protoc-gen-go"
fi

step "building ampygen"
cargo build -q --bin ampygen
AMPYGEN="$CARGO_TARGET_DIR/debug/ampygen"
# tests/go/route_test.go compares the Go functions with `ampygen route`.
export AMPYGEN_BIN="$AMPYGEN"

# (b) modules, from go.sum only; after this nothing may fetch (GOPROXY=off
# below), so a go.sum that misses a line fails instead of downloading.
for dir in tests/go examples/go-app; do
	(cd "$dir" && go mod download)
done
# `go mod tidy` also reads modules that only the dependencies' own tests
# import (go-cmp, for protobuf's tests), which `go mod download` does not
# fetch; one tidy run with the proxy on puts them in the module cache. Its
# verdict is ignored here: the offline run below is the check.
(cd gen/go && go mod tidy -diff >/dev/null 2>&1) || true
# A module with natsbus alone (the hostile registry with transports: [nats])
# selects nats.go's klauspost/compress v1.20.0; gen/go and tests/go select
# franz-go's v1.20.3, so `go mod download` above does not fetch it.
go mod download github.com/klauspost/compress@v1.20.0
export GOPROXY=off GOFLAGS=-mod=readonly

# The module's own go.sum is complete and tidy: it builds alone.
tidy_module() {
	(cd "$1" && go mod tidy -diff) || { echo "$1: go.sum or go.mod is not what go mod tidy writes"; exit 1; }
}

# (c) the committed output is what the generator writes now.
step "gen/go is fresh"
"$AMPYGEN" check --generated go=gen/go >/dev/null

# (d) lint and test every module.
step "gofmt, go vet: gen/go"
unformatted="$(cd gen/go && gofmt -l .)"
[ -z "$unformatted" ] || { echo "gofmt -l in gen/go:"; echo "$unformatted"; exit 1; }
(cd gen/go && go vet ./... && go build ./...)
tidy_module gen/go
# The registry asks for natsbus and kafkabus (targets.go.transports:
# [nats, kafka]); the core package itself must still link no broker client.
if (cd gen/go && go list -deps . | grep -q '^github.com/nats-io/\|^github.com/twmb/'); then
	echo "gen/go: the core package imports a NATS or Kafka client; only natsbus and kafkabus may"
	exit 1
fi
for dir in tests/go examples/go-app; do
	step "gofmt, go vet, go test: $dir"
	unformatted="$(cd "$dir" && gofmt -l .)"
	if [ -n "$unformatted" ]; then
		echo "gofmt -l in $dir:"
		echo "$unformatted"
		exit 1
	fi
	(cd "$dir" && go vet ./... && go test -count=1 ./...)
done

step "examples/go-app output"
out="$(cd examples/go-app && go run .)"
echo "$out"
for want in \
	"subject ampy.prod.bars.v1.XNAS.AAPL" \
	"kafka_topic ampy.prod.bars.v1" \
	"kafka_key XNAS.AAPL XNAS.AAPL" \
	"partition_key XNAS.AAPL" \
	"schema_fqdn ampy.bars.v1.BarBatch" \
	"decoded 2 bars"; do
	grep -qxF -- "$want" <<<"$out" || { echo "examples/go-app: missing line: $want"; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Generates REGISTRY into $tmp/NAME with the test file TEST (or none: "")
# beside it, then gofmt -l, go vet and go build it, and go test it with the
# remaining VAR=value arguments in the environment.
generated_module() {
	local name=$1 registry=$2 test=$3
	shift 3
	"$AMPYGEN" --registry "$registry" generate --lang go --out "$tmp/$name" >/dev/null
	[ -z "$test" ] || cp "$test" "$tmp/$name/"
	(
		cd "$tmp/$name"
		unformatted="$(gofmt -l .)"
		[ -z "$unformatted" ] || { echo "gofmt -l on the $name package: $unformatted"; exit 1; }
		go vet ./...
		go build ./...
		tidy_module .
		[ -z "$test" ] || env "$@" go test -count=1 ./...
	)
}

# (e) the hostile registry: generate, lint, build, and check that every
# string survived (tests/hostile/go/strings_test.go, transcribed from the
# YAML by hand).
step "hostile registry"
generated_module hostile tests/hostile/hostile.yaml tests/hostile/go/strings_test.go

# The same registry asking for the NATS transport: its hostile names,
# descriptions and tiers go through natsbus's layout and topics too.
step "hostile registry with transports: [nats]"
mkdir -p "$tmp/hostile-nats-registry"
sed 's|^    package: hostile$|    package: hostile\n    transports: [nats]|' tests/hostile/hostile.yaml >"$tmp/hostile-nats-registry/hostile.yaml"
grep -q 'transports: \[nats\]' "$tmp/hostile-nats-registry/hostile.yaml" || { echo "could not add the transport to hostile.yaml"; exit 1; }
cp tests/hostile/hostile.lock.json "$tmp/hostile-nats-registry/"
# A copy, not a link: a link out of the registry's tree is refused (docs/registry.md, include roots).
cp -R "$ROOT/tests/hostile/proto" "$tmp/hostile-nats-registry/proto"
generated_module hostile_nats "$tmp/hostile-nats-registry/hostile.yaml" ""
[ -f "$tmp/hostile_nats/natsbus/topics.go" ] || { echo "hostile_nats: no natsbus package"; exit 1; }

# The same with transports: [kafka] alone (kafkabus's layout and topics,
# and a go.mod with franz-go but no nats.go) and with both.
for transports in kafka "nats, kafka"; do
	name="hostile_$(tr -d ' ,' <<<"$transports")"
	step "hostile registry with transports: [$transports]"
	mkdir -p "$tmp/$name-registry"
	sed "s|^    package: hostile\$|    package: hostile\n    transports: [$transports]|" tests/hostile/hostile.yaml >"$tmp/$name-registry/hostile.yaml"
	grep -qF "transports: [$transports]" "$tmp/$name-registry/hostile.yaml" || { echo "could not add the transports to hostile.yaml"; exit 1; }
	cp tests/hostile/hostile.lock.json "$tmp/$name-registry/"
	cp -R "$ROOT/tests/hostile/proto" "$tmp/$name-registry/proto"
	generated_module "$name" "$tmp/$name-registry/hostile.yaml" ""
	[ -f "$tmp/$name/kafkabus/topics.go" ] || { echo "$name: no kafkabus package"; exit 1; }
done
if [ -e "$tmp/hostile_kafka/natsbus" ] || grep -q 'nats-io' "$tmp/hostile_kafka/go.mod" "$tmp/hostile_kafka/go.sum"; then
	echo "hostile_kafka: NATS code or nats.go without the nats transport"
	exit 1
fi

step "a registry without payloads"
generated_module dlq_only tests/hostile/go/dlq_only.yaml ""
# The same with both transports: empty topic lists in natsbus and kafkabus.
mkdir -p "$tmp/dlq-transports-registry/proto"
cp tests/hostile/go/dlq_only.yaml "$tmp/dlq-transports-registry/"
printf 'targets:\n  go:\n    transports: [nats, kafka]\n' >>"$tmp/dlq-transports-registry/dlq_only.yaml"
generated_module dlq_transports "$tmp/dlq-transports-registry/dlq_only.yaml" ""
[ -f "$tmp/dlq_transports/kafkabus/topics.go" ] || { echo "dlq_transports: no kafkabus package"; exit 1; }

# A registry that does not list a transport gets no transport package and
# a go.mod without its client.
step "no transports: no natsbus or kafkabus, no nats.go or franz-go"
for name in hostile dlq_only; do
	if [ -e "$tmp/$name/natsbus" ] || grep -q 'nats-io' "$tmp/$name/go.mod" "$tmp/$name/go.sum"; then
		echo "$name: generated NATS code although the registry lists no transport"
		exit 1
	fi
	if [ -e "$tmp/$name/kafkabus" ] || grep -q 'twmb' "$tmp/$name/go.mod" "$tmp/$name/go.sum"; then
		echo "$name: generated Kafka code although the registry lists no transport"
		exit 1
	fi
done
if [ -e "$tmp/hostile_nats/kafkabus" ] || grep -q 'twmb' "$tmp/hostile_nats/go.mod" "$tmp/hostile_nats/go.sum"; then
	echo "hostile_nats: Kafka code or franz-go without the kafka transport"
	exit 1
fi

# (f) every key path shape (tests/hostile/go/paths.yaml), compared with
# `ampygen route` by tests/hostile/go/paths_test.go.
step "key path shapes against ampygen route"
generated_module paths tests/hostile/go/paths.yaml tests/hostile/go/paths_test.go \
	AMPYGEN_PATHS_REGISTRY="$ROOT/tests/hostile/go/paths.yaml"

# (g) the canonical schema hash on proto2 defaults, groups, packing, maps
# and aliases (tests/hostile/go/canon.yaml) against `ampygen hash`.
step "canonical forms against ampygen hash"
generated_module canon tests/hostile/go/canon.yaml tests/hostile/go/canon_test.go \
	AMPYGEN_CANON_REGISTRY="$ROOT/tests/hostile/go/canon.yaml"

# (h) error wording that needs a stale lock and other envs
# (tests/hostile/go/stale.yaml): VerifyLinked names payload and topic, a
# foreign Go type is told apart from an unknown message, and only the
# registry's envs form subjects.
step "stale lock, foreign types and envs"
generated_module stale tests/hostile/go/stale.yaml tests/hostile/go/stale_test.go

step "ok: Go target"
