"""Fault tests: ``pytest -m faults``; quick by default, ``MEDIATION_FAULTS_FULL=1`` for long."""

from __future__ import annotations

import os

import pytest

FULL = os.environ.get("MEDIATION_FAULTS_FULL", "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: injected faults and races (quick; MEDIATION_FAULTS_FULL=1 for long)"
    )


def scale(quick: int, full: int) -> int:
    return full if FULL else quick


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only fault tests run only when PostgreSQL is a selected backend
    (``MEDIATION_TEST_BACKENDS``): deselected otherwise, never skipped."""
    from tests.conftest import BACKENDS

    if "postgres" in BACKENDS:
        return
    here = os.path.dirname(__file__)
    keep, drop = [], []
    for item in items:
        in_faults = str(item.path).startswith(here)
        (drop if in_faults and item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
