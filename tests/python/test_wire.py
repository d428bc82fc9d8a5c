"""The payload wire rules and the gzip rules of docs/envelope.md beyond the
vectors: the two decoding paths of ``ampybus.wire`` agree, unknown fields are
left out on both, numbers are checked by length before ``int()``, and a gzip
bomb costs no memory to speak of.
"""

from __future__ import annotations

import tracemalloc
import zlib
from typing import List, Tuple

import pytest

import ampybus
from ampybus import envelope, wire
from ampybus.errors import BusError
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.metrics.v1 import metrics_pb2


def _bars(n: int) -> bars_pb2.BarBatch:
    b = bars_pb2.BarBatch()
    for i in range(n):
        bar = b.bars.add()
        bar.security.symbol, bar.security.mic = "AAPL", "XNAS"
        bar.volume = 1000 + i
        bar.close.scaled, bar.close.scale = 18912 + i, 2
        bar.event_time.seconds = 1_757_100_660 + 60 * i
    return b


def test_canonical_bytes_take_the_fast_path_and_equal_the_walk() -> None:
    data = _bars(50).SerializeToString(deterministic=True)
    fast = wire.parse(bars_pb2.BarBatch, data)
    # The same payload with the first tag written in 10 bytes: upb refuses it,
    # so the walk decides and upb decodes the rewrite.
    slow = wire.parse(bars_pb2.BarBatch, bytes([0x8A] + [0x80] * 8 + [0x00]) + data[1:])
    assert fast == slow == _bars(50)


def test_unknown_fields_are_left_out_on_both_paths() -> None:
    bar = bytes.fromhex("5005") + bytes.fromhex("980601")  # volume 5, unknown field 99
    data = bytes([0x0A, len(bar)]) + bar
    got = wire.parse(bars_pb2.BarBatch, data)
    assert got == bars_pb2.BarBatch(bars=[bars_pb2.Bar(volume=5)])
    assert got.SerializeToString() == bytes.fromhex("0a025005")


@pytest.mark.parametrize(
    ("hex_payload", "reason"),
    [
        ("0a03520178", "wire type 2, not the declared 0"),
        ("0a0b50" + "ff" * 9 + "02", "overflows 64 bits"),
        ("9b06" * 101 + "9c06" * 101, "past the depth limit"),
        ("9b06" * 100 + "2801" + "9c06" * 100, "unknown field 5 at nesting level 100"),
        ("8a" + "80" * 9 + "00025005", "longer than 10 bytes"),
    ],
)
def test_the_walk_names_the_broken_rule(hex_payload: str, reason: str) -> None:
    with pytest.raises(wire.WireError, match=reason):
        wire.parse(bars_pb2.BarBatch, bytes.fromhex(hex_payload))


def test_map_entries_keep_their_entry_when_an_unknown_field_is_inside() -> None:
    entry = bytes.fromhex("0a0161") + bytes.fromhex("980601") + bytes.fromhex("120162")
    got = wire.parse(metrics_pb2.Metric, bytes([0x22, len(entry)]) + entry)
    assert dict(got.labels) == {"a": "b"}


@pytest.mark.parametrize(
    ("name", "value"),
    [("retry_count", "9" * 4301), ("retry_count", "9" * 20_000), ("blob_size", "9" * 4301)],
)
def test_long_numbers_are_malformed_not_a_value_error(name: str, value: str) -> None:
    pairs: List[Tuple[str, str]] = [
        ("message_id", "01991b5c-5908-7a1c-8f3e-0123456789ab"),
        ("schema_fqdn", "ampy.bars.v1.BarBatch"),
        ("schema_version", "1.0.0"),
        ("content_type", "application/x-protobuf"),
        ("produced_at", "2025-09-05T19:31:01Z"),
        ("producer", "p"),
        ("source", "s"),
        ("run_id", "r"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("partition_key", "XNAS.AAPL"),
        ("blob_ref", "s3://b/k"),
        ("blob_hash", "sha256:" + "ab" * 32),
        ("blob_size", "10"),
    ]
    pairs = [(k, value if k == name else v) for k, v in pairs] + (
        [(name, value)] if name == "retry_count" else []
    )
    with pytest.raises(BusError) as e:
        ampybus.Headers.from_pairs(pairs)
    assert e.value.kind == "malformed_header"


def _bomb(size: int) -> bytes:
    """A gzip member of about ``size`` zero bytes, made without inflating
    anything: a raw deflate chunk that appends 1 MiB of zeros to a window of
    zeros, repeated. Its size trailer is the size mod 2^32."""
    window = bytes(32 << 10)
    first = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    start = first.compress(window) + first.flush(zlib.Z_SYNC_FLUSH)
    more = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=window)
    chunk = more.compress(bytes(1 << 20)) + more.flush(zlib.Z_SYNC_FLUSH)
    n = (size - len(window)) >> 20
    total = len(window) + (n << 20)
    header = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255])
    trailer = (0).to_bytes(4, "little") + (total & 0xFFFFFFFF).to_bytes(4, "little")
    return header + start + chunk * n + bytes([0x03, 0x00]) + trailer


def test_a_4_gib_bomb_is_refused_without_keeping_what_it_inflates() -> None:
    bomb = _bomb(4 << 30)
    tracemalloc.start()
    try:
        with pytest.raises(BusError) as e:
            envelope.decompress(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert e.value.kind == "too_large"
    # What it holds is copies of the compressed input (zlib's unconsumed
    # tail) and a 1 MiB chunk, never the 64 MiB it inflates to.
    assert peak < 3 * len(bomb) + (2 << 20), f"peak {peak} bytes for a {len(bomb)}-byte bomb"


def test_the_cap_is_exact() -> None:
    at_cap = zlib.compress(bytes(4096), wbits=31)
    assert len(envelope.decompress(at_cap, 4096)) == 4096
    with pytest.raises(BusError) as e:
        envelope.decompress(at_cap, 4095)
    assert e.value.kind == "too_large"
