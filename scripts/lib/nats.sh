# A NATS server with JetStream for the tests: installed from Debian's
# packages when missing, bound to 127.0.0.1 on free ports, its store in a
# temporary folder, stopped by the caller's trap.
#
#   source scripts/lib/nats.sh
#   nats_install                      # apt-get nats-server if it is missing
#   nats_start                        # exports AMPY_NATS_URL, AMPY_NATS_MONITOR, AMPY_NATS_SERVER
#   trap nats_stop EXIT               # also when the tests fail
#
# The same pattern (install, free port, temp store, health wait, trap) is
# meant for the other brokers' scripts.

# Prints a free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

nats_install() {
  if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
    return 0
  fi
  echo "nats.sh: installing Debian's nats-server"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nats-server
  # The package enables a system service on port 4222; the tests run their
  # own instance, so stop it if it started.
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl stop nats-server >/dev/null 2>&1 || true; fi
}

nats_binary() {
  command -v nats-server 2>/dev/null || echo /usr/sbin/nats-server
}

# Starts the server and waits for /healthz (JetStream ready). Sets
# NATS_DIR and NATS_PID for nats_stop.
nats_start() {
  local bin port mport i
  bin=$(nats_binary)
  NATS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ampy-nats.XXXXXX")
  port=$(free_port)
  mport=$(free_port)
  "$bin" -js -a 127.0.0.1 -p "$port" -m "$mport" -sd "$NATS_DIR/store" -l "$NATS_DIR/nats.log" &
  NATS_PID=$!
  for i in $(seq 1 100); do
    if python3 -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$mport/healthz', timeout=1).status == 200 else 1)" 2>/dev/null; then
      export AMPY_NATS_URL="nats://127.0.0.1:$port"
      export AMPY_NATS_MONITOR="http://127.0.0.1:$mport"
      export AMPY_NATS_SERVER="$bin"
      echo "nats.sh: nats-server $("$bin" --version 2>/dev/null | sed 's/^nats-server: //') on $AMPY_NATS_URL (store $NATS_DIR)"
      return 0
    fi
    if ! kill -0 "$NATS_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "nats.sh: nats-server did not become healthy; its log:" >&2
  cat "$NATS_DIR/nats.log" >&2 || true
  nats_stop
  return 1
}

nats_stop() {
  if [ -n "${NATS_PID:-}" ]; then
    kill "$NATS_PID" 2>/dev/null || true
    wait "$NATS_PID" 2>/dev/null || true
    NATS_PID=""
  fi
  if [ -n "${NATS_DIR:-}" ]; then
    rm -rf "$NATS_DIR"
    NATS_DIR=""
  fi
}
