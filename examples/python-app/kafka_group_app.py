"""The "Consuming several topics in one group" example of docs/python.md:
publishes a trade, a quote (sibling topics on one Kafka topic) and a bar
batch, then reads all three with one consumer group, a typed handler per
topic. tests/python/test_kafka_group.py runs it against a real broker
(whose topics exist: ``ampygen provision kafka``) and checks that the page
shows this code.

    PYTHONPATH=gen/python python examples/python-app/kafka_group_app.py 127.0.0.1:9092
"""

from __future__ import annotations

import asyncio
import sys

# docs:start
from typing import Any, List

from ampybus import BARS_V1_BARS, TICKS_V1_QUOTE, TICKS_V1_TRADE, Env
from ampybus.kafka import Bus, Delivery, Route, route
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.common.v1 import common_pb2
from ampybus.pb.ampy.ticks.v1 import ticks_pb2


async def example(bootstrap: str) -> None:
    async with await Bus.connect(bootstrap, Env.DEV) as bus:
        aapl = common_pb2.SecurityId(symbol="AAPL", mic="XNAS")
        trades = ticks_pb2.TradeBatch(trades=[ticks_pb2.Trade(security=aapl, size=100)])
        quotes = ticks_pb2.QuoteBatch(quotes=[ticks_pb2.Quote(security=aapl)])
        bars = bars_pb2.BarBatch(bars=[bars_pb2.Bar(security=aapl, volume=182_340)])
        # Trades and quotes share the Kafka topic ampy.dev.ticks.v1 (their
        # keys' subtopics tell them apart); bars have ampy.dev.bars.v1.
        await bus.publisher(TICKS_V1_TRADE, producer="ingest@1").publish(trades)
        await bus.publisher(TICKS_V1_QUOTE, producer="ingest@1").publish(quotes)
        await bus.publisher(BARS_V1_BARS, producer="ingest@1").publish(bars)

        seen: List[str] = []

        async def on_trade(delivery: Delivery[ticks_pb2.TradeBatch]) -> None:
            assert delivery.payload == trades
            seen.append("trade")

        async def on_quote(delivery: Delivery[ticks_pb2.QuoteBatch]) -> None:
            assert delivery.payload == quotes
            seen.append("quote")

        async def on_bar(delivery: Delivery[bars_pb2.BarBatch]) -> None:
            assert delivery.payload == bars
            seen.append("bar")

        # One member of group "market-writer" subscribed to both Kafka
        # topics; each record goes to the route of its topic. route() checks
        # that a handler takes its topic's payload type (mypy, pyright); a
        # list built apart from the call is annotated for mypy, which would
        # join Route[TradeBatch] and Route[QuoteBatch] to object.
        routes: List[Route[Any]] = [
            route(TICKS_V1_TRADE, on_trade),
            route(TICKS_V1_QUOTE, on_quote, max_deliveries=5, nak_backoff=[0.1]),
            route(BARS_V1_BARS, on_bar),
        ]
        async with await bus.group("market-writer", routes=routes) as group:
            assert group.kafka_topics == ["ampy.dev.ticks.v1", "ampy.dev.bars.v1"]
            stats = await group.drain(idle=2.0)  # or group.run(stop=event) in a service
        assert sorted(seen) == ["bar", "quote", "trade"]
        assert (stats.consumed, stats.skipped, stats.dead_lettered) == (3, 0, 0)


# docs:end


if __name__ == "__main__":
    asyncio.run(example(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092"))
    print("published three topics and consumed them in one group")
