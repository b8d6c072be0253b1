"""API fixtures: a System on each backend, the FastAPI app, users of every role.

The world: a studio in Wuhan (420100) with one mediator; users of every role in Wuhan
(``clerk``, ``mediator`` bound to that mediator, ``coordinator``, ``auditor``), an admin
of Hubei (420000), and outsiders in Yichang (420500). Tokens are issued directly (the
login endpoint has its own tests); the accounts exist in the store (a token of a missing
account is refused), hashed with a cheap Argon2 setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.users import User
from mediation.settings import Settings
from mediation.values import Role, StudioKind
from projections.system import System
from tests.support.accounts import account_tokens
from tests.support.factories import ADMIN, SteppingClock, credit_code, resident_id

SECRET = "test-secret-key-that-is-long-enough-0123456789"
WUHAN, JIANGAN, YICHANG = "420100", "420102", "420500"


@dataclass
class World:
    client: TestClient
    app: FastAPI
    system: System
    studio_id: UUID
    mediator_id: UUID
    other_mediator_id: UUID
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def get(self, path: str, who: str = "clerk", **kw: Any) -> Any:
        headers = {**self.h(who), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def post(self, path: str, body: Any, who: str = "clerk", **kw: Any) -> Any:
        headers = {**self.h(who), **kw.pop("headers", {})}
        return self.client.post(path, json=body, headers=headers, **kw)

    def events(self) -> int:
        return self.system.app.max_position()


def case_body(seed: int = 1, region: str = JIANGAN, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region_code": region,
        "received_on": "2026-03-02",
        "applicant": {
            "name": "张三",
            "id_number": resident_id(seed),
            "phone": "13800138000",
            "worker_category": "delivery_rider",
        },
        "respondent": {"name": "武汉某某物流有限公司", "credit_code": credit_code(seed)},
        "claims": [{"category": "remuneration", "amount": "12800.00"}],
    }
    body.update(over)
    return body


USERS: dict[str, tuple[Role, str]] = {
    "admin": (Role.ADMIN, "420000"),
    "clerk": (Role.CLERK, WUHAN),
    "mediator": (Role.MEDIATOR, WUHAN),
    "other_mediator": (Role.MEDIATOR, WUHAN),
    "coordinator": (Role.COORDINATOR, WUHAN),
    "auditor": (Role.AUDITOR, WUHAN),
    "out_admin": (Role.ADMIN, YICHANG),
    "out_clerk": (Role.CLERK, YICHANG),
    "out_mediator": (Role.MEDIATOR, YICHANG),
    "out_coordinator": (Role.COORDINATOR, YICHANG),
    "out_auditor": (Role.AUDITOR, YICHANG),
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, token_minutes=60)


@pytest.fixture
def system(database_url: str, settings: Settings, clock: SteppingClock) -> Iterator[System]:
    s = System(database_url, settings=settings, clock=clock)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def world(system: System, settings: Settings) -> Iterator[World]:
    app = system.app
    studio = app.register_studio(
        ADMIN,
        name="武汉市裁调对接工作室",
        region_code=WUHAN,
        kind=StudioKind.DOCKING_STUDIO,
        established_on=date(2025, 1, 1),
    )
    _, mediator_id = app.appoint_mediator(
        ADMIN, studio.id, name="王调解", qualification="lawyer", appointed_on=date(2025, 1, 1)
    )
    _, other_id = app.appoint_mediator(
        ADMIN, studio.id, name="李调解", qualification="union_cadre", appointed_on=date(2025, 1, 1)
    )
    fastapi_app = create_app(system, settings)
    users = []
    for name, (role, region) in USERS.items():
        mediator = {"mediator": mediator_id, "other_mediator": other_id}.get(name)
        if name == "out_mediator":
            mediator = UUID(int=7)
        studio_id = studio.id if name in ("coordinator", "mediator", "other_mediator") else None
        users.append(User(name, role, region, studio_id=studio_id, mediator_id=mediator))
    tokens = account_tokens(settings.database_url, users, settings)
    with TestClient(fastapi_app) as client:
        yield World(client, fastapi_app, system, studio.id, mediator_id, other_id, tokens)
        fastapi_app.state.runtime.users.close()
