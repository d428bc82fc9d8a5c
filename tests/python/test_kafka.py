"""The Python Kafka transport on a real broker (nothing mocked): round trips
of the vectors, every failure path of issue 13, per-key order, replay,
partitioning by Java's rule and the metrics. docs/kafka.md is the behaviour
under test.

The tests share the broker scripts/test starts (``AMPY_KAFKA_BOOTSTRAP``);
each drops and re-creates the Kafka topics of env ``paper`` first, with
confluent-kafka's own AdminClient.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gzip
import json
import pathlib
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from ampybus import BARS_V1_BARS, TICKS_V1_QUOTE, TICKS_V1_TRADE, TOPICS, Env, Envelope, Record
from ampybus.errors import HeaderError
from ampybus.kafka import (
    HEADERS,
    LAYOUT,
    Bus,
    Delivery,
    HandlerError,
    KafkaError,
    Metrics,
    Published,
    key_subtopic,
    murmur2,
    partition_for,
    record_size,
    to_positive,
)
from ampybus.kafka.client import take
from ampybus.kafka.publish import produced_ms
from ampybus.kafka.wire import dead_letter, decode_pairs, text_record_size, to_kafka
from ampybus.pb.ampy.bars.v1 import bars_pb2
from kafka_driver import envelope_of, load_vectors, read_keys
from kafka_support import (
    ENV,
    bootstrap,
    committed,
    create_topics,
    drop_topics,
    end_offsets,
    fresh_topics,
    grow,
    headers,
    read_all,
)
from nats_support import bars
from support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "positive"
KEYS = ROOT / "tests" / "vectors" / "kafka"
IDLE = 2.0
BARS = f"ampy.{ENV.value}.bars.v1"
DLQ = f"ampy.{ENV.value}.dlq.v1"
SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "IBM", "ORCL", "INTC"]
BarsDelivery = Delivery[bars_pb2.BarBatch]


@pytest.fixture
def addr() -> str:
    a = bootstrap()
    fresh_topics(a)
    return a


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def tampered(symbol: str, edit: Dict[str, str]) -> Record:
    """A valid bars record from another producer, headers edited."""
    env = Envelope.build(BARS_V1_BARS, bars(symbol), producer="other@1", source="o", run_id="r")
    record = env.encode()
    pairs = [(k, edit.get(k, v)) for k, v in record.headers]
    pairs += [(k, v) for k, v in edit.items() if k not in dict(record.headers)]
    return Record(pairs, record.payload)


def subject(symbol: str) -> Any:
    return BARS_V1_BARS.subject(ENV, "XNAS", symbol)


# ---------------------------------------------------------------------------
# Partitioning: Java's values, no broker needed.


def test_murmur2_and_partition_for_are_javas() -> None:
    """Java's own output (tests/vectors/kafka/partition-keys.tsv, written by
    kafka-clients' Utils.murmur2) for every key, and a few spelled out."""
    keys = read_keys(KEYS / "partition-keys.txt")
    rows = (KEYS / "partition-keys.tsv").read_text("utf-8").splitlines()
    assert len(keys) == len(rows) >= 200
    for key, row in zip(keys, rows):
        cells = row.split("\t")
        assert base64.b64decode(cells[0][2:]) == key
        assert murmur2(key) == int(cells[1]), cells[0]
        got = [partition_for(key, n) for n in (1, 3, 6, 12, 100)]
        assert got == [int(c) for c in cells[2:]], cells[0]
    # From the file's first rows: a bars key, and the empty key (which
    # hashes like any byte string, not like a null key).
    assert murmur2(b"XNAS.AAPL XNAS.AAPL") == 1558336998
    assert murmur2(b"XNAS.MSFT XNAS.MSFT") == -1848314217
    assert partition_for(b"XNAS.MSFT XNAS.MSFT", 12) == 11
    assert b"" in keys
    assert to_positive(-1) == 0x7FFFFFFF and to_positive(-(2**31)) == 0
    # Fewer than one partition counts as one, in every runtime.
    assert partition_for(b"x", 0) == partition_for(b"x", -3) == 0


def _murmur2_line_by_line(data: bytes) -> int:
    """Java's ``Utils.murmur2`` transcribed statement by statement (byte
    reads, one mask per step): the reference of the package's faster form."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(length // 4):
        i4 = i * 4
        k = data[i4] | data[i4 + 1] << 8 | data[i4 + 2] << 16 | data[i4 + 3] << 24
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = length % 4
    end = length - tail
    if tail == 3:
        h ^= data[end + 2] << 16
    if tail >= 2:
        h ^= data[end + 1] << 8
    if tail >= 1:
        h ^= data[end]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def test_murmur2_agrees_with_a_line_by_line_transcription() -> None:
    """Every length up to 300 bytes (all four tails, the precompiled word
    readers and past them), random bytes, high bits set."""
    rng = random.Random(13)
    for length in range(301):
        for _ in range(4):
            data = bytes(rng.getrandbits(8) for _ in range(length))
            assert murmur2(data) == _murmur2_line_by_line(data), data.hex()
        assert murmur2(b"\xff" * length) == _murmur2_line_by_line(b"\xff" * length)


def test_key_subtopic_follows_the_shared_vectors() -> None:
    """tests/vectors/kafka/key-subtopics.tsv: the subtopic each record key
    names, or none (``-``), the rule every runtime's consumer routes by."""
    rows = (KEYS / "key-subtopics.tsv").read_text("utf-8").splitlines()
    assert len(rows) >= 15
    for row in rows:
        key_cell, want_cell = row.split("\t")
        key = None if key_cell == "-" else base64.b64decode(key_cell[2:])
        want = None if want_cell == "-" else base64.b64decode(want_cell[2:]).decode("utf-8")
        assert key_subtopic(key) == want, row


