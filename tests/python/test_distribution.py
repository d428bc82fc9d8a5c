"""gen/python/pyproject.toml: the generated package as a distribution.

The dependency and each transport extra must admit the versions the package
is tested with (tests/python/requirements.txt, and the protobuf runtime the
tests run on), the extras must match the transport subpackages that were
generated, and the import name must be the package. scripts/package-check
installs such a distribution with pip into a fresh venv and uses it, and
tests/python/run.sh runs every Python test against a wheel of it installed
into a fresh venv (checked here: the package under test is that wheel).
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import re
import sys
import sysconfig
from typing import Dict, List, Tuple

import google.protobuf
import pytest

from support import INSTALLED, ROOT

if sys.version_info < (3, 11):  # pragma: no cover - the venv runs 3.11+
    pytest.skip("tomllib needs Python 3.11", allow_module_level=True)

import tomllib

GEN = ROOT / "gen" / "python"


def _pins() -> Dict[str, str]:
    pins: Dict[str, str] = {}
    for line in (ROOT / "tests" / "python" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def _release(version: str) -> Tuple[int, ...]:
    match = re.match(r"\d+(\.\d+)*", version)
    assert match, version
    return tuple(int(p) for p in match.group(0).split("."))


def _split(requirement: str) -> Tuple[str, List[Tuple[str, str]]]:
    """``name>=a,<b`` as the name and its (operator, version) clauses."""
    match = re.fullmatch(r"([A-Za-z0-9._-]+)(.*)", requirement)
    assert match, requirement
    clauses = [re.fullmatch(r"(>=|<)(\S+)", c.strip()) for c in match.group(2).split(",")]
    assert all(clauses), requirement
    return match.group(1).lower(), [(c.group(1), c.group(2)) for c in clauses if c]


def _admits(requirement: str, version: str) -> bool:
    _, clauses = _split(requirement)
    have = _release(version)
    for op, bound in clauses:
        if op == ">=" and have < _release(bound):
            return False
        if op == "<" and have >= _release(bound):
            return False
    return True


def _pyproject() -> Dict[str, object]:
    with (GEN / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def test_the_distribution_is_the_package_built_by_flit_core() -> None:
    data = _pyproject()
    build = data["build-system"]
    assert isinstance(build, dict)
    assert build["build-backend"] == "flit_core.buildapi"
    assert [_split(r)[0] for r in build["requires"]] == ["flit_core"]
    tool = data["tool"]
    assert isinstance(tool, dict)
    assert tool["flit"]["module"]["name"] == "ampybus"
    assert (GEN / "ampybus" / "__init__.py").is_file()
    assert (GEN / "ampybus" / "py.typed").is_file()
    project = data["project"]
    assert isinstance(project, dict)
    assert project["name"] == "ampybus"
    assert "Typing :: Typed" in project["classifiers"]


def test_dependencies_admit_the_tested_versions() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    pins = _pins()
    (protobuf,) = project["dependencies"]
    assert _split(protobuf)[0] == "protobuf"
    assert _admits(protobuf, google.protobuf.__version__), (protobuf, google.protobuf.__version__)
    assert _admits(protobuf, pins["protobuf"])
    # docs/python.md: tested with protobuf 4.25 to 7.36.
    assert _admits(protobuf, "4.25.0") and not _admits(protobuf, "4.24.4")
    extras = project["optional-dependencies"]
    assert isinstance(extras, dict)
    generated = {p.name for p in (GEN / "ampybus").iterdir() if p.name in ("nats", "kafka")}
    assert set(extras) == generated == {"nats", "kafka"}
    for extra, (client,) in extras.items():
        name = _split(client)[0]
        assert name == {"nats": "nats-py", "kafka": "confluent-kafka"}[extra]
        assert _admits(client, pins[name]), (client, pins[name])


def test_the_version_is_pep_440() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert re.fullmatch(r"\d+(\.\d+)*", str(project["version"]))


def test_the_tests_run_against_the_installed_wheel() -> None:
    if not INSTALLED:
        pytest.skip("run with gen/python on the path; tests/python/run.sh installs the wheel")
    import ampybus
    import ampybus.kafka
    import ampybus.nats

    site = pathlib.Path(sysconfig.get_paths()["purelib"]).resolve()
    for module in (ampybus, ampybus.nats, ampybus.kafka):
        where = pathlib.Path(str(module.__file__)).resolve()
        assert site in where.parents and GEN.resolve() not in where.parents, where
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert importlib.metadata.version("ampybus") == project["version"]
    # What pip installed for the extras is what the package declares.
    declared = importlib.metadata.requires("ampybus") or []
    assert any(r.startswith("nats-py") and 'extra == "nats"' in r for r in declared), declared
    assert any(r.startswith("confluent-kafka") and 'extra == "kafka"' in r for r in declared), (
        declared
    )
    # Every file of gen/python's package is in the wheel, byte for byte.
    files = importlib.metadata.files("ampybus") or []
    installed = {
        str(f) for f in files if str(f).startswith("ampybus/") and "__pycache__" not in str(f)
    }
    source = {
        str(p.relative_to(GEN))
        for p in (GEN / "ampybus").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert installed == source
    for name in sorted(source):
        assert (site / name).read_bytes() == (GEN / name).read_bytes(), name


def test_payload_directories_are_namespace_packages() -> None:
    """Below `ampybus/pb` the directories follow the proto paths with no
    `__init__.py` (docs/python.md, "Payload modules"), and every payload
    module imports by its dotted name from wherever the package is: the
    installed wheel under run.sh, gen/python otherwise."""
    import importlib

    import ampybus.pb

    root = pathlib.Path(str(ampybus.pb.__file__)).parent
    assert [p.relative_to(root) for p in root.rglob("__init__.py")] == [pathlib.Path("__init__.py")]
    found = sorted(root.rglob("*_pb2.py"))
    protos = sorted((ROOT / "proto").rglob("*.proto"))
    assert len(found) == len(protos) > 10, (found, protos)
    names = []
    for path in found:
        rel = path.relative_to(root)
        module = importlib.import_module("ampybus.pb." + ".".join(rel.with_suffix("").parts))
        assert (
            module.__file__ is not None
            and pathlib.Path(module.__file__).resolve() == path.resolve()
        )
        proto = str(rel.parent / rel.name.replace("_pb2.py", ".proto"))
        assert module.DESCRIPTOR.name == proto, (module.DESCRIPTOR.name, proto)
        names.append(proto)
    assert names == [str(p.relative_to(ROOT / "proto")) for p in protos]
