"""The Python NATS transport on a real JetStream server (nothing mocked):
round trips of the vectors, every failure path of issue 12, replay and the
Prometheus exposition. docs/nats.md is the behaviour under test.

The tests share the server scripts/test starts (``AMPY_NATS_URL``); each
starts from freshly provisioned streams of env ``dev``. The restart test
runs its own private server.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gzip
import json
import os
import pathlib
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

import pytest

from ampybus import BARS_V1_BARS, TICKS_V1_QUOTE, TICKS_V1_TRADE, TOPICS, Env, Envelope, Record
from ampybus.nats import (
    LAYOUT,
    Bus,
    Delivery,
    HandlerError,
    Layout,
    Metrics,
    NatsError,
    RetryPolicy,
    Start,
    wire,
)
from ampybus.pb.ampy.bars.v1 import bars_pb2
from nats_driver import envelope_of, load_vectors
from nats_support import (
    ENV,
    PrivateServer,
    bars,
    dead_letters,
    fresh_bus,
    headers_of,
    nats_url,
    run,
    stream_messages,
)
from support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "positive"
IDLE = 1.5
BarsDelivery = Delivery[bars_pb2.BarBatch]


@pytest.fixture
def url() -> str:
    return nats_url()


def tampered(symbol: str, edit: Dict[str, str], drop: Tuple[str, ...] = ()) -> Record:
    """A valid bars record from another producer, headers edited."""
    env = Envelope.build(BARS_V1_BARS, bars(symbol), producer="other@1", source="o", run_id="r")
    record = env.encode()
    pairs = [(k, edit.get(k, v)) for k, v in record.headers if k not in drop]
    pairs += [(k, v) for k, v in edit.items() if k not in dict(record.headers)]
    return Record(pairs, record.payload)


def subject(symbol: str) -> str:
    return BARS_V1_BARS.subject(ENV, "XNAS", symbol).text


# ---------------------------------------------------------------------------
# One positive vector per topic, the gzipped one and the blob pointer.


def test_one_vector_per_topic_round_trips_byte_identical(url: str) -> None:
    vectors = load_vectors(VECTORS)
    picked: List[Dict[str, Any]] = []
    for topic in TOPICS:
        picked += [v for v in vectors if v["topic"] == topic][:1]
    picked += [
        v for v in vectors if v["name"] in ("news.raw.gzip_over_128kib", "news.raw.blob_pointer")
    ]

    async def go() -> int:
        bus = await fresh_bus(url)
        sent: Dict[str, List[Tuple[Dict[str, str], bytes, Any]]] = {}
        for v in picked:
            envelope = envelope_of(v)
            publisher = bus.publisher(envelope.topic, producer="roundtrip@1")
            blob = envelope.headers.blob
            if blob is not None:
                record = envelope.encode_pointer(blob)
                done = await publisher.publish_pointer(envelope, blob)
            else:
                record = envelope.encode()
                done = await publisher.publish_envelope(envelope)
            assert not done.duplicate and done.attempts == 1
            if v["name"] == "news.raw.gzip_over_128kib":
                raw = base64.b64decode(v["payload_base64"])
                assert record.header("content_encoding") == "gzip"
                assert len(record.payload) < len(raw) and gzip.decompress(record.payload) == raw
            # The wire headers are the vector's, exactly.
            assert dict(record.headers) == v["envelope"]["headers"], v["name"]
            sent.setdefault(v["topic"], []).append(
                (dict(record.headers), record.payload, envelope.payload)
            )
        total = 0
        for topic_id, records in sent.items():
            got: List[Tuple[Dict[str, str], bytes, Any]] = []

            async def handle(d: Delivery[Any], got: List[Any] = got) -> None:
                got.append((dict(d.raw_headers), d.raw_payload, d.payload))

            consumer = await bus.consumer(TOPICS[topic_id], "rt-" + topic_id.replace(".", "-"))
            stats = await consumer.drain(handle, IDLE)
            assert stats.acked == len(records), topic_id
            for (sh, sb, sp), (gh, gb, gp) in zip(records, got):
                assert sh == gh, topic_id
                assert sb == gb, topic_id
                if gp is None:
                    assert sb == b"" and "blob_ref" in gh, "only pointers have no payload"
                else:
                    assert sp == gp, topic_id
            total += len(got)
        await bus.close()
        return total

    assert run(go()) == len(TOPICS) + 2


def _driver(*args: str) -> subprocess.CompletedProcess[str]:
    """Runs tests/python/nats_driver.py as the matrix runner does."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "python" / "nats_driver.py"), *args],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_matrix_driver_python_to_python(url: str) -> None:
    """The driver programs as the matrix runs them: each consumed line has
    the vector's headers, its body (inflated when gzipped; map entries have
    no fixed order) and its payload re-encoded."""
    vectors = load_vectors(VECTORS)
    topics = ["bars.v1.bars", "news.v1.raw", "metrics.v1.metrics", "orders.v1.requests"]
    picked = [v for v in vectors if v["topic"] in topics]

    async def provisioned() -> None:
        await (await fresh_bus(url)).close()

    run(provisioned())
    common = ("--url", url, "--env", ENV.value)
    names = ",".join(v["name"] for v in picked)
    published = _driver("publish", *common, "--vectors", str(VECTORS), "--names", names)
    assert published.returncode == 0, published.stderr
    assert published.stdout.splitlines()[-1] == f"published {len(picked)}"
    for topic_id in topics:
        want = [v for v in picked if v["topic"] == topic_id]
        durable = "matrix-" + topic_id.replace(".", "-")
        consumed = _driver(
            "consume", *common, "--topic", topic_id, "--durable", durable,
            "--count", str(len(want)), "--timeout-ms", "10000",
        )  # fmt: skip
        assert consumed.returncode == 0, consumed.stderr
        lines = [json.loads(line) for line in consumed.stdout.splitlines()]
        assert len(lines) == len(want), topic_id
        for v, line in zip(want, lines):
            envelope = envelope_of(v)
            assert list(line) == sorted(line), "keys sorted"
            assert line["headers"] == v["envelope"]["headers"], v["name"]
            body = base64.b64decode(line["payload_base64"])
            sent = base64.b64decode(v["envelope"]["body_base64"])
            if line["headers"].get("content_encoding") == "gzip":
                assert gzip.decompress(body) == gzip.decompress(sent), v["name"]
            elif v.get("bytes_exact", True):
                assert body == sent, v["name"]
            assert line["subject"] == envelope.topic.topic_for(envelope.payload, ENV).text
            canonical = base64.b64decode(line["payload_canonical_base64"])
            if "blob_ref" in line["headers"]:
                assert canonical == b"", "a pointer record carries no payload"
            else:
                assert canonical == envelope.payload.SerializeToString(deterministic=True)
    # Nothing left: one more record times out with exit 1 and prints nothing.
    late = _driver(
        "consume", *common, "--topic", "bars.v1.bars", "--durable", "matrix-bars-v1-bars",
        "--count", "1", "--timeout-ms", "1000",
    )  # fmt: skip
    assert late.returncode == 1 and late.stdout == "", late.stdout + late.stderr
    # Bad arguments: exit 2.
    assert _driver("consume", *common, "--topic", "no.such", "--durable", "x").returncode == 2


