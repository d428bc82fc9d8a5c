"""The conformance vectors (tests/vectors/FORMAT.md), run against the generated package.

Every positive vector gets every check of "What a runner checks"; every
negative vector runs its operation and must fail with its error kind. A
failure names the vector.
"""

from __future__ import annotations

import base64
import json
import pathlib
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

import ampybus
from ampybus import envelope as env_mod
from ampybus.errors import BusError
from ampybus.headers import Headers
from ampybus.routing import Topic

VECTORS = pathlib.Path(__file__).resolve().parents[1] / "vectors"
DOMAINS = 14


def _load(path: pathlib.Path) -> List[Dict[str, Any]]:
    vectors: List[Dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["vectors"]
    return vectors


def _positive() -> List[Tuple[str, Dict[str, Any]]]:
    out = []
    for path in sorted((VECTORS / "positive").glob("*.json")):
        for v in _load(path):
            out.append((f"{path.name}:{v['name']}", v))
    return out


def _negative() -> List[Tuple[str, Dict[str, Any]]]:
    path = VECTORS / "negative.json"
    return [(f"negative.json:{v['name']}", v) for v in _load(path)] if path.exists() else []


def _accept() -> List[Tuple[str, Dict[str, Any]]]:
    return [(f"accept.json:{v['name']}", v) for v in _load(VECTORS / "accept.json")]


POSITIVE = _positive()
NEGATIVE = _negative()
ACCEPT = _accept()


def _topic(topic_id: str) -> Topic[Any]:
    return ampybus.TOPICS[topic_id]


def _payload(topic: Topic[Any], v: Dict[str, Any]) -> Message:
    msg: Message = topic.message_type()
    if "payload_base64" in v:
        msg.ParseFromString(base64.b64decode(v["payload_base64"]))
    else:
        json_format.ParseDict(v["payload_json"], msg)
    return msg


def test_vectors_cover_every_domain() -> None:
    """Non-vacuity: at least three positive vectors per domain, 14 domains."""
    per_domain = Counter(v["topic"].split(".")[0] for _, v in POSITIVE)
    assert len(per_domain) >= DOMAINS, per_domain
    thin = {d: n for d, n in per_domain.items() if n < 3}
    assert not thin, f"domains with fewer than 3 vectors: {thin}"
    assert len(NEGATIVE) >= 20


@pytest.mark.parametrize(("name", "v"), POSITIVE, ids=[n for n, _ in POSITIVE])
def test_positive(name: str, v: Dict[str, Any]) -> None:
    expect = v["expect"]
    is_dlq = v["topic"].startswith("dlq.")
    topic = _topic(v["source_topic"] if is_dlq else v["topic"])

    # 1. binary and JSON decode to equal messages.
    raw = base64.b64decode(v["payload_base64"])
    from_bytes = topic.message_type()
    from_bytes.ParseFromString(raw)
    from_json = topic.message_type()
    json_format.ParseDict(v["payload_json"], from_json)
    assert from_bytes == from_json, f"{name}: payload_base64 and payload_json differ"

    # 2. routing.
    routed = topic.route(from_bytes, v["env"])
    assert topic.partition_key(from_bytes) == expect["partition_key"], name
    assert routed.partition_key == expect["partition_key"], name
    assert topic.dedupe_key(from_bytes) == expect["dedupe_key"], name
    if is_dlq:
        dlq = ampybus.DLQ_TOPICS[v["topic"]]
        subject = dlq.subject(v["env"], v["source_domain"])
    else:
        subject = topic.topic_for(from_bytes, v["env"])
        assert routed.subject == subject, name
    assert subject.text == expect["subject"], name
    assert subject.kafka_topic == expect["kafka_topic"], name
    assert subject.kafka_key(expect["partition_key"]) == expect["kafka_key"], name

    # 3. schema constants and the canonical form from the linked descriptors.
    assert topic.fqdn == expect["schema_fqdn"], name
    assert topic.schema_version == expect["schema_version"], name
    assert topic.schema_hash == expect["schema_hash"], name
    form = (VECTORS / expect["canonical_form"]).read_text(encoding="utf-8")
    descriptor = topic.message_type.DESCRIPTOR
    assert ampybus.canonical_form(descriptor) == form, f"{name}: canonical form differs"
    assert ampybus.canonical_schema_hash(descriptor) == expect["schema_hash"], name

    # 4. the envelope's headers parse and it decodes to the payload bytes.
    wire = v["envelope"]["headers"]
    pairs = list(wire.items())
    headers = Headers.from_pairs(pairs)
    topic.verify(headers)
    body = base64.b64decode(v["envelope"]["body_base64"])
    if headers.blob is not None:
        assert body == b"", name
        with pytest.raises(BusError) as e:
            ampybus.Envelope.decode(topic, pairs, body)
        assert e.value.kind == "blob_pointer", name
        env = ampybus.Envelope.decode_blob(topic, headers, raw)
    else:
        env = ampybus.Envelope.decode(topic, pairs, body)
    assert env.payload == from_bytes, f"{name}: decoded payload differs"
    if headers.blob is None:
        inflated = env_mod.decompress(body) if headers.content_encoding == "gzip" else body
        assert inflated == raw, f"{name}: the record body is not the payload bytes"
    # Map entry order on the wire is unspecified: `bytes_exact: false`
    # vectors compare messages wherever a runner re-encodes.
    exact = bool(v.get("bytes_exact", True))
    if exact:
        assert from_json.SerializeToString() == raw, f"{name}: JSON re-encodes differently"

    # 5. encoding with the same producer-chosen headers gives the same record;
    # a DLQ vector encodes the original record and dead-letters it.
    source_wire = {k: val for k, val in wire.items() if k != "dlq_reason"} if is_dlq else wire
    built = ampybus.Envelope.build(
        topic,
        from_bytes,
        producer=source_wire["producer"],
        source=source_wire["source"],
        run_id=source_wire["run_id"],
        traceparent=source_wire["traceparent"],
        retry_count=int(source_wire["retry_count"]) if "retry_count" in source_wire else None,
        message_id=source_wire["message_id"],
        produced_at=source_wire["produced_at"],
    )
    if headers.blob is not None:
        pointer, blob = built.to_blob(headers.blob.blob_ref)
        if exact:
            assert blob == raw and pointer == headers.blob, name
        record = built.encode_pointer(pointer)
        assert record.payload == b"", name
    else:
        record = built.encode()
        plain = record.payload
        if wire.get("content_encoding") == "gzip":
            plain = env_mod.decompress(record.payload)
        if exact:
            assert plain == raw, f"{name}: encoded body differs"
        else:
            again = topic.message_type()
            again.ParseFromString(plain)
            assert again == from_bytes, f"{name}: encoded body differs"
    got = record.headers
    if not exact and headers.blob is not None:
        got = [(k, headers.blob.blob_hash if k == "blob_hash" else val) for k, val in got]
    if is_dlq:
        letter = dlq.dead_letter(
            v["env"], v["source_domain"], got, record.payload, wire["dlq_reason"]
        )
        assert letter.subject.text == expect["subject"], name
        assert letter.payload == body, f"{name}: dead letter body differs"
        got = letter.headers
    assert dict(got) == wire, f"{name}: encoded headers differ"
    assert [k for k, _ in got] == list(wire), f"{name}: header order differs"


def _negative_payload(topic: Topic[Any], v: Dict[str, Any]) -> Message:
    return _payload(topic, v)


def _run_negative(v: Dict[str, Any]) -> Optional[BusError]:
    op = v["operation"]
    try:
        if op == "subject":
            topic_id = v["topic"]
            target: Any = ampybus.DLQ_TOPICS.get(topic_id) or _topic(topic_id)
            target.subject(v["env"], **_subject_args(target, v["args"]))
        elif op == "route":
            topic = _topic(v["topic"])
            payload = _negative_payload(topic, v)
            try:
                topic.topic_for(payload, v["env"])
            except BusError as e:
                if "partition_key" in v:
                    # The value breaks the subject, not the key.
                    assert topic.partition_key(payload) == v["partition_key"], v["name"]
                else:
                    with pytest.raises(BusError) as again:
                        topic.partition_key(payload)
                    assert again.value.kind == e.kind, v["name"]
                return e
        elif op == "headers":
            Headers.from_pairs(_pairs(v["headers"]))
        elif op == "verify":
            headers = Headers.from_pairs(_pairs(v["headers"]))
            _topic(v["topic"]).verify(headers)
        elif op == "decode":
            body = base64.b64decode(v.get("body_base64", ""))
            ampybus.Envelope.decode(_topic(v["topic"]), _pairs(v["headers"]), body)
        else:
            raise AssertionError(f"{v['name']}: unknown operation {op}")
    except BusError as e:
        return e
    return None


def _pairs(headers: Any) -> List[Tuple[str, str]]:
    # A list of pairs keeps duplicates; a map is one pair per name.
    if isinstance(headers, list):
        return [(str(k), str(val)) for k, val in headers]
    return list(headers.items())


def _subject_args(target: Any, args: Dict[str, str]) -> Dict[str, str]:
    # Generated builders sanitise Python keywords (`class` → `class_`).
    import inspect

    params = list(inspect.signature(target.subject).parameters)[1:]
    out = {}
    for name, value in args.items():
        match = next(p for p in params if p.rstrip("_") == name)
        out[match] = value
    return out


@pytest.mark.parametrize(("name", "v"), NEGATIVE, ids=[n for n, _ in NEGATIVE])
def test_negative(name: str, v: Dict[str, Any]) -> None:
    err = _run_negative(v)
    assert err is not None, f"{name}: expected {v['error']}, but it succeeded"
    assert err.kind == v["error"], f"{name}: expected {v['error']}, got {err.kind}: {err}"


def test_accept_vectors_are_all_there() -> None:
    assert len(ACCEPT) == 16


@pytest.mark.parametrize(("name", "v"), ACCEPT, ids=[n for n, _ in ACCEPT])
def test_accept(name: str, v: Dict[str, Any]) -> None:
    """Records at the edge of a wire or gzip rule decode, to exactly payload_json."""
    assert v["operation"] == "decode", name
    topic = _topic(v["topic"])
    got = ampybus.Envelope.decode(topic, _pairs(v["headers"]), base64.b64decode(v["body_base64"]))
    want = json_format.ParseDict(v["payload_json"], topic.message_type())
    assert got.payload == want, f"{name}: decoded {got.payload}, want {want}"
