"""Who the conformance suite runs on: every installed connector × every harness it registered.

Importing this module imports each ``harness_*.py`` beside it, so the harnesses
register themselves. A connector that does not load, or that has no harness,
gets a failing ``test_connector_has_a_harness`` case rather than no cases at all.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pytest

from app.connectors.base import Connector
from app.connectors.registry import ENTRY_POINT_GROUP, _load, installed_connectors
from tests.connectors import conformance
from tests.connectors.conformance.harness import HARNESSES, Harness


def _import_harnesses() -> dict[str, str]:
    """Import every harness module; the errors of those that fail, by connector name."""
    errors = {}
    for module in pkgutil.iter_modules(conformance.__path__):
        if module.name.startswith("harness_"):
            try:
                importlib.import_module(f"{conformance.__name__}.{module.name}")
            except Exception as exc:  # noqa: BLE001 -- becomes that connector's failing case
                errors[module.name.removeprefix("harness_")] = f"{type(exc).__name__}: {exc}"
    return errors


def _load_connectors() -> tuple[dict[str, type[Connector[Any]]], dict[str, str]]:
    """The installed connector classes, and why any that does not load failed."""
    try:
        installed = installed_connectors()
    except Exception:  # noqa: BLE001 -- one broken connector: load each alone
        return _load_one_by_one()
    return {name: found.connector for name, found in installed.items()}, {}


def _load_one_by_one() -> tuple[dict[str, type[Connector[Any]]], dict[str, str]]:
    """Load each entry point with the registry's own loader, so one failure fails alone."""
    loaded, errors = {}, {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded[entry.name] = _load(entry).connector
        except Exception as exc:  # noqa: BLE001 -- becomes that connector's failing case
            errors[entry.name] = f"{entry.value} does not load: {type(exc).__name__}: {exc}"
    return loaded, errors


def _registration_problems() -> dict[str, str | None]:
    """Every connector name the suite knows of, with what keeps it from being tested."""
    problems: dict[str, str | None] = dict.fromkeys(CONNECTORS)
    problems |= LOAD_ERRORS
    for name in CONNECTORS.keys() - HARNESSES.keys():
        hint = f" (harness_{name}.py: {HARNESS_ERRORS[name]})" if name in HARNESS_ERRORS else ""
        problems[name] = f"connector {name!r} registers no conformance harness{hint}"
    for name in HARNESSES.keys() - CONNECTORS.keys() - LOAD_ERRORS.keys():
        problems[name] = f"a harness is registered for {name!r}, but no such connector is installed"
    return dict(sorted(problems.items()))


@dataclass(frozen=True, slots=True)
class Case:
    """One connector on one of its backing systems."""

    connector: str
    label: str

    def __str__(self) -> str:
        return f"{self.connector}-{self.label}"


HARNESS_ERRORS = _import_harnesses()
CONNECTORS, LOAD_ERRORS = _load_connectors()
PROBLEMS = _registration_problems()
CASES = [Case(name, label) for name in CONNECTORS for label in sorted(HARNESSES.get(name, {}))]


@pytest.fixture(params=sorted(PROBLEMS))
def connector_name(request: pytest.FixtureRequest) -> str:
    """Every installed connector (and every harness's connector), by name."""
    return str(request.param)


@pytest.fixture
def registration_problem(connector_name: str) -> str | None:
    """What keeps ``connector_name`` from being tested, or None."""
    return PROBLEMS[connector_name]


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> Case:
    """One installed connector with one of its harnesses."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def connector_class(case: Case) -> type[Connector[Any]]:
    """The class installed under the case's connector name."""
    return CONNECTORS[case.connector]


@pytest.fixture
async def harness(case: Case) -> AsyncIterator[Harness]:
    """A fresh, empty backing system for the case (one per test)."""
    async with HARNESSES[case.connector][case.label]() as backing:
        yield backing
