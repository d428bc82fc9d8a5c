# An Apache Kafka broker for the tests: Kafka 4.4 in KRaft combined mode
# (one process is broker and controller) from the Maven Central jars named
# in tests/kafka/pom.xml, run with the machine's Java 17, bound to
# 127.0.0.1 on free ports, its data in a temporary folder, stopped by the
# caller's trap.
#
#   source scripts/lib/kafka.sh
#   kafka_install     # mvn copies the jars into $AMPY_KAFKA_HOME/lib once
#   kafka_start       # exports AMPY_KAFKA_BOOTSTRAP and AMPY_KAFKA_CLASSPATH
#   trap kafka_stop EXIT
#
# AMPY_KAFKA_HOME defaults to target/kafka (a cache: safe to delete).
# Automatic topic creation is off, so a test that forgets to create or
# provision its topic fails instead of writing to a one-partition topic.
#
# The retention check runs once an hour, not every 5 minutes (and not
# first 30 s after start, but after an hour too): a record's
# timestamp is its envelope's produced_at, and the test vectors were
# produced in 2025, long past every registry topic's retention, so a check
# between a test's produce and its consume deleted them (the log start
# offset moved past them, and the consumer waited on an empty partition).

_kafka_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); }

kafka_home() {
  echo "${AMPY_KAFKA_HOME:-$(_kafka_root)/target/kafka}"
}

# Prints a free TCP port on 127.0.0.1 (the kernel picks it).
_kafka_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

kafka_install() {
  local home pom stamp
  home=$(kafka_home)
  pom="$(_kafka_root)/tests/kafka/pom.xml"
  stamp="$home/lib/.pom.sha256"
  if [ -f "$stamp" ] && [ "$(sha256sum "$pom" | cut -d' ' -f1)" = "$(cat "$stamp")" ]; then
    return 0
  fi
  command -v java >/dev/null 2>&1 || { echo "kafka.sh: java (17+) is needed on PATH" >&2; return 1; }
  command -v mvn >/dev/null 2>&1 || { echo "kafka.sh: Maven (mvn) is needed on PATH" >&2; return 1; }
  echo "kafka.sh: fetching the Kafka 4.4 jars with Maven into $home/lib"
  rm -rf "$home/lib.tmp"
  mkdir -p "$home"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$home/lib.tmp" >&2 || { echo "kafka.sh: mvn could not fetch the jars" >&2; return 1; }
  sha256sum "$pom" | cut -d' ' -f1 >"$home/lib.tmp/.pom.sha256"
  rm -rf "$home/lib"
  mv "$home/lib.tmp" "$home/lib"
}

# Starts the broker and waits until it serves requests (its log says the
# server started and its port accepts connections). Sets KAFKA_DIR and
# KAFKA_PID for kafka_stop.
kafka_start() {
  local home port cport cluster i
  home=$(kafka_home)
  KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ampy-kafka.XXXXXX")
  port=$(_kafka_free_port)
  cport=$(_kafka_free_port)
  while [ "$cport" = "$port" ]; do cport=$(_kafka_free_port); done
  cat >"$KAFKA_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=3600000
log.initial.task.delay.ms=3600000
EOF
  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_DIR/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.groups.name = org.apache.kafka.coordinator.group
logger.groups.level = INFO
EOF
  cluster=$(python3 -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
  local java_opts=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties")
  if ! java "${java_opts[@]}" -cp "$home/lib/*" kafka.tools.StorageTool format --standalone \
    -t "$cluster" -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/format.log" 2>&1; then
    echo "kafka.sh: formatting the storage failed:" >&2
    cat "$KAFKA_DIR/format.log" >&2
    kafka_stop
    return 1
  fi
  java "${java_opts[@]}" -cp "$home/lib/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/stdout.log" 2>&1 &
  KAFKA_PID=$!
  for i in $(seq 1 600); do
    if grep -q "Kafka Server started" "$KAFKA_DIR/server.log" 2>/dev/null &&
      python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1).close()" 2>/dev/null; then
      export AMPY_KAFKA_BOOTSTRAP="127.0.0.1:$port"
      export AMPY_KAFKA_CLASSPATH="$home/lib/*"
      echo "kafka.sh: Kafka 4.4 (KRaft, combined) on $AMPY_KAFKA_BOOTSTRAP (data $KAFKA_DIR)"
      return 0
    fi
    if ! kill -0 "$KAFKA_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "kafka.sh: the broker did not start; its logs:" >&2
  tail -n 50 "$KAFKA_DIR/stdout.log" "$KAFKA_DIR/server.log" >&2 2>/dev/null || true
  kafka_stop
  return 1
}

# Prints the broker's group and problem lines to stderr: called by a
# failed run before kafka_stop removes the log with the data folder, so a
# consumer that timed out can be matched with what the broker did.
kafka_log_tail() {
  local log="${KAFKA_DIR:-}/server.log"
  [ -f "$log" ] || return 0
  echo "kafka.sh: the broker's group events and problems (last 400 of $log):" >&2
  grep -E '\] (ERROR|WARN) |GroupCoordinator|[Rr]ebalanc|Stabilized group' "$log" | tail -n 400 >&2 || true
}

kafka_stop() {
  if [ -n "${KAFKA_PID:-}" ]; then
    kill "$KAFKA_PID" 2>/dev/null || true
    # A controlled shutdown takes a few seconds; do not wait forever.
    local i
    for i in $(seq 1 150); do
      kill -0 "$KAFKA_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$KAFKA_PID" 2>/dev/null || true
    wait "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=""
  fi
  if [ -n "${KAFKA_DIR:-}" ]; then
    rm -rf "$KAFKA_DIR"
    KAFKA_DIR=""
  fi
}
