"""``Headers._quick``, the common-record path of ``Headers.from_pairs`` and of
the NATS and Kafka consumers (``quick_headers``), gives exactly what the full
parse gives: the same ``Headers`` or the same error, on every vector and on every
single-field mutation of a valid record, with the cache of valid shared
headers warm (the quick path runs) and cold (only the full parse runs).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, Dict, List, Optional, Tuple, Union, cast

import pytest

from ampybus import headers as headers_mod
from ampybus.errors import BusError
from ampybus.headers import KNOWN_ORDER, Headers
from ampybus.kafka import wire as kafka_wire
from ampybus.kafka.client import received_headers
from ampybus.nats import wire

VECTORS = pathlib.Path(__file__).resolve().parents[1] / "vectors"

Pairs = List[Tuple[str, str]]
# What a parse gives: the headers, or the error's type, kind and text.
Outcome = Union[Headers, Tuple[str, str, str]]


def _vector_pairs() -> List[Tuple[str, Pairs]]:
    out: List[Tuple[str, Pairs]] = []
    for path in sorted((VECTORS / "positive").glob("*.json")):
        for v in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            out.append((f"{path.name}:{v['name']}", list(v["envelope"]["headers"].items())))
    for name in ("negative.json", "accept.json"):
        for v in json.loads((VECTORS / name).read_text(encoding="utf-8"))["vectors"]:
            h: Any = v.get("headers")
            if h is None:
                continue
            pairs = [(str(k), str(x)) for k, x in h] if isinstance(h, list) else list(h.items())
            out.append((f"{name}:{v['name']}", pairs))
    return out


VECTOR_PAIRS = _vector_pairs()


def _outcome(pairs: Pairs) -> Outcome:
    try:
        return Headers.from_pairs(pairs)
    except BusError as e:
        return (type(e).__name__, e.kind, str(e))


def _cold(pairs: Pairs) -> Outcome:
    headers_mod._valid_shared.clear()  # pyright: ignore[reportPrivateUsage]
    return _outcome(pairs)


def _quick_taken(pairs: Pairs) -> bool:
    values = tuple(map(dict(pairs).get, KNOWN_ORDER))
    return Headers._quick(values) is not None  # pyright: ignore[reportPrivateUsage]


def _base() -> Pairs:
    """A valid record with every per-record header, dedupe key included."""
    for name, pairs in VECTOR_PAIRS:
        names = dict(pairs)
        if (
            name.startswith("news.json")
            and "dedupe_key" in names
            and "blob_ref" not in names
            and "content_encoding" not in names
        ):
            return pairs
    raise AssertionError("no news vector with a dedupe key")


def _warm() -> Pairs:
    headers_mod._valid_shared.clear()  # pyright: ignore[reportPrivateUsage]
    base = _base()
    assert isinstance(Headers.from_pairs(base), Headers)
    for _, pairs in VECTOR_PAIRS:
        _outcome(pairs)
    return base


@pytest.mark.parametrize(("name", "pairs"), VECTOR_PAIRS, ids=[n for n, _ in VECTOR_PAIRS])
def test_every_vector_parses_the_same_warm_and_cold(name: str, pairs: Pairs) -> None:
    cold = _cold(pairs)
    _warm()
    warm = _outcome(pairs)
    assert warm == cold, name
    if isinstance(cold, Headers) and cold.blob is None:
        # Parsed once, the record's shared headers are known: the quick
        # path is what gave the warm result.
        assert _quick_taken(pairs), f"{name}: the quick path was not taken"


BAD_VALUES: Dict[str, List[Optional[str]]] = {
    "message_id": [
        None,
        "",
        "01a24286-447a-741f-957d-930cb836b15",
        "01A24286-447A-741F-957D-930CB836B156",
        "01a24286-447a-641f-957d-930cb836b156",
        "01a24286-447a-741f-c57d-930cb836b156",
        "01a24286447a741f957d930cb836b156xxxx",
        "01a24286-447a-741f-957d-930cb836b156\n",
        " 01a24286-447a-741f-957d-930cb836b156",
        "01a24286-447a-741f-957d-930cb836b15\u0661",
    ],
    "produced_at": [
        None,
        "",
        "2026-12-04T19:27:05.338z",
        "2026-12-04t19:27:05Z",
        "2026-12-04T19:27:05+00:00",
        "2026-12-04T23:59:60Z",
        "2026-02-30T10:00:00Z",
        "2025-02-29T10:00:00Z",
        "0000-01-01T00:00:00Z",
        "2026-12-04T24:00:00Z",
        "2026-12-04T19:27:05.1234567890Z",
        "2026-12-04T19:27:05.Z",
        "2026-12-04T19:27:05Z\n",
        "2026-12-04T19:27:\u06605Z",
        "2024-02-29T10:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
    ],
    "traceparent": [
        None,
        "",
        "00-00000000000000000000000000000000-82a37c1671e2a416-01",
        "00-82dc1a2891c345e8d1ead7967dad11f8-0000000000000000-01",
        "01-82dc1a2891c345e8d1ead7967dad11f8-82a37c1671e2a416-01",
        "ff-82dc1a2891c345e8d1ead7967dad11f8-82a37c1671e2a416-01",
        "00-82DC1A2891C345E8D1EAD7967DAD11F8-82a37c1671e2a416-01",
        "00-82dc1a2891c345e8d1ead7967dad11f8-82a37c1671e2a416-01-00",
        "00-82dc1a2891c345e8d1ead7967dad11f8-82a37c1671e2a416",
    ],
    "partition_key": [None, "", "a\x00b", "tab\there", "line\n", "\x85", "XNAS.AAPL", "ü|ß"],
    "dedupe_key": [None, "", "a\x1fb", "\x7f", "k", "ü"],
    "schema_fqdn": [None, "", "ampy.news.v1.", "1ampy.news.v1.NewsItem", "ampy.news.v1.NewsItem\n"],
    "schema_version": [None, "", "v1.0.0", "1.0", "01.0.0", "1.0.0-rc.1"],
    "content_type": [None, "", "application/json", "application/x-protobuf "],
    "producer": [None, "", "p\x00", "other@2"],
    "source": [None, "", "s\n", "other"],
    "run_id": [None, "", "\x9f", "r2"],
    "content_encoding": [None, "", "gzip", "GZIP", "br"],
    "retry_count": [None, "", "0", "1", "01", "-1", "4294967295", "4294967296", "1e3"],
    "dlq_reason": [None, "", "decode_error: x", "a\nb"],
    "schema_hash": [None, "", "sha256:" + "0" * 64, "sha256:" + "A" * 64, "md5:00"],
    "blob_ref": [None, "s3://b/k"],
    "blob_size": [None, "1", "x"],
}


def _mutated(base: Pairs, name: str, value: Optional[str]) -> Pairs:
    out = [(k, v) for k, v in base if k != name]
    if value is not None:
        out.append((name, value))
    return out


MUTATIONS = [(name, value) for name, values in BAD_VALUES.items() for value in values]


@pytest.mark.parametrize(("name", "value"), MUTATIONS, ids=[f"{n}={v!r}" for n, v in MUTATIONS])
def test_a_changed_header_parses_the_same_warm_and_cold(name: str, value: Optional[str]) -> None:
    base = _base()
    pairs = _mutated(base, name, value)
    cold = _cold(pairs)
    _warm()
    assert _outcome(pairs) == cold, f"{name}={value!r}"
    # Over NATS: the consumer's reading straight from the NATS names.
    nats = wire.to_nats([p for p in pairs if "\n" not in p[1] and p[1] == p[1].strip()])
    assert _nats_outcome(nats) == _nats_cold(nats), f"{name}={value!r} over NATS"
    # Over Kafka: the consumer's one pass over the client's header list.
    raw = kafka_wire.to_kafka(pairs)
    assert _kafka_outcome(raw) == _kafka_cold(raw), f"{name}={value!r} over Kafka"


def test_a_repeated_name_is_left_to_the_full_parse() -> None:
    base = _warm()
    twice = [*base, base[0]]
    assert _outcome(twice) == _cold(twice)
    assert _outcome(twice)[1] == "duplicate_header"  # type: ignore[index]
    _warm()
    unknown = [*base, ("x-extra", "1"), ("x-extra", "2")]
    assert _outcome(unknown) == _cold(unknown)
    assert isinstance(_outcome(unknown), Headers)


def _nats_outcome(headers: Dict[str, str]) -> Outcome:
    quick = wire.quick_headers(headers)
    if quick is not None:
        return quick
    return _outcome(wire.from_nats(headers))


def _nats_cold(headers: Dict[str, str]) -> Outcome:
    headers_mod._valid_shared.clear()  # pyright: ignore[reportPrivateUsage]
    assert wire.quick_headers(headers) is None
    return _outcome(wire.from_nats(headers))


KafkaOutcome = Tuple[Outcome, Optional[Pairs]]


class _Record:
    """The one method of a confluent-kafka message that received_headers reads."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def headers(self) -> Any:
        return self.raw


