"""``python -m bench.rebuild_views``: each view's rebuild on its own, beside the read.

    python -m bench.rebuild_views [--rows 20000] [--rounds 3] [--backends sqlite,postgres]

``rebuild_vs_read`` (``python -m bench``) rebuilds every view — ``cases`` (partitioned,
``MEDIATION_REBUILD_WORKERS`` processes), ``organisation`` and ``search`` — one after the
other, each reading its own topics from the log, against one read of every event through
the library. This splits that figure: on a fresh store of ``--rows`` imported cases it
times, alternating, each view's rebuild alone and the library read, and prints each view's
share of the whole rebuild and the ratio the rebuild would have without it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.figures import _library_read, populate
from bench.harness import fresh_store
from mediation.application import MediationApplication
from mediation.settings import persistence_env
from projections.system import System


def measure(backend: str, rows: int, rounds: int, workdir: Path) -> dict[str, Any]:
    with fresh_store(backend, workdir) as store:
        events = populate(store, workdir, rows, tag="V")
        system = System(store.url, in_process=False)
        app = MediationApplication(persistence_env(store.url))
        try:
            views = sorted(system.runner.views)
            times: dict[str, list[float]] = {name: [] for name in [*views, "read"]}
            for r in range(rounds):
                order = [*views, "read"]
                if r % 2:
                    order.reverse()
                for name in order:
                    started = time.perf_counter()
                    if name == "read":
                        _library_read(app)
                    else:
                        system.runner.rebuild(name)
                    times[name].append(time.perf_counter() - started)
        finally:
            app.close()
            system.close()
    median = {name: statistics.median(t) for name, t in times.items()}
    whole = sum(median[v] for v in views)
    return {
        "events": events,
        "seconds": median,
        "rebuild_vs_read": median["read"] / whole,
        "share": {v: median[v] / whole for v in views},
        "without": {v: median["read"] / (whole - median[v]) for v in views},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild_views", description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"rows": args.rows, "rounds": args.rounds, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="mediation-views-") as tmp:
        for backend in args.backends.split(","):
            result = measure(backend, args.rows, args.rounds, Path(tmp))
            out["backends"][backend] = result
            s = result["seconds"]
            print(
                f"{backend:<9} {result['events']:>9,} events  read {s['read']:.2f} s  "
                + "  ".join(f"{v} {s[v]:.2f} s" for v in sorted(result["share"]))
                + f"  rebuild_vs_read {result['rebuild_vs_read']:.3f}"
            )
            for v in sorted(result["share"]):
                print(
                    f"    {v:<13} {result['share'][v]:6.1%} of the rebuild; "
                    f"rebuild_vs_read without it {result['without'][v]:.3f}"
                )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
