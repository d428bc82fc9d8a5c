#!/usr/bin/env bash
# The natsbus benchmark (tests/go/natsbench): typed vs raw nats.go on a
# loopback JetStream server. Uses AMPY_NATS_URL when set, else starts a
# server through scripts/lib/nats.sh and stops it on exit.
#
#   tests/go/nats-bench.sh [-n N]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${AMPY_NATS_URL:-}" ]; then
	source scripts/lib/nats.sh
	nats_install
	trap nats_stop EXIT
	nats_start
fi
cd tests/go
go run ./natsbench "$@"
