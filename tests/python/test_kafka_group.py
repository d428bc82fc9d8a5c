"""Kafka consumer groups over several topics (issue 13): ``bus.group`` with
one typed ``route`` per registry topic, on a real broker (nothing mocked).
A list of routes built apart from the call is annotated ``List[Route[Any]]``:
mypy joins ``Route[A]`` and ``Route[B]`` to ``object``.
The routing and per-record rules under test are docs/kafka.md §6's; each
test re-creates the Kafka topics of env ``paper`` and uses its own group
names, as tests/python/test_kafka.py does.
"""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
import sys
from typing import Any, Dict, List, Tuple

import pytest
from confluent_kafka import Producer

from ampybus import BARS_V1_BARS, NEWS_V1_RAW, TICKS_V1_QUOTE, TICKS_V1_TRADE, Env, Envelope, Record
from ampybus.kafka import Bus, Delivery, HandlerError, KafkaError, Metrics, Route, route
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.ticks.v1 import ticks_pb2
from kafka_support import ENV, bootstrap, committed, drop_topics, fresh_topics, headers, read_all
from nats_support import bars
from support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[2]
IDLE = 2.0
BARS = f"ampy.{ENV.value}.bars.v1"
TICKS = f"ampy.{ENV.value}.ticks.v1"
DLQ = f"ampy.{ENV.value}.dlq.v1"
Trades = Delivery[ticks_pb2.TradeBatch]
Quotes = Delivery[ticks_pb2.QuoteBatch]
Bars = Delivery[bars_pb2.BarBatch]


@pytest.fixture
def addr() -> str:
    a = bootstrap()
    fresh_topics(a)
    return a


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def trade(symbol: str, size: int = 100) -> ticks_pb2.TradeBatch:
    """A one-trade batch keyed ``{symbol}.XNAS``, subtopic ``trade.{symbol}``."""
    batch = ticks_pb2.TradeBatch()
    t = batch.trades.add()
    t.security.symbol, t.security.mic = symbol, "XNAS"
    t.size = size
    return batch


def quote(symbol: str) -> ticks_pb2.QuoteBatch:
    """A one-quote batch keyed ``{symbol}.XNAS``, subtopic ``quote.{symbol}``."""
    batch = ticks_pb2.QuoteBatch()
    q = batch.quotes.add()
    q.security.symbol, q.security.mic = symbol, "XNAS"
    return batch


def test_one_group_over_three_routes_delivers_each_record_once_to_its_handler(
    addr: str,
) -> None:
    """ticks.v1.trade and ticks.v1.quote (siblings in ampy.paper.ticks.v1)
    and bars.v1.bars in one group: each typed handler gets exactly its
    topic's records with their payloads, nothing is skipped, every offset is
    committed, and the lag of both Kafka topics is reported per route."""

    async def go() -> None:
        metrics = Metrics()
        bus = await Bus.connect(addr, ENV, observer=metrics)
        trades = [trade(s, i) for i, s in enumerate(["AAPL", "MSFT", "GOOG", "AAPL"])]
        quotes = [quote(s) for s in ["AAPL", "NVDA", "MSFT"]]
        batches = [bars(s) for s in ["AAPL", "TSLA"]]
        sent_t = await bus.publisher(TICKS_V1_TRADE, producer="g@1").publish_all(trades)
        sent_q = await bus.publisher(TICKS_V1_QUOTE, producer="g@1").publish_all(quotes)
        sent_b = await bus.publisher(BARS_V1_BARS, producer="g@1").publish_all(batches)
        assert {p.topic for p in sent_t + sent_q} == {TICKS} and {p.topic for p in sent_b} == {BARS}
        got_t: Dict[str, ticks_pb2.TradeBatch] = {}
        got_q: Dict[str, ticks_pb2.QuoteBatch] = {}
        got_b: Dict[str, bars_pb2.BarBatch] = {}
        calls: List[str] = []

        async def on_trade(d: Trades) -> None:
            assert d.payload is not None and d.info.topic == TICKS
            calls.append(d.headers.message_id)
            got_t[d.headers.message_id] = d.payload

        async def on_quote(d: Quotes) -> None:
            assert d.payload is not None and d.info.topic == TICKS
            calls.append(d.headers.message_id)
            got_q[d.headers.message_id] = d.payload

        async def on_bar(d: Bars) -> None:
            assert d.payload is not None and d.info.topic == BARS
            calls.append(d.headers.message_id)
            got_b[d.headers.message_id] = d.payload

        routes: List[Route[Any]] = [
            route(TICKS_V1_TRADE, on_trade),
            route(TICKS_V1_QUOTE, on_quote),
        ]
        routes.append(route(BARS_V1_BARS, on_bar))
        async with await bus.group("grp-three", routes=routes) as g:
            assert g.kafka_topics == [TICKS, BARS]
            assert g.topics == ["ticks.v1.trade", "ticks.v1.quote", "bars.v1.bars"]
            stats = await g.drain(IDLE)
        assert len(calls) == len(set(calls)) == 9, "each record handled exactly once"
        assert got_t == {p.message_id: b for p, b in zip(sent_t, trades)}
        assert got_q == {p.message_id: b for p, b in zip(sent_q, quotes)}
        assert got_b == {p.message_id: b for p, b in zip(sent_b, batches)}
        assert (stats.received, stats.consumed, stats.skipped) == (9, 9, 0)
        assert (stats.retried, stats.dead_lettered, stats.decode_failures) == (0, 0, 0)
        for topic_id, n in (("ticks.v1.trade", 4), ("ticks.v1.quote", 3), ("bars.v1.bars", 2)):
            labels = [("topic", topic_id), ("consumer", "grp-three")]
            assert metrics.counter("bus_consumed_total", labels) == n
        # The lag of a Kafka topic's partitions, under each route reading it.
        p_t, p_b = sent_t[0].partition, sent_b[0].partition
        assert metrics.lag("ticks.v1.trade", "grp-three", p_t) >= 0
        assert metrics.lag("ticks.v1.quote", "grp-three", p_t) >= 0
        assert metrics.lag("bars.v1.bars", "grp-three", p_b) >= 0
        for p in sent_t + sent_q + sent_b:
            assert committed(addr, "grp-three", p.topic, p.partition) > p.offset
        assert read_all(addr, DLQ) == []

        async def never(d: Delivery[Any]) -> None:
            raise AssertionError("a committed record came back")

        again: List[Route[Any]] = [route(TICKS_V1_TRADE, never), route(TICKS_V1_QUOTE, never)]
        again.append(route(BARS_V1_BARS, never))
        async with await bus.group("grp-three", routes=again) as g2:
            assert (await g2.drain(IDLE)).received == 0, "all committed"
        await bus.close()

    run(go())


