"""The load's users, driven by Locust as a library (headless), in a process of their own.

    python -m bench.load.users --host URL --kind mix|hello --users 50 --seconds 60
                               --spec spec.json --out stats.json [--wait 0.5,2.0]

``spec.json`` (written by ``bench.load``) holds the tokens and the ids the mix uses. Every
request's exact latency is kept (Locust's own percentiles round to whole milliseconds), and
every failure is counted: a status ≥ 400, a refused connection, a timeout.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust import between, events, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpUser  # noqa: E402
from locust.env import Environment  # noqa: E402

SPEC: dict[str, Any] = {}
COOKIE = "mediation_session"
SUMMARY = "调解会议：双方陈述意见，调解员释法析理"


class Hello(FastHttpUser):
    """The baseline: the same users, each asking the bare server for /hello."""

    wait_time = between(0.5, 2.0)

    @task
    def hello(self) -> None:
        self.client.get("/hello", name="hello")


class Mix(FastHttpUser):
    """One person at the service's counter or desk: a clerk reading the queue and cases, a
    mediator recording a session, an auditor on the dashboard, its drill-down, a download."""

    wait_time = between(0.5, 2.0)

    def _page(self, path: str, who: str, name: str) -> None:
        self.client.get(path, name=name, headers={"Cookie": f"{COOKIE}={SPEC['tokens'][who]}"})

    @task(3)
    def clerk_queue(self) -> None:
        self._page("/clerk", "clerk", "clerk_queue")

    @task(4)
    def case_page(self) -> None:
        self._page(f"/cases/{random.choice(SPEC['read_cases'])}", "clerk", "case_page")

    @task(2)
    def command(self) -> None:
        case_id = random.choice(SPEC["command_cases"])
        self.client.post(
            f"/api/v1/cases/{case_id}/sessions",
            name="command",
            json={"held_on": SPEC["held_on"], "summary": SUMMARY},
            headers={"Authorization": f"Bearer {SPEC['tokens']['mediator']}"},
        )

    @task(1)
    def dashboard(self) -> None:
        self._page(SPEC["dashboard"], "auditor", "dashboard")

    @task(1)
    def drill_down(self) -> None:
        self._page(random.choice(SPEC["drill_downs"]), "auditor", "drill_down")

    @task(1)
    def xlsx_export(self) -> None:
        self._page(SPEC["xlsx"], "auditor", "xlsx_export")


def run(host: str, kind: str, users: int, seconds: float, wait: tuple[float, float]) -> Any:
    user_class = Mix if kind == "mix" else Hello
    user_class.wait_time = between(*wait)
    user_class.host = host
    times: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, list[str]] = defaultdict(list)

    def on_request(
        name: str, response_time: float, exception: BaseException | None, **kw: Any
    ) -> None:
        if exception is not None:
            failures[name].append(repr(exception)[:200])
        else:
            times[name].append(response_time)

    events.request.add_listener(on_request)
    env = Environment(user_classes=[user_class], events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)  # everyone at once: the run is bounded in time
    started = time.monotonic()
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    elapsed = time.monotonic() - started
    out: dict[str, Any] = {"kind": kind, "users": users, "seconds": elapsed, "requests": {}}
    for name in sorted(set(times) | set(failures)):
        ok = sorted(times[name])
        q = statistics.quantiles(ok, n=100, method="inclusive") if len(ok) >= 2 else ok * 99
        out["requests"][name] = {
            "count": len(ok) + len(failures[name]),
            "errors": len(failures[name]),
            "error_samples": failures[name][:3],
            "per_s": (len(ok) + len(failures[name])) / elapsed,
            "p50_ms": q[49] if q else None,
            "p95_ms": q[94] if q else None,
            "p99_ms": q[98] if q else None,
            "max_ms": ok[-1] if ok else None,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.users")
    parser.add_argument("--host", required=True)
    parser.add_argument("--kind", choices=("mix", "hello"), required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--wait", default="0.5,2.0", help="think time between requests, s")
    parser.add_argument("--spec", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.host.startswith(("http://127.0.0.1:", "http://localhost:")):
        parser.error("loopback only")
    if args.spec:
        SPEC.update(json.loads(args.spec.read_text()))
    low, high = (float(x) for x in args.wait.split(","))
    result = run(args.host, args.kind, args.users, args.seconds, (low, high))
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
