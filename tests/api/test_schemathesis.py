"""Schemathesis against the served OpenAPI: no 5xx, no response that breaks its own schema.

Bounded (a few examples per operation) and run on SQLite only, to keep it under a minute;
the other API tests cover both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api.app import create_app
from api.users import User
from mediation.settings import Settings
from mediation.values import Role, StudioKind
from projections.system import System
from tests.api.conftest import SECRET
from tests.support.accounts import account_token
from tests.support.factories import ADMIN, SteppingClock


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'st.sqlite3'}"
    cfg = Settings(database_url=url, secret_key=SECRET)
    system = System(url, settings=cfg, clock=SteppingClock())
    studio = system.app.register_studio(
        ADMIN,
        name="工作室",
        region_code="420100",
        kind=StudioKind.DOCKING_STUDIO,
        established_on=date(2025, 1, 1),
    )
    system.app.appoint_mediator(
        ADMIN, studio.id, name="王调解", qualification="lawyer", appointed_on=date(2025, 1, 1)
    )
    app = create_app(system, cfg)
    token = account_token(url, User("clerk", Role.CLERK, "420100"), cfg)
    try:
        yield app, {"Authorization": f"Bearer {token}"}
    finally:
        app.state.runtime.users.close()
        system.close()


CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.content_type_conformance,
    checks.status_code_conformance,
    checks.response_headers_conformance,
]
EXAMPLES = 12


def test_api_conforms_to_its_schema(served: tuple[Any, dict[str, str]]) -> None:
    app, auth = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    calls = 0

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            nonlocal calls
            headers = dict(auth)
            for k, v in (case.headers or {}).items():
                if k.lower() != "authorization":
                    headers[k] = v
            case.call_and_validate(headers=headers, checks=CHECKS)
            calls += 1

        run()
    assert calls >= len(operations)
