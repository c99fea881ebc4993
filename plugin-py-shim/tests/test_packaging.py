"""The wheel's dependency ranges claim exactly what CI tests: each floor is the version the oldest
venv pins (constraints-acapy-oldest.txt), and the newest venv's version (constraints.txt) is inside."""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

SHIM = Path(__file__).resolve().parents[1]


def _pins(constraints_file: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (SHIM / constraints_file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def _shipped_requirements() -> list[Requirement]:
    project = tomllib.loads((SHIM / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["acapy"]]]


@pytest.mark.parametrize("requirement", _shipped_requirements(), ids=str)
def test_the_floor_is_the_oldest_tested_version_and_the_newest_tested_one_is_allowed(requirement: Requirement):
    oldest = _pins("constraints-acapy-oldest.txt")[requirement.name.lower()]
    newest = _pins("constraints.txt")[requirement.name.lower()]
    floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    ceilings = [s for s in requirement.specifier if s.operator == "<"]
    assert floors == [oldest], f"{requirement}: the floor must be {oldest}, the version the oldest venv tests"
    assert ceilings, f"{requirement}: no ceiling, so versions CI never ran would be claimed"
    assert requirement.specifier.contains(newest), f"{requirement} excludes {newest}, the version CI tests"
