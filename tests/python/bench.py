"""Micro-benchmark of the generated routing functions, in microseconds per call.

    PYTHONPATH=gen/python .venv/bin/python tests/python/bench.py [--quick]

Measures partition keys, full routes (subject + key + dedupe) and typed
subject builders on realistic payloads: a one-bar batch, a 100-bar batch
(``[*]`` agreement over every element), a news item and a fundamentals
snapshot (a Timestamp key); and decoding a 1000-bar envelope against plain
``ParseFromString``. Prints the best of several timeit repeats.
"""

from __future__ import annotations

import sys
import timeit
from typing import Callable, Dict, List, Tuple

from google.protobuf.timestamp_pb2 import Timestamp

import ampybus
from ampybus import wire
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.common.v1 import common_pb2
from ampybus.pb.ampy.fundamentals.v1 import fundamentals_pb2
from ampybus.pb.ampy.news.v1 import news_pb2


def bars(n: int) -> bars_pb2.BarBatch:
    security = common_pb2.SecurityId(symbol="AAPL", mic="XNAS")
    return bars_pb2.BarBatch(bars=[bars_pb2.Bar(security=security) for _ in range(n)])


def cases() -> List[Tuple[str, Callable[[], object]]]:
    one, hundred = bars(1), bars(100)
    news = news_pb2.NewsItem(id="marketbeat:2025-09-05:amzn-headline-8b12c6")
    snap = fundamentals_pb2.FundamentalsSnapshot(
        security=common_pb2.SecurityId(symbol="AAPL", mic="XNAS"),
        period_end=Timestamp(seconds=1_751_068_800),
        source="sec-edgar",
    )
    b, n, f = ampybus.BARS_V1_BARS, ampybus.NEWS_V1_RAW, ampybus.FUNDAMENTALS_V1_SNAPSHOTS
    env = ampybus.Env.PROD
    env_text, mic, symbol = "prod", "XNAS", "AAPL"

    # What a service would write by hand, with no check at all (issue 15's
    # yardstick: the generated functions, which check, against these).
    def hand_key(p: bars_pb2.BarBatch) -> str:
        s = p.bars[0].security
        return f"{s.mic}.{s.symbol}"

    def hand_subject(env: str, mic: str, symbol: str) -> str:
        return f"ampy.{env}.bars.v1.{mic}.{symbol}"

    return [
        ("hand-written f-string key (1 bar)", lambda: hand_key(one)),
        ("bars.v1 partition_key (1 bar)", lambda: b.partition_key(one)),
        ("bars.v1 partition_key (100 bars)", lambda: b.partition_key(hundred)),
        ("bars.v1 route (1 bar)", lambda: b.route(one, env)),
        ("hand-written f-string subject", lambda: hand_subject(env_text, mic, symbol)),
        ("bars.v1 subject(env, mic, symbol)", lambda: b.subject(env, mic, symbol)),
        ("news.v1.raw route (+ dedupe_key)", lambda: n.route(news, env)),
        ("fundamentals.v1 partition_key (Timestamp)", lambda: f.partition_key(snap)),
        ("token_problem('AAPL')", lambda: ampybus.text.token_problem("AAPL")),
        *decode_cases(),
    ]


#: Generated functions beside what a service would write by hand.
RATIOS = [
    ("bars.v1 partition_key (1 bar)", "hand-written f-string key (1 bar)"),
    ("bars.v1 subject(env, mic, symbol)", "hand-written f-string subject"),
]


def decode_cases() -> List[Tuple[str, Callable[[], object]]]:
    """Envelope.decode of a 1000-bar batch (headers, schema check, the wire
    rules of docs/envelope.md) beside ParseFromString, what a user would
    otherwise call; and a payload that takes the rule walk (its first tag
    written in 10 bytes, which upb refuses)."""
    topic = ampybus.BARS_V1_BARS
    batch = bars_pb2.BarBatch()
    for i in range(1000):
        bar = batch.bars.add()
        bar.security.symbol, bar.security.mic = "AAPL", "XNAS"
        bar.volume = 1000 + i
        bar.event_time.seconds = 1_757_100_660 + 60 * i
    record = ampybus.Envelope.build(topic, batch, producer="p", source="s", run_id="r").encode()
    raw = record.payload
    overlong = bytes([raw[0] | 0x80] + [0x80] * 8 + [0x00]) + raw[1:]

    def parse() -> object:
        m = bars_pb2.BarBatch()
        m.ParseFromString(raw)
        return m

    return [
        (
            "Envelope.decode (1000 bars)",
            lambda: ampybus.Envelope.decode(topic, record.headers, raw),
        ),
        ("BarBatch.ParseFromString (1000 bars)", parse),
        (
            "wire.parse, rule walk (1000 bars, overlong tag)",
            lambda: wire.parse(bars_pb2.BarBatch, overlong),
        ),
    ]


def main() -> int:
    quick = "--quick" in sys.argv
    number, repeat = (200, 3) if quick else (5000, 5)
    best_of: Dict[str, float] = {}
    for name, fn in cases():
        once = timeit.timeit(fn, number=1)  # warm up, and fail loudly before timing
        # At most about 0.2 s (0.02 s quick) per repeat, for the slow cases.
        n = max(1, min(number, int((0.02 if quick else 0.2) / max(once, 1e-9))))
        best = min(timeit.repeat(fn, number=n, repeat=repeat)) / n
        best_of[name] = best
        print(f"{name:<45} {best * 1e6:8.2f} µs/op")
    # Issue 15's goals: at most 3x the hand-written f-string, each.
    for generated, hand in RATIOS:
        print(f"{generated} / {hand}: {best_of[generated] / best_of[hand]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
