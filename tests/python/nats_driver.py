"""The Python driver of the cross-language NATS matrix (docs/nats.md).

Uses only the typed API of the generated package: the publisher derives the
subject from the payload and writes the headers by the one mapping; the
consumer decodes with the envelope rules.

    PYTHONPATH=gen/python python tests/python/nats_driver.py publish \\
        --url nats://127.0.0.1:4222 --env dev --vectors tests/vectors/positive \\
        [--names bars.typical,news.raw.gzip_over_128kib,...]
    PYTHONPATH=gen/python python tests/python/nats_driver.py consume \\
        --url nats://127.0.0.1:4222 --env dev --topic news.v1.raw \\
        --durable matrix-py --count 3 --timeout-ms 10000

``publish`` rebuilds each selected positive vector's envelope with the
envelope decoding (``envelope.headers`` + ``body_base64``; a blob pointer
from its headers and the payload bytes as the blob), publishes that built
envelope (so message_id, produced_at and every other header are the
vector's), awaits the acks and prints ``published <name> <stream> <seq>``
per record, then ``published N``. ``consume`` reads N records of one topic
with a durable typed consumer (acking each) and prints one JSON line per
record with sorted keys: topic, subject, headers (envelope names), the body
as received (``payload_base64``) and the decoded payload re-encoded
deterministically (``payload_canonical_base64``). It exits 0 after N
records, 1 on timeout, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import pathlib
import sys
from typing import Any, Dict, List, Optional, Sequence

from ampybus import TOPICS, Envelope, Headers
from ampybus.nats import Bus, Delivery, Published

Vector = Dict[str, Any]


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
        raise SystemExit(f"nats_driver: no positive vector named {', '.join(missing)}")
    return [by_name[n] for n in names]


def envelope_of(vector: Vector) -> Envelope[Any]:
    """The vector's record as a typed Envelope, through the envelope decoding."""
    topic = TOPICS[vector["topic"]]
    headers = vector["envelope"]["headers"]
    body = base64.b64decode(vector["envelope"]["body_base64"])
    parsed = Envelope.decode_headers(topic, headers.items())
    if parsed.blob is not None:
        return Envelope.decode_blob(topic, parsed, base64.b64decode(vector["payload_base64"]))
    return Envelope.decode(topic, headers.items(), body)


async def publish(bus: Bus, vectors: Sequence[Vector], producer: str) -> List[Published]:
    """Publishes each vector's envelope with its topic's typed publisher.

    The publisher encodes it again, as in service use: headers come out as
    the vector's, and so does the body, except where the bytes are not
    fixed (a gzip stream differs between zlib, flate2 and Go's deflate; map
    entries have no fixed order), so the matrix compares those inflated or
    through ``payload_canonical_base64``."""
    out = []
    for v in vectors:
        envelope = envelope_of(v)
        publisher = bus.publisher(envelope.topic, producer=producer)
        if envelope.headers.blob is not None:
            done = await publisher.publish_pointer(envelope, envelope.headers.blob)
        else:
            done = await publisher.publish_envelope(envelope)
        print(f"published {v['name']} {done.stream} {done.sequence}", flush=True)
        out.append(done)
    print(f"published {len(out)}", flush=True)
    return out


def record_line(topic_id: str, delivery: Delivery[Any]) -> str:
    """The JSON line of one consumed record."""
    canonical = b""
    if delivery.payload is not None:
        canonical = delivery.payload.SerializeToString(deterministic=True)
    return json.dumps(
        {
            "topic": topic_id,
            "subject": delivery.info.subject,
            "headers": _headers(delivery.headers),
            "payload_base64": base64.b64encode(delivery.raw_payload).decode("ascii"),
            "payload_canonical_base64": base64.b64encode(canonical).decode("ascii"),
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def _headers(h: Headers) -> Dict[str, str]:
    return dict(h.to_pairs())


async def consume(bus: Bus, topic_id: str, durable: str, count: int, timeout: float) -> int:
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

    # A batch no larger than the count: records past it stay unacked for the
    # next run (run() checks `done` before taking the next record).
    consumer = await bus.consumer(topic, durable, batch=min(max(count, 1), 256))
    try:
        await asyncio.wait_for(consumer.run(handle, stop=done), timeout)
    except asyncio.TimeoutError:
        print(f"nats_driver: {seen} of {count} records within {timeout} s", file=sys.stderr)
        return 1
    finally:
        await consumer.close()
    return 0 if seen == count else 1


async def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="nats_driver", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("publish")
    p.add_argument("--url", required=True)
    p.add_argument("--env", required=True)
    p.add_argument("--vectors", required=True, type=pathlib.Path)
    p.add_argument("--names", default=None)
    p.add_argument("--producer", default="matrix-py@1")
    c = sub.add_parser("consume")
    c.add_argument("--url", required=True)
    c.add_argument("--env", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--durable", required=True)
    c.add_argument("--count", required=True, type=int)
    c.add_argument("--timeout-ms", required=True, type=int)
    args = parser.parse_args(argv)
    if args.command == "consume" and args.topic not in TOPICS:
        parser.error(f"unknown topic `{args.topic}`; one of {', '.join(TOPICS)}")
    bus = await Bus.connect(args.url, args.env)
    try:
        if args.command == "publish":
            names = args.names.split(",") if args.names else None
            await publish(bus, load_vectors(args.vectors, names), args.producer)
            return 0
        return await consume(bus, args.topic, args.durable, args.count, args.timeout_ms / 1000)
    finally:
        await bus.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
