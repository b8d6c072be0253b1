"""Defaults fail closed: no published key, no demo or missing keys in production, and the
server, not the token, decides how long a token lives."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import cli
from api.security import InsecureSettings, issue_token
from mediation.settings import Settings, get_settings
from tests.security.conftest import ENCRYPTION_KEY, ME, SECRET, Served

# the key the first release signed with when none was configured (it was in the code)
PUBLISHED_DEV_KEY = "change-me-development-only"


def _hand_made(key: str, **claims: Any) -> str:
    now = datetime.now(UTC)
    body = {
        "iss": "mediation",
        "sub": "root",
        "role": "admin",
        "region": "420000",
        "studio": None,
        "mediator": None,
        "ver": 1,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=365 * 31)).timestamp()),
        **claims,
    }
    return jwt.encode(body, key, algorithm="HS256")


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "ENVIRONMENT", "TRUSTED_PROXIES"):
        monkeypatch.delenv(f"MEDIATION_{name}", raising=False)
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_hand_made_long_lived_token_with_the_published_key_is_refused(
    database_url: str,
) -> None:
    app = create_app(settings=Settings(database_url=database_url))  # no key configured
    with TestClient(app) as client:
        token = _hand_made(PUBLISHED_DEV_KEY)  # a province-wide admin who does not exist
        r = client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_a_development_server_without_a_key_uses_a_random_one_per_start(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="api.security"):
        one = create_app(settings=Settings(database_url=database_url))
        two = create_app(settings=Settings(database_url=database_url))
    keys = {app.state.runtime.settings.secret_key for app in (one, two)}
    assert len(keys) == 2 and PUBLISHED_DEV_KEY not in keys
    assert all(len(k) >= 32 for k in keys)
    assert any("random key" in r.getMessage() for r in caplog.records)
    for app in (one, two):
        app.state.runtime.users.close()
        app.state.runtime.system.close()


def test_token_lifetime_is_the_servers_whatever_the_token_claims(served: Served) -> None:
    user = served.add("root", role="admin", region="420000")
    assert user.credential_version == 1
    # signed with the server's own key, for a real account: still refused beyond 60 minutes
    long_lived = _hand_made(SECRET)
    assert served.me(long_lived).status_code == 401
    now = datetime.now(UTC)
    old_iat = _hand_made(
        SECRET,
        iat=int((now - timedelta(minutes=61)).timestamp()),
        exp=int((now + timedelta(minutes=1)).timestamp()),
    )
    assert served.me(old_iat).status_code == 401
    future = _hand_made(
        SECRET,
        iat=int((now + timedelta(hours=1)).timestamp()),
        exp=int((now + timedelta(minutes=90)).timestamp()),
    )
    assert served.me(future).status_code == 401
    fair = _hand_made(SECRET, exp=int((now + timedelta(minutes=60)).timestamp()))
    assert served.me(fair).status_code == 200
    no_version = jwt.encode(
        {
            k: v
            for k, v in jwt.decode(fair, options={"verify_signature": False}).items()
            if k != "ver"
        },
        SECRET,
        algorithm="HS256",
    )
    assert served.me(no_version).status_code == 401
    ghost = _hand_made(SECRET, sub="ghost", exp=int((now + timedelta(minutes=60)).timestamp()))
    assert served.me(ghost).status_code == 401, "a token of a user who does not exist"


def test_a_token_claiming_another_role_than_the_account_is_refused(served: Served) -> None:
    user = served.add("wei.clerk")
    forged, _ = issue_token(
        type(user)(user.username, type(user.role)("admin"), "420000", None, None, 1),
        served.settings,
    )
    assert served.me(forged).status_code == 401


def _serve(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[int, str, list[Any]]:
    """``mediation serve ARGS`` with uvicorn's loop replaced by a note of what it was given."""
    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append((app, kw)))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(cli, ["serve", *args])
    finally:  # serve points the root logger at the runner's stream, closed after
        root.handlers[:] = handlers
        root.setLevel(level)
    return result.exit_code, result.output, started


def test_demo_is_refused_in_production(monkeypatch: pytest.MonkeyPatch, no_env: None) -> None:
    monkeypatch.setenv("MEDIATION_ENVIRONMENT", "production")
    monkeypatch.setenv("MEDIATION_SECRET_KEY", SECRET)
    monkeypatch.setenv("MEDIATION_ENCRYPTION_KEY", ENCRYPTION_KEY)
    code, output, started = _serve(monkeypatch, ["--demo", "--demo-cases", "3"])
    assert code == 1 and "refusing to start" in output and "--demo" in output
    assert started == []


def test_production_refuses_to_start_without_its_keys(
    monkeypatch: pytest.MonkeyPatch, no_env: None, database_url: str
) -> None:
    monkeypatch.setenv("MEDIATION_ENVIRONMENT", "production")
    for secret, encryption in (
        ("", ""),
        (SECRET, ""),
        ("", ENCRYPTION_KEY),
        (SECRET, "bm90LWEta2V5"),  # base64, but not an AES key's length
    ):
        monkeypatch.setenv("MEDIATION_SECRET_KEY", secret)
        monkeypatch.setenv("MEDIATION_ENCRYPTION_KEY", encryption)
        get_settings.cache_clear()
        code, output, started = _serve(monkeypatch, [])
        assert code == 1 and "refusing to start" in output, (secret, encryption, output)
        assert started == []
        settings = Settings(
            database_url=database_url,
            secret_key=secret,
            encryption_key=encryption,
            environment="production",
        )
        with pytest.raises(InsecureSettings):
            create_app(settings=settings)


def test_make_run_starts_the_demo_in_development_with_a_random_key(
    monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    code, output, started = _serve(monkeypatch, ["--demo", "--demo-cases", "3"])
    assert code == 0, output
    assert "random key" in output and "demo-clerk" in output
    ((app, kw),) = started
    assert kw["proxy_headers"] is False
    key = app.state.runtime.settings.secret_key
    assert len(key) >= 32 and key != PUBLISHED_DEV_KEY
    app.state.runtime.users.close()
    app.state.runtime.system.close()
