"""Pins stay exact and agree: `make pins` compiles requirements*.in into the .txt files,
and pyproject.toml names the same direct dependencies in ranges that admit the pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def direct(name: str) -> set[str]:
    """The names a requirements*.in file lists, leaving out its -r/-c lines."""
    lines = (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines())
    listed = [line for line in lines if line and not line.startswith("-")]
    return {canonicalize_name(Requirement(line).name) for line in listed}


def pins(name: str) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / name).read_text(), re.MULTILINE)
    return {canonicalize_name(package): version for package, version in found}


def test_every_direct_runtime_dependency_is_pinned_exactly() -> None:
    assert direct("requirements.in") - pins("requirements.txt").keys() == set()


def test_every_direct_dev_dependency_is_pinned_exactly_beside_the_runtime_pins() -> None:
    dev = pins("requirements-dev.txt")

    assert direct("requirements-dev.in") - dev.keys() == set()
    assert {name: dev.get(name) for name in pins("requirements.txt")} == pins("requirements.txt")


def test_the_package_names_the_direct_runtime_dependencies_in_ranges_that_hold_the_pins() -> None:
    declared = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    pinned = pins("requirements.txt")

    assert {canonicalize_name(r.name) for r in declared} == direct("requirements.in")
    for requirement in declared:
        assert requirement.specifier, f"{requirement.name} has no range"
        version = pinned[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), requirement


def test_the_code_generator_builds_with_the_pinned_tools() -> None:
    build = {
        canonicalize_name(r.name): str(r.specifier)
        for r in map(Requirement, PYPROJECT["build-system"]["requires"])
    }
    dev = pins("requirements-dev.txt")

    assert build == {
        name: f"=={dev[name]}"
        for name in ("setuptools", "grpcio-tools", "googleapis-common-protos")
    }
