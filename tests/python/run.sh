#!/usr/bin/env bash
# Checks the generated Python package end to end, with real Python:
#
#   tests/python/run.sh
#
# Creates (or reuses) .venv at the repository root, installs
# tests/python/requirements.txt, checks that gen/python is what the
# registry generates now, then runs ruff (lint and format), mypy --strict
# (for Python 3.9), pyright strict (Node, pyright installed into
# target/tools/pyright) over the package, the tests and the examples,
# then pytest against a wheel of gen/python pip-installed into a fresh venv,
# the NATS transport's tests on a real nats-server (scripts/lib/nats.sh)
# and the Kafka transport's on a real broker (scripts/lib/kafka.sh).
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=.venv
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  echo "tests/python: creating $venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/python/requirements.txt

# Keep generated and source trees free of caches and bytecode: gen/python
# is compared file by file with fresh output.
export PYTHONDONTWRITEBYTECODE=1
caches="$venv/caches"
mkdir -p "$caches"
config=tests/python/pyproject.toml
targets=(gen/python tests/python examples/python-app tests/package-check/python)

echo "tests/python: gen/python is fresh"
cargo build -q --locked
export AMPYGEN="${CARGO_TARGET_DIR:-target}/debug/ampygen"
"$AMPYGEN" check --generated python=gen/python

echo "tests/python: ruff check"
"$venv/bin/ruff" check --config "$config" --cache-dir "$caches/ruff" "${targets[@]}"
echo "tests/python: ruff format --check"
"$venv/bin/ruff" format --check --config "$config" --cache-dir "$caches/ruff" "${targets[@]}"

echo "tests/python: mypy --strict (package and example for Python 3.9)"
MYPYPATH=gen/python "$venv/bin/mypy" --config-file "$config" --cache-dir "$caches/mypy" \
  gen/python/ampybus examples/python-app
# The tests run on the venv's Python with pytest 9, which needs 3.10+.
echo "tests/python: mypy --strict (tests)"
MYPYPATH=gen/python "$venv/bin/mypy" --config-file "$config" --cache-dir "$caches/mypy-tests" \
  --python-version "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  tests/python

# pyright strict too: the generated package and a typed user script
# (tests/python/typed_user.py) whose payload types must flow through the
# Envelope constructors. pyright is an npm package, pinned here and
# installed once into target/tools/pyright (run with Node); it never
# downloads anything when it runs.
pyright_version=1.1.414
pyright="${CARGO_TARGET_DIR:-target}/tools/pyright"
if [ "$("$pyright/node_modules/.bin/pyright" --version 2>/dev/null)" != "pyright $pyright_version" ]; then
  echo "tests/python: installing pyright $pyright_version into $pyright"
  npm install --prefix "$pyright" --no-audit --no-fund --silent "pyright@$pyright_version"
fi
echo "tests/python: pyright strict (package and typed user script)"
"$pyright/node_modules/.bin/pyright" -p tests/python/pyrightconfig.json

# The NATS transport tests need a server: scripts/test passes its own
# (AMPY_NATS_URL); run alone, this script starts one when nats-server is
# installed (tests/python/test_nats.py skips without one, and fails
# instead under AMPYGEN_TEST_REQUIRE_NATS=1).
stop_servers() {
  if declare -F nats_stop >/dev/null; then nats_stop; fi
  if declare -F kafka_stop >/dev/null; then kafka_stop; fi
}
trap stop_servers EXIT
if [ -z "${AMPY_NATS_URL:-}" ]; then
  source scripts/lib/nats.sh
  if [ "${AMPYGEN_TEST_REQUIRE_NATS:-}" = 1 ]; then nats_install; fi
  if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
    nats_start
  fi
fi
# The Kafka transport tests likewise (AMPY_KAFKA_BOOTSTRAP from scripts/test,
# else a broker of scripts/lib/kafka.sh when Java and Maven are here;
# tests/python/test_kafka.py skips without one unless AMPY_TEST_REQUIRE_KAFKA=1).
if [ -z "${AMPY_KAFKA_BOOTSTRAP:-}" ] && command -v java >/dev/null 2>&1 &&
  command -v mvn >/dev/null 2>&1; then
  source scripts/lib/kafka.sh
  kafka_install
  kafka_start
fi

# pytest runs against the generated package as a user gets it: a wheel
# built from gen/python (pip wheel: flit_core, the backend its
# pyproject.toml names), pip-installed with its `nats` and `kafka` extras
# into a fresh venv, with the test tools at the same pins; nothing puts
# gen/python on the path (AMPY_TEST_INSTALLED=1 tells the tests, whose
# child processes then import the installed package too).
echo "tests/python: a wheel of gen/python, installed into a fresh venv"
build="${CARGO_TARGET_DIR:-target}/python-wheel"
rm -rf "$build"
"$venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps --wheel-dir "$build/dist" ./gen/python
wheel=$(ls "$build"/dist/ampybus-*.whl)
"$python" -m venv "$build/venv"
"$build/venv/bin/python" -m pip install -q --disable-pip-version-check \
  -r tests/python/requirements.txt "ampybus[nats,kafka] @ file://$(realpath "$wheel")"

echo "tests/python: pytest (against $(basename "$wheel"))"
AMPY_TEST_INSTALLED=1 "$build/venv/bin/python" -m pytest -q -p no:cacheprovider tests/python "$@"
