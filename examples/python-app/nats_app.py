"""The "Running on NATS" example of docs/python.md: publishes one bar batch
to a NATS JetStream server with the typed publisher and reads it back with
a durable consumer. tests/python/test_nats.py runs it against a real
server and checks that the page shows this code.

    PYTHONPATH=gen/python python examples/python-app/nats_app.py nats://127.0.0.1:4222
"""

from __future__ import annotations

import asyncio
import sys

# docs:start
from typing import List, Tuple

from ampybus import BARS_V1_BARS, Env
from ampybus.nats import Bus, Delivery, HandlerError, Metrics
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.common.v1 import common_pb2


async def example(url: str) -> None:
    metrics = Metrics()
    async with await Bus.connect(url, Env.DEV, observer=metrics) as bus:
        await bus.provision()  # the env's streams, as the registry says

        # Publish: subject, key, schema headers and Nats-Msg-Id from the bindings.
        publisher = bus.publisher(BARS_V1_BARS, producer="ingest@1", source="yfinance-go")
        security = common_pb2.SecurityId(symbol="AAPL", mic="XNAS")
        batch = bars_pb2.BarBatch(bars=[bars_pb2.Bar(security=security, volume=182_340)])
        published = await publisher.publish(batch)  # awaits the JetStream ack
        assert published.subject.text == "ampy.dev.bars.v1.XNAS.AAPL"

        # Consume: a durable pull consumer; ack when the handler returns, nak
        # with backoff when it raises, the DLQ after the tier's max_deliveries.
        received: List[Tuple[str, bars_pb2.BarBatch]] = []

        async def handle(delivery: Delivery[bars_pb2.BarBatch]) -> None:
            if delivery.payload is None:  # a blob pointer: fetch the blob first
                raise HandlerError.permanent("unexpected_pointer", "no blob store here")
            received.append((delivery.headers.partition_key, delivery.payload))

        async with await bus.consumer(BARS_V1_BARS, "bar-writer") as consumer:
            await consumer.drain(handle, idle=1.0)  # or run(handle) in a service
        assert received == [("XNAS.AAPL", batch)]
        scraped = metrics.render()  # Prometheus text; metrics.serve() serves it
        assert 'bus_consumed_total{topic="bars.v1.bars",consumer="bar-writer"} 1' in scraped


# docs:end


if __name__ == "__main__":
    asyncio.run(example(sys.argv[1] if len(sys.argv) > 1 else "nats://127.0.0.1:4222"))
    print("published and consumed one bar batch")