# ---------------------------------------------------------------------------
# Failure paths.


def test_poison_pills_go_to_the_dlq_with_their_reason(url: str) -> None:
    async def go() -> None:
        metrics = Metrics()
        bus = await fresh_bus(url, metrics)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        # A producer built against other protos: same name, other hash.
        wrong = tampered("AAPL", {"schema_hash": "sha256:" + "0" * 64})
        await publisher.publish_record(subject("AAPL"), wrong)
        # A corrupt gzip body.
        corrupt = tampered("MSFT", {"content_encoding": "gzip"})
        corrupt.payload = b"\x1f\x8b\x08\x00 not really gzip"
        await publisher.publish_record(subject("MSFT"), corrupt)

        handled = 0

        async def handle(d: BarsDelivery) -> None:
            nonlocal handled
            handled += 1

        consumer = await bus.consumer(BARS_V1_BARS, "poison")
        stats = await consumer.drain(handle, IDLE)
        assert (handled, stats.dead_lettered, stats.acked, stats.decode_failures) == (0, 2, 0, 2)

        first, second = await dead_letters(bus, "bars")
        assert headers_of(first)["Ampy-Dlq-Reason"] == "schema_hash_mismatch"
        assert first.data == wrong.payload
        h = headers_of(second)
        assert h["Ampy-Dlq-Reason"].startswith("decode_error: corrupt gzip"), h
        assert second.data == corrupt.payload
        for k, v in corrupt.headers:
            assert h[wire.nats_header(k) or k] == v, f"{k} preserved"

        t = ("topic", "bars.v1.bars")
        assert metrics.counter("bus_dlq_total", [t, ("reason", "schema_hash_mismatch")]) == 1
        assert metrics.counter("bus_dlq_total", [t, ("reason", "decode_error")]) == 1
        assert metrics.counter("bus_decode_fail_total", [t, ("reason", "hash_mismatch")]) == 1
        assert metrics.counter("bus_decode_fail_total", [t, ("reason", "corrupt_gzip")]) == 1
        # Terminated: nothing comes back.
        again = await consumer.drain(handle, 0.5)
        assert again.received == 0
        await bus.close()

    run(go())