def test_a_record_matching_no_route_is_skipped_and_committed(addr: str) -> None:
    """A group routing ticks.v1.trade only, fed quotes on the same Kafka
    topic: they are skipped (never decoded nor dead-lettered) and their
    offsets committed."""

    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        t = await bus.publisher(TICKS_V1_TRADE, producer="g@1").publish(trade("AAPL"))
        q = await bus.publisher(TICKS_V1_QUOTE, producer="g@1").publish(quote("AAPL"))
        # Another quote whose record cannot even be decoded as a quote: a
        # skipped record is never looked at.
        env = Envelope.build(TICKS_V1_QUOTE, quote("MSFT"), producer="o@1", source="o", run_id="r")
        rec = Record(env.encode().headers, b"\xff\xff not a protobuf")
        subject = TICKS_V1_QUOTE.topic_for(quote("MSFT"), ENV)
        bad = await bus.publisher(TICKS_V1_QUOTE, producer="g@1").publish_record(subject, rec)
        seen: List[str] = []

        async def on_trade(d: Trades) -> None:
            seen.append(d.info.subject)

        async with await bus.group("grp-skip", routes=[route(TICKS_V1_TRADE, on_trade)]) as g:
            assert g.kafka_topics == [TICKS]
            stats = await g.drain(IDLE)
        assert seen == [t.subject.text]
        assert (stats.received, stats.consumed, stats.skipped) == (1, 1, 2)
        assert (stats.dead_lettered, stats.decode_failures) == (0, 0)
        assert read_all(addr, DLQ) == []
        for p in (t, q, bad):
            assert committed(addr, "grp-skip", TICKS, p.partition) > p.offset
        await bus.close()

    run(go())


