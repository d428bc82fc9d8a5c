"""The typed NATS layer against raw nats-py, side by side on one loopback
server: 1 KiB payloads, publish throughput with every ack awaited, consume
throughput with an ack per record, and publish -> first delivery latency at
a steady 2,000 msg/s against the contract's SLOs. Prints numbers; asserts
nothing about speed.

What each side does, per record:

- publish, typed: ``Publisher.publish_envelope`` of a built envelope (subject
  and headers from the bindings, header mapping, size pre-check, encode,
  JetStream publish, ack awaited, metrics). Raw: what a hand-written nats-py
  service does: serialize the payload, write the same header values under
  the same NATS names, ``js.publish`` on the same subject, ack awaited.
- consume, typed: ``Consumer.run`` (pull batches of 500; header contract,
  schema hash and gzip checks, protobuf decode, handler, ack, metrics).
  Raw: what a hand-written nats-py service does with the same bytes: pull
  batches of 500, read the message id and schema headers, check the schema
  name, parse the payload into ``NewsItem``, ack.
- latency: the same two consumers, in another process.

    PYTHONPATH=gen/python .venv/bin/python tests/python/bench_nats.py [N] [--quick]

Uses the server at ``AMPY_NATS_URL`` (env ``dev``, whose streams it
re-creates), or starts its own nats-server like the tests. The raw side
sends the typed side's bytes and headers (built the same way, with its own
message ids), so only the layer differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import time
from typing import Awaitable, Dict, List, Optional, Tuple

import nats
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from ampybus import NEWS_V1_RAW, Env, Envelope
from ampybus.nats import Bus, Delivery, Metrics, Observer, Start, wire
from ampybus.pb.ampy.news.v1 import news_pb2

STREAM = "AMPY_DEV_NEWS_V1"
MSG_ID = "Nats-Msg-Id"
SCHEMA = "Ampy-Schema-Fqdn"
FQDN = news_pb2.NewsItem.DESCRIPTOR.full_name
SUBJECT = "ampy.dev.news.v1.raw"


def payload(i: int) -> news_pb2.NewsItem:
    """A news item whose encoding is exactly 1 KiB."""
    item = news_pb2.NewsItem(id=f"bench:{i:08}", headline="x" * 1000)
    item.headline = "x" * (1000 - (item.ByteSize() - 1024))
    assert item.ByteSize() == 1024, item.ByteSize()
    return item


def envelope(i: int) -> Envelope[news_pb2.NewsItem]:
    return Envelope.build(NEWS_V1_RAW, payload(i), producer="bench@1", source="bench", run_id="r")


def raw_handle(msg: Msg) -> Tuple[str, news_pb2.NewsItem]:
    """A hand-written consumer's work on a record: the headers it needs
    (message id, schema name, checked) and the payload parsed."""
    headers = msg.headers or {}
    if headers.get(SCHEMA) != FQDN:
        raise ValueError(f"unexpected schema {headers.get(SCHEMA)!r}")
    return headers.get(MSG_ID, ""), news_pb2.NewsItem.FromString(msg.data)


# What a hand-written publisher holds: subject, the header values (the
# typed side's), the payload; it serializes and maps names per record.
RawRecord = Tuple[str, List[Tuple[str, str]], news_pb2.NewsItem]


def raw_headers(pairs: List[Tuple[str, str]]) -> Dict[str, str]:
    """The NATS headers a hand-written publisher writes: the same names."""
    return {wire.nats_header(k) or k: v for k, v in pairs}


def server_version(bus: Bus) -> str:
    v = bus.client.connected_server_version
    return f"{v.major}.{v.minor}.{v.patch}"


def per_record(seconds: float, count: int) -> float:
    return seconds / max(count, 1)


def report(what: str, typed: float, raw: float) -> None:
    print(
        f"{what:<24} typed {typed * 1e6:8.1f} µs/record ({1 / typed:7.0f}/s)   "
        f"raw nats-py {raw * 1e6:8.1f} µs/record ({1 / raw:7.0f}/s)   typed/raw {typed / raw:.2f}x",
        flush=True,
    )


def observer() -> Optional[Observer]:
    """AMPY_BENCH_METRICS=1: the typed side reports to the built-in
    Prometheus metrics instead of the no-op observer, so their cost shows."""
    return Metrics() if os.environ.get("AMPY_BENCH_METRICS") == "1" else None


async def fresh(url: str) -> Bus:
    bus = await Bus.connect(url, Env.DEV, observer=observer())
    for plan in bus.plans():
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await bus.manager.delete_stream(plan.name)
    await bus.provision()
    return bus


async def throughput(url: str, n: int) -> None:
    bus = await fresh(url)
    publisher = bus.publisher(NEWS_V1_RAW, producer="bench@1", source="bench", run_id="r")
    typed = [envelope(i) for i in range(n)]
    raw: List[RawRecord] = []
    for i in range(n):
        e = envelope(i)
        raw.append((SUBJECT, e.encode().headers, e.payload))
    js = bus.jetstream
    print(
        f"NATS JetStream on loopback (nats-server {server_version(bus)}), "
        f"nats-py, 1 KiB payloads, {n} records each",
        flush=True,
    )

    # Alternate the two in rounds (the machine's load drifts) and keep each
    # side's median round.
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
        for e in typed[r * size : (r + 1) * size]:
            await publisher.publish_envelope(e)
        typed_rounds.append(per_record(time.perf_counter() - t, size))
        typed_cpu.append(per_record(time.process_time() - cpu, size))
        t, cpu = time.perf_counter(), time.process_time()
        for subject, pairs, item in raw[r * size : (r + 1) * size]:
            await js.publish(subject, item.SerializeToString(), headers=raw_headers(pairs))
        raw_rounds.append(per_record(time.perf_counter() - t, size))
        raw_cpu.append(per_record(time.process_time() - cpu, size))
    typed_pub, raw_pub = statistics.median(typed_rounds), statistics.median(raw_rounds)
    report("publish, ack awaited", typed_pub, raw_pub)
    report("publish CPU", statistics.median(typed_cpu), statistics.median(raw_cpu))

    # Consume the records both sides published with two durables, the
    # typed consumer (decode, handler, ack) and a raw pull consumer acking
    # each, same batch size, alternating rounds of `size` records.
    total = 2 * rounds * size
    taken = 0
    stop = asyncio.Event()

    async def count(d: Delivery[news_pb2.NewsItem]) -> None:
        nonlocal taken
        taken += 1
        if taken >= size:
            stop.set()

    consumer = await bus.consumer(NEWS_V1_RAW, "bench-typed", batch=500)
    config = ConsumerConfig(
        durable_name="bench-raw", ack_policy=AckPolicy.EXPLICIT, filter_subject=SUBJECT
    )
    await bus.manager.add_consumer(STREAM, config)
    sub = await js.pull_subscribe_bind(consumer="bench-raw", stream=STREAM)
    buffered: List[Msg] = []
    typed_rounds, raw_rounds = [], []
    typed_cpu, raw_cpu = [], []
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
                buffered = list(await sub.fetch(500, timeout=5))
            msg = buffered.pop(0)
            raw_handle(msg)
            await msg.ack()
            got += 1
        raw_rounds.append(per_record(time.perf_counter() - t, got))
        raw_cpu.append(per_record(time.process_time() - cpu, got))
    await consumer.close()
    await sub.unsubscribe()
    typed_con, raw_con = statistics.median(typed_rounds), statistics.median(raw_rounds)
    report("consume, decode + ack", typed_con, raw_con)
    report("consume CPU", statistics.median(typed_cpu), statistics.median(raw_cpu))
    await bus.close()


async def latency_consumer(url: str, total: int, raw: bool) -> None:
    """The consuming service of the latency run (its own process): prints
    ``ready``, then one ``<message_id> <wall clock ns>`` line per first
    delivery, then ``done``. ``raw``: a plain nats-py pull consumer that
    reads the headers, parses the payload and acks (:func:`raw_handle`)."""
    bus = await Bus.connect(url, Env.DEV, observer=observer())
    seen: List[Tuple[str, int]] = []
    limit = total / 100 + 30
    if raw:
        config = ConsumerConfig(
            durable_name="bench-latency-raw",
            ack_policy=AckPolicy.EXPLICIT,
            filter_subject=SUBJECT,
            deliver_policy=DeliverPolicy.NEW,
        )
        await bus.manager.add_consumer(STREAM, config)
        sub = await bus.jetstream.pull_subscribe_bind(consumer="bench-latency-raw", stream=STREAM)
        print("ready", flush=True)
        deadline = time.monotonic() + limit
        while len(seen) < total and time.monotonic() < deadline:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except asyncio.TimeoutError:
                continue
            for msg in msgs:
                message_id, _ = raw_handle(msg)
                at = time.time_ns()
                await msg.ack()
                if msg.metadata.num_delivered == 1:
                    seen.append((message_id, at))
        await sub.unsubscribe()
    else:
        consumer = await bus.consumer(NEWS_V1_RAW, "bench-latency", start=Start.NEW, batch=100)
        stop = asyncio.Event()

        async def handle(d: Delivery[news_pb2.NewsItem]) -> None:
            if d.info.delivered == 1:
                seen.append((d.headers.message_id, time.time_ns()))
            if len(seen) >= total:
                stop.set()

        print("ready", flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(consumer.run(handle, stop=stop), limit)
        await consumer.close()
    await bus.close()
    sys.stdout.write("".join(f"{m} {t}\n" for m, t in seen) + "done\n")


async def latency(url: str, rate: float, seconds: float, raw: bool) -> None:
    """Publish at a steady rate without waiting for each ack before the next
    send, while a consumer in another process (as services run) records
    each record's first delivery; both stamp the same wall clock. ``raw``:
    nats-py's own publish and pull consumer, with the same bytes."""
    bus = await fresh(url)
    publisher = bus.publisher(NEWS_V1_RAW, producer="bench@1", source="bench", run_id="r")
    total = int(rate * seconds)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--latency-consumer",
        url,
        str(total),
        "raw" if raw else "typed",
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    ready = await proc.stdout.readline()
    assert ready == b"ready\n", ready
    await asyncio.sleep(0.2)
    envelopes = [envelope(i) for i in range(total)]
    records = [(e.encode().headers, e.payload) for e in envelopes]
    sent: Dict[str, int] = {}
    inflight: List[Awaitable[object]] = []
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
            pairs, item = records[i]
            send = bus.jetstream.publish(
                SUBJECT, item.SerializeToString(), headers=raw_headers(pairs)
            )
            inflight.append(asyncio.ensure_future(send))
        else:
            inflight.append(asyncio.ensure_future(publisher.publish_envelope(e)))
    await asyncio.gather(*inflight)
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
    side = "raw nats-py" if raw else "typed      "
    if not lat:
        print(f"{side} publish -> first delivery: no deliveries", flush=True)
        return
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(int(len(lat) * p), len(lat) - 1)]

    print(
        f"{side} publish -> first delivery at {rate:.0f} msg/s for {seconds:.0f} s "
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
    n = numbers[0] if numbers else (400 if quick else 5000)
    seconds = 1.0 if quick else 3.0
    url = os.environ.get("AMPY_NATS_URL", "")
    server = None
    if not url:
        from nats_support import PrivateServer

        server = PrivateServer()
        server.start()
        url = server.url
    try:
        asyncio.run(throughput(url, n))
        print("latency SLOs (p99): 50 ms critical, 150 ms market data", flush=True)
        asyncio.run(latency(url, 2000.0, seconds, raw=False))
        asyncio.run(latency(url, 2000.0, seconds, raw=True))
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