def test_a_handler_failing_twice_then_succeeding_is_delivered_three_times_and_acked_once(
    url: str,
) -> None:
    async def go() -> None:
        metrics = Metrics()
        bus = await fresh_bus(url, metrics)
        await bus.publisher(BARS_V1_BARS, producer="test@1").publish(bars("AAPL"))
        consumer = await bus.consumer(BARS_V1_BARS, "flaky", nak_backoff=[0.02])
        seen: List[Tuple[int, int]] = []

        async def handle(d: BarsDelivery) -> None:
            seen.append((d.retry_count, d.info.delivered))
            if d.retry_count < 2:
                raise HandlerError.retry("flaky", "not yet")

        stats = await consumer.drain(handle, IDLE)
        assert seen == [(0, 1), (1, 2), (2, 3)]
        assert (stats.acked, stats.naked, stats.dead_lettered) == (1, 2, 0)
        t = ("topic", "bars.v1.bars")
        assert metrics.counter("bus_retry_total", [t, ("reason", "flaky")]) == 2
        assert metrics.counter("bus_consumed_total", [t, ("consumer", "flaky")]) == 1
        again = await consumer.drain(handle, 0.5)
        assert again.received == 0, "acked once, never redelivered"
        await bus.close()

    run(go())


def test_a_handler_that_always_fails_ends_in_the_dlq_after_the_bound(url: str) -> None:
    async def go() -> None:
        metrics = Metrics()
        bus = await fresh_bus(url, metrics)
        sent = await bus.publisher(BARS_V1_BARS, producer="test@1").publish(bars("AAPL"))
        # The realtime tier's bound from the registry, with short delays.
        tier = LAYOUT.tier("realtime")
        assert tier is not None and tier.max_deliveries == 3
        consumer = await bus.consumer(BARS_V1_BARS, "doomed", nak_backoff=[0.02])
        assert consumer.max_deliveries == 3
        calls = 0

        async def handle(d: BarsDelivery) -> None:
            nonlocal calls
            calls += 1
            raise HandlerError.retry("db_down", "database unavailable")

        stats = await consumer.drain(handle, IDLE)
        assert (calls, stats.naked, stats.dead_lettered, stats.acked) == (3, 2, 1, 0)
        (letter,) = await dead_letters(bus, "bars")
        h = headers_of(letter)
        assert h["Ampy-Dlq-Reason"] == "max_deliveries: db_down: database unavailable"
        assert h["Nats-Msg-Id"] == sent.message_id
        t = ("topic", "bars.v1.bars")
        assert metrics.counter("bus_dlq_total", [t, ("reason", "max_deliveries")]) == 1
        again = await consumer.drain(handle, 0.5)
        assert again.received == 0, "terminated after the DLQ publish"
        await bus.close()

    run(go())


