"""Weak passwords are refused everywhere a password is set (``weak_password``)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import DEMO_PASSWORD, DEMO_ROLES, cli
from api.passwords import WeakPassword, check_password
from api.users import UserError
from mediation.settings import get_settings
from tests.security.conftest import Served
from tests.support.accounts import PASSWORD

WEAK = ["password", "aaaaaaaa", "password1234", "aaaaaaaaaaaa", "qwertyuiopasdf", "1234567890ab"]


@pytest.mark.parametrize("weak", WEAK)
def test_the_store_refuses_weak_passwords(served: Served, weak: str) -> None:
    with pytest.raises(UserError) as refused:
        served.add_with_password("gao.clerk", weak)
    assert refused.value.code == "weak_password"
    assert served.users.get("gao.clerk") is None


def test_a_password_containing_the_username_is_refused(served: Served) -> None:
    with pytest.raises(UserError) as refused:
        served.add_with_password("zhou", "Zhou-is-my-name-2026")
    assert refused.value.code == "weak_password" and "username" in str(refused.value)


def test_the_command_line_refuses_weak_passwords(
    monkeypatch: pytest.MonkeyPatch, served: Served
) -> None:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", served.database_url)
    get_settings.cache_clear()
    try:
        for weak in ("password", "aaaaaaaa"):
            r = CliRunner().invoke(
                cli,
                ["users", "add", "he.clerk", "--role", "clerk", "--region", "420100"],
                input=weak + "\n",
            )
            assert r.exit_code == 1 and "weak_password" in r.output
        served.add("he.clerk")
        r = CliRunner().invoke(cli, ["users", "password", "he.clerk"], input="password\n")
        assert r.exit_code == 1 and "weak_password" in r.output
    finally:
        get_settings.cache_clear()
    assert served.users.get("he.clerk") is not None
    assert served.login("he.clerk").status_code == 200, "the old password still works"


def test_the_api_refuses_a_weak_new_password(served: Served) -> None:
    served.add("xu.clerk")
    h = {"Authorization": f"Bearer {served.token('xu.clerk')}"}
    for weak in ("password", "aaaaaaaa", "xu.clerk-2026-xyz"):
        r = served.client().post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": weak},
            headers=h,
        )
        assert r.status_code == 422 and r.json()["code"] == "weak_password", r.text
        assert r.json()["field"] == "new_password"


def test_the_demo_password_follows_the_rule() -> None:
    for role in DEMO_ROLES:
        check_password(f"demo-{role}", DEMO_PASSWORD)
    with pytest.raises(WeakPassword):
        check_password("demo-clerk", "demo-password")
