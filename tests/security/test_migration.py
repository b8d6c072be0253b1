"""A users table made by the first release is upgraded in place on first start."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi.testclient import TestClient

from api import migrate
from api.app import create_app
from api.users import make_engine
from mediation.settings import Settings
from tests.security.conftest import SECRET, TOKEN
from tests.support.accounts import FAST_HASHER

OLD_PASSWORD = "correct1"  # 8 characters: allowed then, refused for new passwords now


def _first_release_users_table(database_url: str) -> None:
    """The table exactly as ``api/users.py`` of the first release created it, with users."""
    engine, schema = make_engine(database_url)
    metadata = sa.MetaData(schema=schema)
    table = sa.Table(
        "users",
        metadata,
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("studio_id", sa.String(36), nullable=True),
        sa.Column("mediator_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        for username, role, region in (
            ("old.clerk", "clerk", "420100"),
            ("old.auditor", "auditor", "420000"),
        ):
            conn.execute(
                table.insert().values(
                    username=username,
                    password_hash=FAST_HASHER.hash(OLD_PASSWORD),
                    role=role,
                    region_code=region,
                    created_at=datetime(2026, 1, 5, tzinfo=UTC),
                )
            )
    engine.dispose()


def test_an_old_users_table_upgrades_in_place_and_its_users_still_log_in(
    database_url: str,
) -> None:
    _first_release_users_table(database_url)
    settings = Settings(database_url=database_url, secret_key=SECRET, token_minutes=60)
    app = create_app(settings=settings)
    users = app.state.runtime.users
    try:
        with TestClient(app) as client:
            for username, role in (("old.clerk", "clerk"), ("old.auditor", "auditor")):
                r = client.post(TOKEN, data={"username": username, "password": OLD_PASSWORD})
                assert r.status_code == 200, r.text
                me = client.get(
                    "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
                )
                assert me.json()["role"] == role
        history = users.history()
        assert [(h.username, h.change, h.actor) for h in history] == [
            ("old.auditor", "recorded", "migration"),
            ("old.clerk", "recorded", "migration"),
        ]
        assert history[1].detail["created_at"].startswith("2026-01-05")
        with users.engine.connect() as conn:
            assert migrate.current(conn, users.schema) == migrate.head()
        # the accounts' changes work on the upgraded table
        account = users.set_disabled("old.clerk", True, actor="test")
        assert account.disabled and account.user.credential_version == 2
    finally:
        users.close()
        app.state.runtime.system.close()

    again = create_app(settings=settings)  # a second start changes nothing
    try:
        assert len(again.state.runtime.users.history()) == 3
    finally:
        again.state.runtime.users.close()
        again.state.runtime.system.close()
