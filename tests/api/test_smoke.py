from tests.api.conftest import World, case_body


def test_create_and_read(world: World) -> None:
    r = world.post("/api/v1/cases", case_body())
    assert r.status_code == 201, r.text
    case = r.json()
    assert r.headers["etag"] == '"2"'  # received, numbered
    r = world.get(f"/api/v1/cases/{case['case_id']}")
    assert r.status_code == 200, r.text
    r = world.get("/api/v1/cases")
    assert r.status_code == 200, r.text
