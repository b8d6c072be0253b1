"""``python -m bench.import_limit [sqlite|postgres] [ROWS]``: where the import's limit is.

The prototype behind docs/performance.md ("Import: … what limits it"): CPU per event for
building generated rows' cases through the commands and for mapping their events to stored
rows (one process, median of 3), then the importer's own write path for the same, already
mapped rows (``importer.store``: binary ``COPY`` / ``executemany``, batches of 1,800) beside
the ``COPY`` baseline of ``import_events_vs_copy_events``, alternating, 5 rounds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import figures
from bench.harness import alternate_many, fresh_store, rate
from importer import store as importer_store
from importer.build import Builder, Organisation
from importer.rows import parse_row, read_rows
from mediation.application import MediationApplication
from mediation.calendar import in_force
from mediation.clock import recording_with
from mediation.keystore import KeyBatch
from mediation.personal import sealing_with
from mediation.settings import persistence_env

BATCH_EVENTS = 1800


def main(backend: str = "sqlite", n: int = 2000) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="mediation-import-limit-"))
    csv_path = figures._historic_csv(workdir / "rows.csv", n)
    rows = [parse_row(k, v) for k, v in read_rows(csv_path)]
    build_cpu: list[float] = []
    map_cpu: list[float] = []
    stored: list[Any] = []
    with fresh_store(backend, workdir) as store:
        app = MediationApplication(persistence_env(store.url))
        try:
            org = Organisation(app, figures.IMPORTER)
            org.prepare(rows)
            builder = Builder(app, figures.IMPORTER, org)
            keys = KeyBatch(app.personal)
            keys.prepare(r.applicant.id_number for r in rows)
            for _ in range(3):
                c0 = time.process_time()
                with (
                    recording_with(app.clock),
                    in_force(app.calendars.current()),
                    sealing_with(keys),
                ):
                    cases = [builder.build(r) for r in rows]
                events = [e for c in cases for e in c.collect_events()]
                c1 = time.process_time()
                stored = [app.mapper.to_stored_event(e) for e in events]
                c2 = time.process_time()
                build_cpu.append((c1 - c0) / len(events))
                map_cpu.append((c2 - c1) / len(events))
        finally:
            app.close()
    total = len(stored)
    build_us = statistics.median(build_cpu) * 1e6
    map_us = statistics.median(map_cpu) * 1e6
    print(f"{backend}: {total} events; CPU per event: build {build_us:.1f} µs, map {map_us:.1f} µs")
    as_rows = [
        (
            s.originator_id if backend == "postgres" else s.originator_id.hex,
            s.originator_version,
            s.topic,
            s.state,
        )
        for s in stored
    ]

    def write_path() -> float:
        with fresh_store(backend, workdir) as store:
            app = MediationApplication(persistence_env(store.url))
            try:
                recorder: Any = app.recorder

                def work() -> None:
                    for i in range(0, total, BATCH_EVENTS):
                        chunk = stored[i : i + BATCH_EVENTS]
                        if backend == "postgres":
                            importer_store._copy_into_postgres(recorder, chunk, None)
                        else:
                            importer_store._executemany_into_sqlite(recorder, chunk, None)

                return rate(total, work)
            finally:
                app.close()

    def copy() -> float:
        with fresh_store(backend, workdir) as store:
            return rate(total, lambda: figures._copy_events(store, as_rows))

    ours, baseline = alternate_many(5, write_path, copy)
    print(
        f"{backend}: write path {ours:,.0f} events/s; COPY of the event rows {baseline:,.0f}"
        f" events/s; ratio {ours / baseline:.3f}"
    )


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["sqlite"]), *[int(a) for a in sys.argv[2:3]])
