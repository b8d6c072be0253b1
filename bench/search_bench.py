"""``python -m bench.search_bench``: search at 10^6 events, and what a case number costs a create.

On each backend (a fresh store): import a generated history of about ``--events`` events
(``bench.figures.populate``, ≈ 8.9 events per case), then receive ``--numbered`` cases
through the application (each with its registration number; every fifth accepted, with
its 案号), build the read models, and measure, alternating with the baseline in the same
run (medians of ``--rounds`` rounds, ``--calls`` calls each):

- ``search_vs_point_read``: ``projections.worklists.list_cases`` with the hashed terms of a
  query (``projections.search.hashed``: the index lookup joined with ``rm_cases`` for the
  jurisdiction, newest first, first page of 50) — by whole ID number, name prefix, whole
  case number, sequence part — against a point read of one ``rm_cases`` row by its primary
  key on the same engine. Reported: each one's median latency, and the ratio
  (point-read latency ÷ search latency; 1.0 = as fast as a point read).
- ``create_numbered_vs_unnumbered``: ``receive_case`` through the application with its
  number drawn (the sequence's last event read, two more events saved in the same
  transaction) against the same command with numbering switched off (reported as a rate
  ratio, creates per second numbered ÷ unnumbered).

``--json FILE`` writes the figures; docs/performance.md has the reading.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.figures import _copy_cases, _max_position, populate
from bench.harness import fresh_store, postgres_available
from mediation.application import CommandContext, MediationApplication
from mediation.values import Actor, Role
from projections import worklists
from projections.search import hashed, search_tables
from projections.sql import case_tables
from projections.system import System
from tests.support.factories import applicant, claims, respondent

CLERK = CommandContext(Actor("bench-clerk", Role.CLERK))
EVENTS_PER_ROW = 8.9
COPIES = 10  # the history: one imported part and nine copies of it under new case ids


def _median_ms(calls: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _receive(app: MediationApplication, seed: int) -> Any:
    return app.receive_case(
        CLERK,
        region_code="420102",
        received_on=date(2026, 3, 2),
        applicant=applicant(seed),
        respondent=respondent(seed),
        claims=claims(),
    )


def run_backend(
    backend: str, workdir: Path, events: int, numbered: int, rounds: int, calls: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with fresh_store(backend, workdir) as store:
        started = time.perf_counter()
        # a tenth imported through the domain, the rest copies of its case events under new
        # ids (as the growth figure does above 10^6: same work per event for the views)
        imported = populate(
            store, workdir, max(1, round(events / COPIES / EVENTS_PER_ROW)), tag="S"
        )
        base = _max_position(store)
        for copy in range(1, COPIES):
            imported += _copy_cases(store, copy, base, base)
        out["import_s"] = round(time.perf_counter() - started, 1)
        system = System(store.url, in_process=False)
        try:
            app = system.app
            started = time.perf_counter()
            cases = []
            for i in range(numbered):
                case = _receive(app, 10_000 + i)
                if i % 5 == 0:
                    case = app.decide_acceptance(CLERK, case.id, accepted=True, on=date(2026, 3, 3))
                cases.append(case)
            out["numbered_cases_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            for name in list(system.runner.views):
                system.runner.rebuild(name)
            out["rebuild_all_views_s"] = round(time.perf_counter() - started, 1)
            out["events"] = app.max_position()
            out["imported_events"] = imported
            with system.engine.connect() as conn:
                out["index_rows"] = conn.execute(
                    select(func.count()).select_from(search_tables()["search"])
                ).scalar_one()
            target = cases[len(cases) // 2]
            accepted = next(c for c in reversed(cases) if c.filing_number)
            shown = app.personal.reveal(target.applicant)
            queries = {
                "id_number": shown["id_number"],
                "name_prefix": "张",  # every generated applicant of the numbered cases: many hits
                "case_number": target.case_number,
                "filing_number": accepted.filing_number,
                "sequence_part": str(int(target.case_number.split("第")[1].rstrip("号"))),
                "short_id": str(target.id)[:8],
            }
            rm_cases = case_tables()["cases"]
            point_id = str(target.id)

            def point_read() -> object:
                with system.engine.connect() as conn:
                    return conn.execute(
                        select(rm_cases).where(rm_cases.c.case_id == point_id)
                    ).first()

            def search(text: str) -> Callable[[], object]:
                def run() -> object:
                    ids, _ = worklists.list_cases(
                        system.engine,
                        region_prefix="4201",
                        today=date(2026, 12, 31),
                        limit=50,
                        terms=hashed(app.personal, text),
                    )
                    return ids

                return run

            hits = {k: len(search(q)()) for k, q in queries.items()}
            medians: dict[str, list[float]] = {k: [] for k in queries}
            baseline: list[float] = []
            for r in range(rounds):
                order = list(queries) if r % 2 == 0 else list(reversed(queries))
                for k in order:
                    baseline.append(_median_ms(calls, point_read))
                    medians[k].append(_median_ms(calls, search(queries[k])))
            point = statistics.median(baseline)
            out["point_read_ms"] = round(point, 3)
            out["search"] = {
                k: {
                    "ms": round(statistics.median(v), 3),
                    "ratio": round(point / statistics.median(v), 3),
                    "hits": hits[k],
                }
                for k, v in medians.items()
            }
            # what a number costs a create: the same command with numbering on and off
            on_rates, off_rates = [], []
            seed = 50_000
            numbered_method = app._numbered
            spent: list[float] = []

            def timed_numbering(*a: Any, **k: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return numbered_method(*a, **k)
                finally:
                    spent.append(time.perf_counter() - t0)

            for r in range(rounds):
                for mode in ("on", "off") if r % 2 == 0 else ("off", "on"):
                    app._numbered = (  # type: ignore[method-assign]
                        timed_numbering if mode == "on" else (lambda *a, **k: [])
                    )
                    started = time.perf_counter()
                    for _ in range(calls):
                        seed += 1
                        _receive(app, seed)
                    elapsed = time.perf_counter() - started
                    (on_rates if mode == "on" else off_rates).append(calls / elapsed)
            app._numbered = numbered_method  # type: ignore[method-assign]
            on, off = statistics.median(on_rates), statistics.median(off_rates)
            out["create_per_s"] = {"numbered": round(on, 1), "unnumbered": round(off, 1)}
            out["create_numbered_vs_unnumbered"] = round(on / off, 3)
            # the numbering step itself (the sequence's last event read, the number, two
            # events built): its part of a numbered create, less noisy than the rates
            out["numbering_step_ms"] = round(statistics.median(spent) * 1000, 3)
        finally:
            system.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--numbered", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sizes": {
            "events": args.events,
            "numbered": args.numbered,
            "rounds": args.rounds,
            "calls": args.calls,
        },
        "backends": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "postgres" and (reason := postgres_available()):
                results["backends"][backend] = {"reason": reason}
                continue
            results["backends"][backend] = run_backend(
                backend, Path(tmp), args.events, args.numbered, args.rounds, args.calls
            )
            print(backend, json.dumps(results["backends"][backend], ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
