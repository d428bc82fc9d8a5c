#!/usr/bin/env python3
"""Authoring tool for the conformance vectors (tests/vectors/FORMAT.md).

Fills in the bytes of every vector from its hand-written JSON, using the
reference protobuf implementation only: Debian's `protoc` builds a
descriptor set from proto/, and the `protobuf` package from PyPI parses
`payload_json` (proto3 JSON) and encodes it. It never runs ampygen.

What it writes, and nothing else:
  positive vectors  payload_base64; envelope.body_base64 (the payload bytes,
                    gzip of them when the headers say content_encoding:
                    gzip, empty for a blob pointer); blob_hash and blob_size
                    of a blob pointer.
  negative vectors  payload_base64 from payload_textproto (route vectors
                    whose payload JSON cannot express); body_base64 from
                    the `author` recipe of decode vectors.
  accept vectors    body_base64 from the `author` recipe.

Everything else (subjects, keys, headers, errors) is written by hand from
the contract and checked by the runners.

  python3 -m venv /tmp/vec-venv && /tmp/vec-venv/bin/pip install protobuf
  /tmp/vec-venv/bin/python tests/vectors/tools/encode.py          # rewrite
  /tmp/vec-venv/bin/python tests/vectors/tools/encode.py --check  # verify
"""

import base64
import gzip
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile
import zlib

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory, text_format

ROOT = pathlib.Path(__file__).resolve().parents[3]
VECTORS = ROOT / "tests" / "vectors"
PROTO = ROOT / "proto"
GZIP_THRESHOLD = 128 * 1024


def load_pool():
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "set.pb"
        subprocess.run(
            ["/usr/bin/protoc", f"-I{PROTO}", "--include_imports", f"--descriptor_set_out={out}", *files],
            check=True,
        )
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return pool


class Encoder:
    def __init__(self):
        self.pool = load_pool()

    def message(self, fqdn):
        return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(fqdn))()

    def from_json(self, fqdn, value):
        msg = self.message(fqdn)
        json_format.ParseDict(value, msg)
        # Deterministic: map entries sorted by key. Vectors whose maps have
        # several entries say `bytes_exact: false` (other encoders may order
        # them differently).
        return msg.SerializeToString(deterministic=True)

    def from_text(self, fqdn, text):
        msg = self.message(fqdn)
        text_format.Parse(text, msg)
        return msg.SerializeToString(deterministic=True)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def gunzip_or_none(data):
    try:
        return gzip.decompress(data)
    except Exception:
        return None


def fill_positive(enc, v):
    name = v["name"]
    fqdn = v["expect"]["schema_fqdn"]
    raw = enc.from_json(fqdn, v["payload_json"])
    v["payload_base64"] = b64(raw)
    headers = v["envelope"]["headers"]
    if "blob_ref" in headers:
        if "content_encoding" in headers:
            sys.exit(f"{name}: the vectors' blob pointers carry plain payload bytes")
        headers["blob_hash"] = "sha256:" + hashlib.sha256(raw).hexdigest()
        headers["blob_size"] = str(len(raw))
        v["envelope"]["body_base64"] = ""
        return
    gz = headers.get("content_encoding") == "gzip"
    if gz != (len(raw) > GZIP_THRESHOLD):
        sys.exit(f"{name}: payload is {len(raw)} bytes but content_encoding is {headers.get('content_encoding')}")
    if gz:
        old = base64.b64decode(v["envelope"].get("body_base64", ""))
        if gunzip_or_none(old) != raw:
            v["envelope"]["body_base64"] = b64(gzip.compress(raw, compresslevel=9, mtime=0))
    else:
        v["envelope"]["body_base64"] = b64(raw)


