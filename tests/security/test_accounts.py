"""Credentials can be withdrawn: deleted, re-created, disabled, re-passworded, re-roled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import cli
from mediation.settings import get_settings
from tests.security.conftest import SECRET, Served
from tests.support.accounts import PASSWORD

NEW_PASSWORD = "Tortoise-hill-bridge-77"


def _sql(served: Served, statement: str, **params: object) -> None:
    """What an operator with a database login does, outside the application."""
    store = served.store
    table = f'"{store.schema}".users' if store.schema else "users"
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement.replace("users", table)), params)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, served: Served) -> Iterator[None]:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", served.database_url)
    monkeypatch.setenv("MEDIATION_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_deleted_users_token_is_refused(served: Served) -> None:
    served.add("zhang.clerk")
    token = served.token("zhang.clerk")
    assert served.me(token).status_code == 200
    _sql(served, "DELETE FROM users WHERE username = :u", u="zhang.clerk")
    r = served.me(token)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_a_user_re_created_with_another_role_does_not_inherit_old_tokens(served: Served) -> None:
    served.add("zhang")
    clerk_token = served.token("zhang")
    assert served.me(clerk_token).json()["role"] == "clerk"
    _sql(served, "DELETE FROM users WHERE username = :u", u="zhang")
    served.add("zhang", role="auditor", region="420000")
    assert served.me(clerk_token).status_code == 401
    # even re-created exactly as before: the credential version never comes back
    _sql(served, "DELETE FROM users WHERE username = :u", u="zhang")
    served.add("zhang")
    assert served.me(clerk_token).status_code == 401
    assert served.me(served.token("zhang")).json()["role"] == "clerk"


def test_admin_disables_and_enables_inside_their_region(served: Served) -> None:
    served.add("hubei.admin", role="admin", region="420000")
    served.add("yichang.admin", role="admin", region="420500")
    served.add("li.clerk")
    served.add("chen.clerk")
    admin = {"Authorization": f"Bearer {served.token('hubei.admin')}"}
    outsider = {"Authorization": f"Bearer {served.token('yichang.admin')}"}
    clerk_token = served.token("li.clerk")
    clerk = {"Authorization": f"Bearer {clerk_token}"}
    c = served.client()

    assert c.post("/api/v1/users/li.clerk/disable").status_code == 401
    r = c.post("/api/v1/users/li.clerk/disable", headers=outsider)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = c.post("/api/v1/users/chen.clerk/disable", headers=clerk)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert c.post("/api/v1/users/nobody/disable", headers=admin).status_code == 404
    r = c.post("/api/v1/users/hubei.admin/disable", headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "cannot_disable_self"

    r = c.post("/api/v1/users/li.clerk/disable", headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert served.me(clerk_token).status_code == 401
    assert served.login("li.clerk").status_code == 401
    r = c.post("/api/v1/users/li.clerk/enable", headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is False
    assert served.me(clerk_token).status_code == 401, "a token from before stays refused"
    assert served.me(served.token("li.clerk")).status_code == 200

    changes = [(h.change, h.actor) for h in served.users.history("li.clerk")]
    assert changes == [
        ("created", "system"),
        ("disabled", "hubei.admin"),
        ("enabled", "hubei.admin"),
    ]


def test_disable_enable_password_and_role_on_the_command_line(env: None, served: Served) -> None:
    runner = CliRunner()
    served.add("wu.clerk")
    token = served.token("wu.clerk")
    assert runner.invoke(cli, ["users", "disable", "wu.clerk"]).exit_code == 0
    assert served.me(token).status_code == 401
    assert served.login("wu.clerk").status_code == 401
    assert runner.invoke(cli, ["users", "enable", "wu.clerk"]).exit_code == 0
    token = served.token("wu.clerk")

    r = runner.invoke(cli, ["users", "password", "wu.clerk"], input=NEW_PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert served.me(token).status_code == 401
    assert served.login("wu.clerk").status_code == 401
    token = served.token("wu.clerk", NEW_PASSWORD)

    r = runner.invoke(
        cli,
        ["users", "add", "wu.clerk", "--role", "auditor", "--region", "420100", "--replace"],
        input=NEW_PASSWORD + "\n",
    )
    assert r.exit_code == 0, r.output
    assert served.me(token).status_code == 401
    assert served.me(served.token("wu.clerk", NEW_PASSWORD)).json()["role"] == "auditor"

    assert runner.invoke(cli, ["users", "disable", "nobody"]).exit_code == 1
    history = runner.invoke(cli, ["users", "history", "wu.clerk"])
    assert history.exit_code == 0
    lines = [line for line in history.output.splitlines() if " wu.clerk " in line]
    kinds = [line.split()[2] for line in lines]
    assert kinds == [
        "created",
        "disabled",
        "enabled",
        "password_changed",
        "role_changed",
        "password_changed",
    ]
    assert all(" by cli" in line for line in lines[1:])


def test_changing_my_password_on_the_api(served: Served) -> None:
    served.add("sun.clerk")
    token = served.token("sun.clerk")
    c = served.client()
    h = {"Authorization": f"Bearer {token}"}
    r = c.post(
        "/api/v1/me/password",
        json={"current_password": "wrong-one-entirely", "new_password": NEW_PASSWORD},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["code"] == "wrong_password"
    r = c.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert served.me(token).status_code == 401
    assert served.me(r.json()["access_token"]).status_code == 200
    assert served.login("sun.clerk").status_code == 401
    assert served.login("sun.clerk", NEW_PASSWORD).status_code == 200
    assert [h.change for h in served.users.history("sun.clerk")][-1] == "password_changed"


def test_the_change_history_cannot_be_edited_or_deleted(served: Served) -> None:
    served.add("ma.clerk")
    store = served.store
    table = f'"{store.schema}".account_changes' if store.schema else "account_changes"
    for statement in (f"UPDATE {table} SET actor = 'nobody'", f"DELETE FROM {table}"):
        with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert [h.actor for h in served.users.history("ma.clerk")] == ["system"]
