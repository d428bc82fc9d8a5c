"""Helpers of the NATS transport tests: the shared server scripts/test starts
(``AMPY_NATS_URL``), a private server for tests that restart it, and small
payload and stream helpers.

Without a server the tests skip with one line, unless
``AMPYGEN_TEST_REQUIRE_NATS=1`` (set by scripts/test): then they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from typing import Any, Coroutine, Dict, List, Optional, TypeVar

import nats.js.errors
import pytest
from nats.js.api import RawStreamMsg

from ampybus import Env
from ampybus.nats import Bus, Observer
from ampybus.pb.ampy.bars.v1 import bars_pb2

T = TypeVar("T")

#: The env the Python transport tests use on the shared server; each test
#: starts from freshly provisioned, empty streams of it.
ENV = Env.DEV


def _missing(what: str) -> None:
    if os.environ.get("AMPYGEN_TEST_REQUIRE_NATS") == "1":
        pytest.fail(f"{what} is required (AMPYGEN_TEST_REQUIRE_NATS=1); scripts/test provides it")
    pytest.skip(f"no {what}: run scripts/test, or export AMPY_NATS_URL of a nats-server -js")


def nats_url() -> str:
    """The shared server's URL, or skip."""
    url = os.environ.get("AMPY_NATS_URL", "")
    if not url:
        _missing("NATS server (AMPY_NATS_URL)")
    return url


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Runs one test's coroutine on a fresh event loop."""
    return asyncio.run(coro)


async def fresh_bus(url: str, observer: Optional[Observer] = None) -> Bus:
    """A bus on ``ENV`` whose streams were deleted and provisioned again, so
    a test sees only its own records."""
    bus = await Bus.connect(url, ENV, observer=observer)
    for plan in bus.plans():
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await bus.manager.delete_stream(plan.name)
    report = await bus.provision()
    assert not report.refused, str(report)
    return bus


def bars(symbol: str, mic: str = "XNAS") -> bars_pb2.BarBatch:
    """A one-bar batch keyed ``{mic}.{symbol}``."""
    batch = bars_pb2.BarBatch()
    bar = batch.bars.add()
    bar.security.symbol = symbol
    bar.security.mic = mic
    return batch


async def stream_messages(bus: Bus, stream: str) -> List[RawStreamMsg]:
    """Every record a stream holds, in sequence order."""
    info = await bus.manager.stream_info(stream)
    out = []
    first, last = info.state.first_seq, info.state.last_seq
    for seq in range(first, last + 1) if info.state.messages else ():
        try:
            out.append(await bus.manager.get_msg(stream, seq))
        except nats.js.errors.NotFoundError:
            continue
    return out


async def dead_letters(bus: Bus, domain: str) -> List[RawStreamMsg]:
    """The dead letters of ``domain`` in ``ENV``, oldest first."""
    subject = f"ampy.{ENV.value}.dlq.v1.{domain}"
    msgs = await stream_messages(bus, f"AMPY_{ENV.value.upper()}_DLQ_V1")
    return [m for m in msgs if m.subject == subject]


def headers_of(msg: RawStreamMsg) -> Dict[str, str]:
    return dict(msg.headers or {})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrivateServer:
    """A nats-server with JetStream for one test: 127.0.0.1, free ports, a
    temporary store, killed by :meth:`stop` (use it as a context manager)."""

    def __init__(self) -> None:
        binary = os.environ.get("AMPY_NATS_SERVER") or shutil.which("nats-server")
        if not binary and pathlib.Path("/usr/sbin/nats-server").exists():
            binary = "/usr/sbin/nats-server"
        if not binary:
            _missing("nats-server binary")
        self._bin = str(binary)
        self._dir = tempfile.TemporaryDirectory(prefix="ampy-nats-py-")
        self.port = _free_port()
        self.monitor = _free_port()
        self._proc: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def __enter__(self) -> PrivateServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._dir.cleanup()

    def start(self) -> None:
        store = pathlib.Path(self._dir.name)
        self._proc = subprocess.Popen(
            [
                *(self._bin, "-js", "-a", "127.0.0.1"),
                *("-p", str(self.port), "-m", str(self.monitor)),
                *("-sd", str(store / "store"), "-l", str(store / "nats.log")),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.monitor}/healthz", timeout=1
                ) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.025)
        log = (store / "nats.log").read_text("utf-8", "replace")
        self.stop()
        raise AssertionError(f"nats-server did not become healthy; log:\n{log}")

    def stop(self) -> None:
        """Kills the server (SIGKILL: no graceful flush)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None

    def restart(self) -> None:
        """Kills the server and starts it again on the same port and store."""
        self.stop()
        self.start()
