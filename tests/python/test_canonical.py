"""The Python canonical form against the Rust reference on schemas the default
registry does not exercise: proto2 defaults of every kind, groups, required
and explicitly packed fields, enum aliases (tests/hostile/python/ptwo.proto)
and the maps/oneofs/proto3-optional hash fixture of codegen/tests."""

from __future__ import annotations

import json
import pathlib
from types import ModuleType
from typing import Any, Dict, List

import pytest
from google.protobuf import json_format

from support import ROOT, ampygen, generate, import_from, lint_and_type_check

REGISTRY = ROOT / "tests" / "hostile" / "python" / "canonical.yaml"


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("canonical")
    generate(REGISTRY, out)
    return out


@pytest.fixture(scope="module")
def pkg(out_dir: pathlib.Path) -> ModuleType:
    return import_from(out_dir, "canon_pkg")


def test_lints_formats_and_type_checks(out_dir: pathlib.Path) -> None:
    lint_and_type_check(out_dir, "canon_pkg")


@pytest.mark.parametrize("fqdn", ["ampy.ptwo.v1.Root", "ampy.hashfix.v1.Quote"])
def test_canonical_form_matches_the_reference(pkg: ModuleType, fqdn: str) -> None:
    done = ampygen(REGISTRY, "hash", "--canonical", fqdn)
    assert done.returncode == 0, done.stderr
    descriptor = pkg.PAYLOADS[fqdn].message_type.DESCRIPTOR
    assert pkg.canonical_form(descriptor) == done.stdout
    done = ampygen(REGISTRY, "hash", fqdn)
    assert pkg.canonical_schema_hash(descriptor) == done.stdout.strip()


def test_aliased_enum_default_keeps_its_declared_name(pkg: ModuleType) -> None:
    form = pkg.canonical_form(pkg.PAYLOADS["ampy.ptwo.v1.Root"].message_type.DESCRIPTOR)
    assert 'json="c" default=CRIMSON' in form
    assert "default=0x3fb99999a0000000" in form  # float 0.1, rounded to binary32


CASES: List[Dict[str, Any]] = [
    {"topic": "ptwo.v1.roots", "payload": {"id": "r1"}},
    {"topic": "ptwo.v1.roots", "payload": {}},
    {"topic": "ptwo.v1.roots", "payload": {"id": ""}},
    {"topic": "hashfix.v1.quotes", "payload": {"symbol": "AAPL", "aggressor": "BUY"}},
    {"topic": "hashfix.v1.quotes", "payload": {"symbol": "AAPL", "aggressor": "SIDE_UNSPECIFIED"}},
    {"topic": "hashfix.v1.quotes", "payload": {"symbol": "AAPL"}},
    {"topic": "hashfix.v1.quotes", "payload": {"symbol": "AAPL", "aggressor": 9}},
    {"topic": "hashfix.v1.quotes", "payload": {"aggressor": "ASK"}},
]


@pytest.mark.parametrize("case", CASES, ids=[json.dumps(c["payload"]) for c in CASES])
def test_presence_and_enum_keys_route_like_the_reference(
    pkg: ModuleType, tmp_path: pathlib.Path, case: Dict[str, Any]
) -> None:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(case["payload"]), encoding="utf-8")
    done = ampygen(
        REGISTRY, "route", case["topic"], "--env", "dev", "--payload", str(path), "--format", "json"
    )
    assert done.returncode in (0, 1), done.stderr
    want = json.loads(done.stdout)
    topic = pkg.TOPICS[case["topic"]]
    payload = json_format.ParseDict(case["payload"], topic.message_type())
    try:
        routed = topic.route(payload, "dev")
    except pkg.RouteError as e:
        assert want.get("error", {}).get("kind") == e.kind, want
        assert want["error"]["message"] == str(e)
        return
    assert routed.subject.text == want["subject"]
    assert routed.partition_key == want["partition_key"]
