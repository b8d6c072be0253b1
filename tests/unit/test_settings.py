"""Settings reach the library's environment."""

from __future__ import annotations

from mediation.settings import Settings, persistence_env

PG = "postgresql://u:p%40ss@db.example:5433/mediation?schema=s1"


def test_postgres_url_and_lock_timeout() -> None:
    env = persistence_env(PG)
    assert env["POSTGRES_HOST"] == "db.example" and env["POSTGRES_PORT"] == "5433"
    assert env["POSTGRES_PASSWORD"] == "p@ss" and env["POSTGRES_SCHEMA"] == "s1"
    assert env["POSTGRES_LOCK_TIMEOUT"] == str(
        Settings.model_fields["postgres_lock_timeout"].default
    )
    assert persistence_env(PG, lock_timeout=9)["POSTGRES_LOCK_TIMEOUT"] == "9"
    assert "POSTGRES_LOCK_TIMEOUT" not in persistence_env("sqlite:///./x.sqlite3")