def _kafka_full(raw: List[Tuple[str, Any]]) -> KafkaOutcome:
    """What the Kafka consumer does without the quick path: the received
    headers, the pairs, then the headers (or the first error)."""
    try:
        pairs = kafka_wire.decode_pairs(received_headers(cast(Any, _Record(raw))))
    except BusError as e:
        return (type(e).__name__, e.kind, str(e)), None
    return _outcome(pairs), pairs


def _kafka_outcome(raw: List[Tuple[str, Any]]) -> KafkaOutcome:
    quick = kafka_wire.quick_headers(raw)
    if quick is not None:
        return quick[0], quick[1]
    return _kafka_full(raw)


def _kafka_cold(raw: List[Tuple[str, Any]]) -> KafkaOutcome:
    headers_mod._valid_shared.clear()  # pyright: ignore[reportPrivateUsage]
    assert kafka_wire.quick_headers(raw) is None
    return _kafka_full(raw)


def test_kafka_header_lists_the_quick_path_cannot_vouch_for_go_the_long_way() -> None:
    base = _warm()
    raw: List[Tuple[str, Any]] = list(kafka_wire.to_kafka(base))
    quick = kafka_wire.quick_headers(raw)
    assert quick is not None
    assert quick == (Headers.from_pairs(base), base)
    cases: List[List[Tuple[str, Any]]] = [
        [*raw[:1], (raw[1][0], None), *raw[2:]],  # a null value
        [*raw[:1], (raw[1][0], raw[1][1].decode()), *raw[2:]],  # a str value
        [*raw[:1], (raw[1][0], b"\xff\xfe"), *raw[2:]],  # not UTF-8
        [*raw[:1], (raw[1][0], bytearray(raw[1][1])), *raw[2:]],  # not bytes
        [*raw, raw[0]],  # a name twice
        [*raw, ("x-extra", b"1"), ("x-extra", b"1")],  # an unknown name twice
    ]
    for case in cases:
        _warm()
        assert kafka_wire.quick_headers(case) is None, case
        assert _kafka_outcome(case) == _kafka_cold(case)
    assert kafka_wire.quick_headers(None) is None
    assert kafka_wire.quick_headers(tuple(raw)) is None


