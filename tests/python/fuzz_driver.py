"""The Python driver of the differential fuzz harness (tests/fuzz-diff, run
by scripts/fuzz-diff).

Reads records as JSON lines on stdin::

    {"id": 7, "topic": "bars.v1.bars", "headers": [["message_id", "…"], …], "body": "<base64>"}

decodes each with ``Envelope.decode`` on its topic, and answers each with one
line: ``<id> ok <sha256 of the canonical payload>``, ``<id> err <kind>``, or
``<id> crash <what>`` when something other than a ``BusError`` escaped. The
canonical payload is the decoded message without unknown fields, serialized
deterministically: the digest the Rust and Go drivers compute the same way.

    PYTHONPATH=gen/python .venv/bin/python tests/python/fuzz_driver.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from typing import Any, Dict, List

from google.protobuf.message import Message

import ampybus


def _implicit_float(fd: Any) -> bool:
    return bool(
        fd.type in (fd.TYPE_DOUBLE, fd.TYPE_FLOAT) and not fd.has_presence and not fd.is_repeated
    )


def canonical(msg: Message) -> bytes:
    """Set fields in number order, map entries sorted by key (bytes of the
    UTF-8 form for strings) with key and value, unknown fields and zeros of
    implicit-presence floats left out.

    upb's deterministic serialization orders fields by number but map
    entries in its own order, so maps are written entry by entry here.
    """
    out: List[bytes] = []
    for fd, value in sorted(msg.ListFields(), key=lambda fv: fv[0].number):
        if _implicit_float(fd) and value == 0.0:
            # -0.0: Rust's encoder (prost) writes none, so the Rust digest
            # cannot tell the two zeros apart (docs/envelope.md).
            continue
        entry = fd.message_type
        if entry is not None and entry.GetOptions().map_entry:
            key_fd = entry.fields_by_name["key"]
            is_str = key_fd.type == key_fd.TYPE_STRING
            for k in sorted(value, key=lambda k: k.encode() if is_str else k):
                one = type(msg)()
                entries = getattr(one, fd.name)
                if entry.fields_by_name["value"].message_type is not None:
                    entries[k].CopyFrom(value[k])
                else:
                    entries[k] = value[k]
                out.append(one.SerializeToString(deterministic=True))
        elif entry is not None:
            items = value if fd.is_repeated else [value]
            for item in items:
                body = canonical(item)
                out.append(_varint((fd.number << 3) | 2) + _varint(len(body)) + body)
        else:
            one = type(msg)()
            if fd.is_repeated:
                getattr(one, fd.name).extend(value)
            else:
                setattr(one, fd.name, value)
            out.append(one.SerializeToString(deterministic=True))
    return b"".join(out)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decide(r: Dict[str, Any]) -> str:
    topic = ampybus.TOPICS.get(r["topic"])
    if topic is None:
        return f"crash unknown topic {r['topic']}"
    pairs = [(str(k), str(v)) for k, v in r["headers"]]
    try:
        env = ampybus.Envelope.decode(topic, pairs, base64.b64decode(r["body"]))
    except ampybus.BusError as e:
        return f"err {e.kind}"
    except Exception as e:  # reported as a crash, never hidden
        return f"crash {type(e).__name__}: {' '.join(str(e).split())[:200]}"
    return "ok " + hashlib.sha256(canonical(env.payload)).hexdigest()


def main() -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError as e:
            answer = f"? crash bad record: {e}"
        else:
            answer = f"{r['id']} {decide(r)}"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
