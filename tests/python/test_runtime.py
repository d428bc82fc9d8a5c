"""Unit tests of the generated runtime: tokens, keys, headers, envelopes, DLQ."""

from __future__ import annotations

import dataclasses
import gzip
import os
from typing import Any, Callable, List, Tuple

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

import ampybus
from ampybus import envelope, headers, text
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.common.v1 import common_pb2
from ampybus.pb.ampy.fundamentals.v1 import fundamentals_pb2
from ampybus.pb.ampy.news.v1 import news_pb2
from ampybus.pb.ampy.signals.v1 import signals_pb2

ID = "01991b5c-5908-7a1c-8f3e-0123456789ab"
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def bar(symbol: str = "AAPL", mic: str = "XNAS") -> bars_pb2.Bar:
    return bars_pb2.Bar(security=common_pb2.SecurityId(symbol=symbol, mic=mic))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is empty"),
        ("A.B", "`.`"),
        ("*", "`*`"),
        ("a>", "`>`"),
        ("a b", "whitespace"),
        ("a\u00a0b", "whitespace"),
        ("a\u0085b", "whitespace"),
        ("a\u3000b", "whitespace"),
        ("a\u2028b", "whitespace"),
        ("a\x07b", "control"),
        ("a\x9fb", "control"),
    ],
)
def test_tokens_rejected_like_rust(value: str, reason: str) -> None:
    problem = text.token_problem(value)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("value", ["XNAS", "hyper@2025-09-05", "ü", "a\x1cb", "a\u200bb"])
def test_tokens_accepted_like_rust(value: str) -> None:
    # U+001C..U+001F are `str.isspace()` in Python but not Unicode White_Space;
    # U+001C is a control character though, which Rust rejects as such.
    problem = text.token_problem(value)
    if value == "a\x1cb":
        assert problem == "contains a control character"
    else:
        assert problem is None


@pytest.mark.parametrize(
    ("seconds", "nanos", "want"),
    [
        (0, 0, "1970-01-01T00:00:00Z"),
        (1_757_100_661, 5_000_000, "2025-09-05T19:31:01.005Z"),
        (1_757_100_661, 5_000, "2025-09-05T19:31:01.000005Z"),
        (1_757_100_661, 5, "2025-09-05T19:31:01.000000005Z"),
        (-1, 0, "1969-12-31T23:59:59Z"),
        (-62_135_596_800, 0, "0001-01-01T00:00:00Z"),
        (253_402_300_799, 999_999_999, "9999-12-31T23:59:59.999999999Z"),
        (951_782_400, 0, "2000-02-29T00:00:00Z"),
        (253_402_300_800, 0, None),
        (0, -1, None),
        (0, 1_000_000_000, None),
    ],
)
def test_timestamps_follow_proto_json(seconds: int, nanos: int, want: str) -> None:
    assert text.format_timestamp(seconds, nanos) == want


def test_batch_keys_agree_or_fail_in_visiting_order() -> None:
    topic = ampybus.BARS_V1_BARS
    batch = bars_pb2.BarBatch(bars=[bar(), bar(), bar(mic="ARCX")])
    with pytest.raises(ampybus.RouteError) as e:
        topic.partition_key(batch)
    assert e.value.kind == "mixed_keys"
    assert "element 0 has `XNAS`, element 2 has `ARCX`" in str(e.value)

    batch = bars_pb2.BarBatch(bars=[bar(), bars_pb2.Bar(), bar(mic="ARCX")])
    with pytest.raises(ampybus.RouteError) as e:
        topic.partition_key(batch)
    assert e.value.kind == "empty_key_field"
    assert "in element 1" in str(e.value)

    with pytest.raises(ampybus.RouteError) as e:
        topic.partition_key(bars_pb2.BarBatch())
    assert e.value.kind == "empty_batch"

    routed = topic.route(bars_pb2.BarBatch(bars=[bar(), bar()]), ampybus.Env.PAPER)
    assert routed.subject.text == "ampy.paper.bars.v1.XNAS.AAPL"
    assert routed.kafka_key == "XNAS.AAPL XNAS.AAPL"