def test_nats_headers_named_like_envelope_headers_go_the_long_way() -> None:
    base = _warm()
    nats = wire.to_nats(base)
    assert wire.quick_headers(nats) == Headers.from_pairs(base)
    # A NATS header called `message_id` is kept under that name by
    # from_nats, so the record has message_id twice.
    clash = dict(nats, message_id=dict(base)["message_id"])
    assert wire.quick_headers(clash) is None
    assert _nats_outcome(clash) == _nats_cold(clash)
    assert _nats_outcome(clash)[1] == "duplicate_header"  # type: ignore[index]


def test_the_cache_of_valid_shared_headers_is_bounded() -> None:
    base = _warm()
    limit = headers_mod._VALID_SHARED_MAX  # pyright: ignore[reportPrivateUsage]
    for i in range(3 * limit):
        assert isinstance(Headers.from_pairs(_mutated(base, "producer", f"p{i}")), Headers)
        assert len(headers_mod._valid_shared) <= limit  # pyright: ignore[reportPrivateUsage]


def _validate_outcome(h: Headers) -> Optional[Tuple[str, str, str]]:
    try:
        h.validate()
    except BusError as e:
        return (type(e).__name__, e.kind, str(e))
    return None


FIELDS = {f.name for f in dataclasses.fields(Headers)}
REQUIRED_FIELDS = set(headers_mod.REQUIRED)
EDITS = [
    (name, value)
    for name, value in MUTATIONS
    if name in FIELDS
    and not (value is None and name in REQUIRED_FIELDS)
    and (name != "retry_count" or value is None or value.lstrip("-").isdigit())
]


@pytest.mark.parametrize(("name", "value"), EDITS, ids=[f"{n}={v!r}" for n, v in EDITS])
def test_validate_after_an_edit_is_the_same_warm_and_cold(name: str, value: Optional[str]) -> None:
    # What a producer does: build (validated) and encode (validated again),
    # possibly with a field edited in between.
    base = _warm()
    built = Headers.from_pairs(base)
    field: Any = int(value) if name == "retry_count" and value is not None else value
    edited = dataclasses.replace(built, **{name: field})
    warm = _validate_outcome(edited)
    headers_mod._valid_shared.clear()  # pyright: ignore[reportPrivateUsage]
    assert _validate_outcome(edited) == warm, f"{name}={value!r}"
