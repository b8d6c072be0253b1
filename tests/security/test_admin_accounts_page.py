"""Accounts withdrawn from the admin page, and logging out revokes tokens (issue 16).

The page uses the API's own rules (:func:`api.routes.auth.change_disabled`): an admin,
inside their region, never themselves. Logging out (page or API) raises the account's
credential version, so a copied token stops working (docs/security.md, "Tokens").
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.pages.common import COOKIE
from tests.security.conftest import USER_CLIENT, Served


def _browser(served: Served, username: str) -> TestClient:
    client = TestClient(served.app, client=(USER_CLIENT, 50001), follow_redirects=False)
    client.cookies.set(COOKIE, served.token(username))
    return client


def _post(client: TestClient, username: str, do: str, **extra: str) -> Any:
    return client.post("/admin/users", data={"username": username, "do": do, **extra})


def test_an_admin_disables_a_clerk_from_the_page_and_the_clerks_token_is_refused(
    served: Served,
) -> None:
    served.add("wuhan.admin", role="admin", region="420100")
    served.add("li.clerk")
    served.add("yichang.clerk", region="420500")
    clerk_token = served.token("li.clerk")
    assert served.me(clerk_token).status_code == 200
    admin = _browser(served, "wuhan.admin")

    page = admin.get("/admin")
    assert page.status_code == 200
    assert "用户账户" in page.text and "li.clerk" in page.text
    assert "立案庭书记员" in page.text and "确认停用 li.clerk" in page.text
    assert "yichang.clerk" not in page.text  # another region: not listed

    # without the confirmation nothing happens
    r = _post(admin, "li.clerk", "disable")
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    assert 'role="alert"' in admin.get("/admin").text
    assert served.me(clerk_token).status_code == 200

    r = _post(admin, "li.clerk", "disable", confirm="yes")
    assert r.status_code == 303
    assert r.headers["location"] == "/admin?done=disabled&account=li.clerk"
    shown = admin.get(r.headers["location"])
    assert "已停用账户 li.clerk" in shown.text and 'role="status"' in shown.text
    assert "已停用" in shown.text

    assert served.me(clerk_token).status_code == 401
    assert served.login("li.clerk").status_code == 401
    last = served.users.history("li.clerk")[-1]
    assert (last.change, last.actor) == ("disabled", "wuhan.admin")

    r = _post(admin, "li.clerk", "enable")
    assert r.status_code == 303
    assert "已启用账户 li.clerk" in admin.get(r.headers["location"]).text
    assert served.me(clerk_token).status_code == 401  # tokens from before stay refused
    assert served.me(served.token("li.clerk")).status_code == 200


def test_the_page_refuses_what_the_api_refuses(served: Served) -> None:
    served.add("wuhan.admin", role="admin", region="420100")
    served.add("li.clerk")
    served.add("chen.clerk")
    served.add("yichang.clerk", region="420500")
    admin = _browser(served, "wuhan.admin")
    clerk = _browser(served, "chen.clerk")

    # a non-admin: 403, and the clerk sees no users section on any page
    r = _post(clerk, "li.clerk", "disable", confirm="yes")
    assert r.status_code == 403
    assert not served.users.account("li.clerk").disabled  # type: ignore[union-attr]

    # a user of another region: not listed and 404, shown at the top of the page
    r = _post(admin, "yichang.clerk", "disable", confirm="yes")
    assert r.status_code == 303 and "未找到" in (shown := admin.get("/admin").text)
    assert 'role="alert"' in shown
    assert not served.users.account("yichang.clerk").disabled  # type: ignore[union-attr]
    _post(admin, "nobody", "disable", confirm="yes")
    assert "未找到" in admin.get("/admin").text

    # oneself: refused, with the reason
    r = _post(admin, "wuhan.admin", "disable", confirm="yes")
    shown = admin.get(r.headers["location"]).text
    assert "不能停用自己的账户" in shown and 'role="alert"' in shown

    # a forged success message for an account not in that state is not shown
    assert "已停用账户" not in admin.get("/admin?done=disabled&account=li.clerk").text

    # a form from another site is refused
    r = admin.post(
        "/admin/users",
        data={"username": "li.clerk", "do": "disable", "confirm": "yes"},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert not served.users.account("li.clerk").disabled  # type: ignore[union-attr]


def test_a_token_used_after_logging_out_of_the_api_is_refused(served: Served) -> None:
    served.add("li.clerk")
    token = served.token("li.clerk")
    other_session = served.token("li.clerk")
    c = served.client()
    r = c.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204
    assert served.me(token).status_code == 401
    assert served.me(other_session).status_code == 401  # every session of the account ends
    assert (
        c.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert served.users.history("li.clerk")[-1].change == "logged_out"
    assert served.me(served.token("li.clerk")).status_code == 200  # logging in again works


def test_a_stolen_session_cookie_is_refused_after_logging_out_of_the_pages(
    served: Served,
) -> None:
    served.add("li.clerk")
    browser = _browser(served, "li.clerk")
    stolen = browser.cookies.get(COOKIE)
    assert stolen and served.me(stolen).status_code == 200
    r = browser.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert served.me(stolen).status_code == 401
    thief = TestClient(served.app, follow_redirects=False)
    thief.cookies.set(COOKIE, stolen)
    assert thief.get("/clerk").status_code == 303  # back to the login page
