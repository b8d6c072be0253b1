"""``python -m bench --quick|--full [--json FILE]``: every figure beside its baseline.

Each figure is measured side by side with its baseline in the same run, alternating
(order swapped every round), several rounds, medians reported; on SQLite (a temporary
file) and PostgreSQL (a fresh schema in ``MEDIATION_BENCH_POSTGRES``, default the test
database). A figure whose piece is missing is reported as ``null`` with the reason.
See docs/performance.md for the reading.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import figures
from bench.harness import POSTGRES_URL, fresh_store, postgres_available

KEYS = (
    "command_vs_raw",
    "command_vs_raw_worker",
    "rebuild_vs_scan",
    "rebuild_vs_read",
    "stats_vs_naive",
    "api_read_vs_hello",
    "api_command_vs_hello",
    "import_vs_copy",
    "import_events_vs_copy_events",
)


def _guard(name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    print(f"  {name} ...", file=sys.stderr, flush=True)
    try:
        result = work()
    except Exception as exc:
        traceback.print_exc()
        result = {"ratio": None, "reason": f"failed: {exc!r}"}
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


FIGURES = ("command_vs_raw", "import_vs_copy", "rebuild_vs_scan", "stats_vs_naive", "api", "growth")


def run_backend(
    backend: str,
    sizes: figures.Sizes,
    quick: bool,
    workdir: Path,
    only: frozenset[str] = frozenset(FIGURES),
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "command_vs_raw" in only:
        with fresh_store(backend, workdir) as store:
            out["command_vs_raw"] = fig = _guard(
                "command_vs_raw", lambda: figures.command_vs_raw(store, sizes)
            )
            # the deployed shape, measured in the same run (no in-process views, a worker)
            out["command_vs_raw_worker"] = {
                "ratio": fig.get("ratio_worker"),
                "app_commands_per_s": fig.get("app_without_views_per_s"),
                "raw_tx_per_s": fig.get("raw_tx_per_s_beside_worker"),
                "worker_drained_s": fig.get("worker_drained_s"),
                **({"reason": fig["reason"]} if "reason" in fig else {}),
            }
    if "import_vs_copy" in only:
        out["import_vs_copy"] = fig = _guard(
            "import_vs_copy", lambda: figures.import_vs_copy(backend, workdir, sizes)
        )
        # the same imports against COPY of the event rows they wrote (same rounds)
        out["import_events_vs_copy_events"] = {
            "ratio": fig.get("import_events_vs_copy_events"),
            "import_events_per_s": fig.get("import_events_per_s"),
            "copy_event_rows_per_s": fig.get("copy_event_rows_per_s"),
            "workers": fig.get("workers"),
            **({"reason": fig["reason"]} if "reason" in fig else {}),
        }
    if only & {"rebuild_vs_scan", "stats_vs_naive"}:
        with fresh_store(backend, workdir) as store:
            events = figures.populate(store, workdir, sizes.history_rows)
            if "rebuild_vs_scan" in only:
                out["rebuild_vs_scan"] = fig = _guard(
                    "rebuild_vs_scan", lambda: figures.rebuild_vs_scan(store, sizes, events)
                )
                # the same rebuild against the library's read of the events (same rounds)
                out["rebuild_vs_read"] = {
                    "ratio": fig.get("ratio_read"),
                    "rebuild_events_per_s": fig.get("rebuild_events_per_s"),
                    "read_events_per_s": fig.get("read_events_per_s"),
                    "workers": fig.get("workers"),
                    **({"reason": fig["reason"]} if "reason" in fig else {}),
                }
            if "stats_vs_naive" in only:
                out["stats_vs_naive"] = _guard(
                    "stats_vs_naive", lambda: figures.stats_vs_naive(store, sizes)
                )
    if "api" in only:
        with fresh_store(backend, workdir) as store:

            def api() -> dict[str, Any]:
                return figures.api_figures(backend, store.url, sizes)

            both = _guard("api_*_vs_hello", api)
            for key in ("api_read_vs_hello", "api_command_vs_hello"):
                out[key] = both.get(key) or {"ratio": None, "reason": both.get("reason")}
    if "growth" in only:
        out["growth"] = _guard("growth", lambda: figures.growth(backend, workdir, sizes))
    return out


def table(results: dict[str, Any]) -> str:
    lines = [f"{'figure':<24} {'backend':<9} {'ratio':>9}  absolute rates / notes"]
    for key in KEYS:
        for backend, figs in results["backends"].items():
            fig = figs.get(key, {})
            extras = ", ".join(
                f"{k}={figures.fmt(v)}"
                for k, v in fig.items()
                if k not in ("ratio", "seconds", "totals", "views", "query", "note")
                and not isinstance(v, (dict, list))
            )
            lines.append(f"{key:<24} {backend:<9} {figures.fmt(fig.get('ratio')):>9}  {extras}")
    lines.append("")
    lines.append(
        f"{'growth':<24} {'backend':<9} {'events':>11} {'rebuild s':>10} "
        f"{'events/s':>9} {'stats ms':>9} {'peak MiB':>9} {'worker MiB':>10} {'copied':>11}"
    )
    for backend, figs in results["backends"].items():
        for p in figs.get("growth", {}).get("points", []):
            lines.append(
                f"{'':<24} {backend:<9} {p['events']:>11,} {p['rebuild_s']:>10.1f} "
                f"{p['rebuild_events_per_s']:>9,.0f} {p['stats_ms']:>9.1f} "
                f"{p['peak_rss_mib']:>9.0f} {p.get('worker_peak_rss_mib', 0):>10.0f} "
                f"{p.get('copied_events', 0):>11,}"
            )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, a few minutes (default)")
    mode.add_argument("--full", action="store_true", help="full sizes incl. growth to 10^7 events")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--growth", help="comma-separated event counts for the growth figure (overrides the mode)"
    )
    parser.add_argument(
        "--only",
        help=f"comma-separated figures to run (default all): {', '.join(FIGURES)}",
    )
    parser.add_argument(
        "--history-rows",
        type=int,
        help="imported rows behind rebuild_vs_scan and stats_vs_naive (overrides the mode)",
    )
    args = parser.parse_args(argv)
    only = frozenset(FIGURES)
    if args.only:
        only = frozenset(f.strip() for f in args.only.split(",") if f.strip())
        if unknown := only - set(FIGURES):
            parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    # a terminated run still drops its schemas and temporary files
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    quick = not args.full
    sizes = figures.QUICK if quick else figures.FULL
    if args.growth:
        sizes = dataclasses.replace(
            sizes, growth_events=tuple(int(float(g)) for g in args.growth.split(","))
        )
    if args.history_rows:
        sizes = dataclasses.replace(sizes, history_rows=args.history_rows)
    results: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "sizes": dataclasses.asdict(sizes),
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "postgres": POSTGRES_URL,
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="mediation-bench-") as tmp:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            print(f"{backend}:", file=sys.stderr, flush=True)
            if backend == "postgres" and (why := postgres_available()):
                results["backends"][backend] = {k: {"ratio": None, "reason": why} for k in KEYS}
                continue
            results["backends"][backend] = run_backend(backend, sizes, quick, Path(tmp), only)
            if args.json:  # a long run keeps what it has measured so far
                args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    # top-level keys: each figure per backend
    for key in KEYS:
        results[key] = {
            b: figs.get(key, {}).get("ratio") for b, figs in results["backends"].items()
        }
    results["finished_at"] = datetime.now(UTC).isoformat()
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