def test_a_permanent_error_or_an_unexpected_exception(url: str) -> None:
    async def go() -> None:
        metrics = Metrics()
        bus = await fresh_bus(url, metrics)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        await publisher.publish(bars("AAPL"))
        await publisher.publish(bars("MSFT"))
        consumer = await bus.consumer(BARS_V1_BARS, "strict", nak_backoff=[0.02])

        async def handle(d: BarsDelivery) -> None:
            if d.headers.partition_key == "XNAS.AAPL":
                raise HandlerError.permanent("invalid", "no such account")
            raise KeyError("boom")

        stats = await consumer.drain(handle, IDLE)
        # AAPL: at once; MSFT: three tries as a retryable `exception`.
        assert (stats.dead_lettered, stats.naked, stats.received) == (2, 2, 4)
        reasons = [headers_of(m)["Ampy-Dlq-Reason"] for m in await dead_letters(bus, "bars")]
        assert reasons == [
            "invalid: no such account",
            "max_deliveries: exception: KeyError: 'boom'",
        ]
        t = ("topic", "bars.v1.bars")
        assert metrics.counter("bus_retry_total", [t, ("reason", "exception")]) == 2
        await bus.close()

    run(go())


def test_a_duplicate_message_id_is_stored_once(url: str) -> None:
    async def go() -> None:
        bus = await fresh_bus(url)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        env = Envelope.build(BARS_V1_BARS, bars("AAPL"), producer="test@1", source="t", run_id="r")
        a = await publisher.publish_envelope(env)
        b = await publisher.publish_envelope(env)
        assert not a.duplicate and b.duplicate
        assert a.sequence == b.sequence
        info = await bus.manager.stream_info("AMPY_DEV_BARS_V1")
        assert info.state.messages == 1
        await bus.close()

    run(go())


def test_a_record_over_max_payload_is_refused_before_sending_and_the_connection_stays_up(
    url: str,
) -> None:
    async def go() -> None:
        bus = await fresh_bus(url)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        limit = bus.client.max_payload
        assert limit == 1 << 20, "the server's default"
        record = tampered("AAPL", {})
        header_len = wire.wire_len(wire.to_nats(record.headers))
        # One byte over, counting the headers: refused locally.
        record.payload = b"\x07" * (limit - header_len + 1)
        with pytest.raises(NatsError) as e:
            await publisher.publish_record(subject("AAPL"), record)
        assert e.value.kind == "too_large"
        assert "blob pointer" in e.value.message
        # Exactly at the limit: the server takes it, so the count is the server's.
        record.payload = record.payload[:-1]
        ok = await publisher.publish_record(subject("AAPL"), record)
        assert ok.sequence == 1
        # Still connected, and publishing.
        assert bus.client.is_connected
        assert (await publisher.publish(bars("MSFT"))).sequence == 2
        # JetStream's 64 KiB header limit, checked the same way.
        big = tampered("X", {"run_id": "r" * 70_000})
        with pytest.raises(NatsError) as e:
            await publisher.publish_record(subject("X"), big)
        assert e.value.kind == "headers_too_large"
        assert bus.client.is_connected
        await bus.close()

    run(go())


def test_a_server_restart_mid_run_loses_no_acknowledged_record() -> None:
    n = 400
    with PrivateServer() as server:

        async def go() -> Tuple[int, int, int, int]:
            bus = await fresh_bus(server.url)
            retry = RetryPolicy(attempts=20, ack_timeout=1.0, base_delay=0.05, max_delay=0.5)
            publisher = bus.publisher(BARS_V1_BARS, producer="test@1", retry=retry)
            acked: List[str] = []
            failed = 0
            for i in range(n):
                if i == n // 4:
                    # Kill -9 and restart once a quarter of the run is acknowledged.
                    await asyncio.get_running_loop().run_in_executor(None, server.restart)
                try:
                    acked.append((await publisher.publish(bars(f"S{i}"))).message_id)
                except NatsError:
                    failed += 1
            stored = await stream_messages(bus, "AMPY_DEV_BARS_V1")
            ids = {headers_of(m)["Nats-Msg-Id"] for m in stored}
            lost = [i for i in acked if i not in ids]
            assert not lost, f"acknowledged but not stored: {lost}"
            assert len(stored) == len(ids), "each message id stored once"
            await bus.close()
            return len(acked), failed, len(stored), len(lost)

        acked, failed, stored, lost = run(go())
        print(
            f"restart: {n} publishes, {acked} acknowledged, {failed} failed, "
            f"{stored} stored, {lost} lost"
        )
        assert acked >= n * 3 // 4, "the publisher rode out the restart"


