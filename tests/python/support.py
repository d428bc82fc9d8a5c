"""Helpers shared by the tests that generate packages from other registries."""

from __future__ import annotations

import importlib
import os
import pathlib
import subprocess
import sys
from types import ModuleType

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "python" / "pyproject.toml"
BIN = pathlib.Path(sys.executable).parent
#: The tests run against the installed distribution (tests/python/run.sh:
#: a wheel of gen/python pip-installed into a fresh venv), not gen/python.
INSTALLED = os.environ.get("AMPY_TEST_INSTALLED") == "1"


def child_env(*paths: str, **extra: str) -> dict[str, str]:
    """``os.environ`` for a child process that imports the generated package:
    it imports what the tests import (gen/python on ``PYTHONPATH``, or the
    installed distribution), then ``paths``, with ``extra`` variables."""
    package = [] if INSTALLED else [str(ROOT / "gen" / "python")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*package, *paths]), **extra}


def ampygen(registry: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs the ampygen binary (``$AMPYGEN``, else ``cargo run``) on ``registry``."""
    exe = os.environ.get("AMPYGEN")
    cmd = [exe] if exe else ["cargo", "run", "-q", "--"]
    return subprocess.run(
        [*cmd, "--registry", str(registry), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def generate(registry: pathlib.Path, out: pathlib.Path) -> None:
    """Generates the Python package of ``registry`` into ``out``."""
    done = ampygen(registry, "generate", "--lang", "python", "--out", str(out))
    assert done.returncode == 0, done.stderr


def import_from(out: pathlib.Path, package: str) -> ModuleType:
    """Imports ``package`` from ``out`` (left on ``sys.path`` for its submodules)."""
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return importlib.import_module(package)


def tool(name: str) -> str:
    """A tool installed next to this interpreter, or skip."""
    path = BIN / name
    if not path.exists():
        # Only tests/python/run.sh's venv is guaranteed to have the tools;
        # compatibility runs on other interpreters skip these checks.
        pytest.skip(f"{name} is not installed next to {sys.executable}")
    return str(path)


def lint_and_type_check(out: pathlib.Path, package: str, *extra: str) -> None:
    """ruff check, ruff format --check and mypy --strict on a generated package
    (and on ``extra`` modules in ``out`` that use it)."""
    ruff, mypy = tool("ruff"), tool("mypy")
    caches = ROOT / ".venv" / "caches"
    for cmd in (
        [ruff, "check", "--config", str(CONFIG), "--no-cache", str(out)],
        [ruff, "format", "--check", "--config", str(CONFIG), "--no-cache", str(out)],
        [
            mypy,
            "--config-file",
            str(CONFIG),
            "--cache-dir",
            str(caches / f"mypy-{package}"),
            str(out / package),
            *(str(out / e) for e in extra),
        ],
    ):
        done = subprocess.run(
            cmd, cwd=out, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, f"{cmd[0]}: {done.stdout}{done.stderr}"
