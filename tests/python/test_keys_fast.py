"""The early return of string key functions changes no result.

A generated key function returns a string key before its accumulator is
built when no check can refuse it (every ``[*]`` list holds one element,
every ``[0]`` list is non-empty, the value is not empty). This test takes
every key and dedupe function generated from tests/hostile/go/paths.yaml
(``[0]``, ``[*]`` over messages and scalars, nested ``[*]``, proto3
optional, oneof members) and compares it with its own source minus that
early return, on the payloads of paths_test.go and every mutation of them
(fields cleared, lists emptied, cut to one element or grown by a
duplicate, strings emptied or made illegal): the same value, or the same
error with the same message.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import re
import shutil
from types import FunctionType, ModuleType
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
from google.protobuf import json_format

from support import ROOT, generate, import_from

REGISTRY = ROOT / "tests" / "hostile" / "go" / "paths.yaml"

BASES = [
    {
        "legs": [
            {
                "venue": "V",
                "qty": "3",
                "tags": ["a", "a"],
                "active": True,
                "at": "2025-01-01T00:00:00Z",
            },
            {"venue": "W", "qty": "0", "tags": ["a"], "active": True, "at": "2025-01-01T00:00:00Z"},
        ],
        "main": {"side": "SIDE_BUY", "delta": -4, "seq": "7"},
        "note": "n",
        "big": "-9",
        "small": 5,
        "times": ["2025-01-01T00:00:00.500Z", "2025-01-01T00:00:00.500Z"],
        "name": "nm",
        "optSide": "SIDE_SELL",
        "labels": ["l", "m"],
        "flag": True,
    },
    {
        "legs": [{"venue": "V", "tags": ["x"], "at": "1970-01-01T00:00:00.000001Z"}],
        "main": {"side": 3, "orderId": "o-1"},
        "leg": {"venue": "L"},
        "note": "",
        "optSide": "SIDE_UNSPECIFIED",
        "labels": ["é"],
        "times": ["0001-01-01T00:00:00Z"],
    },
    {
        "number": 0,
        "main": {"seq": "0", "delta": 2147483647},
        "big": "9223372036854775807",
        "small": 4294967295,
        "optSide": "SIDE_BUY",
        "note": "a b",
        "labels": [""],
    },
]

STRINGS = ["", "A.B", "x\u00a0y", "*", "ü", "a>"]


def mutations(value: Any) -> Iterator[Any]:
    """Every single edit of a JSON payload, recursively."""
    if isinstance(value, dict):
        for k, v in value.items():
            without = dict(value)
            del without[k]
            yield without
            for m in mutations(v):
                yield {**value, k: m}
    elif isinstance(value, list):
        yield []
        yield value[:1]
        yield value + value[:1]
        if value and isinstance(value[0], str):
            for s in STRINGS:
                yield [s]
                yield [*value[:1], s]
        for i, v in enumerate(value):
            for m in mutations(v):
                yield [*value[:i], m, *value[i + 1 :]]
    elif isinstance(value, str):
        yield from STRINGS


def payloads(message_type: Any) -> List[Any]:
    out = []
    for base in BASES:
        for data in [base, *mutations(copy.deepcopy(base))]:
            # An edit the schema cannot hold (a string for an enum) is skipped.
            with contextlib.suppress(json_format.ParseError):
                out.append(json_format.ParseDict(data, message_type()))
    return out


FAST = re.compile(
    r'(    """[^\n]*"""\n)(    f0 = .*?\n|    v: str = .*?\n)(?:(?!    acc: ).*\n)*?(    acc: )'
)


def without_early_return(fn: FunctionType, module: ModuleType) -> Callable[[Any], str]:
    source = inspect.getsource(fn)
    slow, n = FAST.subn(r"\1\3", source)
    assert n == 1, f"no early return found in {fn.__name__}:\n{source}"
    namespace: Dict[str, Any] = dict(vars(module))
    exec(compile(slow, f"<{fn.__name__} without early return>", "exec"), namespace)
    slow_fn: Callable[[Any], str] = namespace[fn.__name__]
    return slow_fn


def outcome(fn: Callable[[Any], str], payload: Any) -> Tuple[str, str]:
    try:
        return ("value", fn(payload))
    except Exception as e:
        return (type(e).__name__, str(e))


@pytest.fixture(scope="module")
def topics(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    # A copy with a Python package of its own: `ampybus` is the default
    # registry's, imported by the other tests.
    work = tmp_path_factory.mktemp("paths")
    shutil.copytree(REGISTRY.parent / "proto", work / "proto")
    text = REGISTRY.read_text()
    assert "\ntargets:\n" in text
    text = text.replace("\ntargets:\n", "\ntargets:\n  python:\n    package: paths_pkg\n", 1)
    (work / "paths.yaml").write_text(text)
    generate(work / "paths.yaml", work / "out")
    pkg = import_from(work / "out", "paths_pkg")
    module: ModuleType = pkg.topics
    return module


def test_early_returns_change_no_value_and_no_error(topics: ModuleType) -> None:
    functions = [
        f
        for name, f in sorted(vars(topics).items())
        if isinstance(f, FunctionType) and re.fullmatch(r"_paths_v1_\w+_(key_\w+|dedupe)", name)
    ]
    fast = [
        f
        for f in functions
        if "f0 = " in inspect.getsource(f) or "    v: str = " in inspect.getsource(f)
    ]
    # Every string path shape of paths.yaml has one: [0], [*] over
    # messages, nested [*] over scalars, [0] over scalars, plain chains.
    assert len(fast) >= 5, [f.__name__ for f in fast]
    cases = payloads(topics.PATHS_V1_FIRST.message_type)
    assert len(cases) > 200
    took_early = 0
    for f in fast:
        slow = without_early_return(f, topics)
        for p in cases:
            got, want = outcome(f, p), outcome(slow, p)
            assert got == want, (f.__name__, json_format.MessageToJson(p), got, want)
            took_early += got[0] == "value"
    assert took_early > 100


def test_the_early_return_is_taken_for_one_element_batches(topics: ModuleType) -> None:
    """The bars-like shape: `legs[*].tags[*]` with one leg and one tag
    returns from the early path (no accumulator is built)."""
    payload = json_format.ParseDict(
        {"legs": [{"tags": ["t"]}]}, topics.PATHS_V1_FIRST.message_type()
    )
    built = []
    real = topics._k.Agree

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any) -> None:
            built.append(a)
            super().__init__(*a)

    topics._k.Agree = Spy
    try:
        assert topics._paths_v1_all_key_tags(payload) == "t"
        assert built == []
        two = json_format.ParseDict(
            {"legs": [{"tags": ["t", "t"]}]}, topics.PATHS_V1_FIRST.message_type()
        )
        assert topics._paths_v1_all_key_tags(two) == "t"
        assert len(built) == 1
    finally:
        topics._k.Agree = real
    assert json.dumps(built[0][1]) == '"legs[*].tags[*]"'