# ---------------------------------------------------------------------------
# Replay and metrics.


def test_replay_of_a_time_window_and_from_a_sequence(url: str) -> None:
    async def go() -> None:
        bus = await fresh_bus(url)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        marks: List[datetime] = []
        ids: List[str] = []
        for batch in range(3):
            marks.append(datetime.now(timezone.utc))
            for i in range(3):
                ids.append((await publisher.publish(bars(f"B{batch}N{i}"))).message_id)
            await asyncio.sleep(0.1)

        async def collect(c: Any) -> List[str]:
            got: List[str] = []

            async def handle(d: BarsDelivery) -> None:
                got.append(d.headers.message_id)

            async with c:
                await c.drain(handle, IDLE)
            return got

        # [start of batch 1, start of batch 2): exactly batch 1.
        window = await bus.replay(BARS_V1_BARS, Start.time(marks[1]), until=marks[2])
        assert await collect(window) == ids[3:6]
        # From sequence 7: batch 2.
        assert await collect(await bus.replay(BARS_V1_BARS, Start.sequence(7))) == ids[6:9]
        # A window with nothing after its end stops after the last pending record.
        assert await collect(await bus.replay(BARS_V1_BARS, Start.time(marks[2]))) == ids[6:9]
        await bus.close()

    run(go())


