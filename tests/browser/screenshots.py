"""Screenshots of the web workspace for ``docs/screenshots/`` (shown in ``docs/web.md``).

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots] [--cases 300]

Starts the demo application exactly as ``make run`` does (``mediation serve --demo``, on a
fresh SQLite file in a temporary folder and a free port), logs in as each demo user the
server prints, and captures each role's first page at 1280×800 and at 390 px wide (the
phone image is the page from its top, up to 1,800 px long), then a refusal: the clerk
entrusts a case that has a labour-relationship-confirmation claim (made through the HTTP
API) and the page says why not. Debian's Chromium, never a downloaded browser; every
request stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import CHROMIUM, FLAGS
from tests.support.factories import credit_code, resident_id

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
WIDE = (1280, 800)
PHONE = (390, 844)
PHONE_MAX_HEIGHT = 1800
ROLES = ("clerk", "mediator", "coordinator", "auditor", "admin")
USER_LINE = re.compile(r"^\s+(\S+)\s+role=(\w+)")
PASSWORD_LINE = re.compile(r"password for all:\s*(\S+?)\)?:?$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_demo(folder: Path, cases: int) -> tuple[subprocess.Popen[str], str, dict[str, str], str]:
    """``mediation serve --demo`` on a fresh store; its address, demo users and password."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        MEDIATION_DATABASE_URL=f"sqlite:///{folder / 'demo.sqlite3'}",
        MEDIATION_CHECKPOINT_DIR=str(folder / "checkpoints"),
        MEDIATION_ENVIRONMENT="development",
    )
    mediation = Path(sys.executable).with_name("mediation")
    proc = subprocess.Popen(
        [str(mediation), "serve", "--demo", "--demo-cases", str(cases), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=folder,
    )
    users: dict[str, str] = {}
    password = ""
    assert proc.stdout is not None
    deadline = time.monotonic() + 600
    for line in proc.stdout:
        if m := USER_LINE.match(line):
            users.setdefault(m.group(2), m.group(1))
        elif m := PASSWORD_LINE.search(line.strip()):
            password = m.group(1)
        if "serving on" in line:
            break
        if time.monotonic() > deadline:
            break
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base, users, password
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the demo server did not start")


def log_in(browser: Any, base: str, username: str, password: str, size: tuple[int, int]) -> Any:
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )

    def outside(request: Any) -> None:
        if not request.url.startswith((base + "/", "data:", "about:")):
            raise RuntimeError(f"a page requested {request.url}")

    context.on("request", outside)
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def shoot(page: Any, path: Path, phone: bool) -> None:
    if phone:
        height = min(page.evaluate("document.documentElement.scrollHeight"), PHONE_MAX_HEIGHT)
        page.screenshot(
            path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": 390, "height": height}
        )
    else:
        page.screenshot(path=str(path))
    print("wrote", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def _county_in(region: str) -> str:
    from mediation.regions import children, get_region

    own = get_region(region)
    if own is None or own.level == "county":
        return region
    for level in ("county", "city"):
        found = children(region, level)
        if found:
            return _county_in(found[0].code)
    return region


def refused_case(base: str, username: str, password: str) -> str:
    """A case ready for entrustment but with a 确认劳动关系 claim, made through the API."""
    with httpx.Client(base_url=base + "/api/v1", timeout=30) as api:
        token = api.post("/auth/token", data={"username": username, "password": password})
        token.raise_for_status()
        api.headers["Authorization"] = "Bearer " + token.json()["access_token"]
        me = api.get("/me").json()
        region = me.get("region_code", "420100")
        on = date.today() - timedelta(days=1)
        created = api.post(
            "/cases",
            json={
                "region_code": _county_in(region),
                "received_on": on.isoformat(),
                "applicant": {
                    "name": "赵六",
                    "id_number": resident_id(91),
                    "phone": "13700000000",
                    "worker_category": "courier",
                },
                "respondent": {"name": "某某快递服务有限公司", "credit_code": credit_code(91)},
                "claims": [
                    {"category": "labour_relationship_confirmation", "amount": "0.00"},
                    {"category": "remuneration", "amount": "5000.00"},
                ],
            },
        )
        if created.status_code != 201:
            raise RuntimeError(f"creating the refused case: {created.status_code} {created.text}")
        case_id = str(created.json()["case_id"])
        steps: list[tuple[str, dict[str, Any]]] = [
            (
                "assessment",
                {
                    "within_scope": True,
                    "meets_acceptance_conditions": True,
                    "suitable_for_mediation": True,
                    "reason": "适宜调解",
                },
            ),
            ("consents", {"party": "applicant", "given": True, "on": on.isoformat()}),
            ("consents", {"party": "respondent", "given": True, "on": on.isoformat()}),
        ]
        for path, body in steps:
            api.post(f"/cases/{case_id}/{path}", json=body).raise_for_status()
        return case_id


def refusal(page: Any, base: str, case_id: str) -> None:
    """Entrust the case on its page: the refusal names the rule."""
    page.goto(f"{base}/cases/{case_id}")
    form = page.locator("#form-entrust")
    if form.get_attribute("open") is None:
        page.locator("#form-entrust > summary").click()
    studio = form.locator("select[name=studio_id] option:not([value=''])").first
    form.locator("select[name=studio_id]").select_option(studio.get_attribute("value"))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    shown = page.locator(".refusal").first
    shown.wait_for()
    box = shown.bounding_box()
    if box is None or box["y"] < 0 or box["y"] + 40 > page.viewport_size["height"]:
        # the browser tests require it in the first viewport; the picture shows it anyway
        print("warning: the refusal is not in the first viewport; scrolled to it", flush=True)
        shown.scroll_into_view_if_needed()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cases", type=int, default=300, help="demo cases (as make run)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc, base, users, password = start_demo(Path(tmp), args.cases)
        try:
            missing = [r for r in ROLES if r not in users]
            if missing or not password:
                raise RuntimeError(f"the demo printed no user for {missing} or no password")
            with sync_playwright() as p:
                # on Linux Chromium's own words (date pickers) follow the environment's language
                chinese: dict[str, str | float | bool] = {**os.environ, "LANG": "zh_CN.UTF-8"}
                chinese["LANGUAGE"] = "zh_CN"
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=[*dict.fromkeys([*FLAGS, "--lang=zh-CN"])],
                    env=chinese,
                )
                case_id = refused_case(base, users["clerk"], password)
                for phone, size in ((False, WIDE), (True, PHONE)):
                    suffix = "phone" if phone else "wide"
                    for role in ROLES:
                        page = log_in(browser, base, users[role], password, size)
                        shoot(page, args.out / f"{role}-{suffix}.png", phone)
                        if role == "clerk":
                            refusal(page, base, case_id)  # what the clerk sees, as it is
                            shoot(page, args.out / f"refusal-{suffix}.png", False)
                        page.context.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
