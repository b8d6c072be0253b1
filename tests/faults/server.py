"""The real server in a subprocess (``python -m api.cli serve``), and clients that send case
commands to it the way an integrating system should: with ``If-Match`` and an
``Idempotency-Key``, retrying the *same* request until it gets a definite answer.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from api.users import User
from mediation.integrity_keys import configured_keys, key_text
from mediation.settings import Settings
from mediation.values import Role
from projections.system import System
from tests.support.accounts import account_token
from tests.support.factories import in_mediation, studio_with_mediator

SECRET = "fault-test-secret-key-that-is-long-enough-0123456789"
HELD_ON = "2026-03-20"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``mediation serve`` on a free port; killed with SIGKILL and started again at will."""

    def __init__(self, database_url: str, workdir: Path, **env: str) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "MEDIATION_DATABASE_URL": database_url,
            "MEDIATION_SECRET_KEY": SECRET,
            # the events this test process records are chained with its own key
            "MEDIATION_INTEGRITY_KEY": key_text(configured_keys().current),
            "MEDIATION_ENVIRONMENT": "development",
            "MEDIATION_LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log = workdir / "server.log"

    def start(self, timeout: float = 60.0) -> None:
        assert self.process is None
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "api.cli", "serve"),
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                ],
                cwd=self.workdir,  # no stray .env
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}: {self.tail()}")
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {timeout}s: {self.tail()}")

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
            self.process = None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class World:
    case_ids: list[UUID]
    token: str


def setup_world(database_url: str, cases: int) -> World:
    """A studio, its mediator and ``cases`` cases in mediation; a token for that mediator."""
    system = System(database_url, in_process=False)
    try:
        studio_id, mediator_id = studio_with_mediator(system.app)
        case_ids = [in_mediation(system.app, studio_id, mediator_id).id for _ in range(cases)]
    finally:
        system.close()
    settings = Settings(database_url=database_url, secret_key=SECRET, token_minutes=120)
    user = User("mediator", Role.MEDIATOR, "420100", studio_id=studio_id, mediator_id=mediator_id)
    return World(case_ids, account_token(database_url, user, settings))


@dataclass
class ClientResult:
    name: str
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)  # case, version, summary
    conflicts: int = 0
    retries: int = 0
    resent_acknowledged: int = 0  # acknowledged after the connection died on an earlier send
    unavailable: int = 0  # 503 answers (each with Retry-After)
    unresolved: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def client_loop(
    base: str,
    world: World,
    name: str,
    seed: int,
    stop: threading.Event,
    *,
    max_commands: int = 10_000,
    give_up_after: float = 90.0,
    timeout: float = 10.0,
) -> ClientResult:
    """Session commands until ``stop``; each retried (same key, same If-Match) until definite."""
    rng = random.Random(seed)
    result = ClientResult(name)
    headers = {"Authorization": f"Bearer {world.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=timeout) as http:
        for i in range(max_commands):
            if stop.is_set():
                break
            case_id = str(rng.choice(world.case_ids))
            summary = f"{name}#{i}"
            key = f"{name}-{i}-{seed}"
            version: int | None = None
            resent = False
            deadline = time.monotonic() + give_up_after
            while True:
                if time.monotonic() > deadline:
                    result.unresolved.append(summary)
                    break
                try:
                    if version is None:
                        got = http.get(f"/api/v1/cases/{case_id}")
                        if got.status_code != 200:
                            _note(result, got, f"GET {summary}")
                            time.sleep(0.05)
                            continue
                        version = int(got.json()["version"])
                    r = http.post(
                        f"/api/v1/cases/{case_id}/sessions",
                        json={"held_on": HELD_ON, "summary": summary},
                        headers={"If-Match": f'"{version}"', "Idempotency-Key": key},
                    )
                except httpx.HTTPError:  # no answer (server died, or too slow): send it again
                    result.retries += 1
                    resent = version is not None
                    time.sleep(0.05)
                    continue
                if r.status_code == 200:
                    body = r.json()
                    if r.headers.get("etag") != f'"{body["version"]}"':
                        result.errors.append(f"{summary}: ETag {r.headers.get('etag')}")
                    result.acknowledged.append((case_id, int(body["version"]), summary))
                    result.resent_acknowledged += resent
                    break
                if r.status_code == 409 and r.json().get("code") == "version_conflict":
                    result.conflicts += 1
                    break
                _note(result, r, summary)
                time.sleep(0.05)
    return result


def _note(result: ClientResult, r: httpx.Response, what: str) -> None:
    """A non-definite answer: 503 (with Retry-After, problem+json) is allowed; others are not."""
    if r.status_code == 503:
        body = r.json()
        if (
            "retry-after" not in r.headers
            or body.get("code") != "service_unavailable"
            or not r.headers.get("content-type", "").startswith("application/problem+json")
        ):
            result.errors.append(f"{what}: 503 without Retry-After/problem: {r.text[:200]}")
        result.unavailable += 1
        return
    result.errors.append(f"{what}: {r.status_code} {r.text[:300]}")


def stored_sessions(system: System, case_ids: list[UUID]) -> dict[tuple[str, int], str]:
    """Every recorded session (case, version) -> summary; asserts contiguous versions."""
    stored: dict[tuple[str, int], str] = {}
    for case_id in case_ids:
        events: list[Any] = list(system.app.events.get(case_id))
        versions = [e.originator_version for e in events]
        assert versions == list(range(1, len(events) + 1)), f"{case_id}: versions {versions}"
        for e in events:
            if type(e).__name__ == "SessionRecorded":
                stored[(str(case_id), e.originator_version)] = e.summary
    return stored
