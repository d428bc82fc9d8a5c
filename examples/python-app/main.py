"""Publishes one bar batch the way a producer on the AmpyFin bus does, using
the generated ``ampybus`` package, and reads it back the way a consumer does.

Run from the repository root:

    PYTHONPATH=gen/python python examples/python-app/main.py

It prints where the record goes (NATS subject, Kafka topic and key), the
headers it carries, and what the consumer decoded. Nothing is sent: the
record is handed straight to the decoding side.
"""

from __future__ import annotations

import sys

from google.protobuf.timestamp_pb2 import Timestamp

import ampybus
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.common.v1 import common_pb2

FIXED_ID = "01991b5c-5908-7a1c-8f3e-0123456789ab"
FIXED_TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def make_batch() -> bars_pb2.BarBatch:
    """One 1-minute AAPL bar."""
    bar = bars_pb2.Bar(
        security=common_pb2.SecurityId(symbol="AAPL", mic="XNAS"),
        start=Timestamp(seconds=1_757_100_600),
        end=Timestamp(seconds=1_757_100_660),
        open=common_pb2.Decimal(scaled=2_275_000, scale=4),
        close=common_pb2.Decimal(scaled=2_275_800, scale=4),
        volume=182_340,
        event_time=Timestamp(seconds=1_757_100_660),
    )
    return bars_pb2.BarBatch(bars=[bar])


def main() -> int:
    ampybus.verify_linked()  # the linked protos are the registry's
    topic = ampybus.BARS_V1_BARS
    batch = make_batch()

    envelope = ampybus.Envelope.build(
        topic,
        batch,
        producer="example@python-app",
        source="example",
        run_id="example-run",
        message_id=FIXED_ID,
        traceparent=FIXED_TRACE,
    )
    record = envelope.encode()
    routed = topic.route(batch, ampybus.Env.PROD)
    print(f"subject      {routed.subject}")
    print(f"kafka topic  {routed.kafka_topic}")
    print(f"kafka key    {routed.kafka_key}")
    print(f"pattern      {topic.pattern(ampybus.Env.PROD)}")
    for name, value in record.headers:
        print(f"header       {name}={value}")

    received = ampybus.Envelope.decode(topic, record.headers, record.payload)
    bar = received.payload.bars[0]
    print(f"decoded      {bar.security.symbol}.{bar.security.mic} volume={bar.volume}")
    try:
        topic.subject(ampybus.Env.PROD, "XNAS", "BRK.B")
    except ampybus.RouteError as e:
        print(f"rejected     {e.kind}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