def test_prometheus_scrape_shows_the_counters(url: str) -> None:
    async def go() -> str:
        metrics = Metrics()
        bus = await fresh_bus(url, metrics)
        server = await metrics.serve("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        await publisher.publish(bars("AAPL"))
        await publisher.publish(bars("MSFT"))
        await publisher.publish_record(subject("X"), tampered("X", {}, drop=("producer",)))

        async def handle(d: BarsDelivery) -> None:
            pass

        consumer = await bus.consumer(BARS_V1_BARS, "scraped")
        await consumer.drain(handle, IDLE)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        text = (await reader.read()).decode("utf-8")
        writer.close()
        server.close()
        await server.wait_closed()
        await bus.close()
        return text

    text = run(go())
    assert text.startswith("HTTP/1.1 200 OK"), text
    lines = text.split("\r\n\r\n", 1)[1].splitlines()
    for line in [
        'bus_produced_total{topic="bars.v1.bars",producer="test@1"} 3',
        'bus_consumed_total{topic="bars.v1.bars",consumer="scraped"} 2',
        'bus_dlq_total{topic="bars.v1.bars",reason="missing_header"} 1',
        'bus_decode_fail_total{topic="bars.v1.bars",reason="missing_header"} 1',
        'bus_delivery_latency_ms_count{topic="bars.v1.bars"} 2',
        'bus_delivery_latency_ms_bucket{topic="bars.v1.bars",le="+Inf"} 2',
        'bus_schema_info{topic="bars.v1.bars",schema_fqdn="ampy.bars.v1.BarBatch",'
        'schema_hash="sha256:1f3a8d335be3bdf003a5b66b0e3271363f2ef498d5f0de6f0edf9bb8ae654feb"} 1',
        "# TYPE bus_delivery_latency_ms histogram",
    ]:
        assert line in lines, f"missing `{line}` in:\n{text}"
    # No payload bytes or free text in labels: every label is a name or a kind.
    assert "AAPL" not in text and "XNAS" not in text


def test_a_durable_name_serves_one_topic_of_a_stream(url: str) -> None:
    """Trades and quotes share a stream: binding the trades durable for
    quotes would silently read nothing, so it is an error."""

    async def go() -> None:
        bus = await fresh_bus(url)
        await (await bus.consumer(TICKS_V1_TRADE, "ticks-reader")).close()
        with pytest.raises(NatsError) as e:
            await bus.consumer(TICKS_V1_QUOTE, "ticks-reader")
        assert e.value.kind == "config"
        assert "already exists with filter `ampy.dev.ticks.v1.trade.*`" in e.value.message
        # The same topic binds again and resumes.
        await (await bus.consumer(TICKS_V1_TRADE, "ticks-reader")).close()
        await bus.close()

    run(go())


def test_errors_have_kinds_before_anything_is_sent(url: str) -> None:
    async def go() -> None:
        bus = await Bus.connect(url, ENV)
        with pytest.raises(NatsError) as e:
            bus.publisher(BARS_V1_BARS, producer="")
        assert e.value.kind == "config"
        publisher = bus.publisher(BARS_V1_BARS, producer="p@1")
        with pytest.raises(NatsError) as e:
            await publisher.publish(bars("BRK.B"))
        assert e.value.kind == "envelope" and e.value.envelope is not None
        assert e.value.envelope.kind == "illegal_token"
        with pytest.raises(NatsError) as e:
            await publisher.publish_record("ampy.dev.ticks.v1.trade.X", tampered("X", {}))
        assert e.value.kind == "config"
        with pytest.raises(NatsError) as e:
            await bus.consumer(BARS_V1_BARS, "x", filter="ampy.dev.ticks.v1.>")
        assert e.value.kind == "config"
        with pytest.raises(NatsError) as e:
            wire.to_nats([("producer", " padded ")])
        assert e.value.kind == "envelope"
        await bus.close()
        with pytest.raises(NatsError) as e:
            await Bus.connect(url, "staging")
        assert e.value.kind == "config"

    run(go())


# ---------------------------------------------------------------------------
# Provisioning and packaging.


def _edited(layout: Layout, tier: str, **changes: Any) -> Layout:
    """``layout`` with one QoS tier's settings changed: a registry edit."""
    tiers = tuple(dataclasses.replace(t, **changes) if t.name == tier else t for t in layout.tiers)
    return dataclasses.replace(layout, tiers=tiers)


def _verb(report: str, stream: str) -> str:
    """What a provisioning report says about one stream."""
    for line in report.splitlines():
        if line.startswith(stream + " "):
            return line[len(stream) :].strip()
    return ""


def test_provisioning_creates_then_changes_nothing_then_shows_and_guards_edits() -> None:
    with PrivateServer() as server:

        async def go() -> None:
            bus = await Bus.connect(server.url, Env.PROD)
            streams = [p.name for p in bus.plans()]
            assert len(streams) == 14 and "AMPY_PROD_DLQ_V1" in streams

            # --dry-run on an empty server: all would be created, none is.
            report = await bus.provision(dry_run=True)
            assert {s.outcome for s in report.streams} == {"planned"}
            assert "14 streams: 14 would change, 0 unchanged" in str(report), str(report)
            assert await bus.manager.streams_info() == []

            # Empty server: every stream of the env, each as planned.
            report = await bus.provision()
            assert report.changed and not report.refused
            assert "14 streams: 14 created, 0 updated, 0 unchanged\n" in str(report), str(report)
            info = await bus.manager.stream_info("AMPY_PROD_BARS_V1")
            assert info.config.subjects == ["ampy.prod.bars.v1.>"]
            assert info.config.max_age == 72 * 3600 and info.config.duplicate_window == 120

            # A second run: nothing to change, and it says so.
            report = await bus.provision()
            assert not report.changed and report.differs == 0
            assert str(report).endswith("14 unchanged; nothing to change\n"), str(report)

            # The Rust CLI reads the same streams as up to date: one layout.
            cli = os.environ.get("AMPYGEN")
            if cli:
                out = subprocess.run(
                    [cli, "provision", "nats", "--server", server.url, "--env", "prod"],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                assert out.returncode == 0, out.stdout + out.stderr
                assert "nothing to change" in out.stdout, out.stdout

            # An edit that keeps data (a longer duplicate window): shown, applied.
            longer = _edited(LAYOUT, "critical", duplicate_window_ms=300_000)
            edited = Bus(bus.client, Env.PROD, layout=longer)
            report = await edited.provision(dry_run=True)
            text = str(report)
            assert _verb(text, "AMPY_PROD_ORDERS_V1") == "would update", text
            assert "duplicate_window: 2m -> 5m" in text, text
            assert "4 would change, 10 unchanged" in text, text
            assert (
                await bus.manager.stream_info("AMPY_PROD_ORDERS_V1")
            ).config.duplicate_window == 120
            report = await edited.provision()
            assert "0 created, 4 updated, 10 unchanged" in str(report), str(report)
            assert (
                await bus.manager.stream_info("AMPY_PROD_ORDERS_V1")
            ).config.duplicate_window == 300

            # Shorter retention would drop records: refused until allowed.
            await bus.publisher(BARS_V1_BARS, producer="test@1").publish(bars("AAPL"))
            shorter = Bus(
                bus.client, Env.PROD, layout=_edited(longer, "realtime", max_age_ms=86_400_000)
            )
            report = await shorter.provision()
            text = str(report)
            assert report.refused and not report.changed, text
            assert _verb(text, "AMPY_PROD_BARS_V1") == "REFUSED", text
            assert "max_age: 72h -> 24h  (loses stored records)" in text, text
            assert "pass --allow-data-loss" in text, text
            assert (await bus.manager.stream_info("AMPY_PROD_BARS_V1")).config.max_age == 72 * 3600
            report = await shorter.provision(allow_data_loss=True)
            assert report.changed and not report.refused, str(report)
            info = await bus.manager.stream_info("AMPY_PROD_BARS_V1")
            assert info.config.max_age == 24 * 3600 and info.state.messages == 1
            assert "nothing to change" in str(await shorter.provision())

            # A storage change needs the stream re-created: refused as well.
            memory = Bus(bus.client, Env.PROD, layout=_edited(LAYOUT, "standard", storage="memory"))
            report = await memory.provision(dry_run=True)
            text = str(report)
            assert _verb(text, "AMPY_PROD_NEWS_V1") == "REFUSED", text
            assert "storage: file -> memory  (loses stored records)" in text, text
            await bus.close()

        run(go())


def test_the_core_package_does_not_import_nats() -> None:
    """A service without NATS imports every core module and never nats-py."""
    code = (
        "import sys, pkgutil, importlib, ampybus\n"
        "for m in pkgutil.iter_modules(ampybus.__path__, 'ampybus.'):\n"
        "    if m.name != 'ampybus.nats':\n"
        "        mod = importlib.import_module(m.name)\n"
        "        for sub in pkgutil.walk_packages(getattr(mod, '__path__', []), m.name + '.'):\n"
        "            importlib.import_module(sub.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'nats' or n.startswith(('nats.', 'ampybus.nats')))\n"
        "assert not bad, bad\n"
        "print(len([n for n in sys.modules if n.startswith('ampybus')]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 10, "the core modules were imported"


def test_running_on_nats_example(url: str) -> None:
    """examples/python-app/nats_app.py, the example of docs/python.md, on a
    fresh env; the page shows exactly its code."""

    async def provisioned() -> None:
        await (await fresh_bus(url)).close()

    run(provisioned())
    app = ROOT / "examples" / "python-app" / "nats_app.py"
    out = subprocess.run(
        [sys.executable, str(app), url],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == "published and consumed one bar batch\n"
    code = app.read_text("utf-8").split("# docs:start\n")[1].split("# docs:end")[0].rstrip()
    page = (ROOT / "docs" / "python.md").read_text("utf-8").split("## Running on NATS")[1]
    shown = page.split("```python\n")[1].split("```")[0].rstrip()
    assert shown == code, "docs/python.md shows examples/python-app/nats_app.py"


def test_the_benchmark_runs(url: str) -> None:
    """tests/python/bench_nats.py stays runnable: a quick run prints every
    figure (its numbers are read by people, not asserted)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "python" / "bench_nats.py"), "400", "--quick"],
        env=child_env(AMPY_NATS_URL=url),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert sum("typed/raw" in line for line in lines) == 4, out.stdout
    latency = [line for line in lines if "publish -> first delivery" in line]
    assert len(latency) == 2 and all("p99" in line for line in latency), out.stdout


def test_latency_is_measured_from_produced_at() -> None:
    from ampybus.nats.consume import _produced_ms

    stamp = "2025-09-05T19:31:01.250Z"
    want = datetime(2025, 9, 5, 19, 31, 1, 250000, timezone.utc).timestamp() * 1e3
    assert _produced_ms(stamp) == pytest.approx(want)
    assert _produced_ms("2025-09-05T19:31:01Z") == pytest.approx(want - 250)
    assert _produced_ms("2025-09-05T19:31:01.123456789Z") % 1000 == pytest.approx(123.456789)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert abs(_produced_ms(now) - time.time() * 1e3) < 2000
