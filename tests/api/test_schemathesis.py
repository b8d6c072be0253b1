"""Schemathesis against the served OpenAPI: no 5xx, no response that breaks its own schema.

Issue 16, acceptance 3: every operation is called with a clerk's and with an auditor's token
and must answer neither a 5xx (``not_a_server_error``) nor a status code its operation does
not document (``status_code_conformance``), besides conforming bodies, content types and
headers. Bounded (a few examples per operation per role, well under a minute a backend) and
run on each configured backend. ``POST /auth/logout`` revokes the caller's tokens, so it is
called last for each role.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
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
from tests.support.accounts import account_tokens
from tests.support.factories import ADMIN, SteppingClock

LOGOUT = "/api/v1/auth/logout"
ROLES = (User("clerk", Role.CLERK, "420100"), User("auditor", Role.AUDITOR, "420000"))


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[Any, dict[str, dict[str, str]]]]:
    url = database_url
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
    tokens = account_tokens(url, ROLES, cfg)
    try:
        yield app, {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}
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


def test_api_conforms_to_its_schema(served: tuple[Any, dict[str, dict[str, str]]]) -> None:
    app, auths = served
    assert set(auths) == {"clerk", "auditor"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    # logging out revokes the token: last, so that every other call is made while it is valid
    operations.sort(key=lambda op: op.path == LOGOUT)
    assert operations[-1].path == LOGOUT

    for role, auth in auths.items():
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
                headers = dict(auth)  # noqa: B023 (run() is called in this iteration)
                for k, v in (case.headers or {}).items():
                    if k.lower() != "authorization":
                        headers[k] = v
                case.call_and_validate(headers=headers, checks=CHECKS)
                calls += 1

            run()
        assert calls >= len(operations), role
        # the run really was authenticated as this role until its logout
        assert app.state.runtime.users.history(role)[-1].change == "logged_out"
