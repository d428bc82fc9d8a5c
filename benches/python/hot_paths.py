#!/usr/bin/env python3
"""Python hot paths of the generated package next to hand-written code.

Run on demand (never in CI), from the repository root with the venv of
tests/python/run.sh:

    .venv/bin/python benches/python/hot_paths.py

Prints, per call, the generated ``subject()`` and ``partition_key()`` of
gen/python next to a hand-written f-string that produces the same text
without any validation, and their ratio (goal of issue 15: at most 3x).
The generated calls keep every check (env name, token problems, empty
batch, empty and mixed key fields); the f-strings check nothing.
"""

import os
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "gen", "python"))

from ampybus import topics
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.news.v1 import news_pb2
from ampybus.routing import Env

bars = topics.BARS_V1_BARS
news = topics.NEWS_V1_RAW
batch = bars_pb2.BarBatch()
bar = batch.bars.add()
bar.security.mic = "XNAS"
bar.security.symbol = "AAPL"
item = news_pb2.NewsItem(id="n-1")
mic, symbol, env = "XNAS", "AAPL", "prod"

assert bars.subject(Env.PROD, mic, symbol).text == f"ampy.{'prod'}.bars.v1.{mic}.{symbol}"
assert bars.partition_key(batch) == f"{batch.bars[0].security.mic}.{batch.bars[0].security.symbol}"
assert news.partition_key(item) == item.id

cases = [
    (
        "subject(PROD, mic, symbol)",
        lambda: bars.subject(Env.PROD, mic, symbol),
        lambda: f"ampy.{Env.PROD.value}.bars.v1.{mic}.{symbol}",
    ),
    (
        'subject("prod", mic, symbol)',
        lambda: bars.subject(env, mic, symbol),
        lambda: f"ampy.{env}.bars.v1.{mic}.{symbol}",
    ),
    (
        "partition_key(1-bar batch)",
        lambda: bars.partition_key(batch),
        lambda: f"{batch.bars[0].security.mic}.{batch.bars[0].security.symbol}",
    ),
    (
        "partition_key(news item)",
        lambda: news.partition_key(item),
        lambda: f"{item.id}",
    ),
]


def per_call(f):
    n, _ = timeit.Timer(f).autorange()
    best = min(timeit.repeat(f, number=n, repeat=5))
    return best / n * 1e6


print(f"{'call':<30} {'generated':>12} {'f-string':>12} {'ratio':>7}")
for name, generated, hand in cases:
    g, h = per_call(generated), per_call(hand)
    print(f"{name:<30} {g:9.3f} us {h:9.3f} us {g / h:6.2f}x")