def hex_parts(parts):
    """`hex_parts`: hex strings, `{"repeat": hex, "times": n}` and
    `{"len_of": [parts]}` (the varint length of the parts, then the parts)."""
    out = b""
    for p in parts:
        if isinstance(p, str):
            out += bytes.fromhex(p)
        elif "repeat" in p:
            out += bytes.fromhex(p["repeat"]) * p["times"]
        else:
            inner = hex_parts(p["len_of"])
            out += varint(len(inner)) + inner
    return out


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def gzip_member(data, m):
    """A gzip member with the header fields of RFC 1952 spelled out by the
    `gzip_member` recipe: flags (FLG bits besides the ones the fields below
    set), method, mtime, os, extra_hex, xlen (a wrong XLEN), name_len and
    comment_len (that many `n` / `c` bytes, then a zero unless `unterminated`),
    hcrc ("good" or "bad"), level (deflate level, 0 for stored blocks)."""
    flg = m.get("flags", 0)
    extra = bytes.fromhex(m["extra_hex"]) if "extra_hex" in m else None
    flg |= 0x04 if extra is not None else 0
    flg |= 0x08 if "name_len" in m else 0
    flg |= 0x10 if "comment_len" in m else 0
    flg |= 0x02 if "hcrc" in m else 0
    head = bytes([0x1F, 0x8B, m.get("method", 8), flg]) + m.get("mtime", 0).to_bytes(4, "little")
    head += bytes([m.get("xfl", 0), m.get("os", 255)])
    if extra is not None:
        head += m.get("xlen", len(extra)).to_bytes(2, "little") + extra
    for key, letter in (("name_len", b"n"), ("comment_len", b"c")):
        if key in m:
            head += letter * m[key] + (b"" if m.get("unterminated") else b"\0")
    if "hcrc" in m:
        crc = zlib.crc32(head) & 0xFFFF
        head += (crc if m["hcrc"] == "good" else crc ^ 0xFFFF).to_bytes(2, "little")
    c = zlib.compressobj(m.get("level", 9), zlib.DEFLATED, -zlib.MAX_WBITS)
    body = c.compress(data) + c.flush()
    trailer = zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
    return head + body + trailer


def author_body(enc, v):
    """Builds a decode vector's body from its `author` recipe."""
    a = v["author"]
    if "hex" in a:
        data = bytes.fromhex(a["hex"])
    elif "hex_parts" in a:
        data = hex_parts(a["hex_parts"])
    elif "zeros" in a:
        data = bytes(a["zeros"])
    else:
        data = enc.from_json(a["fqdn"], a["payload_json"])
    if a.get("gzip"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    elif "gzip_member" in a:
        data = gzip_member(data, a["gzip_member"])
    for op in a.get("mutate", []):
        if op["op"] == "truncate":
            data = data[: op["len"]]
        elif op["op"] == "xor":
            i = op["offset"] % len(data)
            data = data[:i] + bytes([data[i] ^ op["mask"]]) + data[i + 1 :]
        elif op["op"] == "append_hex":
            data = data + bytes.fromhex(op["hex"])
        elif op["op"] == "append_self":
            data = data + data
        else:
            sys.exit(f"{v['name']}: unknown mutation {op}")
    return data


def fill_negative(enc, v):
    if "payload_textproto" in v:
        v["payload_base64"] = b64(enc.from_text(v["payload_fqdn"], v["payload_textproto"]))
    if "author" in v:
        v["body_base64"] = b64(author_body(enc, v))


def main():
    check = "--check" in sys.argv[1:]
    enc = Encoder()
    files = sorted((VECTORS / "positive").glob("*.json")) + sorted(VECTORS.glob("negative*.json"))
    files += [VECTORS / "accept.json"]
    stale = []
    for path in files:
        before = path.read_text(encoding="utf-8")
        doc = json.loads(before)
        for v in doc["vectors"]:
            if path.name.startswith("negative") or path.name == "accept.json":
                fill_negative(enc, v)
            else:
                fill_positive(enc, v)
        after = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        if after != before:
            stale.append(path.relative_to(ROOT))
            if not check:
                path.write_text(after, encoding="utf-8")
    if check and stale:
        sys.exit("stale vector bytes (run tests/vectors/tools/encode.py): " + ", ".join(map(str, stale)))
    for p in stale:
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