def test_timestamp_keys_and_invalid_timestamps() -> None:
    topic = ampybus.FUNDAMENTALS_V1_SNAPSHOTS
    snap = fundamentals_pb2.FundamentalsSnapshot(
        security=common_pb2.SecurityId(symbol="AAPL", mic="XNAS"),
        period_end=Timestamp(seconds=1_751_068_800),
        source="sec-edgar",
    )
    assert topic.partition_key(snap) == "AAPL.XNAS|2025-06-28T00:00:00Z|sec-edgar"
    snap.period_end.nanos = 5_000_000
    assert topic.partition_key(snap) == "AAPL.XNAS|2025-06-28T00:00:00.005Z|sec-edgar"
    snap.period_end.seconds = 253_402_300_800
    with pytest.raises(ampybus.RouteError) as e:
        topic.partition_key(snap)
    assert e.value.kind == "invalid_timestamp"
    snap.ClearField("period_end")
    with pytest.raises(ampybus.RouteError) as e:
        topic.partition_key(snap)
    assert e.value.kind == "empty_key_field"


def test_dedupe_key_is_none_when_unset() -> None:
    topic = ampybus.NEWS_V1_RAW
    assert topic.dedupe_key(news_pb2.NewsItem(id="n1")) == "n1"
    assert topic.dedupe_key(news_pb2.NewsItem()) is None
    assert ampybus.BARS_V1_BARS.dedupe_key(bars_pb2.BarBatch()) is None


def test_subject_builders_and_patterns() -> None:
    assert ampybus.TICKS_V1_TRADE.subject("prod", "MSFT").text == "ampy.prod.ticks.v1.trade.MSFT"
    assert ampybus.TICKS_V1_TRADE.pattern(ampybus.Env.DEV) == "ampy.dev.ticks.v1.trade.*"
    assert ampybus.BARS_V1_BARS.pattern("prod", mic="XNAS") == "ampy.prod.bars.v1.XNAS.*"
    assert ampybus.routing.pattern_version("ampy", "prod", "bars", "v1") == "ampy.prod.bars.v1.>"
    with pytest.raises(ampybus.RouteError) as e:
        ampybus.BARS_V1_BARS.subject("pr od", "XNAS", "AAPL")
    assert e.value.kind == "unknown_env" and e.value.field == "env"
    signal = signals_pb2.Signal(model_id="hyper@2025-09-05")
    with pytest.raises(ampybus.RouteError):
        ampybus.SIGNALS_V1_SIGNALS.route(signal, "prod")


def test_isalnum_accepts_only_tokens() -> None:
    """The generated builders accept a token outright when ``str.isalnum()``
    holds (the fast path), so every such character must be a valid token."""
    for o in range(0x110000):
        c = chr(o)
        if c.isalnum():
            assert text.token_problem(c) is None, hex(o)
            assert text.token_problem("A" + c + "1") is None, hex(o)


