"""Settings, read from the environment or a ``.env`` file (pydantic-settings).

The ``mediation`` command and the server read the same settings. See docs/operations.md.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote, urlparse

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# seconds a PostgreSQL writer waits for the events table's lock before it gives up
DEFAULT_LOCK_TIMEOUT = 5


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIATION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///./mediation.sqlite3"
    # no default: development signs with a random key per start, production refuses to start
    secret_key: str = ""
    encryption_key: str = Field(
        default="", description="base64 AES key; when set, event payloads are encrypted"
    )
    policy_file: str = ""
    environment: Literal["development", "production"] = "development"
    token_minutes: int = 480
    trusted_proxies: str = Field(
        default="", description="addresses/networks whose X-Forwarded-For is believed"
    )
    postgres_lock_timeout: int = DEFAULT_LOCK_TIMEOUT
    log_level: str = "INFO"
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=0, description="larger request bodies are refused (413)"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="the address printed on documents for GET /verify/{code} (QR code)",
    )
    api_docs: bool | None = Field(
        default=None, description="serve /docs and /redoc (default: not in production)"
    )
    projections: Literal["in_process", "worker"] = Field(
        default="in_process",
        description="in_process: each API process catches the read models up after each "
        "command; worker: a separate `mediation project --follow` does, and a page after a "
        "command waits (bounded) until it has passed the command's position",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def persistence_env(
    database_url: str, encryption_key: str = "", *, lock_timeout: int = DEFAULT_LOCK_TIMEOUT
) -> dict[str, str]:
    """Translate ``MEDIATION_DATABASE_URL`` into the eventsourcing library's environment.

    ``lock_timeout`` (``MEDIATION_POSTGRES_LOCK_TIMEOUT``): seconds a PostgreSQL writer
    waits for the table lock before the command fails (and may be retried).
    """
    url = urlparse(database_url)
    env: dict[str, str] = {}
    if url.scheme == "sqlite":
        path = database_url[len("sqlite:///") :] if database_url.startswith("sqlite:///") else ""
        if not path:
            raise ValueError("a SQLite URL is sqlite:///PATH (e.g. sqlite:///./mediation.sqlite3)")
        env.update(PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=path)
        # UPDATE and DELETE refused by triggers (mediation/append_only.py)
        env["APPLICATION_RECORDER_TOPIC"] = "mediation.append_only:AppendOnlySQLiteRecorder"
        if path != ":memory:" and not path.startswith("file:"):
            env["SQLITE_LOCK_TIMEOUT"] = "10"
    elif url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=(url.path or "/").lstrip("/") or "postgres",
            POSTGRES_HOST=url.hostname or "127.0.0.1",
            POSTGRES_PORT=str(url.port or 5432),
            POSTGRES_USER=unquote(url.username or "postgres"),
            POSTGRES_PASSWORD=unquote(url.password or ""),
            POSTGRES_ENABLE_DB_FUNCTIONS="y",
            # the insert function with a table lock: positions commit in order
            # (tests/projections/test_slow_writer.py, tests/faults/test_commit_order.py)
            APPLICATION_RECORDER_TOPIC="mediation.storage:OrderedPostgresRecorder",
            POSTGRES_LOCK_TIMEOUT=str(lock_timeout),
            POSTGRES_CONNECT_TIMEOUT="5",
            POSTGRES_PRE_PING="y",
        )
        query = dict(p.split("=", 1) for p in url.query.split("&") if "=" in p)
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"]
    else:
        raise ValueError(f"unsupported database URL scheme {url.scheme!r}")
    if encryption_key:
        env.update(CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=encryption_key)
    return env


def processes_from_env(name: str, most: int = 4) -> int:
    """How many processes a parallel job (an import, a rebuild) runs in: the integer in the
    environment variable ``name`` if it holds one (at least 1), else the CPUs this process
    may use, at most ``most``."""
    value = os.environ.get(name, "").strip()
    if value.isdigit():
        return max(int(value), 1)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(min(cpus, most), 1)
