"""``python -m bench.load``: the real mix with 50 concurrent users, beside bare hello.

    python -m bench.load [--events 1000000] [--users 50] [--seconds 60] [--json FILE]
                         [--reuse SCHEMA] [--keep] [--api-workers 2] [--wait 0.5,2.0]
    python -m bench.load --quick       # 50,000 events, 20 s per phase

Everything on 127.0.0.1 and bounded in time:

1. **Store**: a fresh PostgreSQL schema filled through the importer (every row through the
   domain's commands) to about ``--events`` events, then the read models rebuilt (what
   ``mediation project --rebuild all`` does); plus a studio, a mediator and 200 cases in
   mediation for the commands, and the accounts (clerk, mediator, auditor). ``--keep``
   leaves the schema for the next run (``--reuse SCHEMA``: skip this step).
2. **Servers** in the deployed shape: the API (``uvicorn api.app:create_app --factory``,
   ``--api-workers`` processes, ``MEDIATION_PROJECTIONS=worker``), the projection worker
   (``mediation project --follow``), and the bare hello app served the same way.
3. **Load** (Locust as a library, headless, ``bench.load.users``, its own process): first
   the same users against hello, then the mix — clerk's queue page, case page, a command
   (``POST …/sessions`` as the case's mediator), the auditor's dashboard, a drill-down
   and the XLSX download — each user waiting ``--wait`` seconds between requests.
   Throughput, p50/p95/p99 per kind, every error counted. Target (issue 13): no errors,
   every kind's p95 within 10× hello's p95.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.harness import POSTGRES_URL, Store

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET = "bench-load-secret-key-bench-load-secret-0123456789"
HELD_ON = "2026-03-20"
KINDS = ("clerk_queue", "case_page", "command", "dashboard", "drill_down", "xlsx_export")


def _say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------- the store


def build(schema: str, events: int, workdir: Path) -> dict[str, Any]:
    """Import about ``events`` events, rebuild the read models; seconds of each step."""
    from bench.figures import populate
    from projections.system import System

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    store = Store("postgres", f"{POSTGRES_URL}?schema={schema}", schema=schema)
    rows = max(1000, round(events / 8.9))  # ≈ 8.9 events per imported row
    started = time.perf_counter()
    written = populate(store, workdir, rows, tag="L")
    imported_s = time.perf_counter() - started
    _say(f"imported {rows:,} rows, {written:,} events in {imported_s:.0f} s")
    started = time.perf_counter()
    system = System(store.url, in_process=False)
    try:
        for name in ("organisation", "cases"):
            system.runner.rebuild(name)
    finally:
        system.close()
    rebuilt_s = time.perf_counter() - started
    _say(f"read models rebuilt in {rebuilt_s:.0f} s")
    return {"rows": rows, "events": written, "import_s": imported_s, "rebuild_s": rebuilt_s}


def seed(url: str) -> dict[str, Any]:
    """Cases for the commands, the accounts and their tokens, the ids the mix reads."""
    from sqlalchemy import text

    from api.users import User
    from mediation.settings import Settings
    from mediation.values import Role
    from projections.system import System
    from tests.support.accounts import account_tokens
    from tests.support.factories import in_mediation, studio_with_mediator

    settings = Settings(database_url=url, secret_key=SECRET)
    system = System(url, settings=settings, in_process=False)
    try:
        app = system.app
        studio_id, mediator_id = studio_with_mediator(app)
        command_cases = [str(in_mediation(app, studio_id, mediator_id).id) for _ in range(200)]
        system.catch_up()
        with system.engine.connect() as conn:
            read_cases = [
                str(r[0])
                for r in conn.execute(
                    text(
                        "SELECT case_id FROM rm_cases WHERE region_code LIKE '4201%' "
                        "ORDER BY case_id LIMIT 500"
                    )
                )
            ]
        events = system.app.max_position()
    finally:
        system.close()
    users = [
        User("clerk", Role.CLERK, "420100"),
        User("mediator", Role.MEDIATOR, "420100", studio_id=studio_id, mediator_id=mediator_id),
        User("auditor", Role.AUDITOR, "420000"),
    ]
    tokens = account_tokens(url, users, settings)
    return {
        "tokens": tokens,
        "command_cases": command_cases,
        "read_cases": read_cases,
        "held_on": HELD_ON,
        "events": events,
    }


def dashboard_links(base: str, spec: dict[str, Any]) -> None:
    """The dashboard the auditor opens, and the drill-downs and download it offers."""
    period = "region=420000&from=2025-01-01&to=2025-06-30"
    spec["dashboard"] = f"/dashboard?{period}"
    page = httpx.get(
        base + spec["dashboard"],
        cookies={"mediation_session": spec["tokens"]["auditor"]},
        timeout=120,
    )
    page.raise_for_status()
    links = sorted(set(re.findall(r'href="(/dashboard/cases\?[^"]+)"', page.text)))
    spec["drill_downs"] = [link.replace("&amp;", "&") for link in links][:40]
    xlsx = re.search(r'href="(/dashboard/caseload\.xlsx\?[^"]+)"', page.text)
    if not spec["drill_downs"] or xlsx is None:
        raise RuntimeError("the dashboard offered no drill-down or download")
    spec["xlsx"] = xlsx.group(1).replace("&amp;", "&")


# ---------------------------------------------------------------------- the servers


def _wait_up(base: str, path: str, proc: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {base} exited with {proc.returncode}")
        try:
            if httpx.get(base + path, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base}{path} did not answer")


def _wait_integrity(base: str, limit: float = 1800) -> float:
    """Until every API process has walked the log once (its integrity check at start)."""
    started = time.monotonic()
    settled = 0
    while settled < 8 and time.monotonic() - started < limit:
        status = httpx.get(base + "/readyz", timeout=30).json().get("integrity", {})
        word = status.get("status") if isinstance(status, dict) else status
        settled = settled + 1 if word not in ("pending", None) else 0
        time.sleep(0.25)
    return time.monotonic() - started


def serve(app: str, workers: int, env: dict[str, str], factory: bool) -> tuple[Any, str]:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    command += ["--log-level", "warning", *(["--factory"] if factory else [])]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # uvicorn's supervisor and its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def load(
    host: str, kind: str, users: int, seconds: float, wait: str, spec: Path, workdir: Path
) -> dict[str, Any]:
    out = workdir / f"{kind}-{uuid.uuid4().hex[:6]}.json"
    command = [sys.executable, "-m", "bench.load.users", "--host", host, "--kind", kind]
    command += ["--users", str(users), "--seconds", str(seconds), "--wait", wait]
    command += ["--spec", str(spec), "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, timeout=seconds + 300)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


# ---------------------------------------------------------------------- the run


def table(result: dict[str, Any]) -> str:
    hello = result["hello"]["requests"]["hello"]
    lines = [
        f"{'kind':<13} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'p95/hello':>9}"
    ]
    rows = [("hello", hello)] + [
        (k, result["mix"]["requests"][k]) for k in KINDS if k in result["mix"]["requests"]
    ]
    for name, r in rows:
        ratio = r["p95_ms"] / hello["p95_ms"] if r["p95_ms"] and hello["p95_ms"] else None
        lines.append(
            f"{name:<13} {r['count']:>8,} {r['errors']:>6} {r['per_s']:>7.1f} "
            f"{r['p50_ms'] or 0:>8.1f} {r['p95_ms'] or 0:>8.1f} {r['p99_ms'] or 0:>8.1f} "
            f"{ratio if ratio is not None else float('nan'):>9.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 events, 20 s per phase")
    parser.add_argument("--events", type=float, default=None, help="store size (default 1e6)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=None, help="per phase (default 60)")
    parser.add_argument("--wait", default="0.5,2.0", help="think time between requests, s")
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--reuse", help="an existing schema built by --keep")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    # the store's chains, the servers' tokens and their integrity check share one key
    os.environ["MEDIATION_SECRET_KEY"] = SECRET
    events = int(args.events or (50_000 if args.quick else 1_000_000))
    seconds = args.seconds or (20.0 if args.quick else 60.0)
    schema = args.reuse or f"load_{uuid.uuid4().hex[:8]}"
    url = f"{POSTGRES_URL}?schema={schema}"
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "users": args.users,
        "seconds_per_phase": seconds,
        "wait_s": args.wait,
        "api_workers": args.api_workers,
        "schema": schema,
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="mediation-load-") as tmp:
            workdir = Path(tmp)
            if not args.reuse:
                result["build"] = build(schema, events, workdir)
            _say("seeding the commands' cases and the accounts")
            spec = seed(url)
            result["events"] = spec.pop("events")
            env = {
                "MEDIATION_DATABASE_URL": url,
                "MEDIATION_SECRET_KEY": SECRET,
                "MEDIATION_PROJECTIONS": "worker",
                "MEDIATION_LOG_LEVEL": "WARNING",
            }
            worker = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "project", "--follow"],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            procs.append(worker)
            api, api_base = serve("api.app:create_app", args.api_workers, env, factory=True)
            procs.append(api)
            hello, hello_base = serve("bench.load.hello:app", args.api_workers, {}, False)
            procs.append(hello)
            _wait_up(api_base, "/healthz", api)
            _wait_up(hello_base, "/hello", hello)
            _say("waiting for the API processes' first integrity walk")
            result["integrity_walk_s"] = _wait_integrity(api_base)
            dashboard_links(api_base, spec)
            spec_path = workdir / "spec.json"
            spec_path.write_text(json.dumps(spec))
            _say(f"hello: {args.users} users for {seconds:.0f} s")
            result["hello"] = load(
                hello_base, "hello", args.users, seconds, args.wait, spec_path, workdir
            )
            _say(f"the mix: {args.users} users for {seconds:.0f} s")
            result["mix"] = load(
                api_base, "mix", args.users, seconds, args.wait, spec_path, workdir
            )
    finally:
        for proc in reversed(procs):
            stop(proc)
        if not args.keep and not args.reuse:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    hello_p95 = result["hello"]["requests"]["hello"]["p95_ms"]
    mix = result["mix"]["requests"]
    result["errors"] = sum(r["errors"] for r in mix.values())
    result["p95_vs_hello"] = {k: mix[k]["p95_ms"] / hello_p95 for k in mix if mix[k]["p95_ms"]}
    result["target_met"] = result["errors"] == 0 and all(
        v <= 10 for v in result["p95_vs_hello"].values()
    )
    result["finished_at"] = datetime.now(UTC).isoformat()
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
