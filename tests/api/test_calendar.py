"""The holiday calendar over HTTP and the CLI: /readyz from 1 December, the flag on a case's
deadline, the admin page's load form and ``mediation calendar load``.

Synthetic notices only (tests/support/notices.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.calendar_cli import calendar_cli
from mediation.application import MediationApplication
from mediation.settings import get_settings, persistence_env
from tests.api.conftest import World, case_body
from tests.support.factories import MEDIATOR, SteppingClock, in_mediation
from tests.support.notices import DUE_MON_FRI, DUE_V1, RECEIVED, SYNTHETIC_2031, SYNTHETIC_2032

COOKIE = "mediation_session"


def _calendar(world: World) -> dict[str, object]:
    response = world.client.get("/readyz")
    assert response.status_code == 200
    body: dict[str, object] = response.json()["calendar"]
    return body


def test_readyz_warns_from_1_december_when_next_years_calendar_is_missing(
    world: World, clock: SteppingClock
) -> None:
    clock.set(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))  # 20:00 in Beijing, still November
    assert _calendar(world)["status"] == "ok"

    clock.set(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 00:30 on 1 December in Beijing
    body = _calendar(world)

    assert body["status"] == "warning"
    assert body["warning"] == {
        "code": "calendar_next_year_missing",
        "year": 2027,
        "message_zh": body["warning"]["message_zh"],  # type: ignore[index]
        "message_en": body["warning"]["message_en"],  # type: ignore[index]
    }
    assert "2027" in str(body["warning"])
    assert body["loaded_years"] == []


def _as(world: World, who: str) -> None:
    world.client.cookies.set(COOKIE, world.tokens[who])


def _page(world: World, path: str, who: str) -> str:
    _as(world, who)
    response = world.client.get(path)
    assert response.status_code == 200, response.text
    return str(response.text)


def test_an_uncovered_deadline_is_flagged_until_the_admin_loads_the_year(
    world: World, clock: SteppingClock
) -> None:
    clock.set(datetime(2031, 12, 2, 2, 0, tzinfo=UTC))
    created = world.post("/api/v1/cases", case_body(received_on=RECEIVED))
    assert created.status_code == 201, created.text
    (deadline,) = created.json()["deadlines"]
    assert deadline["due_on"] == DUE_MON_FRI and deadline["calendar_uncovered"] is True
    case_id = created.json()["case_id"]
    page = _page(world, f"/cases/{case_id}", "clerk")
    assert "未载入该年节假日安排，按周一至周五计算" in page
    assert "未载入2031年节假日安排" in page  # the clerk's banner: this year is missing
    assert _calendar(world)["warning"]["code"] == "calendar_year_missing"  # type: ignore[index]

    # An invalid upload is refused with its line and records nothing.
    events = world.events()
    _as(world, "admin")
    refused = world.client.post(
        "/admin/calendar",
        data={"text": SYNTHETIC_2031.replace("to = 2031-10-07", "to = 2031-09-07")},
    )
    assert refused.status_code == 200  # post/redirect/get: the page with the refusal on it
    assert "第 9 行" in refused.text and 'role="alert"' in refused.text
    assert "line 9:" not in refused.text  # the Chinese message only
    assert world.events() == events

    # Not an admin: refused.
    _as(world, "clerk")
    clerk = world.client.post("/admin/calendar", data={"text": SYNTHETIC_2031})
    assert clerk.status_code == 403

    _as(world, "admin")
    loaded = world.client.post(
        "/admin/calendar",
        files={"file": ("2031.toml", SYNTHETIC_2031.encode("utf-8"), "application/toml")},
    )
    assert loaded.status_code == 200, loaded.text
    assert "已载入 2031 年节假日安排（第 1 版" in loaded.text
    assert "SYNTHETIC-2031-1" in _page(world, "/admin/calendar", "admin")

    second = world.post("/api/v1/cases", case_body(seed=2, received_on=RECEIVED))
    (deadline,) = second.json()["deadlines"]
    assert deadline["due_on"] == DUE_V1 and deadline["calendar_uncovered"] is False
    # 2 December 2031: next year's notice is now the one missing
    assert _calendar(world)["warning"]["code"] == "calendar_next_year_missing"  # type: ignore[index]
    assert "未载入2031年" not in _page(world, "/clerk", "clerk")
    assert "尚未载入2032年节假日安排" in _page(world, "/clerk", "clerk")
    assert (
        "节假日安排" not in _page(world, "/queue", "mediator").split("<main")[1].split("</main>")[0]
    )


def test_an_agreed_performance_date_is_never_flagged(world: World, clock: SteppingClock) -> None:
    clock.set(datetime(2031, 10, 1, 2, 0, tzinfo=UTC))
    app = world.system.app
    case = in_mediation(app, world.studio_id, world.mediator_id, received_on=date(2031, 9, 1))
    app.sign_agreement(
        MEDIATOR,
        case.id,
        signed_on=date(2031, 9, 10),
        amount=Decimal("5000.00"),
        performance_due_on=date(2031, 10, 20),
        terms="一次性支付",
    )
    view = world.get(f"/api/v1/cases/{case.id}").json()
    flags = {d["kind"]: d["calendar_uncovered"] for d in view["deadlines"]}
    assert flags == {"performance": False, "review_application": True}


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MEDIATION_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_mediation_calendar_load_check_and_list(configured: str, tmp_path: Path) -> None:
    cli = typer.Typer()
    cli.add_typer(calendar_cli, name="calendar")
    runner = CliRunner()
    good, bad = tmp_path / "2032.toml", tmp_path / "bad.toml"
    good.write_text(SYNTHETIC_2032, encoding="utf-8")
    bad.write_text(SYNTHETIC_2032.replace("2032-01-03", "2033-01-03"), encoding="utf-8")

    assert runner.invoke(cli, ["calendar", "check", str(good)]).exit_code == 0
    refused = runner.invoke(cli, ["calendar", "load", str(bad), "--by", "ops-li"])
    assert refused.exit_code == 1
    assert "line 9:" in refused.output and "nothing recorded" in refused.output

    loaded = runner.invoke(cli, ["calendar", "load", str(good), "--by", "ops-li"])
    assert loaded.exit_code == 0, loaded.output
    assert "2032: recorded version 1" in loaded.output
    assert "now days off: 2032-01-01" in loaded.output
    again = runner.invoke(cli, ["calendar", "load", str(good), "--by", "ops-li"])
    assert "unchanged, already version 1" in again.output

    listed = runner.invoke(cli, ["calendar", "list"])
    assert "2032 v1 (in force): SYNTHETIC-2032-1" in listed.output
    assert "loaded by ops-li" in listed.output

    app = MediationApplication(persistence_env(configured))
    try:
        assert app.calendars.current().loaded_years == [2032]
    finally:
        app.close()
