"""The "Running on Kafka" example of docs/python.md: publishes one bar batch
to a Kafka broker with the typed publisher and reads it back with a
consumer group. tests/python/test_kafka.py runs it against a real broker
(whose topics exist: ``ampygen provision kafka``) and checks that the page
shows this code.

    PYTHONPATH=gen/python python examples/python-app/kafka_app.py 127.0.0.1:9092
"""

from __future__ import annotations

import asyncio
import sys

# docs:start
from typing import List, Tuple

from ampybus import BARS_V1_BARS, Env
from ampybus.kafka import Bus, Delivery, HandlerError, Metrics, partition_for
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.common.v1 import common_pb2


async def example(bootstrap: str) -> None:
    metrics = Metrics()
    async with await Bus.connect(bootstrap, Env.DEV, observer=metrics) as bus:
        # Publish: Kafka topic, record key, headers and the partition (Java's
        # murmur2 rule) from the bindings; awaits the delivery report.
        publisher = bus.publisher(BARS_V1_BARS, producer="ingest@1", source="yfinance-go")
        security = common_pb2.SecurityId(symbol="AAPL", mic="XNAS")
        batch = bars_pb2.BarBatch(bars=[bars_pb2.Bar(security=security, volume=182_340)])
        published = await publisher.publish(batch)
        assert published.topic == "ampy.dev.bars.v1"
        partitions = await bus.partitions(published.topic)
        assert published.partition == partition_for(b"XNAS.AAPL XNAS.AAPL", partitions)

        # Consume: a consumer group; the offset is stored once the handler
        # returns, retries run in-process with backoff, the DLQ follows the
        # tier's max_deliveries.
        received: List[Tuple[str, bars_pb2.BarBatch]] = []

        async def handle(delivery: Delivery[bars_pb2.BarBatch]) -> None:
            if delivery.payload is None:  # a blob pointer: fetch the blob first
                raise HandlerError.permanent("unexpected_pointer", "no blob store here")
            received.append((delivery.headers.partition_key, delivery.payload))

        async with await bus.consumer(BARS_V1_BARS, "bar-writer") as consumer:
            await consumer.drain(handle, idle=2.0)  # or run(handle) in a service
        assert received == [("XNAS.AAPL", batch)]
        scraped = metrics.render()  # Prometheus text; metrics.serve() serves it
        assert 'bus_consumed_total{topic="bars.v1.bars",consumer="bar-writer"} 1' in scraped


# docs:end


if __name__ == "__main__":
    asyncio.run(example(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092"))
    print("published and consumed one bar batch")
