"""The bindings on the user's own protoc output (tests/byo/run.sh).

``BYO_PROTOS`` is where the user's modules are (``acme_protos.ampy``, or
``ampy`` for the top-level ``protoc --python_out`` layout); with
``BYO_DRIFT=1`` they were generated from a changed bars.proto.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

import pytest

import acmebus

PROTOS = os.environ.get("BYO_PROTOS", "acme_protos.ampy")
DRIFT = os.environ.get("BYO_DRIFT") == "1"
bars_pb2: Any = importlib.import_module(f"{PROTOS}.bars.v1.bars_pb2")
common_pb2: Any = importlib.import_module(f"{PROTOS}.common.v1.common_pb2")
ticks_pb2: Any = importlib.import_module(f"{PROTOS}.ticks.v1.ticks_pb2")


def batch() -> Any:
    security = common_pb2.SecurityId(symbol="AAPL", mic="XNAS")
    return bars_pb2.BarBatch(
        bars=[bars_pb2.Bar(security=security, volume=1), bars_pb2.Bar(security=security)]
    )


def test_the_bindings_use_the_users_classes() -> None:
    assert acmebus.BARS_V1_BARS.message_type is bars_pb2.BarBatch
    assert acmebus.PAYLOADS["ampy.ticks.v1.TradeBatch"].message_type is ticks_pb2.TradeBatch
    # No payload modules of their own, so no second copy of a proto file in
    # the default pool (protobuf would refuse it: duplicate file name).
    assert importlib.util.find_spec("acmebus.pb") is None


def test_verify_linked() -> None:
    if not DRIFT:
        acmebus.verify_linked()
        return
    with pytest.raises(acmebus.SchemaError) as e:
        acmebus.verify_linked()
    assert e.value.kind == "hash_mismatch"
    assert "the linked `ampy.bars.v1.BarBatch` (topic bars.v1.bars)" in str(e.value)
    assert e.value.expected == acmebus.BARS_V1_BARS.schema_hash
    assert e.value.got != e.value.expected


def test_routing() -> None:
    routed = acmebus.BARS_V1_BARS.route(batch(), acmebus.Env.PROD)
    assert str(routed.subject) == "ampy.prod.bars.v1.XNAS.AAPL"
    assert routed.partition_key == "XNAS.AAPL"
    assert routed.kafka_topic == "ampy.prod.bars.v1"
    trades = ticks_pb2.TradeBatch(
        trades=[ticks_pb2.Trade(security=common_pb2.SecurityId(symbol="MSFT", mic="XNAS"))]
    )
    assert str(acmebus.TICKS_V1_TRADE.topic_for(trades, "dev")) == "ampy.dev.ticks.v1.trade.MSFT"
    with pytest.raises(acmebus.RouteError) as e:
        acmebus.BARS_V1_BARS.route(bars_pb2.BarBatch(), acmebus.Env.PROD)
    assert e.value.kind == "empty_batch"


def test_envelopes() -> None:
    topic = acmebus.BARS_V1_BARS
    sent = batch()
    record = acmebus.Envelope.build(
        topic, sent, producer="acme@1", source="acme", run_id="r-1"
    ).encode()
    received = acmebus.Envelope.decode(topic, record.headers, record.payload)
    assert received.payload == sent
    assert type(received.payload) is bars_pb2.BarBatch
    assert received.headers.schema_fqdn == "ampy.bars.v1.BarBatch"
    assert received.headers.schema_hash == topic.schema_hash
    # Headers of another topic's payload are refused before the bytes.
    with pytest.raises(acmebus.SchemaError) as e:
        acmebus.Envelope.decode(acmebus.TICKS_V1_TRADE, record.headers, record.payload)
    assert e.value.kind == "unknown_fqdn"