def test_inline_subjects_equal_subject_at() -> None:
    """``subject()`` and ``route()`` build subjects inline; each result or
    error equals the reference ``routing.subject_at`` over ``param`` checks
    (tokens checked in order, then the env), on valid and hostile values."""
    valid = ["XNAS", "AAPL", "BRK-B", "ü", "ǅ", "١٢"]
    values = [*valid, "", "A.B", "*", "a>", "a b", "a\x07", "x\u3000"]
    envs: List[Any] = [ampybus.Env.PROD, "paper", "PROD", "staging", 3, None]
    bars = ampybus.BARS_V1_BARS
    routing = ampybus.routing

    def outcome(build: Callable[..., Any], *args: Any) -> object:
        try:
            subject = build(*args)
        except (ampybus.RouteError, TypeError) as e:
            return (type(e), str(e), getattr(e, "kind", None), getattr(e, "field", None))
        return (type(subject), subject.text, subject.kafka_topic, subject.subtopic, subject)

    def reference(env: Any, mic: str, symbol: str) -> Any:
        tokens = [routing.param("mic", mic), routing.param("symbol", symbol)]
        return routing.subject_at(bars._heads, env, tokens)

    for env in envs:
        for mic in values:
            for symbol in values:
                want = outcome(reference, env, mic, symbol)
                assert outcome(bars.subject, env, mic, symbol) == want, (env, mic, symbol)
                batch = bars_pb2.BarBatch(bars=[bar(symbol=symbol, mic=mic)])
                if mic and symbol:  # empty fields are the key functions' own error
                    got = outcome(lambda b, e: bars.route(b, e).subject, batch, env)
                    assert got == want, (env, mic, symbol)
    trade = ampybus.TICKS_V1_TRADE.subject("prod", "MSFT")
    assert trade == routing.Subject("ampy.prod.ticks.v1.trade.MSFT", len("ampy.prod.ticks.v1"))
    assert (trade.kafka_topic, trade.subtopic) == ("ampy.prod.ticks.v1", "trade.MSFT")


def test_only_the_registrys_envs_form_a_subject() -> None:
    """Every builder taking an env rejects text outside the registry's envs,
    case-sensitively, with ``unknown_env``; the ``Env`` members and their
    exact names are accepted."""
    batch = bars_pb2.BarBatch(
        bars=[bars_pb2.Bar(security=common_pb2.SecurityId(mic="XNAS", symbol="AAPL"))]
    )
    bars = ampybus.BARS_V1_BARS
    dlq = ampybus.DLQ_V1_DEAD_LETTERS
    builders: List[Callable[[Any], object]] = [
        lambda env: bars.subject(env, "XNAS", "AAPL"),
        lambda env: bars.pattern(env),
        lambda env: bars.route(batch, env),
        lambda env: bars.topic_for(batch, env),
        lambda env: dlq.subject(env, "bars"),
        lambda env: dlq.pattern(env),
        lambda env: dlq.dead_letter(env, "bars", [], b"", "reason"),
        lambda env: ampybus.routing.pattern_env("ampy", env),
        lambda env: ampybus.routing.pattern_domain("ampy", env, "bars"),
        lambda env: ampybus.routing.pattern_version("ampy", env, "bars", "v1"),
        lambda env: ampybus.routing.subject_of("ampy", env, "bars", "v1", ["x"]),
    ]
    for build in builders:
        for bad in ["staging", "PROD", "Prod", " prod", "prod ", "", "pr od", "prod.x"]:
            with pytest.raises(ampybus.RouteError) as e:
                build(bad)
            assert e.value.kind == "unknown_env" and e.value.field == "env", bad
        build("prod")
        build(ampybus.Env.PAPER)
    with pytest.raises(ampybus.RouteError) as e:
        bars.subject("staging", "XNAS", "AAPL")
    assert str(e.value) == "unknown env `staging`; the registry has: dev, paper, prod"
    with pytest.raises(TypeError):
        bars.pattern(3)  # type: ignore[arg-type]


def test_verify_linked_names_the_payload_and_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    """A linked module whose hash differs from the lock is named with its topic."""
    fqdn = "ampy.fills.v1.Fill"
    stale = dataclasses.replace(ampybus.PAYLOADS[fqdn], schema_hash="sha256:" + "0" * 64)
    monkeypatch.setitem(ampybus.PAYLOADS, fqdn, stale)
    with pytest.raises(ampybus.SchemaError) as e:
        ampybus.verify_linked()
    assert e.value.kind == "hash_mismatch"
    assert str(e.value).startswith(
        "the linked `ampy.fills.v1.Fill` (topic fills.v1.events) hashes to `sha256:"
    )
    assert ampybus.PAYLOADS["ampy.fx.v1.FxRate"].topics == "fx.v1.rates, fx.v1.pair"


