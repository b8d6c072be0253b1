"""Login throttling: nobody can lock a user out, and a forged header buys no extra guesses."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from api.security import LoginLimiter
from mediation.settings import Settings
from tests.security.conftest import ATTACKER, SECRET, TOKEN, USER_CLIENT, Served
from tests.support.accounts import PASSWORD, fast_store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock_on(served: Served) -> Clock:
    clock = Clock()
    served.app.state.runtime.limiter.clock = clock
    return clock


def test_six_wrong_passwords_do_not_lock_the_user_out_of_their_own_client(
    served: Served, clock_on: Clock
) -> None:
    served.add("qian.clerk")
    assert served.login("qian.clerk").status_code == 200  # the user's usual machine
    statuses = [
        served.login("qian.clerk", f"wrong-guess-{i}", address=ATTACKER).status_code
        for i in range(6)
    ]
    assert statuses[:3] == [401, 401, 401] and 429 in statuses[3:]
    assert served.login("qian.clerk").status_code == 200, "the right password, own client"
    assert served.login("qian.clerk", address="203.0.113.5").status_code == 200, "a new client"


def test_the_users_own_mistakes_cost_growing_but_bounded_delays(
    served: Served, clock_on: Clock
) -> None:
    served.add("zhao.clerk")
    limiter = served.app.state.runtime.limiter
    waits = []
    for i in range(12):
        r = served.login("zhao.clerk", f"mistyped-{i}")
        if r.status_code == 429:
            wait = int(r.headers["retry-after"])
            waits.append(wait)
            clock_on.now += wait
            r = served.login("zhao.clerk", f"mistyped-{i}")
        assert r.status_code == 401
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert max(waits) <= limiter.max_delay + 1
    r = served.login("zhao.clerk")
    assert r.status_code == 429
    clock_on.now += int(r.headers["retry-after"])
    assert served.login("zhao.clerk").status_code == 200, "never locked for good"


def test_a_client_has_a_budget_of_failures_over_all_usernames(
    served: Served, clock_on: Clock
) -> None:
    limiter = served.app.state.runtime.limiter
    statuses = [
        served.login(f"someone{i}", "wrong-guess", address=ATTACKER).status_code
        for i in range(limiter.client_limit + 5)
    ]
    assert statuses[: limiter.client_limit] == [401] * limiter.client_limit
    assert set(statuses[limiter.client_limit :]) == {429}
    served.add("feng.clerk")
    assert served.login("feng.clerk").status_code == 200, "other clients are not affected"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(served: Served, clock_on: Clock) -> None:
    limiter = served.app.state.runtime.limiter
    local = served.client("127.0.0.1")
    statuses = [
        local.post(
            TOKEN,
            data={"username": f"someone{i}", "password": "wrong-guess"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(limiter.client_limit + 3)
    ]
    assert statuses[-1] == 429
    clients = {a.client for a in served.users.login_attempts()}
    assert clients == {"127.0.0.1"}


def _request(peer: str, forwarded: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": TOKEN,
            "headers": [(b"x-forwarded-for", forwarded.encode())],
            "client": (peer, 40000),
        }
    )


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    limiter = LoginLimiter(trusted_proxies="10.0.0.0/8, 127.0.0.1")
    assert limiter.client_of(_request("127.0.0.1", "203.0.113.7, 10.1.2.3")) == "203.0.113.7"
    assert limiter.client_of(_request("127.0.0.1", "6.6.6.6, 203.0.113.7")) == "203.0.113.7"
    assert limiter.client_of(_request("192.0.2.1", "203.0.113.7")) == "192.0.2.1"
    assert limiter.client_of(_request("127.0.0.1", "garbage")) == "127.0.0.1"
    assert LoginLimiter().client_of(_request("127.0.0.1", "203.0.113.7")) == "127.0.0.1"


def test_logins_are_recorded_with_username_and_client(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    served.add("lin.clerk")
    with caplog.at_level(logging.INFO, logger="api.auth"):
        served.login("lin.clerk", "wrong-guess", address=ATTACKER)
        served.login("lin.clerk")
        served.login("nobody-at-all", "wrong-guess")
    rows = [(a.username, a.client, a.outcome, a.reason) for a in served.users.login_attempts()]
    assert rows == [
        ("lin.clerk", ATTACKER, "failure", "wrong_password"),
        ("lin.clerk", USER_CLIENT, "success", ""),
        ("nobody-at-all", USER_CLIENT, "failure", "unknown_user"),
    ]
    logged = [
        (r.fields["username"], r.fields["client"], r.fields["outcome"])  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "api.auth"
    ]
    assert logged == [(u, c, o) for u, c, o, _ in rows]


# ---------------------------------------------------------------------- a real server

GUESSED = 12  # users guessed at (few tries each, so no per-user budget is reached)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """``mediation serve`` in a subprocess (uvicorn, as deployed) on a free port."""
    store = fast_store(database_url)
    for i in range(GUESSED):
        store.add(f"tang{i}", PASSWORD, role="clerk", region_code="420100")
    store.close()
    port = _free_port()
    env = {
        **os.environ,
        "MEDIATION_DATABASE_URL": database_url,
        "MEDIATION_SECRET_KEY": SECRET,
        "MEDIATION_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_a_rotating_forwarded_for_from_localhost_does_not_bypass_the_client_limit(
    server: str,
) -> None:
    limit = LoginLimiter().client_limit
    statuses = []
    with httpx.Client(base_url=server, timeout=10) as c:
        for i in range(limit + 3):  # a few guesses at each user, each from a "new address"
            r = c.post(
                TOKEN,
                data={"username": f"tang{i % GUESSED}", "password": "wrong-guess"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            statuses.append(r.status_code)
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429] * 3


def test_settings_name_trusted_proxies() -> None:
    assert Settings(trusted_proxies="127.0.0.1").trusted_proxies == "127.0.0.1"
    with pytest.raises(ValueError):
        LoginLimiter(trusted_proxies="not-an-address")
