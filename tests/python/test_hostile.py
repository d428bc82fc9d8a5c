"""The hostile registry round (tests/hostile): keyword names and quoting hazards.

The package generated from tests/hostile/hostile.yaml must import, lint and
type-check clean, keep every registry string exactly, and route payloads
exactly like the reference evaluator (``ampygen route``), errors included.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pathlib
from types import ModuleType
from typing import Any, Callable, Dict, List

import pytest
from google.protobuf import json_format

from support import ROOT, ampygen, generate, import_from, lint_and_type_check

REGISTRY = ROOT / "tests" / "hostile" / "hostile.yaml"


# Typed use of the messages, fields and enums of func.proto named like the
# modules a stub imports (builtins, typing, collections, google) and like
# the aliases it would fall back to. mypy --strict checks it against the
# stubs: a stub that let a field called `builtins` hide the enum type
# `builtins`, or a message `typing` hide the module, fails here.
SHADOW_USAGE = """\
from hostile_pkg.pb.ampy.func.v1 import func_pb2


def make() -> func_pb2.typing:
    m = func_pb2.typing(builtins="b", collections=[1, 2], state=func_pb2._pb_descriptor)
    m._typing["k"]._pb_message = "v"
    return m


def read(
    m: func_pb2.typing,
) -> tuple[str, int, func_pb2.builtins.ValueType, func_pb2.typing.google]:
    return (m.builtins, m.collections[0], m.state, m._typing["k"])
"""


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("hostile")
    generate(REGISTRY, out)
    (out / "shadow_usage.py").write_text(SHADOW_USAGE, "utf-8")
    return out


@pytest.fixture(scope="module")
def pkg(out_dir: pathlib.Path) -> ModuleType:
    return import_from(out_dir, "hostile_pkg")


def test_lints_formats_and_type_checks(out_dir: pathlib.Path) -> None:
    lint_and_type_check(out_dir, "hostile_pkg", "shadow_usage.py")


def test_names_that_hide_stub_imports_work(out_dir: pathlib.Path) -> None:
    usage = import_from(out_dir, "shadow_usage")
    m = usage.make()
    back = type(m).FromString(m.SerializeToString())
    assert back == m
    builtins, first, state, google = usage.read(back)
    assert (builtins, first, state, google._pb_message) == ("b", 1, 1, "v")
    assert list(back.collections) == [1, 2]
    stub = (out_dir / "hostile_pkg/pb/ampy/func/v1/func_pb2.pyi").read_text("utf-8")
    # builtins and typing step past the enum helper `_builtins` and the
    # field `_typing`; collections.abc and containers only past the roots.
    for line in (
        "import builtins as __builtins\n",
        "import typing as __typing\n",
        "import collections.abc as _collections_abc\n",
        "import google.protobuf.message as __pb_message\n",
        "    state: global___builtins.ValueType\n",
        "global___builtins = builtins\n",
    ):
        assert line in stub, line


def _registry_topics() -> Dict[str, Dict[str, Any]]:
    """The topic literals of hostile.yaml as the reference decodes them (the
    lock file records subtopic and key format per topic, already unescaped
    from YAML; lock format 5 leaves a key format out when it equals the
    subtopic)."""
    lock = json.loads((ROOT / "tests" / "hostile" / "hostile.lock.json").read_text("utf-8"))
    topics: Dict[str, Dict[str, Any]] = lock["topics"]
    return topics


def test_strings_round_trip(pkg: ModuleType) -> None:
    topics = _registry_topics()
    assert set(pkg.TOPICS) == set(topics)
    for topic_id, want in topics.items():
        topic = pkg.TOPICS[topic_id]
        assert topic.subtopic == want["subtopic"], topic_id
        assert topic.key_format == want.get("key_format", want["subtopic"]), topic_id
        assert topic.schema_version == want["schema_version"], topic_id
    # Decoded by hand from the YAML double-quoted scalars of hostile.yaml.
    assert pkg.FUNC_V1_IMPORT.subtopic == "lit\"q\\b'.{match}.x{{y}}\u00fc.$${{a}}"
    assert pkg.FUNC_V1_IMPORT.key_format == '{match}|"{class}"\\\'\'\'"""$${{x}}{{z}}'
    assert [e.value for e in pkg.Env] == ["dev", "type", "import"]
    assert pkg.FUNC_V1_IMPORT.qos.tier == "class"
    doc = inspect.getdoc(pkg.FuncV1Import) or ""
    for line in "a\nb */ \" \\ ``` <script> \"\"\" ''' \\x00 \\u{0} ${'$'}".splitlines():
        assert line.strip() in doc


def test_keyword_parameters_are_sanitised(pkg: ModuleType) -> None:
    params = list(inspect.signature(pkg.FUNC_V1_CLASS.subject).parameters)
    assert params == ["env", "def_", "kind"]
    params = list(inspect.signature(pkg.FUNC_V1_TYPE.subject).parameters)
    assert params == ["env", "len_", "string"]
    subject = pkg.FUNC_V1_CLASS.subject(pkg.Env.IMPORT, "d", 2)
    assert subject.text == "ampy.import.func.v1.m.d.TYPE_CLASS"