def good_headers() -> List[Tuple[str, str]]:
    return [
        ("message_id", ID),
        ("schema_fqdn", "ampy.bars.v1.BarBatch"),
        ("schema_version", "1.0.0"),
        ("content_type", "application/x-protobuf"),
        ("produced_at", "2025-09-05T19:31:01Z"),
        ("producer", "p@1"),
        ("source", "s"),
        ("run_id", "r"),
        ("traceparent", TRACE),
        ("partition_key", "XNAS.AAPL"),
    ]


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("message_id", ID.upper(), "malformed_message_id"),
        ("message_id", ID.replace("-7a1c", "-4a1c"), "malformed_message_id"),
        ("traceparent", TRACE.replace("00-", "01-", 1), "malformed_traceparent"),
        ("traceparent", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", "malformed_traceparent"),
        ("produced_at", "2025-09-05T19:31:01+00:00", "malformed_header"),
        ("produced_at", "2025-02-29T19:31:01Z", "malformed_header"),
        ("schema_version", "v1.0.0", "malformed_header"),
        ("content_type", "application/json", "malformed_header"),
        ("producer", "", "missing_header"),
        ("partition_key", "a\nb", "malformed_header"),
    ],
)
def test_header_rules(name: str, value: str, kind: str) -> None:
    pairs = [(k, value if k == name else v) for k, v in good_headers()]
    with pytest.raises(ampybus.HeaderError) as e:
        ampybus.Headers.from_pairs(pairs)
    assert e.value.kind == kind
    assert e.value.name == name


def test_header_duplicates_missing_and_blob_trio() -> None:
    with pytest.raises(ampybus.HeaderError) as e:
        ampybus.Headers.from_pairs([*good_headers(), ("producer", "x")])
    assert e.value.kind == "duplicate_header"
    with pytest.raises(ampybus.HeaderError) as e:
        ampybus.Headers.from_pairs(good_headers()[1:])
    assert (e.value.kind, e.value.name) == ("missing_header", "message_id")
    with pytest.raises(ampybus.HeaderError) as e:
        ampybus.Headers.from_pairs([*good_headers(), ("blob_ref", "s3://b/k")])
    assert (e.value.kind, e.value.name) == ("missing_header", "blob_hash")
    parsed = ampybus.Headers.from_pairs([*good_headers(), ("x-unknown", "kept out")])
    assert parsed.to_pairs() == good_headers()
    assert ampybus.Headers.from_dict(parsed.to_dict()) == parsed


def test_message_ids_are_v7_and_increasing() -> None:
    ids = [headers.new_message_id() for _ in range(200)]
    assert ids == sorted(ids)
    assert all(headers.message_id_problem(i) is None for i in ids)
    a = headers.message_id_from(1_000, b"\xff" * 10)
    b = headers.message_id_from(1_000, b"\x00" * 10)
    assert b > a  # the counter carries, even for a lower seed


def test_envelope_gzip_threshold_and_limits() -> None:
    topic = ampybus.NEWS_V1_RAW

    def record_for(body_len: int) -> ampybus.Record:
        item = news_pb2.NewsItem(id="n1", body="x" * body_len)
        env = ampybus.Envelope.build(topic, item, producer="p", source="s", run_id="r")
        return env.encode()

    small = record_for(1000)
    assert small.header("content_encoding") is None
    big = record_for(200_000)
    assert big.header("content_encoding") == "gzip"
    assert len(gzip.decompress(big.payload)) > envelope.GZIP_THRESHOLD
    back = ampybus.Envelope.decode(topic, big.headers, big.payload)
    assert len(back.payload.body) == 200_000

    noise = os.urandom(900_000).hex()  # incompressible past 1 MiB
    with pytest.raises(ampybus.EnvelopeError) as e:
        item = news_pb2.NewsItem(id="n1", body=noise)
        ampybus.Envelope.build(topic, item, producer="p", source="s", run_id="r").encode()
    assert e.value.kind == "too_large"


