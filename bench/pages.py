"""``python -m bench.pages --schema SCHEMA``: each request kind of the load test, alone.

    python -m bench.load --quick --keep        # or any store made by bench.load --keep
    python -m bench.pages --schema load_ab12cd34 [--repeat 15] [--profile clerk_queue]

In-process (the application as ``create_app`` builds it, with ``MEDIATION_PROJECTIONS=worker``
and a ``mediation project --follow`` worker beside it, as a province runs it; the integrity
monitor is not started), one request at a
time through Starlette's test client against a PostgreSQL store kept by ``bench.load``. Prints
each kind's median and lowest milliseconds over ``--repeat`` requests after one warm-up, and
with ``--profile KIND`` a pyinstrument profile of that kind. This is the "alone" column of the
load test's table in docs/performance.md: what a request costs when nothing else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import POSTGRES_URL
from bench.load.__main__ import HELD_ON, KINDS, SECRET, seed

COOKIE = "mediation_session"
SUMMARY = "双方就工资差额进行了沟通"


def _requests(spec: dict[str, Any]) -> dict[str, Any]:
    """Per kind, a function of a test client that makes one request and checks its status."""
    rng = random.Random(7)

    def page(path: str, who: str) -> Any:
        return lambda client: client.get(path, cookies={COOKIE: spec["tokens"][who]})

    def case_page(client: Any) -> Any:
        return page(f"/cases/{rng.choice(spec['read_cases'])}", "clerk")(client)

    def command(client: Any) -> Any:
        case_id = rng.choice(spec["command_cases"])
        return client.post(
            f"/api/v1/cases/{case_id}/sessions",
            json={"held_on": HELD_ON, "summary": SUMMARY},
            headers={"Authorization": f"Bearer {spec['tokens']['mediator']}"},
        )

    def drill_down(client: Any) -> Any:
        return page(rng.choice(spec["drill_downs"]), "auditor")(client)

    def api_read(client: Any) -> Any:  # the JSON read of api_read_vs_hello
        return client.get(
            f"/api/v1/cases/{rng.choice(spec['read_cases'])}",
            headers={"Authorization": f"Bearer {spec['tokens']['clerk']}"},
        )

    return {
        "api_read": api_read,
        "clerk_queue": page("/clerk", "clerk"),
        "case_page": case_page,
        "command": command,
        "dashboard": page(spec["dashboard"], "auditor"),
        "drill_down": drill_down,
        "xlsx_export": page(spec["xlsx"], "auditor"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--schema", required=True, help="a store kept by bench.load --keep")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", choices=(*KINDS, "api_read"))
    parser.add_argument("--spec", type=Path, help="reuse a spec (tokens, ids) saved by --save")
    parser.add_argument("--save", type=Path, help="save the spec for the next run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url = f"{POSTGRES_URL}?schema={args.schema}"
    os.environ.update(
        MEDIATION_DATABASE_URL=url,
        MEDIATION_SECRET_KEY=SECRET,
        MEDIATION_PROJECTIONS="worker",
        MEDIATION_LOG_LEVEL="WARNING",
    )
    from api.app import create_app

    spec = json.loads(args.spec.read_text()) if args.spec else seed(url)
    spec.pop("events", None)
    # the deployed shape: read models kept by a worker (a command waits for it, bounded)
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "project", "--follow"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return _measure(args, spec, create_app)
    finally:
        worker.terminate()
        worker.wait(30)


def _measure(args: argparse.Namespace, spec: dict[str, Any], create_app: Any) -> int:
    from fastapi.testclient import TestClient

    app = create_app()
    app.state.integrity.stop()  # the request alone, not beside the log's walk
    out: dict[str, Any] = {"schema": args.schema, "repeat": args.repeat, "kinds": {}}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        if "drill_downs" not in spec:
            period = "region=420000&from=2025-01-01&to=2025-06-30"
            spec["dashboard"] = f"/dashboard?{period}"
            text = client.get(spec["dashboard"], cookies={COOKIE: spec["tokens"]["auditor"]}).text
            links = sorted(set(re.findall(r'href="(/dashboard/cases\?[^"]+)"', text)))
            spec["drill_downs"] = [link.replace("&amp;", "&") for link in links][:40]
            xlsx = re.search(r'href="(/dashboard/caseload\.xlsx\?[^"]+)"', text)
            assert xlsx is not None, "the dashboard offered no download"
            spec["xlsx"] = xlsx.group(1).replace("&amp;", "&")
        if args.save:
            args.save.write_text(json.dumps(spec))
        requests = _requests(spec)
        for kind in args.kinds.split(","):
            make = requests[kind]
            response = make(client)  # warm-up: caches, prepared statements
            if response.status_code >= 400:
                raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = make(client)
                times.append((time.perf_counter() - started) * 1000)
                if response.status_code >= 400:
                    raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")
            out["kinds"][kind] = {"median_ms": statistics.median(times), "min_ms": min(times)}
            print(f"{kind:<13} median {statistics.median(times):8.1f} ms  min {min(times):8.1f} ms")
        if args.profile:
            from pyinstrument import Profiler

            make = requests[args.profile]
            with Profiler(interval=0.0005) as profiler:
                for _ in range(max(3, args.repeat // 3)):
                    make(client)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
