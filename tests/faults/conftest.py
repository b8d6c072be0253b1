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
