"""``python -m bench.list_rows --schema SCHEMA``: a list page's rows from the read model, a
prototype measured against the rows the pages build today.

    python -m bench.load --keep                  # a 10^6-event store, kept
    python -m bench.list_rows --schema load_ab12cd34 [--rounds 30]

The clerk's queue page shows 70 cases (the queue and the accepted list). Today each row is
built from the case itself (``api.pages.reads.case_rows``: the 70 cases read by one
statement, replayed or fast-forwarded and copied, a full ``case_view`` each, one key read
for every party). The prototype (``rows_from_view``, this file only) builds the same row
from ``rm_cases`` — one ``SELECT`` of the 70 rows, the parties' sealed names from its
``parties`` column opened with one key read, the labels as the page shows them — which is
the design docs/performance.md names for the load test. It lacks what ``rm_cases`` does not
hold (the case numbers, the review deadlines, rule 8's resumed acceptance clock), so it is
a measure of the cost, not a replacement. Both run alternately in one process on the same
ids; the medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import select

from bench.harness import POSTGRES_URL
from bench.load.__main__ import SECRET


def rows_from_view(rt: Any, ids: list[UUID]) -> list[dict[str, Any]]:
    """The prototype: the rows of ``ids`` from ``rm_cases`` (see the module docstring)."""
    from api.pages.names import region_name
    from api.pages.reads import studio_names
    from mediation import labels
    from mediation.values import money_str
    from projections.sql import case_tables

    c = case_tables()["cases"]
    with rt.system.engine.connect() as conn:
        found = {
            r["case_id"]: r
            for r in conn.execute(
                select(c).where(c.c.case_id.in_([str(i) for i in ids]))
            ).mappings()
        }
    rows = [found[str(i)] for i in ids if str(i) in found]
    parties = [json.loads(r["parties"]) for r in rows]
    keys = rt.app.personal.ring(p for ps in parties for p in ps)
    names = studio_names(rt)
    today = rt.today()
    out = []
    for r, ps in zip(rows, parties, strict=True):
        applicants = [p for p in ps if p.get("role") == "applicant"]
        respondent = next((p for p in ps if p.get("role") == "respondent"), {})
        sealed = {k: str(v) for k, v in applicants[0].items() if v} if applicants else {}
        first = keys.reveal(sealed)
        claims = json.loads(r["claims"])
        due = r["sort_due"]
        out.append(
            {
                "case_id": r["case_id"],
                "status": r["status"],
                "region": region_name(r["region_code"]),
                "received_on": r["received_on"].isoformat(),
                "applicant": first.get("name", "")
                + (f" 等{len(applicants)}人" if len(applicants) > 1 else ""),
                "respondent": str(respondent.get("name", "")),
                "worker": labels.label(labels.WORKER, r["worker_category"]),
                "claims": "、".join(
                    labels.label(labels.CLAIM, cat).split("（")[0] for cat, _ in claims
                ),
                "amount": money_str(Decimal(sum(int(cents) for _, cents in claims)) / 100),
                "studio": names.get(UUID(r["studio_id"]), "") if r["studio_id"] else "",
                "deadline_days": (due - today).days if due.year < 9999 else None,
                "route": r["route"],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.list_rows", description=__doc__)
    parser.add_argument("--schema", required=True, help="a store kept by bench.load --keep")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.update(
        MEDIATION_DATABASE_URL=f"{POSTGRES_URL}?schema={args.schema}",
        MEDIATION_SECRET_KEY=SECRET,
        MEDIATION_PROJECTIONS="worker",
        MEDIATION_LOG_LEVEL="WARNING",
    )
    from api.app import create_app
    from api.pages.reads import case_rows, list_case_ids
    from mediation.regions import region_prefix
    from mediation.values import Status
    from projections import worklists

    app = create_app()
    app.state.integrity.stop()
    rt = app.state.runtime
    prefix = region_prefix("420100")
    queue, _ = worklists.clerk_queue(rt.system.engine, region_prefix=prefix)
    accepted, _ = list_case_ids(rt, region_prefix=prefix, status=Status.ACCEPTED.value, limit=20)
    ids = [*queue, *accepted]
    today_rows = case_rows(rt, ids, mask=False)  # warm: cache, prepared statements
    view_rows = rows_from_view(rt, ids)
    same = sum(
        a["applicant"] == b["applicant"] and a["status"] == b["status"]
        for a, b in zip(today_rows, view_rows, strict=True)
    )
    times: dict[str, list[float]] = {"today": [], "prototype": []}
    for r in range(args.rounds):
        for name in ("today", "prototype") if r % 2 == 0 else ("prototype", "today"):
            started = time.perf_counter()
            if name == "today":
                case_rows(rt, ids, mask=False)
            else:
                rows_from_view(rt, ids)
            times[name].append((time.perf_counter() - started) * 1000)
    result = {
        "schema": args.schema,
        "rows": len(ids),
        "rows_agreeing_on_applicant_and_status": same,
        "today_ms": statistics.median(times["today"]),
        "prototype_ms": statistics.median(times["prototype"]),
    }
    result["prototype_vs_today"] = result["prototype_ms"] / result["today_ms"]
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