def test_header_mapping_and_record_size() -> None:
    """Names verbatim, UTF-8 values; the reader's rules for duplicates, null
    and non-UTF-8 values; the size formula of docs/kafka.md."""
    assert HEADERS[0] == "message_id" and "schema_hash" in HEADERS and "dlq_reason" in HEADERS
    with pytest.raises(HeaderError) as dup:
        decode_pairs([("producer", b"a"), ("producer", b"b")])
    assert dup.value.kind == "duplicate_header"
    with pytest.raises(HeaderError) as null:
        decode_pairs([("dedupe_key", None)])
    assert null.value.kind == "missing_header"
    with pytest.raises(HeaderError) as bad:
        decode_pairs([("source", b"\xff")])
    assert bad.value.kind == "malformed_header"
    assert decode_pairs([("x-unknown", b"v"), ("run_id", "é".encode())]) == [
        ("x-unknown", "v"),
        ("run_id", "é"),
    ]
    # dlq_reason replaced in place, later copies dropped, bytes kept.
    raw: List[Tuple[str, Any]] = [("a", b"\xff"), ("dlq_reason", b"old"), ("dlq_reason", b"x")]
    raw.append(("z", None))
    assert dead_letter(raw, "new\nreason") == [
        ("a", b"\xff"),
        ("dlq_reason", b"new reason"),
        ("z", None),
    ]
    assert dead_letter([("a", b"1")], "r") == [("a", b"1"), ("dlq_reason", b"r")]
    assert record_size(b"k", b"vv", [("ab", b"xyz"), ("n", None)]) == 82 + 1 + 2 + 15 + 11
    # The publishers measure the envelope pairs without encoding them: the
    # same size as the encoded headers, ASCII or not.
    env = Envelope.build(
        BARS_V1_BARS,
        bars("AAPL"),
        producer="prodücer-日本@1",
        source="sourcé 🎉",
        run_id="r",
        dedupe_key="dédupe ✓",
    )
    cases: List[List[Tuple[str, str]]] = [
        [],
        [("ab", "xyz"), ("n", "")],
        env.encode().headers,
        tampered("AAPL", {}).headers,
        [("naïve", "v"), ("x", "\u00ff"), ("y", "\U0001f389" * 3), ("z", "\u0800")],
    ]
    for pairs in cases:
        for key, value in ((b"", b""), (b"XNAS.AAPL XNAS.AAPL", b"\x00" * 1000)):
            want = record_size(key, value, to_kafka(pairs))
            assert text_record_size(key, value, pairs) == want, pairs
    # Text with no UTF-8 form is refused by both, as before anything is sent.
    for unencodable in ([("a", "ok"), ("b", "\ud800")], [("\udfff", "v")]):
        with pytest.raises(UnicodeEncodeError):
            record_size(b"", b"", to_kafka(unencodable))
        with pytest.raises(UnicodeEncodeError):
            text_record_size(b"", b"", unencodable)
    stamp = "2025-09-05T19:31:01.250Z"
    want = int(datetime(2025, 9, 5, 19, 31, 1, 250000, timezone.utc).timestamp() * 1000)
    assert produced_ms(stamp) == want
    assert produced_ms("2025-09-05T19:31:01Z") == want - 250
    assert produced_ms("2025-09-05T19:31:01.123456789Z") % 1000 == 123


