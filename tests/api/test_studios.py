"""Studios: register, list, read, appoint, retire, close — and the refusals."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import World

STUDIOS = "/api/v1/studios"


def studio(world: World, **over: Any) -> dict[str, Any]:
    body = {
        "name": "江岸区裁调对接工作室",
        "region_code": "420102",
        "kind": "docking_studio",
        "established_on": "2025-06-01",
        **over,
    }
    r = world.post(STUDIOS, body, who="admin")
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_register_list_read(world: World) -> None:
    s = studio(world, mediator_quota=1)
    assert s["region_code"] == "420102" and s["mediator_quota"] == 1 and s["active"]
    assert s["kind"] == "docking_studio" and s["mediators"] == []
    names = {x["studio_id"] for x in world.get(STUDIOS).json()["items"]}
    assert {s["studio_id"], str(world.studio_id)} <= names
    only = world.get(STUDIOS, params={"region": "420102"}).json()["items"]
    assert {x["studio_id"] for x in only} == {s["studio_id"], str(world.studio_id)}
    r = world.get(f"{STUDIOS}/{s['studio_id']}", who="auditor")
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    assert world.get(f"{STUDIOS}/{s['studio_id']}", who="out_clerk").status_code == 404
    assert world.get(STUDIOS, who="out_clerk").json()["items"] == []
    assert world.get(STUDIOS, params={"region": "420500"}).status_code == 404
    assert world.get(f"{STUDIOS}/nope").status_code == 404


def test_register_refusals(world: World) -> None:
    body = {
        "name": "x",
        "region_code": "420102",
        "kind": "docking_studio",
        "established_on": "2025-06-01",
    }
    assert world.post(STUDIOS, body, who="clerk").status_code == 403
    assert world.post(STUDIOS, body, who="coordinator").status_code == 403
    assert world.post(STUDIOS, body, who="out_admin").status_code == 403
    r = world.post(STUDIOS, {**body, "kind": "tea_house"}, who="admin")
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = world.post(STUDIOS, {**body, "mediator_quota": 0}, who="admin")
    assert r.status_code == 422 and r.json()["field"] == "mediator_quota"
    assert world.client.post(STUDIOS, json=body).status_code == 401


def test_roster_quota_retirement_and_closure(world: World) -> None:
    s = studio(world, mediator_quota=1)
    sid = s["studio_id"]
    body = {"name": "赵调解", "qualification": "retired_judge", "appointed_on": "2025-07-01"}
    r = world.post(f"{STUDIOS}/{sid}/mediators", body, who="admin")
    assert r.status_code == 201, r.text
    mid = r.json()["mediator_id"]
    assert r.json()["studio_id"] == sid and r.json()["active"] is True
    r = world.post(f"{STUDIOS}/{sid}/mediators", {**body, "name": "钱调解"}, who="admin")
    assert r.status_code == 422 and r.json()["code"] == "mediator_quota_exceeded"
    r = world.post(f"{STUDIOS}/{sid}/mediators", {**body, "qualification": "magician"}, who="admin")
    assert r.status_code == 422 and r.json()["field"] == "qualification"
    r = world.post(
        f"{STUDIOS}/{sid}/mediators/{mid}/retirement", {"retired_on": "2026-01-01"}, who="admin"
    )
    assert r.status_code == 200
    assert r.json()["mediators"][0]["retired_on"] == "2026-01-01"
    r = world.post(
        f"{STUDIOS}/{sid}/mediators/{mid}/retirement", {"retired_on": "2026-01-02"}, who="admin"
    )
    assert r.status_code in (409, 422)
    r = world.post(
        f"{STUDIOS}/{sid}/mediators/not-a-uuid/retirement",
        {"retired_on": "2026-01-02"},
        who="admin",
    )
    assert r.status_code == 404
    r = world.post(f"{STUDIOS}/{sid}/closure", {"closed_on": "2026-06-01"}, who="coordinator")
    assert r.status_code == 403
    r = world.post(
        f"{STUDIOS}/{sid}/closure",
        {"closed_on": "2026-06-01"},
        who="admin",
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 409 and r.json()["code"] == "version_conflict"
    r = world.post(f"{STUDIOS}/{sid}/closure", {"closed_on": "2026-06-01"}, who="admin")
    assert r.status_code == 200 and r.json()["closed_on"] == "2026-06-01"
    assert r.json()["active"] is False
    r = world.post(f"{STUDIOS}/{sid}/closure", {"closed_on": "2026-06-02"}, who="admin")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = world.post(f"{STUDIOS}/{sid}/closure", {"closed_on": "2027-01-01"}, who="admin")
    assert r.status_code in (409, 422)


def test_coordinator_manages_only_their_studio(world: World) -> None:
    s = studio(world)
    body = {"name": "孙调解", "qualification": "lawyer", "appointed_on": "2025-07-01"}
    r = world.post(f"{STUDIOS}/{s['studio_id']}/mediators", body, who="coordinator")
    assert r.status_code == 403
    r = world.post(f"{STUDIOS}/{world.studio_id}/mediators", body, who="coordinator")
    assert r.status_code == 201
    r = world.post(f"{STUDIOS}/{world.studio_id}/mediators", body, who="out_coordinator")
    assert r.status_code == 404
    r = world.post(
        f"{STUDIOS}/{world.studio_id}/mediators",
        {**body, "appointed_on": "2027-01-01"},
        who="coordinator",
    )
    assert r.status_code == 422 and r.json()["code"] == "date_in_future"
