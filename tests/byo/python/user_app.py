"""A team's producer and consumer on its own protoc output (``acme_protos``,
from ``protoc --python_out --pyi_out``) and the bindings ampygen generated
for it with ``targets.python.types: acme_protos`` (tests/byo/run.sh runs it
and type-checks it with mypy --strict)."""

from __future__ import annotations

import acmebus
from acme_protos.ampy.bars.v1 import bars_pb2
from acme_protos.ampy.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp


def make_batch() -> bars_pb2.BarBatch:
    bar = bars_pb2.Bar(
        security=common_pb2.SecurityId(symbol="AAPL", mic="XNAS"),
        start=Timestamp(seconds=1_757_100_600),
        end=Timestamp(seconds=1_757_100_660),
        close=common_pb2.Decimal(scaled=2_275_800, scale=4),
        volume=182_340,
        event_time=Timestamp(seconds=1_757_100_660),
    )
    return bars_pb2.BarBatch(bars=[bar])


def main() -> None:
    acmebus.verify_linked()  # the user's modules hash to the locked schemas
    topic = acmebus.BARS_V1_BARS
    batch = make_batch()
    routed = topic.route(batch, acmebus.Env.PROD)
    assert str(routed.subject) == "ampy.prod.bars.v1.XNAS.AAPL", routed.subject
    assert routed.partition_key == "XNAS.AAPL", routed.partition_key
    record = acmebus.Envelope.build(
        topic, batch, producer="acme@1", source="acme", run_id="r-1"
    ).encode()
    received = acmebus.Envelope.decode(topic, record.headers, record.payload)
    payload: bars_pb2.BarBatch = received.payload
    assert payload == batch
    assert type(payload) is bars_pb2.BarBatch
    print(f"subject {routed.subject}, key {routed.partition_key}, decoded {len(payload.bars)} bar")


if __name__ == "__main__":
    main()
