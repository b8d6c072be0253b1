"""The web pages behind the session cookie: work queues and a refused roster form."""

from __future__ import annotations

from typing import Any

from api.pages.common import COOKIE
from tests.api.conftest import World


def _page(world: World, who: str, path: str, form: dict[str, str] | None = None) -> Any:
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        if form is None:
            return world.client.get(path, follow_redirects=False)
        return world.client.post(path, data=form, follow_redirects=False)
    finally:
        world.client.cookies.clear()


def _submit(world: World, who: str, path: str, form: dict[str, str]) -> Any:
    """A form POST as the browser makes it: 303 to a GET address (never the POST URL),
    followed with the cookies the answer set (post/redirect/get, issue 12)."""
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        posted = world.client.post(path, data=form, follow_redirects=False)
        assert posted.status_code == 303, posted.text[:300]
        location = posted.headers["location"]
        assert location.split("?")[0] != path
        shown = world.client.get(location, follow_redirects=False)
        again = world.client.get(location, follow_redirects=False)  # a refresh
        shown.refreshed = again
        return shown
    finally:
        world.client.cookies.clear()


def test_queues_start_again_from_the_first_page_on_a_bad_cursor(world: World) -> None:
    for who, path, heading in (
        ("clerk", "/clerk", "我的待办"),
        ("mediator", "/queue", "我的调解案件"),
    ):
        first = _page(world, who, path)
        bad = _page(world, who, f"{path}?cursor=not-a-cursor")
        assert first.status_code == bad.status_code == 200, (who, bad.text[:300])
        assert heading in bad.text
        assert bad.text.count('class="cases"') == first.text.count('class="cases"') == 2


def test_a_refused_appointment_keeps_the_form_open_with_what_was_typed(world: World) -> None:
    r = _submit(
        world,
        "coordinator",
        f"/roster/{world.studio_id}/appoint",
        {"name": "赵调解", "qualification": "astrologer", "appointed_on": "2026-03-02"},
    )
    assert r.status_code == 200
    assert 'class="refusal"' in r.text and 'role="alert"' in r.text
    assert "赵调解" in r.text  # the typed name is back in the form
    assert "appointed_on" in r.text and "2026-03-02" in r.text
    # shown once: a refresh shows the page as it is, and records nothing
    assert 'class="refusal"' not in r.refreshed.text
    studio = world.system.app.get_studio(world.studio_id)
    assert [m.name for m in studio.roster.values()] == ["王调解", "李调解"]  # nothing recorded


def test_case_page_offers_what_the_agreement_rules_allow(world: World) -> None:
    """Rule 2: no consent form once signed; before the due date the failure form offers
    only declared_refusal. Rule 4: verification is offered to the clerk after a success
    by performance, never to the mediator. The agreement form records signatures."""
    from tests.api.test_cases import cmd, mediating

    case_id = mediating(world)
    page = f"/cases/{case_id}"
    version = world.get(f"/api/v1/cases/{case_id}").json()["version"]
    r = _submit(
        world,
        "mediator",
        f"{page}/do/agreement",
        {
            "version": str(version),
            "signed_on": "2026-03-10",
            "amount": "100.00",
            "performance_due_on": "2026-12-31",
            "terms": "一次付清",
            "signed_by": "applicant",  # only one signature ticked
            "sealed": "true",
            "settles": "remuneration",
            "obligor": "respondent",
        },
    )
    assert r.status_code == 200 and 'class="refusal"' in r.text
    assert world.get(f"/api/v1/cases/{case_id}").json()["status"] == "in_mediation"
    cmd(
        world,
        case_id,
        "agreement",
        {
            "signed_on": "2026-03-10",
            "amount": "100.00",
            "performance_due_on": "2026-12-31",
            "terms": "一次付清",
        },
        who="mediator",
    )
    clerk = _page(world, "clerk", page).text
    assert 'id="form-consent"' not in clerk
    failure = clerk[clerk.index('id="form-failure"') :]
    failure = failure[: failure.index("</form>")]
    assert 'value="declared_refusal"' in failure and 'value="no_agreement"' not in failure
    assert 'id="form-verification"' not in clerk
    cmd(
        world,
        case_id,
        "performance",
        {"on": "2026-03-20", "amount_paid": "100.00", "complete": True},
        who="mediator",
    )
    assert 'id="form-verification"' not in _page(world, "mediator", page).text
    clerk = _page(world, "clerk", page).text
    assert 'id="form-verification"' in clerk
    version = world.get(f"/api/v1/cases/{case_id}").json()["version"]
    r = _page(
        world,
        "clerk",
        f"{page}/do/verification",
        {"version": str(version), "method": "phone", "on": "2026-03-21", "note": ""},
    )
    assert r.status_code == 303, r.text[:500]
    assert world.get(f"/api/v1/cases/{case_id}").json()["performance_verified_on"] == "2026-03-21"


def test_a_drill_down_page_lists_the_figures_cases_fifty_a_page(world: World) -> None:
    """The drill-down page shows 50 of a figure's cases a page (each row is read from the
    event store); its pages together list exactly the cases the API's drill-down names."""
    import re
    from datetime import date
    from uuid import UUID

    from tests.support.factories import new_case

    app = world.system.app
    for day in range(1, 29):
        for region in ("420102", "420103"):
            new_case(app, region_code=region, received_on=date(2026, 2, day))
    world.system.catch_up()
    query = "region=420100&from=2026-02-01&to=2026-02-28&group_by=city&measure=received&key=total"
    api = world.get(f"/api/v1/stats/caseload/cases?{query}", who="auditor")
    assert api.status_code == 200, api.text[:300]
    expected = {str(c) for c in api.json()["case_ids"]}
    assert len(expected) == 56

    seen: list[str] = []
    texts = []
    for number in ("1", "2", "3", "x"):
        shown = _page(world, "auditor", f"/dashboard/cases?{query}&page={number}")
        assert shown.status_code == 200, shown.text[:300]
        texts.append(shown.text)
        rows = re.findall(r'<a href="/cases/([0-9a-f-]{36})"', shown.text)
        if number in ("1", "2"):
            seen += rows
        assert "收案数：56 件" in shown.text
    assert len(seen) == 56 and set(seen) == expected  # 50 + 6, none twice
    # newest received first (then by id, descending): the order a person reads a list in
    received = {c: app.get_case(UUID(c)).received_on for c in seen}
    assert seen == sorted(seen, key=lambda c: (received[c], c), reverse=True)
    assert received[seen[0]] == date(2026, 2, 28) and received[seen[-1]] == date(2026, 2, 1)
    assert "第 1 页，共 2 页" in texts[0] and "下一页" in texts[0] and "上一页" not in texts[0]
    assert "第 2 页，共 2 页" in texts[1] and "上一页" in texts[1] and "下一页" not in texts[1]
    assert "第 2 页，共 2 页" in texts[2]  # past the end: the last page
    assert "第 1 页，共 2 页" in texts[3]  # not a number: the first
