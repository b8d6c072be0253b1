"""Would snapshots pay off? Case load rate by case length, as a ratio to reading the rows.

    python -m bench.snapshots [--rounds 5] [--loads 300]

For cases of 10, 30 and 100 events on a temporary SQLite file, alternately (several
rounds, median) loads the case through the application (read + decode + replay) and
selects the same rows with plain sqlite3 (the floor a snapshot could approach). A
snapshot replaces "decode + replay N events" with "decode one"; the ratio says how much
of the load time that part is. See docs/performance.md for the reading.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mediation.application import MediationApplication
from mediation.settings import persistence_env
from tests.support.factories import MEDIATOR, in_mediation, studio_with_mediator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loads", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        app = MediationApplication(
            persistence_env(f"sqlite:///{path}"),
            clock=lambda: datetime(2026, 11, 1, tzinfo=UTC),
        )
        studio_id, mediator_id = studio_with_mediator(app)
        raw = sqlite3.connect(path)
        print(f"{'events':>6} {'app loads/s':>12} {'raw selects/s':>14} {'app/raw':>8}")
        for length in (10, 30, 100):
            case = in_mediation(app, studio_id, mediator_id)
            day = date(2026, 3, 6)
            while case.version < length:
                case = app.record_session(MEDIATOR, case.id, held_on=day, summary="调解" * 40)
                day += timedelta(days=1)
            app_rates, raw_rates = [], []
            for _ in range(args.rounds):
                started = time.perf_counter()
                for _ in range(args.loads):
                    app.get_case(case.id)
                app_rates.append(args.loads / (time.perf_counter() - started))
                started = time.perf_counter()
                for _ in range(args.loads):
                    raw.execute(
                        "SELECT * FROM stored_events WHERE originator_id = ? "
                        "ORDER BY originator_version",
                        (case.id.hex,),
                    ).fetchall()
                raw_rates.append(args.loads / (time.perf_counter() - started))
            a, r = statistics.median(app_rates), statistics.median(raw_rates)
            print(f"{case.version:>6} {a:>12,.0f} {r:>14,.0f} {a / r:>8.3f}")
        raw.close()
        app.close()


if __name__ == "__main__":
    main()
