"""Read-your-writes in the deployed shape: API without in-process read models
(``MEDIATION_PROJECTIONS=worker``) and a real projection worker in another process.

The clerk's queue page is read from the read models, which only the worker writes here.
A form's command answers (303) only once the worker has passed the command's position, or
after a bounded wait (``Runtime.after_write``), so the page the browser is sent to next
shows the new case. With the worker stopped (SIGSTOP) the same form still answers, after
the bound, and the queue is honestly stale until the worker runs again: the freshness in
the first test is the wait's doing, not luck.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from api.app import make_system
from api.pages.common import COOKIE
from mediation.settings import Settings
from projections.system import System
from tests.api.conftest import SECRET, World, case_body
from tests.support.factories import SteppingClock


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, secret_key=SECRET, token_minutes=60, projections="worker"
    )


@pytest.fixture
def system(database_url: str, settings: Settings, clock: SteppingClock) -> Iterator[System]:
    s = System(database_url, settings=settings, clock=clock, in_process=False)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def worker(world: World, database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m projections.worker --follow`` (what ``mediation project --follow`` runs),
    polling every 0.3 s, caught up with the world's setup before the test starts."""
    command = [sys.executable, "-m", "projections.worker", "--url", database_url]
    process = subprocess.Popen(
        [*command, "--follow", "--poll", "0.3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        world.system.wait_for(world.events(), timeout=120.0)  # started and caught up
        yield process
    finally:
        process.send_signal(signal.SIGCONT)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()


def _page(world: World, path: str, form: dict[str, str] | None = None) -> Any:
    world.client.cookies.set(COOKIE, world.tokens["clerk"])
    try:
        if form is None:
            return world.client.get(path, follow_redirects=False)
        return world.client.post(path, data=form, follow_redirects=False)
    finally:
        world.client.cookies.clear()


def _intake(world: World, seed: int) -> str:
    body = case_body(seed)
    form = {
        "region_code": body["region_code"],
        "received_on": body["received_on"],
        "applicant.name": "张三",
        "applicant.id_number": body["applicant"]["id_number"],
        "applicant.phone": "13800138000",
        "applicant.worker_category": "employee",
        "respondent.name": "武汉某某物流有限公司",
        "respondent.credit_code": body["respondent"]["credit_code"],
        "claims.0.category": "remuneration",
        "claims.0.amount": "12800.00",
    }
    r = _page(world, "/cases/new", form)
    assert r.status_code == 303, r.text[:500]
    location = str(r.headers["location"])
    assert location.startswith("/cases/")
    return location.split("?")[0]


def test_the_api_in_the_deployed_shape_leaves_the_read_models_to_the_worker(
    settings: Settings,
) -> None:
    system = make_system(settings)
    try:
        assert isinstance(system, System) and not system.in_process
    finally:
        system.close()


def test_the_page_after_a_form_shows_the_new_case_once_the_worker_passed_it(
    world: World, worker: subprocess.Popen[bytes]
) -> None:
    for seed in (11, 12, 13):
        case_path = _intake(world, seed)
        # the page the browser is sent to, and the queue read from the worker's tables
        assert _page(world, case_path).status_code == 200
        queue = _page(world, "/clerk")
        assert queue.status_code == 200
        assert case_path in queue.text
        assert world.system.tracked() >= world.events()


def test_without_the_worker_the_form_answers_after_the_bound_and_the_queue_is_stale(
    world: World, worker: subprocess.Popen[bytes]
) -> None:
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        case_path = _intake(world, 21)  # answers: the wait is bounded
        assert case_path not in _page(world, "/clerk").text  # the read models lag behind
        assert world.system.tracked() < world.events()
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    world.system.wait_for(world.events(), timeout=120.0)
    assert case_path in _page(world, "/clerk").text
