#!/usr/bin/env bash
# Runs the pytest suite on the oldest supported Python (3.9) against each
# supported protobuf major (4.25, 5.29, 6.33), one throwaway venv each:
#
#   tests/python/compat.sh            # needs python3.9 on PATH, or PYTHON39=...
#
# Not part of tests/python/run.sh (which pins the newest protobuf) because it
# downloads three protobuf builds; run it when touching the runtime modules.
# The lint/type-check test skips itself here: those tools run in run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
python39=${PYTHON39:-python3.9}
if ! command -v "$python39" >/dev/null 2>&1; then
  echo "tests/python/compat: $python39 not found; set PYTHON39" >&2
  exit 2
fi
cargo build -q --locked
export AMPYGEN="${CARGO_TARGET_DIR:-target}/debug/ampygen" PYTHONDONTWRITEBYTECODE=1
for protobuf in 4.25.9 5.29.6 6.33.6; do
  venv=".venv/compat-$protobuf"
  [ -x "$venv/bin/python" ] || "$python39" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "protobuf==$protobuf" "pytest==8.4.2"
  echo "tests/python/compat: Python 3.9, protobuf $protobuf"
  PYTHONPATH=gen/python "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python
done