def test_decode_rejects_corrupt_gzip_bombs_and_wrong_schema() -> None:
    topic = ampybus.NEWS_V1_RAW
    env = ampybus.Envelope.build(
        topic, news_pb2.NewsItem(id="n1"), producer="p", source="s", run_id="r"
    )
    record = env.encode()
    gz = [*record.headers, ("content_encoding", "gzip")]
    for body, kind in [
        (b"not gzip", "corrupt_gzip"),
        (gzip.compress(b"abc")[:-3], "corrupt_gzip"),
        (gzip.compress(b"abc") + b"x", "corrupt_gzip"),
        (gzip.compress(b"\x00" * (65 * 1024 * 1024), compresslevel=1), "too_large"),
    ]:
        with pytest.raises(ampybus.BusError) as e:
            ampybus.Envelope.decode(topic, gz, body)
        assert e.value.kind == kind
    with pytest.raises(ampybus.BusError) as e:
        ampybus.Envelope.decode(topic, record.headers, b"\xff\xff")
    assert e.value.kind == "decode_error"
    assert ampybus.dlq_reason(e.value).startswith("decode_error: ")
    with pytest.raises(ampybus.SchemaError) as se:
        ampybus.Envelope.decode(ampybus.BARS_V1_BARS, record.headers, record.payload)
    assert se.value.kind == "unknown_fqdn"
    wrong = [(k, "sha256:" + "0" * 64 if k == "schema_hash" else v) for k, v in record.headers]
    with pytest.raises(ampybus.SchemaError) as se:
        ampybus.Envelope.decode(topic, wrong, record.payload)
    assert se.value.kind == "hash_mismatch"
    assert ampybus.dlq_reason(se.value) == "schema_hash_mismatch"
    with pytest.raises(ampybus.SchemaError) as se:
        ampybus.verify_headers(ampybus.Headers.from_pairs(wrong))
    assert se.value.kind == "hash_mismatch"


def test_blob_pointer_round_trip() -> None:
    topic = ampybus.NEWS_V1_RAW
    env = ampybus.Envelope.build(
        topic, news_pb2.NewsItem(id="n1", body="b"), producer="p", source="s", run_id="r"
    )
    pointer, blob = env.to_blob("s3://bucket/key")
    record = env.encode_pointer(pointer)
    assert record.payload == b"" and record.header("blob_size") == str(len(blob))
    with pytest.raises(ampybus.EnvelopeError) as e:
        ampybus.Envelope.decode(topic, record.headers, record.payload)
    assert e.value.kind == "blob_pointer"
    parsed = ampybus.Envelope.decode_headers(topic, record.headers)
    assert ampybus.Envelope.decode_blob(topic, parsed, blob).payload.body == "b"
    with pytest.raises(ampybus.EnvelopeError) as e:
        ampybus.Envelope.decode_blob(topic, parsed, blob + b"x")
    assert e.value.kind == "blob_size_mismatch"


def test_dead_letters_keep_headers_and_replace_the_reason() -> None:
    dlq = ampybus.DLQ_V1_DEAD_LETTERS
    pairs = [("a", "1"), ("dlq_reason", "old"), ("b", "2"), ("dlq_reason", "older")]
    letter = dlq.dead_letter("prod", "bars", pairs, b"\x01", "decode_error: bad\nthing")
    assert letter.subject.text == "ampy.prod.dlq.v1.bars"
    assert letter.headers == [("a", "1"), ("dlq_reason", "decode_error: bad thing"), ("b", "2")]
    assert envelope.sanitize_reason("  ") == "unspecified"
    assert len(envelope.sanitize_reason("é" * 2000).encode()) <= envelope.MAX_REASON_LEN
    with pytest.raises(ampybus.RouteError):
        dlq.subject("prod", "bars.v1")


def test_linked_descriptors_hash_to_the_lock() -> None:
    ampybus.verify_linked()
    for schema in ampybus.PAYLOADS.values():
        assert schema.linked_hash() == schema.schema_hash
