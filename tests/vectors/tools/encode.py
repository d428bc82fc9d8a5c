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


def author_body(enc, v):
    """Builds a decode vector's body from its `author` recipe."""
    a = v["author"]
    if "hex" in a:
        data = bytes.fromhex(a["hex"])
    elif "zeros" in a:
        data = bytes(a["zeros"])
    else:
        data = enc.from_json(a["fqdn"], a["payload_json"])
    if a.get("gzip"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
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
    stale = []
    for path in files:
        before = path.read_text(encoding="utf-8")
        doc = json.loads(before)
        for v in doc["vectors"]:
            if path.name.startswith("negative"):
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
