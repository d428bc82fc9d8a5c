"""The typed Kafka layer against raw confluent-kafka, side by side on one
loopback broker: 1 KiB payloads, produce throughput with every delivery
report awaited, consume throughput with an offset stored per record, and
produce -> first delivery latency at a steady 2,000 msg/s against the
contract's SLOs. Prints numbers; asserts nothing about speed.

    PYTHONPATH=gen/python .venv/bin/python tests/python/bench_kafka.py [N] [--quick]

Uses the broker at ``AMPY_KAFKA_BOOTSTRAP`` (env ``dev``, whose Kafka topics
it drops and re-creates with 6 partitions), or starts none: set it (source
scripts/lib/kafka.sh; kafka_start). The raw side sends the typed side's
bytes, key and headers with the same producer settings (idempotent,
acks=all, linger 5 ms, no compression) and librdkafka's own partitioner, so
only the layer differs.

What each side does, per record:

- produce, typed: ``Publisher.publish_envelopes`` of built envelopes (topic,
  key and headers from the bindings, Java's murmur2 partition, size
  pre-check, encode, produce, every delivery report awaited, metrics).
  Raw: what a hand-written service does: serialize the payload, encode the
  same header values, ``Producer.produce`` with the same key, every
  delivery report awaited (``flush``).
- consume, typed: ``Consumer.run`` (batches of 500; header contract, schema
  hash and gzip checks, protobuf decode, handler, offset stored after the
  handler, metrics). Raw: what a hand-written confluent-kafka service does
  with the same bytes: ``consume(500)``, read the message id and schema
  headers, check the schema name, parse the payload into ``NewsItem``,
  store the offset (auto-commit of stored offsets on both sides).
- consume, floor: the raw consumer plus only what any typed async API
  costs per record: a ``DeliveryInfo`` and a ``Delivery`` built and an
  ``async`` handler awaited, no checks. Its ratio to raw is the least a
  layer with a per-record async handler can reach in Python; the typed
  side's ratio over it is what the contract's checks and the layer add.
- latency: the typed and raw consumers, in another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple, Union, cast

from confluent_kafka import Consumer, KafkaError, Message, Producer

from ampybus import NEWS_V1_RAW, Env, Envelope
from ampybus.kafka import Bus, Delivery, DeliveryInfo, Metrics, Observer
from ampybus.pb.ampy.news.v1 import news_pb2
from kafka_support import fresh_topics

ENV = Env.DEV
TOPIC = f"ampy.{ENV.value}.news.v1"
PRODUCER: Dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "none",
    "linger.ms": 5,
}


def payload(i: int) -> news_pb2.NewsItem:
    """A news item whose encoding is exactly 1 KiB."""
    item = news_pb2.NewsItem(id=f"bench:{i:08}", headline="x" * 1000)
    item.headline = "x" * (1000 - (item.ByteSize() - 1024))
    assert item.ByteSize() == 1024, item.ByteSize()
    return item


def envelope(i: int) -> Envelope[news_pb2.NewsItem]:
    return Envelope.build(NEWS_V1_RAW, payload(i), producer="bench@1", source="bench", run_id="r")


FQDN = news_pb2.NewsItem.DESCRIPTOR.full_name


def raw_handle(m: Message) -> Tuple[str, news_pb2.NewsItem]:
    """A hand-written consumer's work on a record: the headers it needs
    (message id, schema name, checked) and the payload parsed."""
    message_id = schema = b""
    # Records from another client: a list of (name, bytes).
    for k, v in cast(List[Tuple[str, bytes]], m.headers() or []):
        if k == "message_id":
            message_id = v or b""
        elif k == "schema_fqdn":
            schema = v or b""
    if schema.decode() != FQDN:
        raise ValueError(f"unexpected schema {schema!r}")
    return message_id.decode(), news_pb2.NewsItem.FromString(m.value() or b"")


# What a hand-written producer holds: the key, the payload and the header
# values (the typed side's); it serializes and encodes per record.
RawRecord = Tuple[bytes, news_pb2.NewsItem, List[Tuple[str, str]]]


def raw_record(e: Envelope[news_pb2.NewsItem]) -> RawRecord:
    """Key, payload and header values as the typed publisher writes them."""
    key = NEWS_V1_RAW.route(e.payload, ENV).kafka_key.encode()
    return key, e.payload, e.encode().headers


def per_record(seconds: float, count: int) -> float:
    return seconds / max(count, 1)


def report(what: str, typed: float, raw: float, side: str = "typed") -> None:
    print(
        f"{what:<30} {side} {typed * 1e6:8.1f} µs/record ({1 / typed:7.0f}/s)   "
        f"raw confluent-kafka {raw * 1e6:8.1f} µs/record ({1 / raw:7.0f}/s)   "
        f"{side}/raw {typed / raw:.2f}x",
        flush=True,
    )


async def floor_handler(d: Delivery[news_pb2.NewsItem]) -> None:
    """The floor side's handler: does nothing (the typed side's only counts)."""


async def floor_handle(m: Message) -> None:
    """:func:`raw_handle`, then what a typed async API adds at the least:
    the delivery objects and an awaited handler (no checks)."""
    _, item = raw_handle(m)
    info = DeliveryInfo(
        m.topic() or TOPIC, m.partition() or 0, m.offset() or 0, m.timestamp()[1], "", TOPIC, 0
    )
    await floor_handler(Delivery(cast(Any, None), item, None, info, [], m.value() or b""))


def raw_produce(producer: Producer, records: List[RawRecord]) -> None:
    """Produces every record and waits for every delivery report."""
    failed: List[str] = []

    def done(err: Optional[KafkaError], _: Message) -> None:
        if err is not None:
            failed.append(err.str())

    for key, item, pairs in records:
        value = item.SerializeToString()
        headers: List[Tuple[str, Union[str, bytes, None]]] = [(k, v.encode()) for k, v in pairs]
        while True:
            try:
                producer.produce(TOPIC, value, key, on_delivery=done, headers=headers)
                break
            except BufferError:
                producer.poll(0.001)
        producer.poll(0)
    producer.flush(30)
    assert not failed, failed[:3]


def observer() -> Optional[Observer]:
    """AMPY_BENCH_METRICS=1: the typed side reports to the built-in
    Prometheus metrics instead of the no-op observer, so their cost shows."""
    return Metrics() if os.environ.get("AMPY_BENCH_METRICS") == "1" else None


async def throughput(addr: str, n: int) -> None:
    fresh_topics(addr, 6, ENV)
    bus = await Bus.connect(addr, ENV, observer=observer())
    publisher = bus.publisher(NEWS_V1_RAW, producer="bench@1", source="bench", run_id="r")
    typed = [envelope(i) for i in range(n)]
    raw = [raw_record(envelope(i)) for i in range(n)]
    producer = Producer({"bootstrap.servers": addr, **PRODUCER})
    print(
        f"Kafka on loopback (one KRaft broker, 6 partitions), confluent-kafka, "
        f"1 KiB payloads, {n} records each",
        flush=True,
    )
    # Alternate the two in rounds (the machine's load drifts) and keep each
    # side's median round; a round sends all its records, then awaits all
    # delivery reports.
    rounds = 10
    size = n // rounds
    typed_rounds: List[float] = []
    raw_rounds: List[float] = []
    # CPU seconds of this process (client threads included): on a loaded
    # machine the steadier figure of what each layer costs.
    typed_cpu: List[float] = []
    raw_cpu: List[float] = []
    for r in range(rounds):
        t, cpu = time.perf_counter(), time.process_time()
        await publisher.publish_envelopes(typed[r * size : (r + 1) * size])
        typed_rounds.append(per_record(time.perf_counter() - t, size))
        typed_cpu.append(per_record(time.process_time() - cpu, size))
        t, cpu = time.perf_counter(), time.process_time()
        raw_produce(producer, raw[r * size : (r + 1) * size])
        raw_rounds.append(per_record(time.perf_counter() - t, size))
        raw_cpu.append(per_record(time.process_time() - cpu, size))
    report(
        "produce, reports awaited", statistics.median(typed_rounds), statistics.median(raw_rounds)
    )
    report("produce CPU", statistics.median(typed_cpu), statistics.median(raw_cpu))

    # Consume what both sides produced with two groups: the typed consumer
    # (decode, handler, offset stored) and a raw consumer storing each
    # offset, same settings, alternating rounds of `size` records.
    total = 2 * rounds * size
    taken = 0
    stop = asyncio.Event()

    async def count(d: Delivery[news_pb2.NewsItem]) -> None:
        nonlocal taken
        taken += 1
        if taken >= size:
            stop.set()

    consumer = await bus.consumer(NEWS_V1_RAW, "bench-typed-" + uuid.uuid4().hex, batch=500)
    plain = Consumer(
        {
            "bootstrap.servers": addr,
            "group.id": "bench-raw-" + uuid.uuid4().hex,
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
        }
    )
    plain.subscribe([TOPIC])
    floor = Consumer(
        {
            "bootstrap.servers": addr,
            "group.id": "bench-floor-" + uuid.uuid4().hex,
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
        }
    )
    floor.subscribe([TOPIC])
    buffered: List[Message] = []
    floor_buffered: List[Message] = []
    typed_rounds, raw_rounds, floor_rounds = [], [], []
    typed_cpu, raw_cpu, floor_cpu = [], [], []
    for _ in range(total // size):
        taken = 0
        stop.clear()
        t, cpu = time.perf_counter(), time.process_time()
        await consumer.run(count, stop=stop)
        typed_rounds.append(per_record(time.perf_counter() - t, taken))
        typed_cpu.append(per_record(time.process_time() - cpu, taken))
        got = 0
        t, cpu = time.perf_counter(), time.process_time()
        while got < size:
            if not buffered:
                buffered = [m for m in plain.consume(500, 1.0) if m.error() is None]
                continue
            m = buffered.pop(0)
            raw_handle(m)
            plain.store_offsets(message=m)
            got += 1
        raw_rounds.append(per_record(time.perf_counter() - t, got))
        raw_cpu.append(per_record(time.process_time() - cpu, got))
        got = 0
        t, cpu = time.perf_counter(), time.process_time()
        while got < size:
            if not floor_buffered:
                floor_buffered = [m for m in floor.consume(500, 1.0) if m.error() is None]
                continue
            m = floor_buffered.pop(0)
            await floor_handle(m)
            floor.store_offsets(message=m)
            got += 1
        floor_rounds.append(per_record(time.perf_counter() - t, got))
        floor_cpu.append(per_record(time.process_time() - cpu, got))
    await consumer.close()
    plain.close()
    floor.close()
    raw_wall, raw_cpu_median = statistics.median(raw_rounds), statistics.median(raw_cpu)
    report("consume, decode + store", statistics.median(typed_rounds), raw_wall)
    report("consume CPU", statistics.median(typed_cpu), raw_cpu_median)
    report("consume, floor (no checks)", statistics.median(floor_rounds), raw_wall, "floor")
    report("consume CPU, floor", statistics.median(floor_cpu), raw_cpu_median, "floor")
    await bus.close()


async def latency_consumer(addr: str, total: int, raw: bool) -> None:
    """The consuming service of the latency run (its own process): prints
    ``ready`` once it owns the partitions, then one ``<message_id> <wall
    clock ns>`` line per record, then ``done``. ``raw``: a plain
    confluent-kafka consumer that reads the headers, parses the payload
    (:func:`raw_handle`) and stores the offset."""
    seen: List[Tuple[str, int]] = []
    limit = total / 100 + 30
    group = "bench-latency-" + uuid.uuid4().hex
    if raw:
        c = Consumer(
            {
                "bootstrap.servers": addr,
                "group.id": group,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
            }
        )
        c.subscribe([TOPIC])
        while not c.assignment():
            c.poll(0.05)
        print("ready", flush=True)
        deadline = time.monotonic() + limit
        while len(seen) < total and time.monotonic() < deadline:
            # The first record as soon as it is there, then what is already
            # fetched (as the typed consumer's ``take``): ``consume(100,
            # 0.05)`` alone would hold each batch until it had 100 records or
            # 50 ms had passed.
            first = c.poll(0.05)
            if first is None:
                continue
            for m in [first, *c.consume(99, 0)]:
                if m.error() is not None:
                    continue
                message_id, _ = raw_handle(m)
                at = time.time_ns()
                c.store_offsets(message=m)
                seen.append((message_id, at))
        c.close()
    else:
        bus = await Bus.connect(addr, ENV, observer=observer())
        consumer = await bus.consumer(NEWS_V1_RAW, group, batch=100)
        stop = asyncio.Event()

        async def handle(d: Delivery[news_pb2.NewsItem]) -> None:
            seen.append((d.headers.message_id, time.time_ns()))
            if len(seen) >= total:
                stop.set()

        while not consumer.raw.assignment():
            await consumer.drain(handle, 0.05)
        print("ready", flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(consumer.run(handle, stop=stop), limit)
        await consumer.close()
        await bus.close()
    sys.stdout.write("".join(f"{m} {t}\n" for m, t in seen) + "done\n")


async def latency(addr: str, rate: float, seconds: float, raw: bool) -> None:
    """Produce at a steady rate without waiting for each report before the
    next send, while a consumer in another process records each record's
    first delivery; both stamp the same wall clock."""
    fresh_topics(addr, 6, ENV)
    bus = await Bus.connect(addr, ENV, observer=observer())
    publisher = bus.publisher(NEWS_V1_RAW, producer="bench@1", source="bench", run_id="r")
    producer = Producer({"bootstrap.servers": addr, **PRODUCER})
    total = int(rate * seconds)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--latency-consumer",
        addr,
        str(total),
        "raw" if raw else "typed",
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    ready = await proc.stdout.readline()
    assert ready == b"ready\n", ready
    envelopes = [envelope(i) for i in range(total)]
    records = [raw_record(e) for e in envelopes]
    sent: Dict[str, int] = {}
    inflight: List[Any] = []
    behind = 0.0
    start = time.perf_counter()
    for i, e in enumerate(envelopes):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            behind = max(behind, -wait)
        sent[e.headers.message_id] = time.time_ns()
        if raw:
            key, item, pairs = records[i]
            headers: List[Tuple[str, Union[str, bytes, None]]] = [(k, v.encode()) for k, v in pairs]
            producer.produce(TOPIC, item.SerializeToString(), key, headers=headers)
            producer.poll(0)
        else:
            inflight.append(asyncio.ensure_future(publisher.publish_envelope(e)))
    await asyncio.gather(*inflight)
    producer.flush(30)
    sent_in = time.perf_counter() - start
    out, _ = await proc.communicate()
    await bus.close()
    lat: List[float] = []
    for line in out.decode("ascii").splitlines():
        if line == "done":
            break
        message_id, at = line.split()
        if message_id in sent:
            lat.append((int(at) - sent[message_id]) / 1e6)
    side = "raw confluent-kafka" if raw else "typed              "
    if not lat:
        print(f"{side} produce -> first delivery: no deliveries", flush=True)
        return
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(int(len(lat) * p), len(lat) - 1)]

    print(
        f"{side} produce -> first delivery at {rate:.0f} msg/s for {seconds:.0f} s "
        f"({len(lat)} of {total}, sent in {sent_in:.2f} s, "
        f"schedule slip max {behind * 1e3:.0f} ms): "
        f"p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {lat[-1]:.1f} ms",
        flush=True,
    )


def main(argv: List[str]) -> int:
    if argv[:1] == ["--latency-consumer"]:
        asyncio.run(latency_consumer(argv[1], int(argv[2]), argv[3] == "raw"))
        return 0
    quick = "--quick" in argv
    numbers = [int(a) for a in argv if a.isdigit()]
    n = numbers[0] if numbers else (400 if quick else 10000)
    seconds = 1.0 if quick else 5.0
    addr = os.environ.get("AMPY_KAFKA_BOOTSTRAP", "")
    if not addr:
        print("bench_kafka: set AMPY_KAFKA_BOOTSTRAP (scripts/lib/kafka.sh)", file=sys.stderr)
        return 2
    asyncio.run(throughput(addr, n))
    print("latency SLOs (p99): 50 ms critical, 150 ms market data", flush=True)
    asyncio.run(latency(addr, 2000.0, seconds, raw=False))
    asyncio.run(latency(addr, 2000.0, seconds, raw=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
