"""A typed user of the generated package, checked by mypy --strict and by
pyright strict (tests/python/run.sh) and run by tests/python/test_typed_user.py.

It exists for the checkers: every envelope here is built or decoded through
the ``Envelope`` classmethods, and the payload type must come out as the
topic's message type, not ``Any``/``Unknown``. Two ways that fails a check:

* pyright strict reports any variable or member whose type is (partly)
  ``Unknown`` (``reportUnknownVariableType``, ``reportUnknownMemberType``);
* each deliberately wrong assignment below carries an ignore comment for
  each checker, and both checkers are told to report an ignore that is not
  needed (mypy --strict: ``warn_unused_ignores``; pyright:
  ``reportUnnecessaryTypeIgnoreComment``). If the payload were ``Any`` or
  ``Unknown`` the wrong assignment would type-check, and the ignore would
  be flagged.

The Kafka group's ``route`` is checked the same way: a handler must take
its topic's payload type.
"""

from __future__ import annotations

from typing import List

import ampybus
from ampybus.kafka import Delivery, Route, route
from ampybus.pb.ampy.bars.v1 import bars_pb2
from ampybus.pb.ampy.news.v1 import news_pb2


def build_news(body: str) -> ampybus.Envelope[news_pb2.NewsItem]:
    item = news_pb2.NewsItem(id="n1", headline="typed", body=body)
    env = ampybus.Envelope.build(
        ampybus.NEWS_V1_RAW, item, producer="typed-user", source="tests", run_id="r1"
    )
    payload: news_pb2.NewsItem = env.payload
    wrong: bars_pb2.BarBatch = env.payload  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    del wrong
    assert payload.headline == "typed"
    return env


def round_trip(env: ampybus.Envelope[news_pb2.NewsItem]) -> str:
    """Encode, then decode through each classmethod; every result keeps the
    payload type of the topic it was given."""
    record = env.encode()
    back = ampybus.Envelope.decode(ampybus.NEWS_V1_RAW, record.headers, record.payload)
    again = ampybus.Envelope.decode_record(ampybus.NEWS_V1_RAW, record)
    pointer, blob = env.to_blob("s3://bucket/key")
    headers = ampybus.Envelope.decode_headers(
        ampybus.NEWS_V1_RAW, env.encode_pointer(pointer).headers
    )
    fetched = ampybus.Envelope.decode_blob(ampybus.NEWS_V1_RAW, headers, blob)
    bodies: List[str] = [e.payload.body for e in (back, again, fetched)]
    wrong: bars_pb2.BarBatch = fetched.payload  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    del wrong
    assert bodies[0] == bodies[1] == bodies[2]
    return back.payload.headline


def kafka_routes() -> List[Route[bars_pb2.BarBatch]]:
    """A group route keeps its topic's payload type; a handler of another
    payload type does not type-check."""

    async def on_bars(delivery: Delivery[bars_pb2.BarBatch]) -> None:
        assert delivery.payload is not None

    ok = route(ampybus.BARS_V1_BARS, on_bars, max_deliveries=2)
    wrong = route(ampybus.NEWS_V1_RAW, on_bars)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    del wrong
    return [ok]


def main() -> None:
    env = build_news("x" * 200_000)
    assert round_trip(env) == "typed"
    (bars_route,) = kafka_routes()
    assert bars_route.topic is ampybus.BARS_V1_BARS and bars_route.max_deliveries == 2


if __name__ == "__main__":
    main()
