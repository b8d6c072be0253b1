"""Stopping the local PostgreSQL cluster (``pg_ctlcluster ... stop -m immediate``) and
always starting it again. Other test runs share this server: keep outages to seconds.

``MEDIATION_FAULTS_PG_CTL`` names another control command instead (called with ``start``
or ``stop -m immediate``), e.g. a script around ``pg_ctl -D DIR`` for a private cluster
that ``MEDIATION_TEST_POSTGRES`` points at, so that nobody else sees the outages.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.conftest import POSTGRES_URL


def cluster() -> tuple[str, str]:
    versions = sorted(Path("/etc/postgresql").iterdir(), key=lambda p: int(p.name))
    version = versions[-1]
    return version.name, sorted(p.name for p in version.iterdir())[0]


def _ctl(action: str, *extra: str) -> None:
    custom = os.environ.get("MEDIATION_FAULTS_PG_CTL")
    if custom:
        command = [custom, action, *extra]
    else:
        version, name = cluster()
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action, *extra]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def accepts_connections() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def wait_until_up(timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not accepts_connections():
        if time.monotonic() > deadline:
            raise AssertionError("PostgreSQL does not accept connections")
        time.sleep(0.1)


def start() -> None:
    """Start the cluster (if it is down) and wait until it accepts connections."""
    if not accepts_connections():
        try:
            _ctl("start")
        except subprocess.CalledProcessError:
            if not accepts_connections():  # "already running" is fine; anything else not
                raise
    wait_until_up()


@contextmanager
def stopped() -> Iterator[None]:
    """PostgreSQL stopped (immediate: no checkpoint, clients cut off) for the block."""
    try:
        _ctl("stop", "-m", "immediate")
        yield
    finally:
        start()