def test_a_record_without_a_key_goes_to_the_first_route_of_its_kafka_topic(
    addr: str,
) -> None:
    """A valid trade record produced with a null key on the ticks topic: a
    group whose first ticks route is quotes hands it to the quote route
    (whose decode refuses the trade's payload type: the DLQ); a group whose
    first ticks route is trades hands it to the trade handler."""

    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        env = Envelope.build(TICKS_V1_TRADE, trade("AAPL"), producer="o@1", source="o", run_id="r")
        rec = env.encode()
        raw = Producer({"bootstrap.servers": addr})
        raw.produce(TICKS, rec.payload, None, partition=0, headers=list(rec.headers))
        assert raw.flush(10) == 0
        got: List[Tuple[str, str]] = []

        async def on_trade(d: Trades) -> None:
            assert d.payload == trade("AAPL")
            got.append(("trade", d.headers.message_id))

        async def on_quote(d: Quotes) -> None:
            got.append(("quote", d.headers.message_id))

        async def on_bar(d: Bars) -> None:
            got.append(("bar", d.headers.message_id))

        quote_first: List[Route[Any]] = [
            route(BARS_V1_BARS, on_bar),
            route(TICKS_V1_QUOTE, on_quote),
        ]
        quote_first.append(route(TICKS_V1_TRADE, on_trade))
        async with await bus.group("grp-nokey-q", routes=quote_first) as g:
            stats = await g.drain(IDLE)
        assert got == [] and (stats.decode_failures, stats.dead_lettered) == (1, 1)
        (letter,) = read_all(addr, DLQ)
        # The quote route's decode: the record names another payload type.
        reason = dict(headers(letter))["dlq_reason"]
        assert reason.startswith(b"unknown_fqdn: ") and reason.endswith(b"TradeBatch"), reason
        assert letter.key() == b"ticks AAPL.XNAS"
        trade_first: List[Route[Any]] = [
            route(TICKS_V1_TRADE, on_trade),
            route(TICKS_V1_QUOTE, on_quote),
        ]
        async with await bus.group("grp-nokey-t", routes=trade_first) as g:
            stats = await g.drain(IDLE)
        assert got == [("trade", env.headers.message_id)]
        assert (stats.consumed, stats.skipped) == (1, 0)
        await bus.close()

    run(go())


def test_a_routes_failures_go_to_its_domains_dlq_while_other_routes_consume(
    addr: str,
) -> None:
    """A trade handler failing permanently dead-letters the trade under the
    ticks DLQ subtopic with its reason; the quote route's own bound
    (max_deliveries=2, an override) ends in the DLQ after two attempts; the
    bars route consumes its records normally."""

    async def go() -> None:
        metrics = Metrics()
        bus = await Bus.connect(addr, ENV, observer=metrics)
        t = await bus.publisher(TICKS_V1_TRADE, producer="g@1").publish(trade("AAPL"))
        q = await bus.publisher(TICKS_V1_QUOTE, producer="g@1").publish(quote("MSFT"))
        sent_b = await bus.publisher(BARS_V1_BARS, producer="g@1").publish_all(
            [bars("AAPL"), bars("MSFT")]
        )
        calls: Dict[str, int] = {"trade": 0, "quote": 0}
        got_b: List[str] = []

        async def on_trade(d: Trades) -> None:
            calls["trade"] += 1
            raise HandlerError.permanent("invalid", "no such venue")

        async def on_quote(d: Quotes) -> None:
            calls["quote"] += 1
            raise HandlerError.retry("db_down", "database unavailable")

        async def on_bar(d: Bars) -> None:
            got_b.append(d.headers.message_id)

        routes: List[Route[Any]] = [
            route(TICKS_V1_TRADE, on_trade),
            route(TICKS_V1_QUOTE, on_quote, max_deliveries=2, nak_backoff=[0.02]),
            route(BARS_V1_BARS, on_bar),
        ]
        async with await bus.group("grp-fail", routes=routes) as g:
            stats = await g.drain(IDLE)
        assert calls == {"trade": 1, "quote": 2}
        assert sorted(got_b) == sorted(p.message_id for p in sent_b)
        assert (stats.consumed, stats.retried, stats.dead_lettered) == (2, 1, 2)
        letters = {m.key(): dict(headers(m)) for m in read_all(addr, DLQ)}
        assert set(letters) == {b"ticks AAPL.XNAS", b"ticks MSFT.XNAS"}
        assert letters[b"ticks AAPL.XNAS"]["dlq_reason"] == b"invalid: no such venue"
        assert letters[b"ticks AAPL.XNAS"]["message_id"] == t.message_id.encode()
        reason = letters[b"ticks MSFT.XNAS"]["dlq_reason"]
        assert reason == b"max_deliveries: db_down: database unavailable"
        assert letters[b"ticks MSFT.XNAS"]["message_id"] == q.message_id.encode()
        dlq = "bus_dlq_total"
        assert metrics.counter(dlq, [("topic", "ticks.v1.trade"), ("reason", "invalid")]) == 1
        assert (
            metrics.counter(dlq, [("topic", "ticks.v1.quote"), ("reason", "max_deliveries")]) == 1
        )
        assert (
            metrics.counter("bus_retry_total", [("topic", "ticks.v1.quote"), ("reason", "db_down")])
            == 1
        )
        labels = [("topic", "bars.v1.bars"), ("consumer", "grp-fail")]
        assert metrics.counter("bus_consumed_total", labels) == 2
        for p in [t, q, *sent_b]:
            assert committed(addr, "grp-fail", p.topic, p.partition) > p.offset
        await bus.close()

    run(go())


