#!/usr/bin/env python3
"""Writes a deterministic synthetic AmpyFin registry of N proto files.

One topic per file, each payload a realistic batch message: imports (a
shared common file, the parent file in a binary tree, and the well-known
Timestamp), maps, a oneof, enums, repeated fields and Timestamps. The same
N always gives the same bytes (no randomness, no clocks), so runs on
different days or machines measure the same input.

Usage: synth.py N OUT_DIR  (OUT_DIR/registry/synth.yaml, OUT_DIR/proto/...)
"""

import os
import sys

COMMON = """syntax = "proto3";

// Types every synthetic domain shares.
package synth.common.v1;

import "google/protobuf/timestamp.proto";

// Instrument identity.
message SecurityId {
  string symbol = 1;
  string mic = 2;
  string figi = 3;
}

// A decimal as units and a power-of-ten scale.
message Decimal {
  int64 units = 1;
  int32 scale = 2;
}

// Lineage of a batch.
message Meta {
  string producer = 1;
  string source = 2;
  string run_id = 3;
  google.protobuf.Timestamp produced_at = 4;
  map<string, string> labels = 5;
}
"""


def domain(i: int) -> str:
    return f"d{i:05d}"


def proto_path(i: int) -> str:
    return f"synth/{domain(i)}/v1/{domain(i)}.proto"


def proto(i: int) -> str:
    d = domain(i)
    parent = (i - 1) // 2 if i > 0 else None
    imports = ['import "synth/common/v1/common.proto";']
    if parent is not None:
        imports.append(f'import "{proto_path(parent)}";')
    imports.append('import "google/protobuf/timestamp.proto";')
    upstream = (
        f"    synth.{domain(parent)}.v1.Detail upstream = 8;\n" if parent is not None else ""
    )
    # A few extra scalar fields, varying by file, so shapes differ.
    extra = "".join(
        f"  {kind} extra_{k} = {20 + k};\n"
        for k, kind in enumerate(["double", "bool", "uint32", "string", "bytes"][: i % 6])
    )
    return f"""syntax = "proto3";

// Synthetic domain {i}.
package synth.{d}.v1;

{chr(10).join(imports)}

// Side of the event.
enum Side {{
  SIDE_UNSPECIFIED = 0;
  SIDE_BUY = 1;
  SIDE_SELL = 2;
}}

// Venue details, also referenced by child domains.
message Detail {{
  string venue = 1;
  map<string, string> attributes = 2;
  google.protobuf.Timestamp as_of = 3;
  synth.common.v1.Decimal limit = 4;
}}

// One event of domain {i}.
message Item {{
  synth.common.v1.SecurityId security = 1;
  google.protobuf.Timestamp event_time = 2;
  synth.common.v1.Decimal price = 3;
  int64 quantity = 4;
  Side side = 5;
  oneof extra {{
    string note = 6;
    Detail detail = 7;
{upstream}  }}
  map<string, synth.common.v1.Decimal> metrics = 9;
  repeated string tags = 10;
{extra}}}

// The payload: events of one security.
message Batch {{
  repeated Item items = 1;
  synth.common.v1.Meta meta = 2;
}}
"""


def registry(n: int) -> str:
    out = [
        "# Synthetic registry written by benches/scale/synth.py.",
        "format: 1",
        "namespace: ampy",
        "envs: [dev, prod]",
        "",
        "protos:",
        "  include: [../proto]",
        "  files:",
        "    - synth/common/v1/common.proto",
    ]
    out += [f"    - {proto_path(i)}" for i in range(n)]
    out += [
        "",
        "targets:",
        "  go:",
        "    module: synth.example/bus",
        "    package: synthbus",
        "    types: synth.example/bus/pb",
        "  python:",
        "    package: synthbus",
        "",
        "qos:",
        "  standard:",
        "    delivery: at_least_once",
        "    description: Everything.",
        "",
        "domains:",
    ]
    for i in range(n):
        d = domain(i)
        out += [
            f"  {d}:",
            f"    description: Synthetic domain {i}.",
            "    qos: standard",
            "    versions:",
            "      v1:",
            "        topics:",
            "          events:",
            '            subtopic: "{mic}.{symbol}"',
            f"            payload: synth.{d}.v1.Batch",
            "            schema_version: 1.0.0",
            "            key:",
            "              fields:",
            "                mic: items[*].security.mic",
            "                symbol: items[*].security.symbol",
            '              format: "{mic}.{symbol}"',
            "            ordering: items[*].event_time",
        ]
    return "\n".join(out) + "\n"


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main() -> None:
    n, out = int(sys.argv[1]), sys.argv[2]
    write(os.path.join(out, "proto/synth/common/v1/common.proto"), COMMON)
    for i in range(n):
        write(os.path.join(out, "proto", proto_path(i)), proto(i))
    write(os.path.join(out, "registry/synth.yaml"), registry(n))


if __name__ == "__main__":
    main()
