"""Profile ``record_session`` (``python -m bench.profile_command``): where a command's time goes.

    python -m bench.profile_command [--backend postgres|sqlite] [--views] [--commands N]

Builds a fresh store (like ``command_vs_raw``), warms up, then runs N commands under
pyinstrument and prints the call tree (``--html FILE`` writes the interactive page).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.figures import MEDIATOR
from bench.harness import fresh_store
from mediation.application import MediationApplication
from mediation.settings import persistence_env
from projections.system import System


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_command")
    parser.add_argument("--backend", default="postgres")
    parser.add_argument("--views", action="store_true", help="read models in-process")
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--no-profile", action="store_true", help="time only")
    args = parser.parse_args(argv)
    from tests.support.factories import in_mediation, studio_with_mediator

    with tempfile.TemporaryDirectory() as tmp, fresh_store(args.backend, Path(tmp)) as store:
        system = System(store.url)
        app = system.app
        studio_id, mediator_id = studio_with_mediator(app)
        case_ids = [in_mediation(app, studio_id, mediator_id).id for _ in range(args.cases)]
        subject = app if args.views else MediationApplication(persistence_env(store.url))
        summary = "调解会议：双方陈述意见，调解员释法析理" * 3

        def run(n: int) -> float:
            started = time.perf_counter()
            cpu = time.process_time()
            for i in range(n):
                subject.record_session(
                    MEDIATOR,
                    case_ids[i % len(case_ids)],
                    held_on=date(2026, 3, 20),
                    summary=summary,
                )
            cpu_ms = (time.process_time() - cpu) / n * 1000
            wall_ms = (time.perf_counter() - started) / n * 1000
            print(
                f"{wall_ms:.3f} ms per command, {cpu_ms:.3f} ms CPU in this process",
                file=sys.stderr,
            )
            return wall_ms

        run(100)
        if args.no_profile:
            print(f"{run(args.commands):.3f} ms per command", file=sys.stderr)
        else:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            per = run(args.commands)
            profiler.stop()
            print(f"{per:.3f} ms per command (profiled)", file=sys.stderr)
            if args.html:
                args.html.write_text(profiler.output_html())
            print(profiler.output_text(unicode=True, show_all=bool(os.environ.get("PROFILE_ALL"))))
        if subject is not app:
            subject.close()
        system.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
