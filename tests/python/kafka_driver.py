"""The Python driver of the cross-language Kafka matrix (docs/kafka.md,
tests/kafka-matrix/run.sh).

Uses only the public API of the generated package's ``kafka`` module: the
publisher derives Kafka topic, record key and partition from the payload and
writes the headers by the one mapping; the consumer decodes with the
envelope rules.

    PYTHONPATH=gen/python python tests/python/kafka_driver.py publish \\
        --bootstrap 127.0.0.1:9092 --env dev --vectors tests/vectors/positive \\
        [--names bars.typical,...] [--repeat N]
    ... consume --bootstrap HOST:PORT --env dev --topic news.v1.raw --group G \\
        --count 3 --timeout-ms 10000
    ... partition --keys tests/vectors/kafka/partition-keys.txt
    ... produce-keys --bootstrap HOST:PORT --topic T --keys FILE

``publish`` rebuilds each selected positive vector's envelope (every header
the vector's), publishes it, awaits the delivery reports and prints
``published <name> <topic> <partition> <offset>`` per record, then
``published N``; with ``--repeat N`` each vector goes N times, copy i with
run_id ``seq-`` + i in 6 digits. ``consume`` prints one JSON line per record
exactly as the NATS driver does, exit 0 after N records, 1 on timeout, 2 on
bad arguments. ``partition`` prints Java's murmur2 and the partition for 1,
3, 6, 12 and 100 partitions per key. ``produce-keys`` sends one record per
key (key and value the key bytes, no headers) through the bus's own
partition-choosing produce path and prints ``produced N``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import pathlib
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import confluent_kafka

from ampybus import TOPICS, Envelope
from ampybus.kafka import Bus, Delivery, Published, murmur2, partition_for

Vector = Dict[str, Any]

PARTITION_COUNTS = (1, 3, 6, 12, 100)


def read_keys(path: pathlib.Path) -> List[bytes]:
    """Keys written ``k:<standard padded base64>`` one per line."""
    keys = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.startswith("k:"):
            raise SystemExit(f"kafka_driver: {path}:{n}: a key line starts with `k:`")
        keys.append(base64.b64decode(line[2:], validate=True))
    return keys


def partition_lines(keys: Sequence[bytes]) -> List[str]:
    out = []
    for key in keys:
        cells = [str(partition_for(key, n)) for n in PARTITION_COUNTS]
        b64 = base64.b64encode(key).decode("ascii")
        out.append("\t".join([f"k:{b64}", str(murmur2(key)), *cells]))
    return out


def load_vectors(directory: pathlib.Path, names: Optional[Sequence[str]] = None) -> List[Vector]:
    """Positive vectors of payload topics, files in name order; ``names``
    selects and orders them (an unknown name is an error)."""
    found: List[Vector] = []
    for path in sorted(directory.glob("*.json")):
        for v in json.loads(path.read_text("utf-8"))["vectors"]:
            if v["topic"] in TOPICS:
                found.append(v)
    if names is None:
        return found
    by_name = {v["name"]: v for v in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SystemExit(f"kafka_driver: no positive vector named {', '.join(missing)}")
    return [by_name[n] for n in names]


def envelope_of(vector: Vector, seq: int = -1) -> Envelope[Any]:
    """The vector's record as a typed Envelope, through the envelope
    decoding; copy ``seq`` (0-based) of a repeat gets run_id ``seq-%06d``."""
    topic = TOPICS[vector["topic"]]
    headers = vector["envelope"]["headers"]
    body = base64.b64decode(vector["envelope"]["body_base64"])
    parsed = Envelope.decode_headers(topic, headers.items())
    if parsed.blob is not None:
        blob = base64.b64decode(vector["payload_base64"])
        envelope = Envelope.decode_blob(topic, parsed, blob)
    else:
        envelope = Envelope.decode(topic, headers.items(), body)
    if seq >= 0:
        envelope.headers = dataclasses.replace(envelope.headers, run_id=f"seq-{seq:06d}")
    return envelope


async def publish(bus: Bus, vectors: Sequence[Vector], repeat: Optional[int], producer: str) -> int:
    count = 0
    for v in vectors:
        if repeat is None:
            copies = [envelope_of(v)]
        else:
            copies = [envelope_of(v, i) for i in range(repeat)]
        publisher = bus.publisher(copies[0].topic, producer=producer)
        done: List[Published]
        blob = copies[0].headers.blob
        if blob is not None:
            done = [await publisher.publish_pointer(e, blob) for e in copies]
        else:
            done = await publisher.publish_envelopes(copies)
        for d in done:
            print(f"published {v['name']} {d.topic} {d.partition} {d.offset}", flush=True)
        count += len(done)
    print(f"published {count}", flush=True)
    return count


def record_line(topic_id: str, delivery: Delivery[Any]) -> str:
    """The JSON line of one consumed record, as the NATS driver prints it."""
    canonical = b""
    if delivery.payload is not None:
        canonical = delivery.payload.SerializeToString(deterministic=True)
    return json.dumps(
        {
            "topic": topic_id,
            "subject": delivery.info.subject,
            "headers": dict(delivery.headers.to_pairs()),
            "payload_base64": base64.b64encode(delivery.raw_payload).decode("ascii"),
            "payload_canonical_base64": base64.b64encode(canonical).decode("ascii"),
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def client_state(c: confluent_kafka.Consumer) -> str:
    """What a consumer that timed out held, for its message: each assigned
    partition's position, committed offset and watermarks, or that the group
    assigned it none (a rare timeout in CI is otherwise a blank)."""
    try:
        assigned = c.assignment()
        if not assigned:
            return "the group assigned it no partition"
        committed = {(tp.topic, tp.partition): tp.offset for tp in c.committed(assigned, timeout=5)}
        parts = []
        for tp in c.position(assigned):
            low, high = c.get_watermark_offsets(tp, timeout=5, cached=False)
            parts.append(
                f"{tp.topic}[{tp.partition}] position {tp.offset}, committed "
                f"{committed.get((tp.topic, tp.partition))}, offsets {low}..{high}"
            )
        return "it held " + "; ".join(parts)
    except confluent_kafka.KafkaException as e:
        return f"its state is unknown: {e}"


async def consume(bus: Bus, topic_id: str, group: str, count: int, timeout: float) -> int:
    """Prints ``count`` records of ``topic_id``; 0 when all came in time."""
    topic = TOPICS[topic_id]
    seen = 0
    done = asyncio.Event()

    async def handle(delivery: Delivery[Any]) -> None:
        nonlocal seen
        print(record_line(topic_id, delivery), flush=True)
        seen += 1
        if seen >= count:
            done.set()

    # run() checks `done` before each record: nothing past the count is
    # handled, so its offset is not stored either.
    consumer = await bus.consumer(topic, group, batch=min(max(count, 1), 256))
    try:
        await asyncio.wait_for(consumer.run(handle, stop=done), timeout)
    except asyncio.TimeoutError:
        state = client_state(consumer.raw)
        print(
            f"kafka_driver: {seen} of {count} records within {timeout} s; {state}", file=sys.stderr
        )
        return 1
    finally:
        await consumer.close()
    return 0 if seen == count else 1


async def produce_keys(bootstrap: str, topic: str, keys: Sequence[bytes]) -> int:
    # The env only selects the registry layout; the topic is the caller's.
    bus = await Bus.connect(bootstrap, "dev")
    try:
        now = int(time.time() * 1000)
        futures = [await bus.produce(topic, k, k, [], now) for k in keys]
        for k, f in zip(keys, futures):
            await bus.settle(f, topic, k, k, [], now)
    finally:
        await bus.close()
    print(f"produced {len(keys)}", flush=True)
    return 0


async def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="kafka_driver", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("publish")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--env", required=True)
    p.add_argument("--vectors", required=True, type=pathlib.Path)
    p.add_argument("--names", default=None)
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--producer", default="matrix-py@1")
    c = sub.add_parser("consume")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--env", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--group", required=True)
    c.add_argument("--count", required=True, type=int)
    c.add_argument("--timeout-ms", required=True, type=int)
    k = sub.add_parser("partition")
    k.add_argument("--keys", required=True, type=pathlib.Path)
    pk = sub.add_parser("produce-keys")
    pk.add_argument("--bootstrap", required=True)
    pk.add_argument("--topic", required=True)
    pk.add_argument("--keys", required=True, type=pathlib.Path)
    args = parser.parse_args(argv)
    if args.command == "partition":
        for line in partition_lines(read_keys(args.keys)):
            print(line)
        return 0
    if args.command == "produce-keys":
        return await produce_keys(args.bootstrap, args.topic, read_keys(args.keys))
    if args.command == "consume" and args.topic not in TOPICS:
        parser.error(f"unknown topic `{args.topic}`; one of {', '.join(TOPICS)}")
    if args.command == "publish" and args.repeat is not None and args.repeat < 1:
        parser.error("--repeat is at least 1")
    bus = await Bus.connect(args.bootstrap, args.env)
    try:
        if args.command == "publish":
            names = args.names.split(",") if args.names else None
            await publish(bus, load_vectors(args.vectors, names), args.repeat, args.producer)
            return 0
        return await consume(bus, args.topic, args.group, args.count, args.timeout_ms / 1000)
    finally:
        await bus.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
