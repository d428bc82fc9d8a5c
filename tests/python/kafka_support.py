"""Helpers of the Kafka transport tests: the broker scripts/test starts
(``AMPY_KAFKA_BOOTSTRAP``), topics created and dropped with confluent-kafka's
own AdminClient, and raw reads of what a topic holds.

Without a broker the tests skip with one line, unless
``AMPY_TEST_REQUIRE_KAFKA=1`` (set by scripts/test): then they fail.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from typing import Dict, List, Optional, Sequence

import pytest
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewPartitions, NewTopic

from ampybus import Env
from ampybus.kafka import LAYOUT

#: The env of the Python Kafka tests: its topics are dropped and created
#: again by each test (`fresh_topics`), so a test sees only its records.
ENV = Env.PAPER


def bootstrap() -> str:
    """The broker's ``host:port``, or skip (fail under AMPY_TEST_REQUIRE_KAFKA=1)."""
    addr = os.environ.get("AMPY_KAFKA_BOOTSTRAP", "")
    if not addr:
        what = "Kafka broker (AMPY_KAFKA_BOOTSTRAP)"
        if os.environ.get("AMPY_TEST_REQUIRE_KAFKA") == "1":
            pytest.fail(
                f"a {what} is required (AMPY_TEST_REQUIRE_KAFKA=1); scripts/test starts one"
            )
        pytest.skip(f"no {what}: run scripts/test, or source scripts/lib/kafka.sh and kafka_start")
    return addr


def admin(addr: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": addr})


def env_topics(env: Env = ENV) -> List[str]:
    """Every Kafka topic of ``env`` in the registry layout."""
    return [t.name for t in LAYOUT.topics_for(env.value)]


def _names(a: AdminClient) -> List[str]:
    return list(a.list_topics(timeout=10).topics)


def drop_topics(addr: str, names: Sequence[str]) -> None:
    """Deletes the topics that exist and waits until the broker forgot them."""
    a = admin(addr)
    present = [n for n in names if n in _names(a)]
    if present:
        for f in a.delete_topics(present, operation_timeout=30).values():
            with contextlib.suppress(KafkaException):
                f.result()
    deadline = time.monotonic() + 30
    while any(n in _names(a) for n in names):
        if time.monotonic() > deadline:
            raise AssertionError(f"topics {names} were not deleted")
        time.sleep(0.1)


def create_topics(addr: str, names: Sequence[str], partitions: int = 6) -> None:
    """Creates the topics (``partitions`` each) and waits for their leaders."""
    a = admin(addr)
    deadline = time.monotonic() + 30
    todo = list(names)
    while todo:
        futures = a.create_topics(
            [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in todo]
        )
        left = []
        for name, f in futures.items():
            try:
                f.result()
            except KafkaException as e:
                # A topic still being deleted: try again shortly.
                if time.monotonic() > deadline:
                    raise AssertionError(f"cannot create {name}: {e}") from e
                left.append(name)
        todo = left
        if todo:
            time.sleep(0.2)
    _wait_for_leaders(a, names, partitions, deadline)


def grow(addr: str, name: str, total: int) -> None:
    """Grows a topic to ``total`` partitions and waits for their leaders."""
    a = admin(addr)
    for f in a.create_partitions([NewPartitions(name, total)]).values():
        f.result()
    _wait_for_leaders(a, [name], total, time.monotonic() + 30)


def _wait_for_leaders(
    a: AdminClient, names: Sequence[str], partitions: int, deadline: float
) -> None:
    """Waits until each topic has ``partitions`` partitions, each with a leader."""
    while True:
        md = a.list_topics(timeout=10).topics
        if all(
            n in md
            and len(md[n].partitions) == partitions
            and all(p.leader >= 0 for p in md[n].partitions.values())
            for n in names
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"topics {names} have no leaders")
        time.sleep(0.1)


def fresh_topics(addr: str, partitions: int = 6, env: Env = ENV) -> None:
    """Every Kafka topic of ``env`` dropped and created again, empty."""
    names = env_topics(env)
    drop_topics(addr, names)
    create_topics(addr, names, partitions)


def _consumer(addr: str, group: Optional[str] = None) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": addr,
            "group.id": group or "ampy-test-" + uuid.uuid4().hex,
            "enable.auto.commit": False,
        }
    )


def end_offsets(addr: str, topic: str) -> Dict[int, int]:
    """Each partition's high watermark."""
    c = _consumer(addr)
    deadline = time.monotonic() + 30
    try:
        n = len(c.list_topics(topic, timeout=10).topics[topic].partitions)
        out: Dict[int, int] = {}
        for p in range(n):
            while True:
                try:
                    tp = TopicPartition(topic, p)
                    out[p] = c.get_watermark_offsets(tp, timeout=10, cached=False)[1]
                    break
                except KafkaException:
                    # A new topic's leader is not known everywhere yet.
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        return out
    finally:
        c.close()


def read_all(addr: str, topic: str) -> List[Message]:
    """Every record the topic holds, partition by partition in offset order."""
    highs = end_offsets(addr, topic)
    c = _consumer(addr)
    out: Dict[int, List[Message]] = {p: [] for p in highs}
    try:
        c.assign([TopicPartition(topic, p, 0) for p, h in highs.items() if h > 0])
        left = {p: h for p, h in highs.items() if h > 0}
        deadline = time.monotonic() + 30
        while left:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end")
            for m in c.consume(500, 0.5):
                if m.error() is not None:
                    continue
                p = m.partition() or 0
                off = m.offset() or 0
                if p in left and off < left[p]:
                    out[p].append(m)
                    if off + 1 >= left[p]:
                        del left[p]
    finally:
        c.close()
    return [m for p in sorted(out) for m in out[p]]


def committed(addr: str, group: str, topic: str, partition: int) -> int:
    """The group's committed offset of one partition (-1001: none)."""
    c = _consumer(addr, group)
    try:
        (tp,) = c.committed([TopicPartition(topic, partition)], timeout=10)
        return tp.offset
    finally:
        c.close()


def headers(msg: Message) -> List[tuple[str, bytes]]:
    """A raw record's headers, in order."""
    raw = msg.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else (v or b"")) for k, v in pairs]
