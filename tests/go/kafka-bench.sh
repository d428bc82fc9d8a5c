#!/usr/bin/env bash
# The kafkabus benchmark (tests/go/kafkabench): typed vs raw franz-go on a
# loopback Kafka broker. Uses AMPY_KAFKA_BOOTSTRAP when set, else starts a
# broker through scripts/lib/kafka.sh and stops it on exit.
#
#   tests/go/kafka-bench.sh [-n N]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${AMPY_KAFKA_BOOTSTRAP:-}" ]; then
	source scripts/lib/kafka.sh
	kafka_install
	trap kafka_stop EXIT
	kafka_start
fi
cd tests/go
go run ./kafkabench "$@"
