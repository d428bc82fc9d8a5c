#!/usr/bin/env python3
"""Writes tests/vectors/kafka/partition-keys.txt: the record keys whose
partitions every runtime must place exactly as Java's default partitioner
(docs/kafka.md, "Partitioning").

One key per line: `k:` and the standard, padded base64 of the key's bytes
(`k:` alone is the empty key), so that any byte string fits on a line. The
keys are the Kafka record keys the bindings form (`{subtopic} {partition
key}`, docs/registry.md) for every domain's key shape, plus the edges of
murmur2: every length 0 to 19 (each tail length), non-ASCII, bytes at and
above 0x80 (Java reads bytes signed), and long keys. Deterministic: no
randomness, so the file only changes when this script does.

    python3 tests/kafka/make_keys.py    # rewrites the file
"""

import base64
import pathlib

keys: list[bytes] = []


def add(s: "str | bytes") -> None:
    b = s.encode("utf-8") if isinstance(s, str) else s
    if b not in keys:
        keys.append(b)


# The domains' real key shapes, as Kafka record keys.
symbols = ["AAPL", "MSFT", "GOOGL", "BRK.B", "TSLA", "NVDA", "SPY", "QQQ", "7203", "VOD"]
mics = ["XNAS", "XNYS", "ARCX", "XTKS", "XLON"]
for mic in mics:
    for sym in symbols:
        add(f"{mic}.{sym} {mic}.{sym}")  # bars: subtopic {mic}.{symbol}, key mic first
for sym in symbols:
    for mic in mics[:3]:
        add(f"trade.{sym} {sym}.{mic}")  # ticks trade
        add(f"quote.{sym} {sym}.{mic}")  # ticks quote
for i in range(1, 41):
    add(f"requests co_20250905_{i:03d}")  # orders by client_order_id
    add(f"fills ACC-{i % 4:02d}|co_20250905_{i:03d}")  # fills account|client_order_id
for acct in ["ACC-00", "ACC-01", "ib-7781", "alpaca:paper"]:
    add(f"positions {acct}")
for pair in ["EURUSD", "USDJPY", "GBPUSD"]:
    add(f"rates {pair}")
for src in ["reuters", "benzinga", "sec-edgar"]:
    add(f"raw {src}:n-000123")
add("")  # the empty key is a key, not a null key
# Every tail length of murmur2 (len % 4) over lengths 0..19.
for n in range(1, 20):
    add("abcdefghijklmnopqrstuvwxyz"[:n])
# Non-ASCII (UTF-8 bytes >= 0x80; Java's bytes are signed).
for s in ["é", "ü", "日本", "日本株", "Ωmega", "🙂", "naïve café", "Zürich.XSWX", "株式会社.XTKS", "trade.Ω 🙂|x"]:
    add(s)
add(bytes(range(0x80, 0x100)))  # raw high bytes (keys from a hostile peer)
add(bytes([0xFF]))
add(bytes([0x80, 0x00]))
add(bytes([0x00]))
add(bytes([0x7F, 0x80, 0xFF]))
# Long keys.
add("x" * 255)
add("XNAS." + "A" * 1000)
add(("0123456789" * 410)[:4096])
add("requests " + "co_" * 700)

out = pathlib.Path(__file__).resolve().parents[1] / "vectors" / "kafka" / "partition-keys.txt"
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text("".join("k:" + base64.b64encode(k).decode("ascii") + "\n" for k in keys), encoding="ascii")
print(f"{len(keys)} keys -> {out}")
