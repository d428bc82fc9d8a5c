"""Kafka provisioning as a library call (``ampybus.kafka.provision``) on the
real broker scripts/test starts (``AMPY_KAFKA_BOOTSTRAP``), nothing mocked:
an empty broker (every topic of the env created, the DLQ topic included, each
checked on the broker with an admin describe), a second run (nothing to
change), more partitions (applied, flagged), fewer partitions (refused,
nothing changed), a shorter retention (refused without ``allow_data_loss``,
applied with it), dry runs (reported, nothing changed), and the report's text
against ``ampygen provision kafka --dry-run`` for the same broker state.
docs/kafka.md §4 is the behaviour under test.

The env tests drop the env's topics first (the other Kafka tests create them
again); the others work on topics of their own (``ampy.pyprov<hex>.…``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import pathlib
import subprocess
import time
import uuid
from typing import Any, Coroutine, Dict, Iterator, List, Tuple, TypeVar, cast

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.cimpl import NewPartitions

from ampybus.kafka import (
    LAYOUT,
    Bus,
    KafkaError,
    ProvisionReport,
    TopicPlan,
    plans,
    provision,
)
from kafka_support import ENV, admin, bootstrap, create_topics, drop_topics, env_topics

ROOT = pathlib.Path(__file__).resolve().parents[2]
T = TypeVar("T")
#: Each admin request's bound in these tests (the CLI's too).
TIMEOUT = 10.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def addr() -> str:
    return bootstrap()


@pytest.fixture
def empty_env(addr: str) -> str:
    """The broker without any topic of the env."""
    drop_topics(addr, env_topics())
    return addr


@pytest.fixture
def own(addr: str) -> Iterator[Tuple[str, TopicPlan]]:
    """The bars topic's plan under a name of this test's own, dropped after."""
    bars = next(p for p in plans(LAYOUT, ENV.value) if p.name == f"ampy.{ENV.value}.bars.v1")
    plan = dataclasses.replace(bars, name=f"ampy.pyprov{uuid.uuid4().hex[:12]}.bars.v1")
    yield addr, plan
    drop_topics(addr, [plan.name])


# ---------------------------------------------------------------------------
# The broker's own view, read with confluent-kafka's AdminClient.


def broker_topics(addr: str) -> List[str]:
    return list(admin(addr).list_topics(timeout=TIMEOUT).topics)


def described(addr: str, name: str) -> Tuple[int, int, Dict[str, str]]:
    """A topic's partition count, replication factor and configs on the broker."""
    a = admin(addr)
    topic = a.list_topics(name, timeout=TIMEOUT).topics[name]
    assert topic.error is None, topic.error
    partitions = len(topic.partitions)
    replicas = max(len(p.replicas) for p in topic.partitions.values())
    futures = cast(
        Dict[ConfigResource, "concurrent.futures.Future[Dict[str, ConfigEntry]]"],
        a.describe_configs([ConfigResource("topic", name)], request_timeout=TIMEOUT),
    )
    (entries,) = [f.result() for f in futures.values()]
    configs = {e.name: e.value for e in entries.values() if e.value is not None}
    return partitions, replicas, configs


def set_config(addr: str, name: str, key: str, value: str) -> None:
    """Sets one config of a topic behind provisioning's back."""
    entry = ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource("topic", name, incremental_configs=[entry])
    a = admin(addr)  # kept: the futures fail when the client is destroyed
    for f in a.incremental_alter_configs([resource], request_timeout=TIMEOUT).values():
        f.result()
    deadline = time.monotonic() + TIMEOUT
    while described(addr, name)[2].get(key) != value:
        assert time.monotonic() < deadline, f"{name}: {key} is not {value}"
        time.sleep(0.05)


def add_partitions(addr: str, name: str, total: int) -> None:
    """Raises a topic's partition count behind provisioning's back."""
    a = admin(addr)
    for f in a.create_partitions([NewPartitions(name, total)], request_timeout=TIMEOUT).values():
        f.result()
    deadline = time.monotonic() + TIMEOUT
    while described(addr, name)[0] != total:
        assert time.monotonic() < deadline, f"{name} has no {total} partitions"
        time.sleep(0.05)


def assert_as_planned(addr: str, plan: TopicPlan) -> None:
    partitions, replicas, configs = described(addr, plan.name)
    assert (partitions, replicas) == (plan.partitions, plan.replication_factor), plan.name
    for key, value in plan.configs:
        assert configs.get(key) == value, (plan.name, key, configs.get(key), value)


