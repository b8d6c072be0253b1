"""Login, tokens, users on the command line, rate limiting, production secrets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.cli import cli
from api.security import InsecureSettings, LoginLimiter, issue_token
from api.users import User, UserError
from mediation.settings import Settings, get_settings
from mediation.values import Role
from tests.api.conftest import SECRET, World

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database_url)
    monkeypatch.setenv("MEDIATION_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_users_add_on_the_command_line_then_log_in(env: None, world: World) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["users", "add", "li.clerk", "--role", "clerk", "--region", "420102"],
        input="s3cret-password\n",
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        cli,
        ["users", "add", "li.clerk", "--role", "clerk", "--region", "420102"],
        input="s3cret-password\n",
    )
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(
        cli,
        ["users", "add", "x", "--role", "king", "--region", "420102"],
        input="s3cret-password\n",
    )
    assert bad.exit_code == 1
    med = runner.invoke(
        cli,
        [
            "users",
            "add",
            "wang",
            "--role",
            "mediator",
            "--region",
            "420100",
            "--studio",
            str(world.studio_id),
            "--mediator",
            str(world.mediator_id),
        ],
        input="s3cret-password\n",
    )
    assert med.exit_code == 0, med.output

    r = world.client.post(TOKEN, data={"username": "li.clerk", "password": "s3cret-password"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    me = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "username": "li.clerk",
        "role": "clerk",
        "region_code": "420102",
        "studio_id": None,
        "mediator_id": None,
    }
    r = world.client.post(TOKEN, data={"username": "wang", "password": "s3cret-password"})
    me = world.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["mediator_id"] == str(world.mediator_id)


def test_wrong_password_and_rate_limit(world: World) -> None:
    users = world.app.state.runtime.users
    users.add("zhao", "correct-horse", role="auditor", region_code="420100")
    for _ in range(world.app.state.runtime.limiter.free_failures):  # then a delay from here
        r = world.client.post(TOKEN, data={"username": "zhao", "password": "wrong-horse"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
        assert r.headers["content-type"] == "application/problem+json"
    r = world.client.post(TOKEN, data={"username": "zhao", "password": "correct-horse"})
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert int(r.headers["retry-after"]) > 0
    r = world.client.post(TOKEN, data={"username": "nobody", "password": "whatever1"})
    assert r.status_code == 401
    r = world.client.post(TOKEN, data={"username": "zhao"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_limiter_per_client_and_window() -> None:
    now = [0.0]
    limiter = LoginLimiter(client_limit=10, username_limit=4, window=60, clock=lambda: now[0])
    for i in range(10):
        limiter.failed(f"user{i}", "10.0.0.1")
    assert limiter.retry_after("fresh-user", "10.0.0.1") is not None
    assert limiter.retry_after("fresh-user", "10.0.0.2") is None
    for i in range(4):
        limiter.failed("u", f"10.0.1.{i}")
    assert limiter.retry_after("u", "10.0.0.5") is not None
    assert limiter.retry_after("u", "10.0.0.5", known=lambda: True) is None
    now[0] = 61.0
    assert limiter.retry_after("u", "10.0.0.5") is None
    assert limiter.retry_after("fresh-user", "10.0.0.1") is None


def test_bad_expired_and_foreign_tokens(world: World, settings: Settings) -> None:
    me = "/api/v1/me"
    assert world.client.get(me).status_code == 401
    r = world.client.get(me, headers={"Authorization": "Bearer not.a.token"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert world.client.get(me, headers={"Authorization": "Basic abc"}).status_code == 401
    user = User("old", Role.CLERK, "420100")
    old, _ = issue_token(user, settings, now=datetime.now(UTC) - timedelta(days=2))
    assert world.client.get(me, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    other = Settings(database_url=settings.database_url, secret_key="another-secret-" * 3)
    forged, _ = issue_token(user, other)
    assert world.client.get(me, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_user_validation(world: World) -> None:
    users = world.app.state.runtime.users
    with pytest.raises(UserError):
        users.add("a b", "password1", role="clerk", region_code="420100")
    with pytest.raises(UserError):
        users.add("ab", "short", role="clerk", region_code="420100")
    with pytest.raises(UserError):
        users.add("ab", "password1", role="clerk", region_code="999999")
    with pytest.raises(UserError):
        users.add("ab", "password1", role="mediator", region_code="420100")
    with pytest.raises(UserError):
        users.add("ab", "password1", role="system", region_code="420100")


def test_production_refuses_default_secret(database_url: str) -> None:
    for secret in ("change-me-development-only", "", "short"):
        s = Settings(
            database_url=database_url,
            secret_key=secret,
            encryption_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            environment="production",
        )
        with pytest.raises(InsecureSettings):
            create_app(settings=s)


def test_serve_refuses_default_secret_in_production(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database_url)
    monkeypatch.setenv("MEDIATION_ENVIRONMENT", "production")
    monkeypatch.delenv("MEDIATION_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "refusing to start" in result.output
