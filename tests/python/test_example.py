"""Runs examples/python-app as a user would and checks what it prints."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_example_routes_and_round_trips() -> None:
    env = child_env(PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python-app" / "main.py")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    lines = out.splitlines()
    assert "subject      ampy.prod.bars.v1.XNAS.AAPL" in lines
    assert "kafka topic  ampy.prod.bars.v1" in lines
    assert "kafka key    XNAS.AAPL XNAS.AAPL" in lines
    assert "pattern      ampy.prod.bars.v1.*.*" in lines
    assert "header       partition_key=XNAS.AAPL" in lines
    assert "header       produced_at=2025-09-05T19:31:01Z" in lines
    assert "decoded      AAPL.XNAS volume=182340" in lines
    assert any(line.startswith("rejected     illegal_token: ") for line in lines), out
