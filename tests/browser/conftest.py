"""A live server on a fresh SQLite store with demo data, and Debian's Chromium via Playwright.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium`` (Debian's package).
Every request the browser makes is recorded; the session fails if any leaves the server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

import pytest
import uvicorn

CHROMIUM = os.environ.get("MEDIATION_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",  # the browser's own words (date pickers, validation bubbles) in Chinese
]
PASSWORD = "correct-horse-42"
# the people behind the test accounts: pages show these, not the login names
NAMES = {"clerk": "刘晓燕", "coordinator": "陈建国", "auditor": "周敏", "admin": "孙立新"}
DEMO_CASES = int(os.environ.get("MEDIATION_BROWSER_DEMO_CASES", "400"))
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"

if not Path(CHROMIUM).exists():  # the suite needs the browser; say so plainly
    raise pytest.UsageError(
        f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)"
    )


@dataclass
class Site:
    base_url: str
    studio_id: UUID
    studio_name: str
    mediator_id: UUID
    mediator_name: str
    today: date
    system: object


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# package scope, not session: the server thread (and its integrity monitor, which walks the
# SQLite store on its own) must be gone before later packages fork import/rebuild workers —
# a fork while a thread is inside SQLite leaves the child stuck on SQLite's mutex (seen in CI)
@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import api.pages
    from api.app import create_app
    from api.users import UserStore
    from mediation.settings import Settings
    from projections.demo import generate
    from projections.system import System

    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'mediation.sqlite3'}"
    settings = Settings(database_url=url, secret_key="browser-test-secret-" + "x" * 20)
    system = System(url, settings=settings)
    generate(system, cases=DEMO_CASES, seed=7, progress=False, recent=40)
    today = system.today()

    # the Wuhan city union workstation: covers every district of Wuhan
    studio = next(
        s
        for s in (system.app.get_studio(i) for i in system.app.studio_ids())
        if s.region_code == "420100" and s.kind.value == "union_workstation" and s.active_on(today)
    )
    # the mediator with the fullest queue, so that their page shows real work
    from projections.worklists import mediator_queue

    mediator = max(
        studio.active_mediators(today),
        key=lambda m: len(mediator_queue(system.engine, mediator_id=m.mediator_id, limit=500)[0]),
    )

    users = UserStore(url)
    users.add("clerk", PASSWORD, role="clerk", region_code="420100", display_name=NAMES["clerk"])
    users.add(
        "mediator",
        PASSWORD,
        role="mediator",
        region_code="420100",
        studio_id=studio.id,
        mediator_id=mediator.mediator_id,
    )  # no name of its own: the roster's name is shown
    users.add(
        "coordinator",
        PASSWORD,
        role="coordinator",
        region_code="420100",
        studio_id=studio.id,
        display_name=NAMES["coordinator"],
    )
    users.add("auditor", PASSWORD, role="auditor", region_code="420000", display_name="周敏")
    users.add("admin", PASSWORD, role="admin", region_code="420100", display_name=NAMES["admin"])
    users.close()

    app = create_app(system, settings)
    if not any(getattr(r, "path", None) == "/" for r in app.routes):
        api.pages.mount(app)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    shutil.rmtree(SCREENSHOTS / "_tmp", ignore_errors=True)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield Site(
            base_url=f"http://127.0.0.1:{port}",
            studio_id=studio.id,
            studio_name=studio.name,
            mediator_id=mediator.mediator_id,
            mediator_name=mediator.name,
            today=today,
            system=system,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        system.close()


@pytest.fixture(scope="package")
def browser(site: Site) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # on Linux Chromium takes its interface language from the environment, not --lang
        chinese = {**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"}
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS, env=chinese)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="package")
def outside_requests() -> list[str]:
    """Every request any page made to somewhere other than the test server."""
    return []


WIDTHS = ((1280, 800), (390, 844))
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="package")
def axe_checked() -> set[tuple[str, str]]:
    """(role, page shape) already checked by axe at both widths in this session."""
    return set()


def shape(url: str) -> str:
    """A page's address with ids and query values left out: one axe check per kind of page."""
    parts = urlsplit(url)
    keys = sorted({k for k, _ in parse_qsl(parts.query)})
    return _UUID.sub("{id}", parts.path) + ("?" + "&".join(keys) if keys else "")


def _axe_every_page(page, username: str, visited: list[str], checked: set[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """axe on the page as the test left it, then on every kind of page it reached, again,
    at 1280×800 and at 390 px with every form opened; serious or critical → failure."""
    from tests.browser import axe

    found = {f"{page.url} (as the test left it)": axe.serious(page)}
    context = page.context
    for url in visited:
        key = (username, shape(url))
        if key in checked:
            continue
        checked.add(key)
        for width, height in WIDTHS:
            again = context.new_page()
            again.set_viewport_size({"width": width, "height": height})
            again.goto(url)
            found[f"{url} at {width} px"] = axe.serious(again, open_forms=True)
            again.close()
    bad = {where: v for where, v in found.items() if v}
    assert not bad, "axe-core: serious or critical violations\n" + axe.describe(bad)  # type: ignore[arg-type]


@pytest.fixture
def page_for(browser, site: Site, outside_requests: list[str], axe_checked):  # type: ignore[no-untyped-def]
    """``page_for(role, width=1280, height=800)``: a fresh context, logged in as that role.

    After the test, axe-core checks the page as the test left it and every page it reached
    (each kind of page once per role in the session, at both widths, forms opened).
    """
    contexts = []
    pages: list[tuple[object, str, list[str]]] = []

    def make(username: str, width: int = 1280, height: int = 800):  # type: ignore[no-untyped-def]
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            accept_downloads=True,
        )
        contexts.append(context)

        def record(request) -> None:  # type: ignore[no-untyped-def]
            u = request.url
            if not (u.startswith(site.base_url + "/") or u.startswith(("data:", "about:"))):
                outside_requests.append(u)

        context.on("request", record)
        page = context.new_page()
        visited: list[str] = []

        def reached(response) -> None:  # type: ignore[no-untyped-def]
            request = response.request
            if (
                request.is_navigation_request()
                and request.method == "GET"
                and response.ok
                and "text/html" in response.headers.get("content-type", "")
                and not response.url.endswith("/login")
            ):
                visited.append(response.url)

        page.on("response", reached)
        pages.append((page, username, visited))
        page.set_default_timeout(10_000)
        page.goto(site.base_url + "/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        return page

    yield make
    try:
        for page, username, visited in pages:
            _axe_every_page(page, username, visited, axe_checked)
    finally:
        for c in contexts:
            c.close()
    assert outside_requests == [], f"pages requested outside the server: {outside_requests}"