def test_published_is_a_plain_frozen_dataclass() -> None:
    """Published fills its fields without the frozen dataclass's setattr
    per field: the same value as every dataclass way of making one."""
    sub = subject("AAPL")
    p = Published(subject=sub, message_id="m", topic="t", partition=1, offset=2)
    assert p == Published(sub, "m", "t", 1, 2)
    assert hash(p) == hash(Published(sub, "m", "t", 1, 2))
    assert dataclasses.astuple(p) == (sub, "m", "t", 1, 2)
    assert [f.name for f in dataclasses.fields(p)] == [
        "subject",
        "message_id",
        "topic",
        "partition",
        "offset",
    ]
    assert (
        repr(p) == f"Published(subject={sub!r}, message_id='m', topic='t', partition=1, offset=2)"
    )
    assert dataclasses.replace(p, offset=3) == Published(sub, "m", "t", 1, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.offset = 4  # type: ignore[misc]


def test_the_core_package_and_nats_do_not_import_confluent_kafka() -> None:
    """A service without Kafka imports every other module (the NATS
    transport's too) and never confluent-kafka."""
    code = (
        "import sys, pkgutil, importlib, ampybus\n"
        "for m in pkgutil.iter_modules(ampybus.__path__, 'ampybus.'):\n"
        "    if m.name != 'ampybus.kafka':\n"
        "        mod = importlib.import_module(m.name)\n"
        "        for sub in pkgutil.walk_packages(getattr(mod, '__path__', []), m.name + '.'):\n"
        "            importlib.import_module(sub.name)\n"
        "assert 'ampybus.nats.bus' in sys.modules\n"
        "bad = sorted(n for n in sys.modules if n.startswith(('confluent_kafka', 'ampybus.kafka')))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr


# ---------------------------------------------------------------------------
# On the broker.


def test_one_vector_per_topic_round_trips_byte_identical(addr: str) -> None:
    """Typed publish -> typed consume: the record headers are the envelope's,
    names verbatim and in order; values and payload bytes identical; the
    timestamp is produced_at; the key and partition are Java's rule."""
    vectors = load_vectors(VECTORS)
    picked: List[Dict[str, Any]] = []
    for topic in TOPICS:
        picked += [v for v in vectors if v["topic"] == topic][:1]
    picked += [
        v for v in vectors if v["name"] in ("news.raw.gzip_over_128kib", "news.raw.blob_pointer")
    ]

    async def go() -> int:
        bus = await Bus.connect(addr, ENV)
        sent: Dict[str, List[Tuple[List[Tuple[str, str]], bytes, Any]]] = {}
        checks: List[Tuple[str, int, int, bytes, Record, Envelope[Any]]] = []
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
            if v["name"] == "news.raw.gzip_over_128kib":
                raw = base64.b64decode(v["payload_base64"])
                assert record.header("content_encoding") == "gzip"
                assert len(record.payload) < len(raw) and gzip.decompress(record.payload) == raw
            assert dict(record.headers) == v["envelope"]["headers"], v["name"]
            routed = envelope.topic.route(envelope.payload, ENV)
            key = routed.kafka_key.encode("utf-8")
            assert done.topic == routed.kafka_topic
            assert done.partition == partition_for(key, 6), v["name"]
            checks.append((done.topic, done.partition, done.offset, key, record, envelope))
            sent.setdefault(v["topic"], []).append(
                (record.headers, record.payload, envelope.payload)
            )
        # What the broker holds, read with the raw client: key, headers in
        # order, value, timestamp.
        held = {
            (m.topic(), m.partition(), m.offset()): m
            for name in sorted({c[0] for c in checks})
            for m in read_all(addr, name)
        }
        for name, partition, offset, key, record, envelope in checks:
            m = held[(name, partition, offset)]
            assert m.key() == key
            assert headers(m) == [(k, x.encode()) for k, x in record.headers]
            assert m.value() == record.payload
            assert m.timestamp()[1] == produced_ms(envelope.headers.produced_at)
        total = 0
        for topic_id, records in sent.items():
            got: List[Tuple[List[Tuple[str, str]], bytes, Any]] = []
            stop = asyncio.Event()

            async def handle(
                d: Delivery[Any],
                got: List[Any] = got,
                stop: asyncio.Event = stop,
                n: int = len(records),
            ) -> None:
                got.append((d.raw_headers, d.raw_payload, d.payload))
                if len(got) == n:
                    stop.set()

            group = "rt-" + topic_id.replace(".", "-")
            async with await bus.consumer(TOPICS[topic_id], group) as consumer:
                stats = await asyncio.wait_for(consumer.run(handle, stop=stop), 60)
                stats.consumed += (await consumer.drain(handle, 0.3)).consumed
            assert stats.consumed == len(records), topic_id
            # Records of several keys sit on several partitions: match them
            # by message_id.
            got.sort(key=lambda r: dict(r[0])["message_id"])
            records.sort(key=lambda r: dict(r[0])["message_id"])
            for (sh, sb, sp), (gh, gb, gp) in zip(records, got):
                assert sh == gh and sb == gb, topic_id
                if gp is None:
                    assert sb == b"" and "blob_ref" in dict(gh)
                else:
                    assert sp == gp, topic_id
            total += len(got)
        await bus.close()
        return total

    assert run(go()) == len(TOPICS) + 2


def test_both_produce_paths_write_the_same_record_byte_for_byte(addr: str) -> None:
    """Header values go to confluent-kafka as ``str`` (it writes their UTF-8
    bytes): the broker holds exactly ``to_kafka(record.headers)``, non-ASCII
    values included, the key, Java's partition, the value and the
    timestamp, whether the record went out on publish_envelopes' path
    without an await (partition count cached) or through the awaited
    Bus.produce (publish_envelope, publish_record, a bus with no count yet)."""
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "IBM"]

    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        publisher = bus.publisher(
            BARS_V1_BARS, producer="prodücer-日本@1", source="sourcé 🎉", run_id="rün ✓"
        )
        envelopes = [publisher.envelope(bars(s), dedupe_key=f"dédupe {s} ✓") for s in symbols]
        # A fresh bus: the first record awaits the partition count, the
        # rest are queued without an await.
        fast = await publisher.publish_envelopes(envelopes)
        # The awaited path, one record at a time, and an encoded record.
        slow = [await publisher.publish_envelope(e) for e in envelopes]
        relayed = await publisher.publish_record(
            envelopes[0].topic.topic_for(envelopes[0].payload, ENV), envelopes[0].encode()
        )
        await bus.close()
        assert [p.message_id for p in fast] == [p.message_id for p in slow]
        assert relayed.message_id == fast[0].message_id
        by_id: Dict[str, List[Any]] = {}
        for m in read_all(addr, BARS):
            ids = [v for k, v in headers(m) if k == "message_id"]
            assert len(ids) == 1
            by_id.setdefault(ids[0].decode(), []).append(m)
        for e, f, s in zip(envelopes, fast, slow):
            record = e.encode()
            key = e.topic.route(e.payload, ENV).kafka_key.encode("utf-8")
            held = by_id[e.headers.message_id]
            assert len(held) == (3 if e is envelopes[0] else 2)
            assert {(m.partition(), m.offset()) for m in held} >= {
                (f.partition, f.offset),
                (s.partition, s.offset),
            }
            for m in held:
                # The raw client's list as received: (str, bytes) in order.
                assert m.headers() == to_kafka(record.headers)
                assert m.key() == key
                assert m.partition() == partition_for(key, 6)
                assert m.value() == record.payload
                assert m.timestamp()[1] == produced_ms(e.headers.produced_at)
        assert any(b"\xc3\xbc" in v for _, v in to_kafka(envelopes[0].encode().headers))

    run(go())


def test_a_stale_partition_count_is_refreshed_and_the_record_sent_once_more(addr: str) -> None:
    """A cached count larger than the topic's (as after a topic was made
    again with fewer partitions): records hashed past the last partition get
    an unknown-partition report, the count is read again and each is sent
    once more, to Java's partition of the real count; on both produce paths,
    every report in order."""
    symbols = SYMBOLS

    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        publisher = bus.publisher(BARS_V1_BARS, producer="stale@1")
        assert await bus.partitions(BARS) == 6
        keys = [f"XNAS.{s} XNAS.{s}".encode() for s in symbols]
        assert any(partition_for(k, 24) >= 6 for k in keys)
        bus._partitions[BARS] = (24, time.monotonic())  # pyright: ignore[reportPrivateUsage]
        envelopes = [publisher.envelope(bars(s)) for s in symbols]
        fast = await publisher.publish_envelopes(envelopes)
        assert await bus.partitions(BARS) == 6
        bus._partitions[BARS] = (24, time.monotonic())  # pyright: ignore[reportPrivateUsage]
        slow = [await publisher.publish_envelope(e) for e in envelopes]
        await bus.close()
        for published in (fast, slow):
            assert [p.message_id for p in published] == [e.headers.message_id for e in envelopes]
            assert [p.partition for p in published] == [partition_for(k, 6) for k in keys]
        held = read_all(addr, BARS)
        assert len(held) == 2 * len(symbols)
        assert all(m.partition() == partition_for(m.key() or b"", 6) for m in held)

    run(go())


def moving_symbol(a: int, b: int) -> Tuple[str, bytes]:
    """A bars symbol whose Kafka key lands on different partitions over
    ``a`` and over ``b`` partitions, one of them past the first two."""
    for s in SYMBOLS:
        key = subject(s).kafka_key(f"XNAS.{s}").encode()
        pa, pb = partition_for(key, a), partition_for(key, b)
        if pa != pb and max(pa, pb) >= 2:
            return s, key
    raise AssertionError("no symbol moves")


def test_a_topic_that_grows_is_followed_once_the_metadata_is_older_than_its_refresh_interval(
    addr: str,
) -> None:
    """The cached partition count ages like the client's metadata
    (``topic.metadata.refresh.interval.ms``): past it, records go by the
    grown count; within it (the default 5 minutes) by the old one, as from a
    Java producer. On both produce paths."""
    drop_topics(addr, [BARS, DLQ])
    create_topics(addr, [BARS, DLQ], 3)
    symbol, key = moving_symbol(3, 6)
    three, six = partition_for(key, 3), partition_for(key, 6)

    async def go() -> None:
        quick = await Bus.connect(addr, ENV, config={"topic.metadata.refresh.interval.ms": 500})
        slow = await Bus.connect(addr, ENV)
        pq = quick.publisher(BARS_V1_BARS, producer="grows@1")
        ps = slow.publisher(BARS_V1_BARS, producer="grows@1")
        assert (await pq.publish(bars(symbol))).partition == three
        assert (await ps.publish(bars(symbol))).partition == three
        grow(addr, BARS, 6)
        await asyncio.sleep(0.7)
        batch = await pq.publish_envelopes([pq.envelope(bars(symbol)) for _ in range(2)])
        assert [p.partition for p in batch] == [six, six]
        assert (await pq.publish(bars(symbol))).partition == six
        assert (await ps.publish(bars(symbol))).partition == three
        await quick.close()
        await slow.close()

    run(go())
    held = [m.partition() for m in read_all(addr, BARS)]
    assert (held.count(three), held.count(six), len(held)) == (3, 3, 6)


def test_a_topic_made_again_with_fewer_partitions_is_followed_on_the_first_refusal(
    addr: str,
) -> None:
    """A bus that cached 6 partitions, the topic deleted and made with 2:
    the broker's refusal (in the delivery report), and the client's own
    (its metadata refreshed first, before queueing), each re-read the count
    and send the record once more, to Java's partition of 2."""
    symbol, key = moving_symbol(6, 2)
    two = partition_for(key, 2)

    async def go() -> None:
        reported_bus = await Bus.connect(addr, ENV)
        own_bus = await Bus.connect(addr, ENV, config={"topic.metadata.refresh.interval.ms": 100})
        reported = reported_bus.publisher(BARS_V1_BARS, producer="shrinks@1")
        refused = own_bus.publisher(BARS_V1_BARS, producer="shrinks@1")
        for p in (reported, refused):
            assert (await p.publish(bars(symbol))).partition == partition_for(key, 6)
        drop_topics(addr, [BARS])
        create_topics(addr, [BARS], 2)
        assert (await reported.publish(bars(symbol))).partition == two
        await asyncio.sleep(1.0)
        batch = await refused.publish_envelopes([refused.envelope(bars(symbol)) for _ in range(2)])
        assert [p.partition for p in batch] == [two, two]
        assert (await refused.publish(bars(symbol))).partition == two
        await reported_bus.close()
        await own_bus.close()

    run(go())
    assert [m.partition() for m in read_all(addr, BARS)] == [two] * 4


def test_the_metadata_refresh_interval_must_be_milliseconds() -> None:
    with pytest.raises(KafkaError) as e:
        Bus("127.0.0.1:9", ENV, config={"topic.metadata.refresh.interval.ms": "soon"})
    assert e.value.kind == "config" and "milliseconds" in e.value.message


def test_sibling_topics_on_one_kafka_topic_are_kept_apart(addr: str) -> None:
    """ticks.v1.trade and ticks.v1.quote share ampy.paper.ticks.v1: each
    typed consumer gets its own records only (the key's subtopic), and the
    other's are passed over, not dead-lettered."""

    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        vectors = load_vectors(VECTORS, ["ticks.trade.typical", "ticks.quote.typical"])
        trade, quote = (envelope_of(v) for v in vectors)
        a = await bus.publisher(TICKS_V1_TRADE, producer="t@1").publish_envelope(trade)
        b = await bus.publisher(TICKS_V1_QUOTE, producer="t@1").publish_envelope(quote)
        assert a.topic == b.topic == f"ampy.{ENV.value}.ticks.v1"
        seen: List[str] = []

        async def handle(d: Delivery[Any]) -> None:
            seen.append(d.info.subject)

        async with await bus.consumer(TICKS_V1_TRADE, "trades") as c:
            stats = await c.drain(handle, IDLE)
        assert seen == [a.subject.text] and (stats.skipped, stats.dead_lettered) == (1, 0)
        await bus.close()

    run(go())


def test_poison_pills_go_to_the_dlq_with_their_reason(addr: str) -> None:
    async def go() -> None:
        metrics = Metrics()
        bus = await Bus.connect(addr, ENV, observer=metrics)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        wrong = tampered("AAPL", {"schema_hash": "sha256:" + "0" * 64})
        await publisher.publish_record(subject("AAPL"), wrong)
        corrupt = tampered("MSFT", {"content_encoding": "gzip"})
        corrupt.payload = b"\x1f\x8b\x08\x00 not really gzip"
        sent = await publisher.publish_record(subject("MSFT"), corrupt)
        # A record header sent twice, and one with a null value, from a raw
        # producer onto the same partition as MSFT.
        raw = Producer({"bootstrap.servers": addr})
        good = tampered("MSFT", {})
        pairs: List[Tuple[str, Optional[bytes]]] = [(k, v.encode()) for k, v in good.headers]
        extras: List[List[Tuple[str, Optional[bytes]]]] = [
            [("producer", b"twice")],
            [("x-null", None), ("dedupe_key", None)],
        ]
        for extra in extras:
            raw.produce(
                BARS,
                good.payload,
                b"XNAS.MSFT XNAS.MSFT",
                partition=sent.partition,
                headers=list(pairs + extra),
            )
        assert raw.flush(10) == 0

        handled = 0

        async def handle(d: BarsDelivery) -> None:
            nonlocal handled
            handled += 1

        async with await bus.consumer(BARS_V1_BARS, "poison") as consumer:
            stats = await consumer.drain(handle, IDLE)
        assert (handled, stats.dead_lettered, stats.consumed, stats.decode_failures) == (0, 4, 0, 4)

        letters = read_all(addr, DLQ)
        by_id = {dict(headers(m))["message_id"].decode(): m for m in letters}
        assert len(letters) == 4
        first = by_id[wrong.header("message_id") or ""]
        assert dict(headers(first))["dlq_reason"] == b"schema_hash_mismatch"
        assert first.value() == wrong.payload
        assert first.key() == b"bars XNAS.AAPL", "the DLQ subject's subtopic and the partition key"
        assert first.partition() == partition_for(b"bars XNAS.AAPL", 6)
        msft = [m for m in letters if m.key() == b"bars XNAS.MSFT"]
        assert len(msft) == 3
        # Received order on one partition: corrupt gzip, duplicate, null.
        msft.sort(key=lambda m: m.offset() or 0)
        h = headers(msft[0])
        assert dict(h)["dlq_reason"].startswith(b"decode_error: corrupt gzip"), h
        assert msft[0].value() == corrupt.payload
        assert h[:-1] == [(k, v.encode()) for k, v in corrupt.headers], "headers kept in order"
        assert msft[0].timestamp()[1] == produced_ms(corrupt.header("produced_at") or "")
        assert dict(headers(msft[1]))["dlq_reason"].startswith(b"duplicate_header: ")
        null = headers(msft[2])
        raw_null = msft[2].headers() or []
        assert isinstance(raw_null, list)
        assert [v for k, v in raw_null if k == "x-null"] == [None], "null values kept as null"
        assert dict(null)["dlq_reason"].startswith(b"missing_header: ")

        t = ("topic", "bars.v1.bars")
        assert metrics.counter("bus_dlq_total", [t, ("reason", "schema_hash_mismatch")]) == 1
        assert metrics.counter("bus_dlq_total", [t, ("reason", "decode_error")]) == 1
        assert metrics.counter("bus_decode_fail_total", [t, ("reason", "hash_mismatch")]) == 1
        assert metrics.counter("bus_decode_fail_total", [t, ("reason", "corrupt_gzip")]) == 1
        assert metrics.counter("bus_decode_fail_total", [t, ("reason", "duplicate_header")]) == 1
        # Finished and committed: the group gets nothing again.
        async with await bus.consumer(BARS_V1_BARS, "poison") as again:
            assert (await again.drain(handle, IDLE)).received == 0
        await bus.close()

    run(go())


def test_a_handler_failing_twice_then_succeeding_is_called_three_times_and_committed_once(
    addr: str,
) -> None:
    async def go() -> None:
        metrics = Metrics()
        bus = await Bus.connect(addr, ENV, observer=metrics)
        sent = await bus.publisher(BARS_V1_BARS, producer="test@1").publish(bars("AAPL"))
        seen: List[int] = []

        async def handle(d: BarsDelivery) -> None:
            seen.append(d.retry_count)
            if d.retry_count < 2:
                raise HandlerError.retry("flaky", "not yet")

        async with await bus.consumer(BARS_V1_BARS, "flaky", nak_backoff=[0.02]) as consumer:
            stats = await consumer.drain(handle, IDLE)
        assert seen == [0, 1, 2]
        assert (stats.consumed, stats.retried, stats.dead_lettered) == (1, 2, 0)
        assert committed(addr, "flaky", BARS, sent.partition) == sent.offset + 1
        t = ("topic", "bars.v1.bars")
        assert metrics.counter("bus_retry_total", [t, ("reason", "flaky")]) == 2
        assert metrics.counter("bus_consumed_total", [t, ("consumer", "flaky")]) == 1
        assert read_all(addr, DLQ) == []
        async with await bus.consumer(BARS_V1_BARS, "flaky") as again:
            assert (await again.drain(handle, IDLE)).received == 0, "committed once"
        await bus.close()

    run(go())


def test_drain_gets_a_record_produced_before_its_group_join(
    addr: str,
) -> None:
    # Idle counts only once the member holds its partitions: a join that
    # takes longer (seconds on a fresh or busy broker) does not end the drain
    # before the record produced earlier arrives.
    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        sent = await bus.publisher(BARS_V1_BARS, producer="test@1").publish(bars("AAPL"))
        got: List[str] = []

        async def handle(d: BarsDelivery) -> None:
            got.append(d.headers.message_id)

        async with await bus.consumer(BARS_V1_BARS, "short-idle") as consumer:
            await consumer.drain(handle, 1.0)
        assert got == [sent.message_id]
        await bus.close()

    run(go())


def test_a_handler_that_always_fails_ends_in_the_dlq_after_the_bound(addr: str) -> None:
    async def go() -> None:
        metrics = Metrics()
        bus = await Bus.connect(addr, ENV, observer=metrics)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        sent = await publisher.publish(bars("AAPL"))
        await publisher.publish(bars("MSFT"))
        tier = LAYOUT.tier("realtime")
        assert tier is not None and tier.max_deliveries == 3
        calls: Dict[str, int] = {}

        async def handle(d: BarsDelivery) -> None:
            key = d.headers.partition_key
            calls[key] = calls.get(key, 0) + 1
            if key == "XNAS.MSFT":
                raise HandlerError.permanent("invalid", "no such account")
            raise HandlerError.retry("db_down", "database unavailable")

        async with await bus.consumer(BARS_V1_BARS, "doomed", nak_backoff=[0.02]) as consumer:
            assert consumer.max_deliveries == 3
            stats = await consumer.drain(handle, IDLE)
        assert calls == {"XNAS.AAPL": 3, "XNAS.MSFT": 1}
        assert (stats.retried, stats.dead_lettered, stats.consumed) == (2, 2, 0)
        letters = {m.key(): dict(headers(m)) for m in read_all(addr, DLQ)}
        aapl = letters[b"bars XNAS.AAPL"]
        assert aapl["dlq_reason"] == b"max_deliveries: db_down: database unavailable"
        assert aapl["message_id"] == sent.message_id.encode()
        assert letters[b"bars XNAS.MSFT"]["dlq_reason"] == b"invalid: no such account"
        t = ("topic", "bars.v1.bars")
        assert metrics.counter("bus_dlq_total", [t, ("reason", "max_deliveries")]) == 1
        assert metrics.counter("bus_dlq_total", [t, ("reason", "invalid")]) == 1
        assert committed(addr, "doomed", BARS, sent.partition) == sent.offset + 1
        await bus.close()

    run(go())


def test_a_dlq_that_cannot_store_leaves_the_record_unfinished(addr: str) -> None:
    """No DLQ topic: the consumer stops with kind `dlq` and commits nothing,
    so the record comes back once the DLQ exists."""

    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        sent = await bus.publisher(BARS_V1_BARS, producer="test@1").publish(bars("AAPL"))
        drop_topics(addr, [DLQ])

        async def fail(d: BarsDelivery) -> None:
            raise HandlerError.permanent("invalid", "bad")

        consumer = await bus.consumer(BARS_V1_BARS, "nodlq")
        with pytest.raises(KafkaError) as e:
            await consumer.drain(fail, IDLE)
        assert e.value.kind == "dlq"
        await consumer.close()
        assert committed(addr, "nodlq", BARS, sent.partition) < 0
        create_topics(addr, [DLQ])
        got: List[str] = []

        async def ok(d: BarsDelivery) -> None:
            got.append(d.headers.message_id)

        async with await bus.consumer(BARS_V1_BARS, "nodlq") as again:
            await again.drain(ok, IDLE)
        assert got == [sent.message_id]
        await bus.close()

    run(go())


def test_an_oversized_record_is_refused_before_sending(addr: str) -> None:
    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1", max_message_bytes=2048)
        batch = bars("AAPL")
        for _ in range(200):
            bar = batch.bars.add()
            bar.security.symbol, bar.security.mic = "AAPL", "XNAS"
        before = end_offsets(addr, BARS)
        with pytest.raises(KafkaError) as e:
            await publisher.publish(batch)
        assert e.value.kind == "too_large"
        assert "blob pointer" in e.value.message
        assert end_offsets(addr, BARS) == before, "nothing was sent"
        # Exactly at the bound is accepted: the bound from the record's size.
        small = bus.publisher(BARS_V1_BARS, producer="test@1")
        env = small.envelope(bars("AAPL"))
        record = env.encode()
        key = env.topic.route(env.payload, ENV).kafka_key.encode()
        size = record_size(key, record.payload, [(k, v.encode()) for k, v in record.headers])
        exact = bus.publisher(BARS_V1_BARS, producer="test@1", max_message_bytes=size)
        await exact.publish_envelope(env)
        under = bus.publisher(BARS_V1_BARS, producer="test@1", max_message_bytes=size - 1)
        with pytest.raises(KafkaError):
            await under.publish_envelope(env)
        assert sum(end_offsets(addr, BARS).values()) == sum(before.values()) + 1
        # The client's own refusal of a huge record names too_large as well.
        with pytest.raises(KafkaError) as config:
            bus.publisher(BARS_V1_BARS, producer="p", max_message_bytes=10**9)
        assert config.value.kind == "config"
        await bus.close()

    run(go())


def test_a_missing_topic_is_no_topic(addr: str) -> None:
    async def go() -> None:
        drop_topics(addr, [BARS])
        bus = await Bus.connect(addr, ENV)
        with pytest.raises(KafkaError) as e:
            await bus.publisher(BARS_V1_BARS, producer="p@1").publish(bars("AAPL"))
        assert e.value.kind == "no_topic" and "provision" in e.value.message
        await bus.close()
        with pytest.raises(KafkaError) as c:
            await Bus.connect("127.0.0.1:1", ENV, connect_timeout=1.0)
        assert c.value.kind == "connect"

    run(go())


_KILLED = """
import asyncio, os, sys
from ampybus import BARS_V1_BARS
from ampybus.kafka import Bus

async def main():
    # The broker's shortest session: the group notices the death sooner.
    bus = await Bus.connect(sys.argv[1], sys.argv[2], config={"session.timeout.ms": 6000})
    consumer = await bus.consumer(BARS_V1_BARS, "killed")

    async def handle(d):
        print(d.headers.message_id, flush=True)
        await asyncio.sleep(1.5)  # past an auto-commit tick: nothing stored
        os._exit(9)  # killed after handling, before the offset is stored

    await consumer.run(handle)

asyncio.run(main())
"""


def test_a_consumer_killed_before_commit_redelivers_on_restart(addr: str) -> None:
    async def publish() -> str:
        bus = await Bus.connect(addr, ENV)
        sent = await bus.publisher(BARS_V1_BARS, producer="test@1").publish(bars("AAPL"))
        await bus.close()
        return sent.message_id

    message_id = run(publish())
    out = subprocess.run(
        [sys.executable, "-c", _KILLED, addr, ENV.value],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 9, out.stderr
    assert out.stdout.split() == [message_id]

    async def restart() -> List[str]:
        bus = await Bus.connect(addr, ENV)
        got: List[str] = []

        stop = asyncio.Event()

        async def handle(d: BarsDelivery) -> None:
            got.append(d.headers.message_id)
            stop.set()

        # The killed member's session lapses first, then the group hands
        # its partitions out again.
        async with await bus.consumer(BARS_V1_BARS, "killed") as c:
            await asyncio.wait_for(c.run(handle, stop=stop), 90)
            await c.drain(handle, IDLE)
        await bus.close()
        return got

    assert run(restart()) == [message_id]


def test_a_thousand_records_of_one_key_are_consumed_in_order(addr: str) -> None:
    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        batches = []
        for i in range(1000):
            b = bars("AAPL")
            b.bars[0].volume = i
            batches.append(b)
        done = await publisher.publish_all(batches)
        assert len({d.partition for d in done}) == 1
        assert [d.offset for d in done] == list(range(done[0].offset, done[0].offset + 1000))
        seen: List[int] = []

        async def handle(d: BarsDelivery) -> None:
            assert d.payload is not None
            seen.append(d.payload.bars[0].volume)

        async with await bus.consumer(BARS_V1_BARS, "order") as c:
            await c.drain(handle, IDLE)
        assert seen == list(range(1000))
        await bus.close()

    run(go())


def test_replay_of_a_window_returns_exactly_the_records_inside(addr: str) -> None:
    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        publisher = bus.publisher(BARS_V1_BARS, producer="test@1")
        base = datetime(2025, 9, 5, 12, 0, tzinfo=timezone.utc)
        symbols = ["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA"]
        envs = []
        for i in range(12):
            at = base + timedelta(minutes=i)
            stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            env = Envelope.build(
                BARS_V1_BARS,
                bars(symbols[i % 6]),
                producer="test@1",
                source="t",
                run_id="r",
                produced_at=stamp,
            )
            envs.append(env)
        await publisher.publish_envelopes(envs[:5])
        # A poison pill inside the window: reported, not dead-lettered.
        wrong = tampered(
            "AAPL",
            {"produced_at": "2025-09-05T12:04:30.000Z", "schema_hash": "sha256:" + "0" * 64},
        )
        await publisher.publish_record(subject("AAPL"), wrong)
        # A partition stops at its first record at or after the end: later
        # ones are not read even when their timestamps are inside.
        await publisher.publish_envelopes(envs[5:])
        got: List[str] = []

        async def handle(d: BarsDelivery) -> None:
            got.append(d.headers.produced_at)

        start, end = base + timedelta(minutes=3), base + timedelta(minutes=9)
        stats = await bus.replay(BARS_V1_BARS, start, end, handle)
        want = [e.headers.produced_at for e in envs[3:9]]
        assert sorted(got) == want
        assert stats.decode_failures == 1 and stats.dead_lettered == 0
        assert [f.reason for f in stats.failures] == ["schema_hash_mismatch"]
        assert read_all(addr, DLQ) == []
        # An empty window, and one past every record.
        assert (await bus.replay(BARS_V1_BARS, start, start, handle)).received == 0
        late = base + timedelta(days=1)
        assert (
            await bus.replay(BARS_V1_BARS, late, late + timedelta(hours=1), handle)
        ).received == 0
        await bus.close()

    run(go())


def test_prometheus_scrape_shows_the_counters_and_the_lag(addr: str) -> None:
    async def go() -> str:
        metrics = Metrics()
        bus = await Bus.connect(addr, ENV, observer=metrics)
        publisher = bus.publisher(BARS_V1_BARS, producer="scrape@1")
        await publisher.publish_all([bars(s) for s in ("AAPL", "AAPL", "AAPL")])
        stop = asyncio.Event()
        seen = 0

        async def handle(d: BarsDelivery) -> None:
            nonlocal seen
            seen += 1
            await asyncio.sleep(0.6)  # slow: the lag is measured meanwhile
            if seen == 3:
                stop.set()

        async with await bus.consumer(BARS_V1_BARS, "scrape", batch=1) as c:
            await asyncio.wait_for(c.run(handle, stop=stop), 60)
        server = await metrics.serve()
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        body = (await reader.read()).decode()
        writer.close()
        server.close()
        await bus.close()
        return body

    body = run(go())
    assert 'bus_produced_total{topic="bars.v1.bars",producer="scrape@1"} 3' in body
    assert 'bus_consumed_total{topic="bars.v1.bars",consumer="scrape"} 3' in body
    assert "# TYPE bus_consumer_lag gauge" in body
    p = partition_for(b"XNAS.AAPL XNAS.AAPL", 6)
    lag = [
        line
        for line in body.splitlines()
        if line.startswith(
            f'bus_consumer_lag{{topic="bars.v1.bars",consumer="scrape",partition="{p}"}}'
        )
    ]
    assert len(lag) == 1 and int(lag[0].split()[-1]) in (0, 1, 2), body


def _driver(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "python" / "kafka_driver.py"), *args],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_matrix_driver_python_to_python(addr: str) -> None:
    vectors = load_vectors(VECTORS)
    topics = ["bars.v1.bars", "news.v1.raw", "orders.v1.requests"]
    picked = [v for v in vectors if v["topic"] in topics]
    common = ("--bootstrap", addr, "--env", ENV.value)
    names = ",".join(v["name"] for v in picked)
    published = _driver("publish", *common, "--vectors", str(VECTORS), "--names", names)
    assert published.returncode == 0, published.stderr
    assert published.stdout.splitlines()[-1] == f"published {len(picked)}"
    repeated = _driver(
        "publish", *common, "--vectors", str(VECTORS), "--names", "orders.submit_limit",
        "--repeat", "30",
    )  # fmt: skip
    assert repeated.returncode == 0 and repeated.stdout.endswith("published 30\n")
    for topic_id in topics:
        want = [v for v in picked if v["topic"] == topic_id]
        extra = 30 if topic_id == "orders.v1.requests" else 0
        consumed = _driver(
            "consume", *common, "--topic", topic_id, "--group", "m-" + topic_id,
            "--count", str(len(want) + extra), "--timeout-ms", "30000",
        )  # fmt: skip
        assert consumed.returncode == 0, consumed.stderr
        lines = [json.loads(line) for line in consumed.stdout.splitlines()]
        seq = [x["headers"]["run_id"] for x in lines if x["headers"]["run_id"].startswith("seq-")]
        assert seq == [f"seq-{i:06d}" for i in range(extra)]
        lines = [x for x in lines if not x["headers"]["run_id"].startswith("seq-")]
        by_id = {x["headers"]["message_id"]: x for x in lines}
        assert len(by_id) == len(want), topic_id
        for v in want:
            line = by_id[v["envelope"]["headers"]["message_id"]]
            envelope = envelope_of(v)
            assert list(line) == sorted(line)
            assert line["headers"] == v["envelope"]["headers"], v["name"]
            body = base64.b64decode(line["payload_base64"])
            sent = base64.b64decode(v["envelope"]["body_base64"])
            if line["headers"].get("content_encoding") == "gzip":
                assert gzip.decompress(body) == gzip.decompress(sent)
            elif v.get("bytes_exact", True):
                assert body == sent, v["name"]
            assert line["subject"] == envelope.topic.topic_for(envelope.payload, ENV).text
    late = _driver(
        "consume", *common, "--topic", "bars.v1.bars", "--group", "m-bars.v1.bars",
        "--count", "1", "--timeout-ms", "1500",
    )  # fmt: skip
    assert late.returncode == 1 and late.stdout == "", late.stdout + late.stderr
    assert _driver("consume", *common, "--topic", "no.such", "--group", "x").returncode == 2


def test_latency_of_a_record_is_measured_from_produced_at() -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert abs(produced_ms(now) - time.time() * 1e3) < 2000


def test_running_on_kafka_example(addr: str) -> None:
    """examples/python-app/kafka_app.py, the example of docs/python.md, on
    fresh topics of env dev; the page shows exactly its code."""
    fresh_topics(addr, 6, Env.DEV)
    app = ROOT / "examples" / "python-app" / "kafka_app.py"
    out = subprocess.run(
        [sys.executable, str(app), addr],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == "published and consumed one bar batch\n"
    code = app.read_text("utf-8").split("# docs:start\n")[1].split("# docs:end")[0].rstrip()
    page = (ROOT / "docs" / "python.md").read_text("utf-8").split("## Running on Kafka")[1]
    shown = page.split("```python\n")[1].split("```")[0].rstrip()
    assert shown == code, "docs/python.md shows examples/python-app/kafka_app.py"


def test_the_benchmark_runs(addr: str) -> None:
    """tests/python/bench_kafka.py stays runnable: a quick run prints every
    figure (its numbers are read by people, not asserted)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "python" / "bench_kafka.py"), "400", "--quick"],
        env=child_env(str(ROOT / "tests" / "python"), AMPY_KAFKA_BOOTSTRAP=addr),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert sum("typed/raw" in line for line in lines) == 4, out.stdout
    assert sum("floor/raw" in line for line in lines) == 2, out.stdout
    latency = [line for line in lines if "produce -> first delivery" in line]
    assert len(latency) == 2 and all("p99" in line for line in latency), out.stdout


def test_a_record_on_a_quiet_topic_does_not_wait_for_a_full_batch(addr: str) -> None:
    """The consumers fetch with ``client.take``: it returns as soon as one
    record is there, then takes only what is already fetched.
    ``Consumer.consume(256, wait)`` alone holds a lone record until ``wait``
    has passed (measured: the whole wait, with confluent-kafka 2.16), so a
    record on a topic slower than the batch would wait up to the member's
    half-second poll before its handler ran. The wait here is 20 s, so
    only a call that returns early passes."""
    consumer = Consumer(
        {
            "bootstrap.servers": addr,
            "group.id": "ampy-test-take-" + str(time.time_ns()),
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.assign([TopicPartition(BARS, 0, 0)])
        assert take(consumer, 256, 0.2) == []
        producer = Producer({"bootstrap.servers": addr})
        producer.produce(BARS, b"one", b"k", partition=0)
        assert producer.flush(10) == 0
        start = time.monotonic()
        got = take(consumer, 256, 20.0)
        took = time.monotonic() - start
        assert [m.value() for m in got if m.error() is None] == [b"one"]
        assert took < 10.0, f"take waited {took:.1f} s for a batch that could not fill"
        for i in range(5):
            producer.produce(BARS, b"more %d" % i, b"k", partition=0)
        assert producer.flush(10) == 0
        more: List[bytes] = []
        deadline = time.monotonic() + 20.0
        while len(more) < 5 and time.monotonic() < deadline:
            more += [m.value() or b"" for m in take(consumer, 3, 1.0) if m.error() is None]
        assert more == [b"more %d" % i for i in range(5)]
    finally:
        consumer.close()


def test_a_member_joining_mid_run_loses_nothing(addr: str) -> None:
    """Two consumers of one group, the second joining while the first runs
    (a rebalance, when it lands before the first is done): every record is
    handled by one of them; revoked partitions' finished offsets are
    committed, so nothing is lost (a record in flight may come twice)."""

    async def go() -> None:
        bus = await Bus.connect(addr, ENV)
        symbols = [f"S{i:02d}" for i in range(60)]
        sent = await bus.publisher(BARS_V1_BARS, producer="t@1").publish_all(
            [bars(s) for s in symbols]
        )
        assert len({p.partition for p in sent}) == 6
        seen: Dict[str, List[str]] = {"a": [], "b": []}
        stop = asyncio.Event()

        def handler(name: str) -> Any:
            async def handle(d: BarsDelivery) -> None:
                seen[name].append(d.headers.message_id)
                await asyncio.sleep(0.05)  # slow enough for b to join meanwhile
                if len(set(seen["a"] + seen["b"])) == len(sent):
                    stop.set()

            return handle

        a = await bus.consumer(BARS_V1_BARS, "pair", batch=5)
        b = await bus.consumer(BARS_V1_BARS, "pair", batch=5)
        # b joins while a runs: the group rebalances, a commits what it
        # finished before its partitions go.
        runs = [
            asyncio.ensure_future(a.run(handler("a"), stop=stop)),
            asyncio.ensure_future(b.run(handler("b"), stop=stop)),
        ]
        await asyncio.wait_for(asyncio.gather(*runs), 90)
        await a.close()
        await b.close()
        got = seen["a"] + seen["b"]
        assert sorted(set(got)) == sorted(p.message_id for p in sent), "every record handled"
        await bus.close()

    run(go())
