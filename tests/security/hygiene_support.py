"""The API world of ``tests/api`` (a studio in Wuhan, users of every role, their accounts in
the store), for the tests of input and output hygiene, with settings a test may change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.common import COOKIE
from api.users import User
from mediation.settings import Settings
from mediation.values import StudioKind
from projections.system import System
from tests.api.conftest import SECRET, USERS, WUHAN, World
from tests.support.accounts import account_tokens
from tests.support.factories import ADMIN, SteppingClock

CASES = "/api/v1/cases"
# 32 bytes, base64: production refuses to start without an encryption key
ENCRYPTION_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@contextmanager
def world_on(database_url: str, clock: SteppingClock, **settings: Any) -> Iterator[World]:
    """The world of ``tests/api/conftest.py``; ``settings`` override the defaults."""
    cfg = Settings(
        **{"database_url": database_url, "secret_key": SECRET, "token_minutes": 60, **settings}
    )
    system = System(database_url, settings=cfg, clock=clock)
    try:
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
            ADMIN,
            studio.id,
            name="李调解",
            qualification="union_cadre",
            appointed_on=date(2025, 1, 1),
        )
        fastapi_app = create_app(system, cfg)
        users = []
        for name, (role, region) in USERS.items():
            mediator = {"mediator": mediator_id, "other_mediator": other_id}.get(name)
            if name == "out_mediator":
                mediator = UUID(int=7)
            bound = name in ("coordinator", "mediator", "other_mediator")
            users.append(
                User(
                    name, role, region, studio_id=studio.id if bound else None, mediator_id=mediator
                )
            )
        tokens = account_tokens(database_url, users, cfg)
        with TestClient(fastapi_app) as client:
            yield World(client, fastapi_app, system, studio.id, mediator_id, other_id, tokens)
            fastapi_app.state.runtime.users.close()
    finally:
        system.close()


def page(world: World, who: str, path: str, form: dict[str, str] | None = None) -> Any:
    """A web page (GET, or a form POST) with ``who``'s session cookie; a POST's answer is
    followed to the page it redirects to (post/redirect/get), as a browser does."""
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        if form is None:
            return world.client.get(path, follow_redirects=False)
        posted = world.client.post(path, data=form, follow_redirects=False)
        if posted.status_code != 303:
            return posted
        return world.client.get(posted.headers["location"], follow_redirects=False)
    finally:
        world.client.cookies.clear()


def case_in_mediation(world: World, body: dict[str, Any], studio_id: str, mediator_id: str) -> str:
    """A case created, assessed, consented, entrusted to ``studio_id`` and given
    ``mediator_id``, through the API; its id."""
    r = world.post(CASES, body)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "assessment",
            {
                "within_scope": True,
                "meets_acceptance_conditions": True,
                "suitable_for_mediation": True,
                "reason": "工资争议，事实清楚",
                "on": "2026-03-03",
            },
        ),
        ("consents", {"party": "applicant", "given": True, "on": "2026-03-03"}),
        ("consents", {"party": "respondent", "given": True, "on": "2026-03-03"}),
        ("entrustment", {"studio_id": studio_id, "route": "pre_filing", "on": "2026-03-04"}),
        ("mediator", {"mediator_id": mediator_id, "on": "2026-03-05"}),
    ]
    for path, step in steps:
        r = world.post(f"{CASES}/{case_id}/{path}", step)
        assert r.status_code == 200, (path, r.text)
    return case_id
