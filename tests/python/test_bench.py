"""Keeps tests/python/bench.py runnable: a quick run must time every case."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_bench_runs_every_case() -> None:
    env = child_env(PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "python" / "bench.py"), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    lines = [line for line in out.splitlines() if line.endswith("µs/op")]
    assert len(lines) == 12, out
    for line in lines:
        assert float(line.split()[-2]) > 0, line
    ratios = [line for line in out.splitlines() if line.endswith("x") and " / " in line]
    assert len(ratios) == 2, out
