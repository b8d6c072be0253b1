"""API throughput relative to a bare FastAPI endpoint, served the same way, in the same run.

    .venv/bin/python bench/api_bench.py [--requests 2000] [--threads 1,4] [--rounds 5]

Starts three uvicorn servers on 127.0.0.1 (separate processes, same settings: one worker,
plain ``def`` endpoints, JSON logs at INFO to /dev/null): a bare FastAPI app with one
``def hello()``, and the real API on a fresh SQLite store (twice: reads, then commands).
Measures requests per second of

- ``GET /hello`` (the baseline),
- ``GET /api/v1/cases/{id}`` with a bearer token (an authenticated case read), and
- ``POST /api/v1/cases/{id}/assessment`` (a case command: load, decide, save one event,
  update the in-process read models), round-robin over a pool of received cases,

and prints the ratios (targets: read ≥ 0.35, command ≥ 0.15). Each figure is measured
``--rounds`` times, the three alternating within a round and the order reversed every
other round (so that a burst of load from elsewhere on the machine does not fall on one
figure only); the table shows the medians and, for the ratios, the lowest and highest
per-round ratio. Loops are bounded; the numbers go into docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-bench-secret-key-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(kind: str, port: int, database_url: str) -> None:
    import uvicorn
    from fastapi import FastAPI

    from api.logs import configure

    configure("INFO")
    if kind == "hello":
        app = FastAPI()

        @app.get("/hello")
        def hello() -> dict[str, str]:
            return {"hello": "world"}

    else:
        from api.app import create_app
        from mediation.settings import Settings
        from projections.system import System

        settings = Settings(database_url=database_url, secret_key=SECRET)
        app = create_app(System(database_url, settings=settings), settings)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, log_level="warning"
    )


POOL = 120  # commands go round-robin over this many received cases (~10-20 events each)


def seed(database_url: str) -> tuple[str, str, str]:
    """A case in mediation; tokens for a clerk and its mediator (used by ``python -m bench``)."""
    case_id, clerk, mediator, _ = seed_with_pool(database_url)
    return case_id, clerk, mediator


def seed_with_pool(database_url: str) -> tuple[str, str, str, list[str]]:
    """Also a pool of received cases, so that commands do not grow one case without end."""
    from api.users import User
    from mediation.application import CommandContext
    from mediation.settings import Settings
    from mediation.values import Actor, Party, Role, Route, StudioKind
    from projections.system import System
    from tests.support.accounts import account_tokens
    from tests.support.factories import applicant, claims, respondent

    settings = Settings(database_url=database_url, secret_key=SECRET)
    system = System(database_url, settings=settings)
    app = system.app
    admin = CommandContext(Actor("admin", Role.ADMIN))
    clerk = CommandContext(Actor("clerk", Role.CLERK))
    studio = app.register_studio(
        admin,
        name="工作室",
        region_code="420100",
        kind=StudioKind.DOCKING_STUDIO,
        established_on=date(2025, 1, 1),
    )
    _, mediator_id = app.appoint_mediator(
        admin, studio.id, name="王调解", qualification="lawyer", appointed_on=date(2025, 1, 1)
    )
    case = app.receive_case(
        clerk,
        region_code="420102",
        received_on=date(2025, 3, 2),
        applicant=applicant(1),
        respondent=respondent(1),
        claims=claims(),
    )
    on = date(2025, 3, 3)
    app.assess(
        clerk,
        case.id,
        on=on,
        within_scope=True,
        meets_acceptance_conditions=True,
        suitable_for_mediation=True,
        reason="bench",
    )
    app.record_consent(clerk, case.id, party=Party.APPLICANT, given=True, on=on)
    app.record_consent(clerk, case.id, party=Party.RESPONDENT, given=True, on=on)
    app.entrust(clerk, case.id, studio_id=studio.id, route=Route.PRE_FILING, on=on)
    app.assign_mediator(clerk, case.id, mediator_id=mediator_id, on=on)
    pool = [
        str(
            app.receive_case(
                clerk,
                region_code="420102",
                received_on=date(2025, 3, 2),
                applicant=applicant(i),
                respondent=respondent(i),
                claims=claims(),
            ).id
        )
        for i in range(POOL)
    ]
    system.close()
    tokens = account_tokens(
        database_url,
        [
            User("clerk", Role.CLERK, "420100"),
            User("mediator", Role.MEDIATOR, "420100", studio_id=studio.id, mediator_id=mediator_id),
        ],
        settings,
    )
    clerk_token, mediator_token = tokens["clerk"], tokens["mediator"]
    return str(case.id), clerk_token, mediator_token, pool


def start(kind: str, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", database_url],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + ("/hello" if kind == "hello" else "/healthz")).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def measure(
    base: str, request: Callable[[httpx.Client, int], httpx.Response], n: int, threads: int
) -> float:
    per = n // threads
    errors: list[str] = []

    def worker(t: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for i in range(per):
                r = request(client, i * threads + t)  # threads never share a case
                if r.status_code >= 400:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return

    with httpx.Client(base_url=base) as warm:  # warm up
        for i in range(min(20, n)):
            request(warm, i)
    started = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(errors[0])
    return per * threads / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", default="")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", default="1,4")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL URL: the bench runs in a fresh schema there instead of SQLite",
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db)
        return

    schema = ""
    if args.postgres:
        import psycopg

        schema = f"bench_{os.getpid()}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{args.postgres}?schema={schema}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='api-bench-')}/bench.sqlite3"
    case_id, clerk, _, pool = seed_with_pool(url)
    hello_proc, hello = start("hello", url)
    api_proc, api = start("api", url)
    headers = {"Authorization": f"Bearer {clerk}"}

    def get_hello(c: httpx.Client, i: int) -> httpx.Response:
        return c.get("/hello")

    def read(c: httpx.Client, i: int) -> httpx.Response:
        return c.get(f"/api/v1/cases/{case_id}", headers=headers)

    def command(c: httpx.Client, i: int) -> httpx.Response:
        body = {
            "within_scope": True,
            "meets_acceptance_conditions": True,
            "suitable_for_mediation": i % 2 == 0,
            "reason": f"assessment {i}",
            "on": "2025-03-03",
        }
        return c.post(f"/api/v1/cases/{pool[i % len(pool)]}/assessment", headers=headers, json=body)

    print(
        f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{'PostgreSQL' if schema else 'SQLite'}, {args.requests} requests per measurement "
        f"(commands half), {args.rounds} alternating rounds, medians"
    )
    print(
        "| client threads | hello req/s | case read req/s | case command req/s "
        "| read ratio (min–max) | command ratio (min–max) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    try:
        for threads in [int(t) for t in args.threads.split(",")]:
            figures: dict[str, tuple[str, Callable[[httpx.Client, int], httpx.Response], int]] = {
                "hello": (hello, get_hello, args.requests),
                "read": (api, read, args.requests),
                "command": (api, command, max(args.requests // 2, threads)),
            }
            rates: dict[str, list[float]] = {k: [] for k in figures}
            for r in range(max(args.rounds, 1)):
                order = list(figures) if r % 2 == 0 else list(reversed(figures))
                for name in order:
                    target, request, n = figures[name]
                    rates[name].append(measure(target, request, n, threads))
            base, rd, c = (statistics.median(rates[k]) for k in ("hello", "read", "command"))
            read_ratios = [x / h for x, h in zip(rates["read"], rates["hello"], strict=True)]
            command_ratios = [x / h for x, h in zip(rates["command"], rates["hello"], strict=True)]
            print(
                f"| {threads} | {base:,.0f} | {rd:,.0f} | {c:,.0f} "
                f"| {rd / base:.2f} ({min(read_ratios):.2f}–{max(read_ratios):.2f}) "
                f"| {c / base:.2f} ({min(command_ratios):.2f}–{max(command_ratios):.2f}) |",
                flush=True,
            )
    finally:
        for p in (hello_proc, api_proc):
            p.terminate()
            p.wait(timeout=10)
        if schema:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