PAYLOADS: List[Dict[str, Any]] = [
    {
        "class": {"func": "f1", "None": "n"},
        "type": "T",
        "match": [{"func": "m"}, {"func": "m"}],
        "go": "g0",
        "kind": "TYPE_CLASS",
        "len": "3",
        "string": "s",
    },
    {"type": "T", "go": "g", "len": "1", "string": "s"},
    {"class": {"func": "a.b"}, "type": "x", "go": "g", "len": "1", "string": "s"},
    {"class": {"func": "f"}, "def": {"func": "d"}, "match": [], "len": "1", "string": "s"},
    {"def": {"func": "d"}, "match": [{"func": "a"}, {"func": "b"}], "kind": 7},
    {"def": {"func": "d"}, "match": [{"func": "a"}, {}], "kind": 1},
    {"def": {"func": "d"}, "match": [{"func": "*"}], "kind": "TYPE_NONE"},
    {"go": "", "len": "x y", "string": "s"},
    {"def": {}, "len": "1", "string": "\u00fc\u3000"},
    {"class": {"func": "\u00e9"}, "type": "", "len": "-", "string": "\u200b"},
]


def _rust_partition(topic_id: str, path: pathlib.Path, n: int, want: Dict[str, Any]) -> int:
    """``ampygen route``'s partition of the payload at ``path`` among ``n``."""
    if n == want["kafka_partitions"]:
        return int(want["kafka_partition"])
    done = ampygen(
        REGISTRY,
        "route",
        topic_id,
        "--env",
        "dev",
        "--payload",
        str(path),
        "--format",
        "json",
        "--partitions",
        str(n),
    )
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["kafka_partition"])


@pytest.mark.parametrize("index", range(len(PAYLOADS)))
@pytest.mark.parametrize(
    "topic_id", ["func.v1.import", "func.v1.class", "func.v1.match", "func.v1.type"]
)
def test_routes_like_the_reference(
    pkg: ModuleType, tmp_path: pathlib.Path, topic_id: str, index: int
) -> None:
    data = PAYLOADS[index]
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    done = ampygen(
        REGISTRY, "route", topic_id, "--env", "dev", "--payload", str(path), "--format", "json"
    )
    assert done.returncode in (0, 1), done.stderr
    want = json.loads(done.stdout)
    topic = pkg.TOPICS[topic_id]
    payload = json_format.ParseDict(data, topic.message_type())
    try:
        routed = topic.route(payload, "dev")
    except pkg.RouteError as e:
        assert "error" in want, f"{topic_id} {data}: Python failed, reference routed: {e}"
        assert e.kind == want["error"]["kind"]
        assert str(e) == want["error"]["message"]
        return
    assert "error" not in want, f"{topic_id} {data}: Python routed, reference failed: {want}"
    assert routed.subject.text == want["subject"]
    assert routed.partition_key == want["partition_key"]
    assert routed.kafka_topic == want["kafka_topic"]
    assert routed.kafka_key == want["kafka_key"]
    # The shared murmur2 rule, in Python and in Rust, on the hostile keys.
    kafka = importlib.import_module(pkg.__name__ + ".kafka")
    for n in (want["kafka_partitions"], 7, 100):
        got = kafka.partition_for(routed.kafka_key.encode(), n)
        assert got == _rust_partition(topic_id, path, n, want), (topic_id, data, n)


SHADOW = ROOT / "tests" / "hostile" / "python" / "shadow.yaml"

# Payloads for shadow.yaml's topic: valid, an illegal token in each
# placeholder (the first in subtopic order decides the error), an enum
# number without a name, and an empty key field.
SHADOW_PAYLOADS: List[Dict[str, Any]] = [
    {"type": "T", "len": "1", "kind": "TYPE_CLASS", "string": "s", "go": "g"},
    {"type": "a.b", "len": "x y", "kind": 1, "string": "*", "go": ">"},
    {"type": "T", "len": "x y", "kind": 1, "string": "*", "go": ">"},
    {"type": "T", "len": "1", "kind": 9, "string": "s\u3000", "go": "g"},
    {"type": "T", "len": "1", "kind": 2, "string": "s", "go": "a\u0007"},
    {"type": "T", "len": "", "kind": 2, "string": "s", "go": "g"},
]


@pytest.fixture(scope="module")
def shadow(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    out = tmp_path_factory.mktemp("shadow")
    generate(SHADOW, out)
    lint_and_type_check(out, "shadow_pkg")
    return import_from(out, "shadow_pkg")


@pytest.mark.parametrize("index", range(len(SHADOW_PAYLOADS)))
def test_builder_locals_shadow_no_placeholder(
    shadow: ModuleType, tmp_path: pathlib.Path, index: int
) -> None:
    """Placeholders named like the inline subject builder's locals (`head`,
    `subject`, `t_kind`) get names of their own: `subject()` and `route()`
    agree with ``ampygen route``, errors included."""
    topic = shadow.FUNC_V1_LOCALS
    params = list(inspect.signature(topic.subject).parameters)
    assert params == ["env", "head", "subject", "kind", "t_kind", "go"]
    data = SHADOW_PAYLOADS[index]
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    done = ampygen(
        SHADOW,
        "route",
        "func.v1.locals",
        "--env",
        "prod",
        "--payload",
        str(path),
        "--format",
        "json",
    )
    assert done.returncode in (0, 1), done.stderr
    want = json.loads(done.stdout)
    payload = json_format.ParseDict(data, topic.message_type())
    args = (payload.type, payload.len, payload.kind, payload.string, payload.go)
    builders: List[Callable[[], Any]] = [
        lambda: topic.route(payload, "prod").subject,
        lambda: topic.subject("prod", *args),
    ]
    for build in builders:
        try:
            subject = build()
        except shadow.RouteError as e:
            assert "error" in want, f"{data}: Python failed, reference routed: {e}"
            if want["error"]["kind"] != "empty_key_field":  # the key functions' own check
                assert (e.kind, str(e)) == (want["error"]["kind"], want["error"]["message"])
            continue
        assert "error" not in want, f"{data}: Python routed, reference failed: {want}"
        assert (subject.text, subject.kafka_topic) == (want["subject"], want["kafka_topic"])