def test_a_poison_pill_on_one_route_goes_to_that_routes_dlq(addr: str) -> None:
    """A quote with a wrong schema hash in a group of trades and quotes:
    dead-lettered under the ticks subtopic with ``schema_hash_mismatch``,
    its handler never called; the trade is consumed."""

    async def go() -> None:
        metrics = Metrics()
        bus = await Bus.connect(addr, ENV, observer=metrics)
        t = await bus.publisher(TICKS_V1_TRADE, producer="g@1").publish(trade("AAPL"))
        env = Envelope.build(TICKS_V1_QUOTE, quote("MSFT"), producer="o@1", source="o", run_id="r")
        good = env.encode()
        wrong = "sha256:" + "0" * 64
        rec = Record(
            [(k, wrong if k == "schema_hash" else v) for k, v in good.headers], good.payload
        )
        subject = TICKS_V1_QUOTE.topic_for(env.payload, ENV)
        await bus.publisher(TICKS_V1_QUOTE, producer="g@1").publish_record(subject, rec)
        got: List[Tuple[str, str]] = []

        async def on_trade(d: Trades) -> None:
            got.append(("trade", d.headers.message_id))

        async def on_quote(d: Quotes) -> None:
            got.append(("quote", d.headers.message_id))

        routes: List[Route[Any]] = [
            route(TICKS_V1_TRADE, on_trade),
            route(TICKS_V1_QUOTE, on_quote),
        ]
        async with await bus.group("grp-poison", routes=routes) as g:
            stats = await g.drain(IDLE)
        assert got == [("trade", t.message_id)]
        assert (stats.consumed, stats.decode_failures, stats.dead_lettered) == (1, 1, 1)
        (letter,) = read_all(addr, DLQ)
        h = dict(headers(letter))
        assert h["dlq_reason"] == b"schema_hash_mismatch"
        assert h["message_id"] == env.headers.message_id.encode()
        assert letter.key() == b"ticks MSFT.XNAS" and letter.value() == rec.payload
        labels = [("topic", "ticks.v1.quote"), ("reason", "hash_mismatch")]
        assert metrics.counter("bus_decode_fail_total", labels) == 1
        await bus.close()

    run(go())


def test_group_build_errors_come_before_any_network_io() -> None:
    """No routes, a topic routed twice, an empty name or start: kind
    ``config``, raised by a bus whose broker does not exist (so before the
    broker is asked anything)."""

    async def handle(d: Bars) -> None:
        pass

    async def go() -> List[Tuple[str, str]]:
        # No broker there; librdkafka's log of the refused connection is muted.
        bus = Bus("127.0.0.1:1", Env.PAPER, config={"log_level": 0})
        out: List[Tuple[str, str]] = []
        cases: List[Tuple[str, Any, str]] = [
            ("none", [], "earliest"),
            ("twice", [route(BARS_V1_BARS, handle), route(BARS_V1_BARS, handle)], "earliest"),
            ("", [route(BARS_V1_BARS, handle)], "earliest"),
            ("start", [route(BARS_V1_BARS, handle)], "newest"),
        ]
        for name, routes, start in cases:
            with pytest.raises(KafkaError) as e:
                await bus.group(name, routes=routes, start=start)
            out.append((e.value.kind, e.value.message))
        await bus.close()
        return out

    (none, twice, empty, start) = run(go())
    assert none[0] == "config" and "no routes" in none[1]
    assert twice[0] == "config" and "`bars.v1.bars` is routed twice" in twice[1]
    assert empty[0] == "config" and start[0] == "config"


def test_a_group_over_a_missing_kafka_topic_is_no_topic(addr: str) -> None:
    async def go() -> None:
        drop_topics(addr, [f"ampy.{ENV.value}.news.v1"])
        bus = await Bus.connect(addr, ENV)

        async def handle(d: Delivery[Any]) -> None:
            pass

        with pytest.raises(KafkaError) as e:
            await bus.group(
                "grp-missing", routes=[route(BARS_V1_BARS, handle), route(NEWS_V1_RAW, handle)]
            )
        assert e.value.kind == "no_topic" and "news.v1" in e.value.message
        await bus.close()

    run(go())


def test_the_group_example_runs_and_is_the_one_the_guide_shows(addr: str) -> None:
    """examples/python-app/kafka_group_app.py on fresh topics of env dev;
    docs/python.md shows exactly its code."""
    fresh_topics(addr, 6, Env.DEV)
    app = ROOT / "examples" / "python-app" / "kafka_group_app.py"
    out = subprocess.run(
        [sys.executable, str(app), addr],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == "published three topics and consumed them in one group\n"
    code = app.read_text("utf-8").split("# docs:start\n")[1].split("# docs:end")[0].rstrip()
    page = (ROOT / "docs" / "python.md").read_text("utf-8")
    section = page.split("### Consuming several topics in one group")[1]
    shown = section.split("```python\n")[1].split("```")[0].rstrip()
    assert shown == code, "docs/python.md shows examples/python-app/kafka_group_app.py"