async def provision_at(addr: str, topics: List[TopicPlan], **options: Any) -> ProvisionReport:
    return await provision(
        AdminClient({"bootstrap.servers": addr}), topics, timeout=TIMEOUT, **options
    )


def verb(report: ProvisionReport, name: str) -> str:
    """What the report's text says about one topic."""
    for line in str(report).splitlines():
        if line.startswith(name + " "):
            return line[len(name) :].strip()
    return ""


def cli() -> str:
    """The ampygen binary: ``$AMPYGEN`` (tests/python/run.sh sets it) or
    ``$AMPYGEN_BIN``, else the debug build."""
    for var in ("AMPYGEN", "AMPYGEN_BIN"):
        exe = os.environ.get(var)
        if exe:
            return exe
    built = ROOT / "target" / "debug" / "ampygen"
    if not built.exists():
        if os.environ.get("AMPY_TEST_REQUIRE_KAFKA") == "1":
            pytest.fail("no ampygen binary (AMPYGEN) for the differential test")
        pytest.skip("no ampygen binary: set AMPYGEN or run cargo build")
    return str(built)


def assert_cli_agrees(addr: str, report: ProvisionReport, exit_code: int) -> None:
    """``ampygen provision kafka --dry-run`` prints the same report (after its
    one header line) for the broker as it is."""
    done = subprocess.run(
        [cli(), "provision", "kafka", "--bootstrap", addr, "--env", ENV.value, "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == exit_code, done.stdout + done.stderr
    n = len(report.topics)
    header, _, rest = done.stdout.partition("\n")
    assert header == f"env `{ENV.value}` on {addr}: {n} topics (dry run: nothing is changed)"
    assert rest == str(report), f"CLI:\n{rest}\nPython:\n{report}"


# ---------------------------------------------------------------------------
# The env's topics.


def test_an_empty_broker_gets_every_topic_as_planned_then_nothing_changes(empty_env: str) -> None:
    addr = empty_env
    topics = plans(LAYOUT, ENV.value)
    names = [p.name for p in topics]
    dlq = f"ampy.{ENV.value}.dlq.v1"
    assert names == env_topics() and dlq in names
    n = len(topics)

    async def go() -> None:
        bus = Bus(addr, ENV)
        try:
            assert bus.plans() == topics

            # A dry run on an empty broker: every topic would be created, none is.
            report = await bus.provision(dry_run=True, timeout=TIMEOUT)
            assert {t.outcome for t in report.topics} == {"planned"}
            assert {t.action for t in report.topics} == {"create"}
            assert not report.changed and not report.refused and report.differs == n
            assert verb(report, dlq) == "would create", str(report)
            assert str(report).endswith(f"{n} topics: {n} would change, 0 unchanged\n")
            assert not set(names) & set(broker_topics(addr))
            assert_cli_agrees(addr, report, 0)

            # Applied: every topic, the DLQ's included, as planned on the broker.
            report = await bus.provision(timeout=TIMEOUT)
            assert report.changed and not report.refused, str(report)
            assert str(report).endswith(f"{n} topics: {n} created, 0 updated, 0 unchanged\n")
            assert verb(report, dlq) == "created", str(report)
            for plan in topics:
                assert_as_planned(addr, plan)

            # A second run: nothing to change, and it says so; so does the CLI.
            report = await bus.provision(timeout=TIMEOUT)
            assert not report.changed and report.differs == 0
            assert {t.outcome for t in report.topics} == {"nothing_to_do"}
            assert str(report).endswith(f"{n} unchanged; nothing to change\n"), str(report)
            assert_cli_agrees(addr, await bus.provision(dry_run=True, timeout=TIMEOUT), 0)
        finally:
            await bus.close()

    run(go())


def test_the_report_is_the_clis_for_the_same_broker_state(empty_env: str) -> None:
    """Creations, a partition count above the registry's (refused) and one
    below it (moves keys), a longer retention on the broker (shorter in the
    registry: loses data), another message bound and a byte bound the registry
    drops (plain updates), side by side with the Rust CLI."""
    addr = empty_env
    topics = plans(LAYOUT, ENV.value)
    bars, news, orders, signals, fills = (
        f"ampy.{ENV.value}.{d}.v1" for d in ("bars", "news", "orders", "signals", "fills")
    )
    by_name = {p.name: p for p in topics}
    assert {bars, news, orders, signals, fills} <= set(by_name)

    async def go() -> None:
        # Five topics exist, the others do not.
        report = await provision_at(addr, [by_name[t] for t in (bars, news, orders, signals)])
        assert report.changed
        add_partitions(addr, bars, by_name[bars].partitions + 3)
        retention = int(dict(by_name[news].configs)["retention.ms"])
        set_config(addr, news, "retention.ms", str(retention * 2))
        set_config(addr, orders, "max.message.bytes", "2000000")
        set_config(addr, signals, "retention.bytes", "1000000000")
        # Created by someone else: fewer partitions, the broker's default configs.
        create_topics(addr, [fills], partitions=3)

        report = await provision_at(addr, topics, dry_run=True)
        text = str(report)
        assert verb(report, bars) == "REFUSED", text
        assert verb(report, news) == "REFUSED", text
        assert verb(report, orders) == "would update", text
        assert "(Kafka cannot remove partitions: keep" in text, text
        assert f"retention.ms: {retention * 2} -> {retention}  (loses stored records)" in text
        assert "max.message.bytes: 2000000 -> " in text, text
        assert "retention.bytes: 1000000000 -> -1\n" in text, text
        assert verb(report, fills) == "would update", text
        assert (
            f"partitions: 3 -> {by_name[fills].partitions}  (moves keys to other partitions"
        ) in text, text
        assert (
            ", 2 refused (Kafka cannot apply some changes, and others would lose stored "
            "records (pass --allow-data-loss for those))\n"
        ) in text, text
        assert_cli_agrees(addr, report, 1)
        # Neither changed anything.
        assert described(addr, bars)[0] == by_name[bars].partitions + 3
        assert described(addr, news)[2]["retention.ms"] == str(retention * 2)
        assert described(addr, orders)[2]["max.message.bytes"] == "2000000"
        assert described(addr, fills)[0] == 3

    run(go())


# ---------------------------------------------------------------------------
# One topic of the test's own.


def test_more_partitions_are_applied_and_flagged_fewer_are_refused(
    own: Tuple[str, TopicPlan],
) -> None:
    addr, plan = own

    async def go() -> None:
        assert (await provision_at(addr, [plan])).changed
        more = dataclasses.replace(plan, partitions=plan.partitions * 2)

        # A dry run shows it and changes nothing.
        report = await provision_at(addr, [more], dry_run=True)
        assert verb(report, plan.name) == "would update" and not report.changed
        assert described(addr, plan.name)[0] == plan.partitions

        report = await provision_at(addr, [more])
        text = str(report)
        assert report.changed and not report.refused and report.differs == 1, text
        assert verb(report, plan.name) == "updated", text
        (change,) = report.topics[0].changes
        assert (change.field, change.effect) == ("partitions", "moves_keys")
        assert (
            f"    partitions: {plan.partitions} -> {more.partitions}  (moves keys to other "
            "partitions: a key's older records stay where they were)\n"
        ) in text, text
        assert text.endswith("1 topics: 0 created, 1 updated, 0 unchanged\n"), text
        assert_as_planned(addr, more)

        # Back to fewer: Kafka cannot, even with allow_data_loss; nothing of
        # the topic's changes is applied (the longer retention neither).
        retention = int(dict(plan.configs)["retention.ms"])
        fewer = dataclasses.replace(
            plan,
            configs=tuple(
                (k, str(retention * 2) if k == "retention.ms" else v) for k, v in plan.configs
            ),
        )
        for allow in (False, True):
            report = await provision_at(addr, [fewer], allow_data_loss=allow)
            text = str(report)
            assert report.refused and not report.changed, text
            assert verb(report, plan.name) == "REFUSED", text
            assert (
                f"partitions: {more.partitions} -> {plan.partitions}  (Kafka cannot remove "
                f"partitions: keep {more.partitions} in the registry, or delete and re-create "
                "the topic)"
            ) in text, text
            assert text.endswith(
                "1 topics: 0 created, 0 updated, 0 unchanged, 1 refused (Kafka cannot apply them)\n"
            ), text
        assert_as_planned(addr, more)

        # The same again: nothing to change.
        report = await provision_at(addr, [more])
        assert not report.changed and str(report).endswith("; nothing to change\n")

    run(go())


def test_a_shorter_retention_is_refused_unless_data_loss_is_allowed(
    own: Tuple[str, TopicPlan],
) -> None:
    addr, plan = own

    def with_retention(ms: int) -> TopicPlan:
        configs = tuple((k, str(ms) if k == "retention.ms" else v) for k, v in plan.configs)
        return dataclasses.replace(plan, configs=configs)

    async def go() -> None:
        assert (await provision_at(addr, [plan])).changed
        retention = int(dict(plan.configs)["retention.ms"])

        # Longer keeps every record: applied without asking.
        longer = with_retention(retention * 2)
        report = await provision_at(addr, [longer])
        assert report.changed and not report.refused, str(report)
        (change,) = report.topics[0].changes
        assert (change.field, change.effect) == ("retention.ms", "none")
        assert f"retention.ms: {retention} -> {retention * 2}\n" in str(report)
        assert_as_planned(addr, longer)

        # Shorter drops records: refused, nothing changed.
        report = await provision_at(addr, [plan])
        text = str(report)
        assert report.refused and not report.changed, text
        assert f"retention.ms: {retention * 2} -> {retention}  (loses stored records)" in text
        assert text.endswith(
            ", 1 refused (they would lose stored records; pass --allow-data-loss to apply)\n"
        ), text
        assert_as_planned(addr, longer)

        # A dry run with allow_data_loss: planned, still nothing changed.
        report = await provision_at(addr, [plan], dry_run=True, allow_data_loss=True)
        assert [t.outcome for t in report.topics] == ["planned"], str(report)
        assert str(report).endswith("1 topics: 1 would change, 0 unchanged\n"), str(report)
        assert_as_planned(addr, longer)

        # Allowed: applied.
        report = await provision_at(addr, [plan], allow_data_loss=True)
        assert report.changed and not report.refused, str(report)
        assert verb(report, plan.name) == "updated"
        assert_as_planned(addr, plan)

    run(go())


def test_another_replication_factor_is_refused_and_one_above_the_brokers_is_an_error(
    own: Tuple[str, TopicPlan],
) -> None:
    addr, plan = own
    wider = dataclasses.replace(plan, replication_factor=plan.replication_factor + 1)

    async def go() -> None:
        # One broker: a topic cannot have two replicas.
        with pytest.raises(KafkaError) as caught:
            await provision_at(addr, [wider])
        assert caught.value.kind == "provision"
        assert f"cannot create topic `{plan.name}`" in caught.value.message
        assert "the tier's `replicas` is more than the cluster's brokers" in caught.value.message
        assert caught.value.client_error == "INVALID_REPLICATION_FACTOR"

        assert (await provision_at(addr, [plan])).changed
        report = await provision_at(addr, [wider], allow_data_loss=True)
        text = str(report)
        assert report.refused and not report.changed, text
        assert (
            f"replication_factor: {plan.replication_factor} -> {wider.replication_factor}  "
            "(not changed in place: reassign the partitions with Kafka's tools)\n"
        ) in text, text
        assert_as_planned(addr, plan)

    run(go())


def test_configs_the_plan_does_not_manage_are_kept(own: Tuple[str, TopicPlan]) -> None:
    addr, plan = own

    async def go() -> None:
        assert (await provision_at(addr, [plan])).changed
        set_config(addr, plan.name, "segment.ms", "3600000")
        set_config(addr, plan.name, "max.message.bytes", "2000000")
        report = await provision_at(addr, [plan])
        assert report.changed, str(report)
        assert_as_planned(addr, plan)
        assert described(addr, plan.name)[2]["segment.ms"] == "3600000"

    run(go())


def test_an_unreachable_broker_is_kind_provision() -> None:
    async def go() -> None:
        admin_client = AdminClient({"bootstrap.servers": "127.0.0.1:1", "log_level": 0})
        with pytest.raises(KafkaError) as caught:
            await provision(admin_client, plans(LAYOUT, ENV.value), timeout=1.0)
        assert caught.value.kind == "provision"
        assert "cannot read the cluster's topics" in caught.value.message

    run(go())


def test_the_report_of_nothing_and_of_no_topics() -> None:
    """The report's text without a broker, as Rust's Display writes it."""
    assert (
        str(ProvisionReport(()))
        == "0 topics: 0 created, 0 updated, 0 unchanged; nothing to change\n"
    )
