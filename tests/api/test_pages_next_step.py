"""Issue 12 behind the session cookie, on each backend: both consents in one submission, the
next-step panel, confirmations for what cannot be undone, and the admin's forms."""

from __future__ import annotations

from typing import Any

from api.pages.common import COOKIE
from tests.api.conftest import World
from tests.api.test_cases import cmd, create, mediating


def _page(world: World, who: str, path: str, form: dict[str, str] | None = None) -> Any:
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        if form is None:
            return world.client.get(path, follow_redirects=False)
        return world.client.post(path, data=form, follow_redirects=False)
    finally:
        world.client.cookies.clear()


def _submit(world: World, who: str, path: str, form: dict[str, str]) -> tuple[Any, str]:
    """A form POST as a browser makes it (post/redirect/get): the 303, and the page it leads
    to, shown with the outcome the POST left for it."""
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        posted = world.client.post(path, data=form, follow_redirects=False)
        assert posted.status_code == 303, posted.text[:500]
        shown = world.client.get(posted.headers["location"], follow_redirects=False)
        return posted, shown.text
    finally:
        world.client.cookies.clear()


def _types(world: World, case_id: str) -> list[str]:
    history = world.get(f"/api/v1/cases/{case_id}/history").json()["events"]
    return [e["type"] for e in history]


def test_both_consents_in_one_submission_then_the_panel_names_the_entrustment(
    world: World,
) -> None:
    case_id = create(world)["case_id"]
    cmd(
        world,
        case_id,
        "assessment",
        {
            "within_scope": True,
            "meets_acceptance_conditions": True,
            "suitable_for_mediation": True,
            "reason": "工资争议，事实清楚",
            "on": "2026-03-03",
        },
    )
    page = _page(world, "clerk", f"/cases/{case_id}")
    assert 'id="form-consents"' in page.text and "记录双方调解意愿" in page.text
    version = str(world.get(f"/api/v1/cases/{case_id}").json()["version"])
    r, shown = _submit(
        world,
        "clerk",
        f"/cases/{case_id}/do/consents",
        {
            "version": version,
            "form_key": "a" * 32,
            "applicant.given": "true",
            "applicant.on": "2026-03-03",
            "respondent.given": "true",
            "respondent.on": "2026-03-04",
        },
    )
    assert r.headers["location"] == f"/cases/{case_id}"
    assert _types(world, case_id).count("ConsentRecorded") == 2
    assert "已办理：双方调解意愿" in shown
    assert "委托调解（立案前，暂缓受理）" in shown
    # the studio choice shows caseload and mediators (a read over the cases view)
    assert "在办 0 件 · 调解员 2 名" in shown
    # nothing chosen for either party: refused in Chinese, nothing recorded
    r, shown = _submit(
        world,
        "clerk",
        f"/cases/{case_id}/do/consents",
        {"applicant.given": "keep", "respondent.given": "keep"},
    )
    assert 'role="alert"' in shown and "请至少记录一方当事人的意愿" in shown
    assert _types(world, case_id).count("ConsentRecorded") == 2


def test_a_failure_needs_its_confirmation_box(world: World) -> None:
    case_id = mediating(world)
    form = {"on": "2026-03-06", "reason_code": "no_agreement", "reason": "分歧较大"}
    r, shown = _submit(world, "clerk", f"/cases/{case_id}/do/failure", form)
    assert 'role="alert"' in shown and "请勾选确认框" in shown
    assert world.get(f"/api/v1/cases/{case_id}").json()["status"] == "in_mediation"
    r = _page(world, "clerk", f"/cases/{case_id}/do/failure", {**form, "confirm": "yes"})
    assert r.status_code == 303
    assert world.get(f"/api/v1/cases/{case_id}").json()["status"] == "mediation_failed"
    page = _page(world, "clerk", f"/cases/{case_id}").text
    assert "恢复受理审查：作出受理决定" in page


def test_the_admin_adds_an_account_and_registers_and_closes_a_studio(world: World) -> None:
    r = _page(
        world,
        "admin",
        "/admin/users/new",
        {
            "username": "qian.clerk",
            "display_name": "钱书记",
            "role": "clerk",
            "region_code": "420102",
            "initial_password": "a-long-enough-pass-42",
        },
    )
    assert r.status_code == 303, r.text[:500]
    runtime = world.app.state.runtime
    account = runtime.users.account("qian.clerk")
    assert account is not None and account.display_name == "钱书记"
    assert runtime.users.history("qian.clerk")[-1].actor == "admin"
    assert "已新增账户 qian.clerk" in _page(world, "admin", r.headers["location"]).text

    r, shown = _submit(
        world,
        "admin",
        "/admin/users/password",
        {"username": "qian.clerk", "new_password": "short"},
    )
    assert r.headers["location"] == "/admin" and "密码强度不足" in shown

    r = _page(
        world,
        "admin",
        "/admin/studios",
        {
            "name": "江岸区第二裁调对接工作室",
            "kind": "docking_studio",
            "region_code": "420102",
            "established_on": "2026-03-02",
            "form_key": "b" * 32,
        },
    )
    assert r.status_code == 303, r.text[:500]
    studio_id = r.headers["location"].split("studio=")[1]
    assert (
        "已登记工作室 江岸区第二裁调对接工作室" in _page(world, "admin", r.headers["location"]).text
    )
    closure = f"/admin/studios/{studio_id}/closure"
    r, shown = _submit(world, "admin", closure, {"closed_on": "2026-03-09"})
    assert 'role="alert"' in shown and "请勾选确认框" in shown
    r = _page(world, "admin", closure, {"closed_on": "2026-03-09", "confirm": "yes"})
    assert r.status_code == 303
    assert world.get(f"/api/v1/studios/{studio_id}").json()["closed_on"] == "2026-03-09"
    # a clerk may not: the matrix's row studio.create
    r = _page(world, "clerk", "/admin/studios", {"name": "x"})
    assert r.status_code == 403
