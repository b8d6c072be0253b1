"""Issue 16, "no record of reads": every answered read of a case, its history, a list and an
export — through the JSON API and the web pages — is recorded append-only with user, role and
client; auditors see the records of their region only; the unusual-reading view flags a user
who reads 50 cases at 23:00. Each test runs on SQLite and PostgreSQL (the world of
``tests/api/conftest.py``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.audit.recorder import AUDITED, masked_search
from api.audit.store import AccessAuditStore, AccessRecord
from api.audit.unusual import ReadingPolicy, assess
from api.logs import JsonFormatter
from api.pages.common import COOKIE
from tests.api import conftest as api_world
from tests.api.conftest import JIANGAN, YICHANG, World, case_body
from tests.support.factories import credit_code, resident_id

# the world of tests/api (users of every role in Wuhan and Yichang), as fixtures here
settings, system, world = api_world.settings, api_world.system, api_world.world

CLIENT = "192.0.2.10"
ACCESS = "/api/v1/audit/access"
UNUSUAL = "/api/v1/audit/unusual"
PERIOD = {"from": "2026-01-01", "to": "2026-06-30", "group_by": "city"}


@pytest.fixture
def at_desk(world: World) -> Iterator[TestClient]:
    """A client at a known address (the world's own client is ``testclient``)."""
    with TestClient(world.app, client=(CLIENT, 50000)) as client:
        yield client


def _h(world: World, who: str) -> dict[str, str]:
    return world.h(who)


def _create(world: World, seed: int, region: str = JIANGAN) -> str:
    r = world.post("/api/v1/cases", case_body(seed, region=region))
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


def _records(world: World, who: str = "auditor", **params: str) -> list[dict[str, Any]]:
    r = world.get(ACCESS, who=who, params={"limit": "500", **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _store(world: World) -> AccessAuditStore:
    store: AccessAuditStore = world.app.state.audit
    return store


def test_a_clerks_reads_lists_and_exports_are_recorded(world: World, at_desk: TestClient) -> None:
    case_id = _create(world, 1)
    assert _records(world) == []  # creating is a command (in the event store), not a read
    h = _h(world, "clerk")
    assert at_desk.get(f"/api/v1/cases/{case_id}", headers=h).status_code == 200
    assert at_desk.get(f"/api/v1/cases/{case_id}/history", headers=h).status_code == 200
    r = at_desk.get("/api/v1/cases", params={"status": "received", "region": JIANGAN}, headers=h)
    assert r.status_code == 200 and r.json()["items"]
    assert at_desk.get("/api/v1/stats/caseload.csv", params=PERIOD, headers=h).status_code == 200
    assert at_desk.get("/api/v1/stats/caseload.xlsx", params=PERIOD, headers=h).status_code == 200
    # refused requests read nothing and are not listed
    assert (
        at_desk.get(f"/api/v1/cases/{case_id}", headers=_h(world, "out_clerk")).status_code == 404
    )

    items = _records(world)
    assert [i["action"] for i in items] == [
        "export",
        "export",
        "case.list",
        "case.history",
        "case.read",
    ]  # newest first
    for item in items:
        assert (item["username"], item["role"], item["client"]) == ("clerk", "clerk", CLIENT)
        assert datetime.fromisoformat(item["at"]).tzinfo is not None
    export_xlsx, export_csv, listed, history, read = items
    assert read["case_id"] == history["case_id"] == case_id and read["query"] is None
    assert read["route"] == "GET /api/v1/cases/{case_id}"
    assert read["region_code"] == JIANGAN
    assert listed["case_id"] is None and listed["query"] == f"status=received&region={JIANGAN}"
    assert export_csv["route"] == "GET /api/v1/stats/caseload.csv"
    assert export_csv["query"] == "from=2026-01-01&to=2026-06-30&group_by=city"
    assert export_xlsx["route"] == "GET /api/v1/stats/caseload.xlsx"

    # the filters of the contract
    assert [i["action"] for i in _records(world, case_id=case_id)] == ["case.history", "case.read"]
    assert len(_records(world, username="clerk")) == 5
    assert _records(world, username="auditor") == []
    assert len(_records(world, **{"from": "2026-06-30", "to": "2026-06-30"})) == 5
    assert _records(world, **{"from": "2026-07-01"}) == []
    # the province's admin sees them too; pages of two
    assert len(_records(world, who="admin")) == 5
    first = world.get(ACCESS, who="auditor", params={"limit": "2"}).json()
    second = world.get(
        ACCESS, who="auditor", params={"limit": "2", "cursor": first["next_cursor"]}
    ).json()
    assert [i["action"] for i in first["items"] + second["items"]] == [
        i["action"] for i in items[:4]
    ]


def test_reads_through_the_web_pages_are_recorded(world: World, at_desk: TestClient) -> None:
    case_id = _create(world, 2)
    at_desk.cookies.set(COOKIE, world.tokens["clerk"])
    assert at_desk.get(f"/cases/{case_id}").status_code == 200
    assert at_desk.get("/cases", params={"q": "张三", "status": "received"}).status_code == 200
    assert at_desk.get("/clerk").status_code == 200
    r = at_desk.get("/dashboard/caseload.csv", params={"to": "2026-06-30"})
    assert r.status_code == 200, r.text
    items = _records(world)
    assert [(i["action"], i["route"]) for i in items] == [
        ("export", "GET /dashboard/caseload.csv"),
        ("case.list", "GET /clerk"),
        ("case.list", "GET /cases"),
        ("case.read", "GET /cases/{case_id}"),
    ]
    assert all((i["username"], i["role"], i["client"]) == ("clerk", "clerk", CLIENT) for i in items)
    assert items[3]["case_id"] == case_id
    assert items[2]["query"] == "q=张*&status=received"  # a search text is kept masked


def test_an_auditor_of_another_region_sees_none_of_it(world: World) -> None:
    case_id = _create(world, 3)
    assert world.get(f"/api/v1/cases/{case_id}").status_code == 200
    assert world.get("/api/v1/cases").status_code == 200
    assert len(_records(world)) == 2
    assert _records(world, who="out_auditor") == []
    assert _records(world, who="out_auditor", case_id=case_id) == []
    assert _records(world, who="out_admin", username="clerk") == []
    r = world.get(ACCESS, who="out_auditor", params={"region": "420100"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = world.get(UNUSUAL, who="out_auditor", params={"region": "420100"})
    assert r.status_code == 404
    # a Yichang read is filed under Yichang: the Yichang auditor sees it, Wuhan's does not
    out_case = _create_as(world, "out_clerk", 4, YICHANG)
    assert world.get(f"/api/v1/cases/{out_case}", who="out_clerk").status_code == 200
    assert [i["case_id"] for i in _records(world, who="out_auditor")] == [out_case]
    assert out_case not in {i["case_id"] for i in _records(world)}


def _create_as(world: World, who: str, seed: int, region: str) -> str:
    r = world.post("/api/v1/cases", case_body(seed, region=region), who=who)
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


@pytest.mark.parametrize("who", ["mediator", "clerk", "coordinator"])
def test_only_auditors_and_admins_read_the_audit(world: World, who: str) -> None:
    for path in (ACCESS, UNUSUAL):
        r = world.get(path, who=who)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    assert world.client.get(ACCESS).status_code == 401
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        assert world.client.get("/audit").status_code == 403
    finally:
        world.client.cookies.clear()


def test_the_audit_table_refuses_update_and_delete(world: World) -> None:
    case_id = _create(world, 5)
    assert world.get(f"/api/v1/cases/{case_id}").status_code == 200
    store = _store(world)
    table = store.table.fullname
    statements = [
        f"UPDATE {_quoted(store)} SET username = 'someone-else'",
        f"DELETE FROM {_quoted(store)}",
    ]
    if store.engine.dialect.name == "postgresql":
        statements.append(f"TRUNCATE {_quoted(store)}")
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
            c.execute(sa.text(statement))
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT username, case_id FROM {_quoted(store)}")).all()
    assert [tuple(r) for r in rows] == [("clerk", case_id)], table


def _quoted(store: AccessAuditStore) -> str:
    return f'"{store.schema}".access_audit' if store.schema else "access_audit"


def test_a_read_that_cannot_be_recorded_is_not_answered(world: World) -> None:
    case_id = _create(world, 6)
    store = _store(world)
    with store.engine.begin() as conn:  # the table's owner can still drop it
        conn.execute(sa.text(f"DROP TABLE {_quoted(store)}"))
    r = world.get(f"/api/v1/cases/{case_id}")
    assert r.status_code == 503 and r.json()["code"] == "service_unavailable"
    assert "张三" not in r.text and case_id not in r.text


def test_the_access_log_names_user_client_and_case(
    world: World, at_desk: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    case_id = _create(world, 7)
    caplog.set_level(logging.INFO)
    assert at_desk.get(f"/api/v1/cases/{case_id}", headers=_h(world, "auditor")).status_code == 200
    lines = [
        json.loads(JsonFormatter().format(rec))
        for rec in caplog.records
        if rec.name == "api.access"
    ]
    read = [a for a in lines if a["route"] == "/api/v1/cases/{case_id}"]
    assert len(read) == 1
    assert (read[0]["user"], read[0]["role"], read[0]["client"], read[0]["case_id"]) == (
        "auditor",
        "auditor",
        CLIENT,
        case_id,
    )
    assert "张三" not in json.dumps(lines, ensure_ascii=False)


def test_fifty_cases_read_at_eleven_at_night_are_flagged(world: World) -> None:
    clock = world.system.app.clock
    clock.set(datetime(2026, 6, 30, 2, 0, tzinfo=UTC))  # 10:00 in Wuhan, a Tuesday
    ids = [_create(world, 100 + i) for i in range(50)]
    # usual days: the coordinator reads two cases at 10:00 on each of the previous 30 days
    store = _store(world)
    for back in range(1, 31):
        moment = datetime(2026, 6, 30, 2, 0, tzinfo=UTC) - timedelta(days=back)
        for case_id in ids[:2]:
            store.append(
                AccessRecord(
                    moment,
                    "coordinator",
                    "coordinator",
                    JIANGAN,
                    CLIENT,
                    "case.read",
                    "GET /api/v1/cases/{case_id}",
                    case_id,
                )
            )
    for case_id in ids[:2]:
        assert world.get(f"/api/v1/cases/{case_id}", who="coordinator").status_code == 200
    clock.set(datetime(2026, 6, 30, 15, 0, tzinfo=UTC))  # 23:00 in Wuhan
    for case_id in ids:
        assert world.get(f"/api/v1/cases/{case_id}").status_code == 200

    r = world.get(UNUSUAL, who="auditor", params={"on": "2026-06-30"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["policy"]["work_start"] == "08:00" and body["policy"]["work_end"] == "19:00"
    flagged = {i["username"]: i for i in body["items"]}
    assert set(flagged) == {"clerk"}  # the coordinator read as usual, in hours
    clerk = flagged["clerk"]
    assert clerk["cases_read"] == 50 and clerk["usual"] == 0
    assert clerk["off_hours_records"] == 50
    assert sorted(clerk["reasons"]) == ["off_hours", "volume"]
    assert clerk["role"] == "clerk"
    # the Yichang auditor sees no one; the page shows the clerk
    assert world.get(UNUSUAL, who="out_auditor", params={"on": "2026-06-30"}).json()["items"] == []
    world.client.cookies.set(COOKIE, world.tokens["auditor"])
    try:
        page = world.client.get("/audit", params={"on": "2026-06-30", "username": "clerk"})
    finally:
        world.client.cookies.clear()
    assert page.status_code == 200
    assert (
        "异常阅卷" in page.text and "非工作时间阅卷" in page.text and "阅卷量远超平时" in page.text
    )
    assert ids[0] in page.text


def test_every_route_that_shows_a_case_is_audited(world: World) -> None:
    gets = [
        str(c.path)
        for c in iter_route_contexts(world.app.routes)
        if "GET" in (c.methods or ()) and "{case_id}" in (c.path or "")
    ]
    assert gets and all(path in AUDITED for path in gets), sorted(set(gets) - set(AUDITED))


def _rec(user: str, when: datetime, case: str) -> AccessRecord:
    return AccessRecord(when, user, "clerk", JIANGAN, CLIENT, "case.read", "GET /x", case)


def test_volume_is_judged_against_the_users_own_median() -> None:
    on = date(2026, 6, 30)
    noon = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)  # 12:00 in Wuhan
    today = [_rec("busy", noon, f"c{i}") for i in range(50)]
    today += [_rec("quiet", noon, f"c{i}") for i in range(25)]
    today += [_rec("few", noon, f"c{i}") for i in range(5)]
    past = [("busy", on - timedelta(days=d), 40) for d in range(1, 31)]
    past += [("quiet", on - timedelta(days=d), 5) for d in range(1, 31)]
    policy = ReadingPolicy(min_cases=20)
    flagged = {r.username: r for r in assess(on, today, past, policy)}
    assert set(flagged) == {"quiet"}  # 25 > 3 × 5; busy's 50 is under 3 × 40; few is under 20
    assert flagged["quiet"].usual == 5 and flagged["quiet"].reasons == ["volume"]


def test_off_hours_follow_the_working_day_calendar() -> None:
    policy = ReadingPolicy()
    wuhan = timedelta(hours=8)
    assert not policy.off_hours(datetime(2026, 6, 30, 8, 0, tzinfo=UTC) - wuhan)
    assert policy.off_hours(datetime(2026, 6, 30, 7, 59, tzinfo=UTC) - wuhan)
    assert policy.off_hours(datetime(2026, 6, 30, 19, 0, tzinfo=UTC) - wuhan)
    assert policy.off_hours(datetime(2026, 10, 1, 10, 0, tzinfo=UTC) - wuhan)  # National Day
    assert policy.off_hours(datetime(2026, 6, 27, 10, 0, tzinfo=UTC) - wuhan)  # a Saturday


def test_search_texts_are_kept_masked() -> None:
    person, company = resident_id(8), credit_code(8)
    assert masked_search("张三丰") == "张**"
    assert masked_search(person) == "*" * 14 + person[-4:]
    assert masked_search("13800138000") == "*******8000"
    assert masked_search("武劳人仲登字〔2026〕第123号") == "武劳人仲登字〔2026〕第123号"
    assert masked_search(company) == company

